"""Issue 11 item 16: everything under /api/ answers JSON in the API's error shape with a 4xx for bad
input (the OpenAI shape under /api/v1/openai/), and the schema documents those statuses."""

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from tenants.services import create_api_key

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/agents/%C2%84", "/api/v1/no-such-thing", "/api/elsewhere"])
def test_an_unknown_api_path_is_a_json_404(auth_client, path):
    response = auth_client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_an_unknown_openai_path_is_a_404_in_the_openai_shape(auth_client):
    response = auth_client.get("/api/v1/openai/no-such-thing")

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "unknown_url")


def test_pages_outside_the_api_keep_their_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_method_the_endpoint_does_not_have_is_a_json_405(auth_client):
    response = auth_client.delete("/api/v1/agents")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_body_over_the_upload_limit_is_a_json_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api_client.post("/api/v1/auth/login", {"email": "a@example.com", "password": "x" * 2000}, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_body_over_the_upload_limit_is_a_413_in_the_openai_shape(api_client, settings, user):
    _, secret = create_api_key(organization=user.organization, name="sdk", actor=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    body = {"model": "any", "messages": [{"role": "user", "content": "x" * 2000}]}
    response = api_client.post("/api/v1/openai/chat/completions", body, format="json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("path", ["/api/v1/billing/history", "/api/v1/conversations"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=835747237605526784&offset=456021857710031700492288", "limit"),
        ("offset=456021857710031700492288", "offset"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
        ("limit=ten", "limit"),
    ],
)
def test_an_out_of_range_page_is_a_400_naming_the_field(auth_client, path, query, field):
    response = auth_client.get(f"{path}?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_a_page_within_bounds_still_answers(auth_client):
    response = auth_client.get("/api/v1/billing/history?limit=200&offset=1000000")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_schema_documents_the_errors_operations_answer(api_client):
    paths = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    assert not [path for path in paths if "/webhooks/" in path]  # payment providers call them, not API clients
    assert "404" in paths["/api/v1/auth/telegram"]["post"]["responses"]
    assert {"401", "404"} <= set(paths["/api/v1/agents/{id}"]["get"]["responses"])
    assert {"400", "413", "415"} <= set(paths["/api/v1/agents/{id}/invoke"]["post"]["responses"])
    history = {p["name"]: p["schema"] for p in paths["/api/v1/billing/history"]["get"]["parameters"]}
    assert history["limit"]["maximum"] == 200
    assert history["offset"]["minimum"] == 0
    openai_404 = paths["/api/v1/openai/models/{model}"]["get"]["responses"]["404"]
    assert openai_404["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/OpenAIError"


def test_an_agent_outside_the_plan_is_a_404_in_the_error_shape(auth_client):
    response = auth_client.get("/api/v1/agents/0")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_a_chat_message_without_content_is_a_400_not_a_500(api_client, user):
    """Found by the schema fuzzer: `content` is optional in a message, and a user message without it
    crashed the input check."""
    _, secret = create_api_key(organization=user.organization, name="sdk", actor=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    body = {"model": "any", "messages": [{"role": "user"}]}
    response = api_client.post("/api/v1/openai/chat/completions", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"


def test_options_on_the_streaming_endpoints_answers_instead_of_a_500(auth_client, api_client, user):
    """Found by the schema fuzzer: the async views awaited DRF's synchronous OPTIONS handler."""
    _, secret = create_api_key(organization=user.organization, name="sdk", actor=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    responses = [auth_client.options("/api/v1/agents/1/invoke"), api_client.options("/api/v1/openai/chat/completions")]

    assert [response.status_code for response in responses] == [200, 200]
    assert all(response["Content-Type"] == "application/json" for response in responses)


def test_refreshing_a_deleted_users_token_is_a_401_not_a_500(api_client, user):
    """Was a 500 (User.DoesNotExist); accounts.tokens now refuses the token of a user who is gone."""
    refresh = str(RefreshToken.for_user(user))
    user.delete()

    response = api_client.post("/api/v1/auth/refresh", {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
