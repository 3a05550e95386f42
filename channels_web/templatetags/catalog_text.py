"""Catalog texts (agent and plan names, descriptions, features) in the page's language."""

from django import template
from django.conf import settings
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized(obj, field: str):
    """`{{ agent|localized:"name" }}`: the `name_ru` an operator wrote when the page is Russian, else `name`."""
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if language != settings.LANGUAGE_CODE:
        translated = getattr(obj, f"{field}_{language}", None)
        if translated:
            return translated
    return getattr(obj, field)
