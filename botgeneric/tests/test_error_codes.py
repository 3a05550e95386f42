"""One registry of error codes: every code a client can see is a member of a domain's ErrorCode enum."""

import inspect

import pytest
from rest_framework import exceptions as drf_exceptions
from rest_framework_simplejwt import exceptions as jwt_exceptions

from botgeneric.errors import ApiErrorCode, DomainError, all_error_codes, error_domains


def test_each_domain_declares_its_codes_in_its_errors_module():
    modules = {domain.__module__ for domain in error_domains()}

    assert {"accounts.errors", "agents.errors", "billing.errors", "policy.errors", "prompts.errors"} <= modules
    assert {"tenants.errors", "botgeneric.errors"} <= modules


def test_no_two_domains_share_a_code():
    values = [code.value for code in all_error_codes()]

    assert len(values) == len(set(values))


def test_a_domain_error_refuses_a_code_outside_the_registry():
    with pytest.raises(TypeError):
        DomainError("made_up", "Not a registered code.")


def test_a_domain_error_answers_with_its_registered_code():
    error = DomainError(ApiErrorCode.NOT_FOUND, "Gone.", 404)

    assert error.as_dict() == {"code": "not_found", "detail": "Gone."}
    assert type(error.as_dict()["code"]) is str


@pytest.mark.parametrize("module", [drf_exceptions, jwt_exceptions])
def test_the_codes_of_the_api_frameworks_exceptions_are_registered(module):
    registered = {code.value for code in all_error_codes()}
    framework_codes = {
        cls.default_code
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, drf_exceptions.APIException) and cls is not drf_exceptions.APIException
    }

    assert framework_codes - registered == set()
