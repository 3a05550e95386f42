from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        from accounts import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from accounts.site_identity import sync_site_from_settings

        post_migrate.connect(sync_site_from_settings, sender=self)
