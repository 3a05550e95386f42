"""The Site row allauth reads (e-mail subjects, links built outside a request) follows SITE_NAME/SITE_DOMAIN."""

from django.conf import settings
from django.contrib.sites.models import Site


def sync_site_from_settings(**kwargs) -> None:
    """post_migrate: write the configured name and domain into the SITE_ID row (Django seeds it as example.com)."""
    using = kwargs.get("using", "default")
    Site.objects.using(using).update_or_create(
        pk=settings.SITE_ID, defaults={"name": settings.SITE_NAME, "domain": settings.SITE_DOMAIN}
    )
    Site.objects.clear_cache()
