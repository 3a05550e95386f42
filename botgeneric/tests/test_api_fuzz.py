"""Property-based fuzzing of the whole API against its own OpenAPI schema (issue 11, "Also").

Schemathesis reads /api/v1/schema/ and sends generated requests to every operation as a signed-in
customer with a live subscription: no answer may be a 5xx, every status must be one the schema
documents for that operation, and every body must match the schema. Agents answer through the
offline demo provider, payment providers are the disabled ones or `manual`, so nothing leaves the
process. Time-boxed by a small number of examples per operation.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from accounts.tests.factories import UserFactory
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from tenants.services import create_api_key

EXAMPLES_PER_OPERATION = 15
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def customer(db):
    user = UserFactory()
    agent = AgentFactory(with_prompt=True)
    # Advanced analytics, so GET /usage/daily answers its rows (not only 403) to the fuzzer.
    plan = PlanFactory(agents=[agent], quota_requests=100_000, features=["Advanced analytics"])
    BillingAccountFactory(organization=user.organization, plan=plan)
    return user


# Read once at collection: one test per operation. Generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _one_connection_per_test(db):
    """Keep the test's database connection between requests (as Django's test client does), so every
    request runs inside the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case, customer):
    if case.path.startswith("/api/v1/openai/"):  # OpenAI clients authenticate with an API key
        _, credential = create_api_key(organization=customer.organization, name="fuzz", actor=customer)
    else:
        credential = str(RefreshToken.for_user(customer).access_token)
    case.call_and_validate(headers={"Authorization": f"Bearer {credential}"}, checks=CHECKS)
