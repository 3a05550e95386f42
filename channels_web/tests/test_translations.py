"""Every string of the dashboard's templates and code has a Russian translation."""

import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

CATALOG = Path(__file__).resolve().parent.parent / "locale" / "ru" / "LC_MESSAGES" / "django.po"
LITERAL = r"u?'(?:[^'\\]|\\.)*'"
CALL = re.compile(rf"\b(n?gettext)\(({LITERAL})(?:\s*,\s*({LITERAL}))?")


def _template_strings():
    for path in sorted((settings.BASE_DIR / "templates").rglob("*.html")):
        for kind, singular, plural in CALL.findall(templatize(path.read_text(), origin=str(path))):
            yield path.name, ast.literal_eval(singular), ast.literal_eval(plural) if plural else None


TEMPLATE_STRINGS = list(_template_strings())


def test_templates_have_strings_to_check():
    assert len(TEMPLATE_STRINGS) > 50


@pytest.mark.parametrize(("template", "singular", "plural"), TEMPLATE_STRINGS)
def test_template_string_is_translated_to_russian(template, singular, plural):
    with translation.override("ru"):
        if plural is None:
            assert translation.gettext(singular) != singular
        else:
            assert translation.ngettext(singular, plural, 5) != plural


def test_russian_catalog_is_complete():
    catalog = polib.pofile(str(CATALOG))

    assert catalog.untranslated_entries() == []
    assert catalog.fuzzy_entries() == []
