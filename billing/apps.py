from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"

    def ready(self):
        from billing.providers import log_disabled_providers

        log_disabled_providers()
