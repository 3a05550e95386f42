from django.apps import AppConfig
from django.apps import apps as global_apps
from django.conf import settings
from django.db.models.signals import post_delete, post_migrate, post_save


class TenantsConfig(AppConfig):
    name = "tenants"

    def ready(self):
        """Registers the OpenAPI auth extension, and connects the invalidation of `tenants.api_key_cache`
        — not business logic: whatever path saves or deletes an API key or a user (a service, the admin,
        a cascade from deleting an organization), every process's memo of keys must be dropped."""
        from tenants import schema  # noqa: F401
        from tenants.models import ApiKey

        for model in (ApiKey, settings.AUTH_USER_MODEL):
            name = model if isinstance(model, str) else model.__name__
            post_save.connect(_keys_changed, sender=model, dispatch_uid=f"tenants.api_key_cache.save.{name}")
            post_delete.connect(_keys_changed, sender=model, dispatch_uid=f"tenants.api_key_cache.delete.{name}")
        post_migrate.connect(_migrated, sender=self, dispatch_uid="tenants.api_key_cache.migrated")


# Saves that change nothing a key's request relies on: the key's use stamp, a sign-in's stamp.
_BOOKKEEPING_FIELDS = frozenset({"last_used_at", "last_login"})


def _keys_changed(sender, update_fields=None, **kwargs):
    if update_fields and set(update_fields) <= _BOOKKEEPING_FIELDS:
        return
    from tenants.api_key_cache import invalidate

    invalidate()


def _migrated(sender, using, apps=global_apps, **kwargs):
    """The keys' version token row exists once its table does, also after a flush empties it."""
    from tenants.api_key_cache import new_token

    try:
        model = apps.get_model("tenants", "ApiKeysVersion")
    except LookupError:  # migrated to a state before the table
        return
    model.objects.using(using).get_or_create(id=1, defaults={"token": new_token()})
