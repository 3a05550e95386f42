"""A client generated from /api/v1/schema/ with openapi-python-client works for every operation: each
one is called over real HTTP (the live ASGI server), answers a status the schema documents (the
client raises UnexpectedStatus otherwise) and its body parses into the generated model.

The operations are found in the generated package: one this test has no scenario for is still called
(with id 0 and an empty body), so its error answers must be documented and parse too."""

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from agents.models import Conversation
from agents.tests.factories import AgentFactory
from billing.tests.factories import PlanFactory
from policy.tests.factories import BillingAccountFactory
from tenants.services import create_api_key

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "correct-horse-battery-9"
PACKAGE = "generated_bg_client"
# Operations whose success needs an outside party (an identity provider's token, Telegram's signature,
# a payment provider): a documented error, parsed, is what a client gets here.
DOCUMENTED_ERROR_EXPECTED = {
    "auth_social",
    "auth_telegram",
    "billing_subscribe",
    "billing_payment_create",
    "billing_resume",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> types.ModuleType:
    """The client package, generated from the schema the server serves."""
    folder = tmp_path_factory.mktemp("client")
    schema = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    (folder / "schema.json").write_text(json.dumps(schema.json()))
    generator = Path(sys.executable).with_name("openapi-python-client")
    subprocess.run(
        [generator, "generate", "--path", "schema.json", "--meta", "none", "--output-path", PACKAGE],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(folder))
    yield importlib.import_module(PACKAGE)
    sys.path.remove(str(folder))


def _operations(package) -> dict:
    api = importlib.import_module(f"{PACKAGE}.api")
    found = {}
    for tag in pkgutil.iter_modules(api.__path__):
        tag_package = importlib.import_module(f"{PACKAGE}.api.{tag.name}")
        for operation in pkgutil.iter_modules(tag_package.__path__):
            found[operation.name] = importlib.import_module(f"{PACKAGE}.api.{tag.name}.{operation.name}")
    return found


def _body_type(function):
    """The request model class of an operation (its `body` parameter, without `| Unset`)."""
    annotation = inspect.signature(function, eval_str=True).parameters["body"].annotation
    return next(arg for arg in getattr(annotation, "__args__", (annotation,)) if hasattr(arg, "from_dict"))


@pytest.fixture
def customer(db):
    user = UserFactory()
    agent = AgentFactory(slug="helper", with_prompt=True)
    plan = PlanFactory(agents=[agent], quota_requests=1000)
    BillingAccountFactory(organization=user.organization, plan=plan)
    conversation = Conversation.objects.create(organization=user.organization, user=user, agent=agent, channel="api")
    _, secret = create_api_key(organization=user.organization, name="generated", actor=user)
    spare, _ = create_api_key(organization=user.organization, name="to revoke", actor=user)
    return {"user": user, "agent": agent, "plan": plan, "conversation": conversation, "key": spare, "secret": secret}


def test_a_generated_client_works_for_every_operation(generated, customer, live_asgi_server):
    client_module = importlib.import_module(f"{PACKAGE}.client")
    user, agent = customer["user"], customer["agent"]
    person = client_module.AuthenticatedClient(
        base_url=live_asgi_server.url,
        token=str(RefreshToken.for_user(user).access_token),
        raise_on_unexpected_status=True,
        timeout=60,
    )
    integrator = client_module.AuthenticatedClient(
        base_url=live_asgi_server.url, token=customer["secret"], raise_on_unexpected_status=True, timeout=60
    )
    provider_enum = importlib.import_module(f"{PACKAGE}.models.auth_social_provider").AuthSocialProvider
    chat = {"model": agent.slug, "messages": [{"role": "user", "content": "hi"}]}
    calls = {
        "agents_list": (person, {}),
        "agents_retrieve": (person, {"id": agent.pk}),
        "agents_invoke": (person, {"id": agent.pk, "body": {"input": "hi"}}),
        "api_keys_list": (person, {}),
        "api_keys_create": (person, {"body": {"name": "another"}}),
        "api_keys_retrieve": (person, {"key_id": customer["key"].pk}),
        "api_keys_destroy": (person, {"key_id": customer["key"].pk}),
        "auth_locale_update": (person, {"body": {"locale": "en"}}),
        "auth_login": (person, {"body": {"email": user.email, "password": PASSWORD}}),
        "auth_logout": (person, {"body": {"refresh": str(RefreshToken.for_user(user))}}),
        "auth_profile_retrieve": (person, {}),
        "auth_profile_partial_update": (person, {"body": {"name": "Generated Client"}}),
        "auth_refresh": (person, {"body": {"refresh": str(RefreshToken.for_user(user))}}),
        "auth_register_create": (person, {"body": {"email": "new@example.com", "password": PASSWORD}}),
        "auth_social": (person, {"provider": provider_enum("google"), "body": {"id_token": "not-a-token"}}),
        "auth_telegram": (person, {"body": {"id": 1, "auth_date": 1, "hash": "0" * 64}}),
        "billing_account_retrieve": (person, {}),
        "billing_history_retrieve": (person, {}),
        "billing_plans_list": (person, {}),
        "billing_usage_retrieve": (person, {}),
        "billing_subscribe": (person, {"body": {"plan": customer["plan"].code, "provider": "manual"}}),
        "billing_payment_create": (person, {"body": {"provider": "manual"}}),
        "billing_cancel": (person, {"body": {"immediate": False}}),
        "billing_resume": (person, {}),
        "conversations_list": (person, {}),
        "conversations_retrieve": (person, {"id": customer["conversation"].pk}),
        "openai_chat_completions": (integrator, {"body": chat}),
        "openai_responses": (integrator, {"body": {"model": agent.slug, "input": "hi"}}),
        "openai_models_list": (integrator, {}),
        "openai_models_retrieve": (integrator, {"model": agent.slug}),
        "organization_retrieve": (person, {}),
        "organization_partial_update": (person, {"body": {"name": "Generated Org"}}),
        "organization_members_list": (person, {}),
        "organization_invitations_list": (person, {}),
        "organization_invitations_create": (person, {"body": {"email": "colleague@example.com"}}),
    }
    operations = _operations(generated)
    assert set(calls) <= set(operations)

    answers = {}
    for name, operation in operations.items():
        function = operation.sync_detailed
        client, arguments = calls.get(name) or (person, _probe_arguments(function))
        if isinstance(arguments.get("body"), dict):
            arguments = {**arguments, "body": _body_type(function).from_dict(arguments["body"])}
        response = function(client=client, **arguments)
        answers[name] = response.status_code
        assert response.parsed is not None or response.status_code == 204, (name, response.content[:300])

    failed = {name: status for name, status in answers.items() if status >= 300 and name in calls}
    assert set(failed) <= DOCUMENTED_ERROR_EXPECTED, failed


class _EmptyBody:
    """An empty JSON object as a request body: the generated models cannot be built without their
    required fields, and the answer (400 naming them) is what is checked."""

    def to_dict(self) -> dict:
        return {}


def _probe_arguments(function) -> dict:
    """Arguments for an operation this test has no scenario for (added since): id 0 (a 404) and an empty
    body (a 400). Its answer must still be documented and parse."""
    parameters = inspect.signature(function).parameters
    arguments = {}
    for name, parameter in parameters.items():
        if name == "body":
            arguments["body"] = _EmptyBody()
        elif parameter.kind is parameter.POSITIONAL_OR_KEYWORD and parameter.default is parameter.empty:
            arguments[name] = 0
    return arguments
