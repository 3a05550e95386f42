import threading
import time

import pytest
from django.db import connection

from accounts.models import AuthProvider, User
from accounts.services import get_or_create_telegram_user
from accounts.telegram_auth import sign
from tenants.models import Organization

BOT_TOKEN = "424242:TEST-token-for-the-login-widget"


@pytest.fixture(autouse=True)
def _bot_token(settings):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN


def widget_payload(telegram_id=555001, auth_date=None, token=BOT_TOKEN, **fields):
    data = {"id": telegram_id, "first_name": "Ann", "last_name": "Lee", "username": "ann", **fields}
    data["auth_date"] = int(time.time()) if auth_date is None else auth_date
    data["hash"] = sign(data, bot_token=token)
    return data


def telegram_login(client, data):
    return client.post("/api/v1/auth/telegram", data, format="json")


@pytest.mark.django_db
def test_signed_widget_payload_signs_up_and_returns_working_tokens(api_client):
    response = telegram_login(api_client, widget_payload())

    assert response.status_code == 200, response.content
    user = User.objects.get(telegram_id=555001)
    assert user.auth_provider == AuthProvider.TELEGRAM
    assert user.name == "Ann Lee"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert api_client.get("/api/v1/auth/profile").json()["id"] == user.pk


@pytest.mark.django_db
def test_widget_login_reaches_the_account_the_bot_created(api_client):
    bot_user = get_or_create_telegram_user(telegram_id=555001, name="Ann", locale="ru")

    response = telegram_login(api_client, widget_payload())

    assert response.status_code == 200
    assert User.objects.filter(telegram_id=555001).get() == bot_user
    assert Organization.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.update(id=999),
        lambda data: data.update(hash="0" * 64),
        lambda data: data.update(hash=sign({**data, "hash": ""}, bot_token="1:other-bot")),
        lambda data: data.update(extra_field="x"),
    ],
    ids=["changed-id", "zero-hash", "other-bot", "added-field"],
)
def test_tampered_payload_is_refused(api_client, tamper):
    data = widget_payload()
    tamper(data)

    response = telegram_login(api_client, data)

    assert response.status_code == 401
    assert response.json()["code"] == "telegram_auth_invalid"
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("age", [86400 + 5, -3600])
def test_stale_or_future_auth_date_is_refused(api_client, age):
    response = telegram_login(api_client, widget_payload(auth_date=int(time.time()) - age))

    assert response.status_code == 401
    assert not User.objects.exists()


@pytest.mark.django_db
def test_payload_without_required_fields_is_a_400_with_fields(api_client):
    response = telegram_login(api_client, {"first_name": "Ann"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) >= {"id", "auth_date", "hash"}


@pytest.mark.django_db
def test_telegram_login_is_unavailable_without_a_bot_token(api_client, settings):
    data = widget_payload()
    settings.TELEGRAM_BOT_TOKEN = ""

    response = telegram_login(api_client, data)

    assert response.status_code == 404  # issue 11 item 16: a 4xx the schema documents, not a 503
    assert response.json()["code"] == "telegram_login_unavailable"


@pytest.mark.django_db
def test_deactivated_account_gets_no_tokens(api_client):
    user = get_or_create_telegram_user(telegram_id=555001, name="Ann")
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = telegram_login(api_client, widget_payload())

    assert response.status_code == 403
    assert response.json()["code"] == "user_inactive"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_contacts_create_one_account():
    barrier = threading.Barrier(4)
    results, errors = [], []

    def first_contact():
        try:
            barrier.wait()
            results.append(get_or_create_telegram_user(telegram_id=555002, name="Racer").pk)
        except Exception as exc:  # noqa: BLE001 - the assertion below reports any failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first_contact) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert User.objects.filter(telegram_id=555002).count() == 1
    assert Organization.objects.count() == 1
