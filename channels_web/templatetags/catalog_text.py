"""Catalog texts (agent and plan names, descriptions, features) in the page's language."""

from django import template
from django.conf import settings
from django.utils.translation import get_language

register = template.Library()


def localized_text(obj, field: str):
    """`obj.name_ru` (an operator's translation) when the active language is Russian and it is filled
    in, else `obj.name`. The same for any field with a `_<language>` twin."""
    language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    if language != settings.LANGUAGE_CODE:
        translated = getattr(obj, f"{field}_{language}", None)
        if translated:
            return translated
    return getattr(obj, field)


@register.filter
def localized(obj, field: str):
    """`{{ agent|localized:"name" }}`"""
    return localized_text(obj, field)
