"""Every registered error code has the dashboard's words, in English and in Russian."""

import pytest
from django.utils import translation

from botgeneric.errors import DomainError, all_error_codes
from channels_web.messages import ERROR_TEXTS, describe_error

# What the services put in `extra` for the codes whose words use it.
EXTRA = {
    "upgrade_plans": [{"code": "pro", "name": "Pro"}],
    "retry_after": 7,
    "metric": "requests",
    "used": 10,
    "limit": 10,
    "resets_at": "2030-01-01T00:00:00+00:00",
}


def test_the_texts_are_keyed_by_exactly_the_registered_codes():
    assert set(ERROR_TEXTS) == set(all_error_codes())


@pytest.mark.parametrize("code", all_error_codes(), ids=str)
def test_each_code_reads_in_english_and_in_russian(code):
    error = DomainError(code, "detail for the test", extra=EXTRA)

    with translation.override("en"):
        english = describe_error(error)
    with translation.override("ru"):
        russian = describe_error(error)

    assert english.text.strip()
    assert russian.text != english.text
    assert russian.link_text != english.link_text or not english.link_text
