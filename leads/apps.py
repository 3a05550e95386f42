from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self):
        # The register_lead tool joins the agents' tool registry.
        from leads import tools  # noqa: F401
