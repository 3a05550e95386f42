import pytest
from django.urls import reverse

from accounts.models import User
from channels_tg.tests.conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def post_update(client, update, secret):
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return client.post(reverse("channels_tg:webhook"), update, content_type="application/json", headers=headers)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_webhook_refuses_an_update_without_the_right_secret(client, fake_telegram, tg_user, secret):
    response = post_update(client, tg_user.text("/start"), secret)

    assert response.status_code == 403
    assert not User.objects.exists()
    assert fake_telegram.calls == []


def test_webhook_with_the_right_secret_handles_the_update(client, fake_telegram, tg_user):
    response = post_update(client, tg_user.text("/start"), WEBHOOK_SECRET)

    assert response.status_code == 200
    assert User.objects.filter(telegram_id=tg_user.telegram_id).exists()
    assert len(fake_telegram.sent_texts(tg_user.chat_id)) == 1


def test_webhook_refuses_everything_when_no_secret_is_configured(client, fake_telegram, settings, tg_user):
    settings.TELEGRAM_WEBHOOK_SECRET = ""

    assert post_update(client, tg_user.text("/start"), "").status_code == 403


def test_webhook_answers_400_to_a_malformed_update(client, fake_telegram):
    response = post_update(client, {"message": "not an update"}, WEBHOOK_SECRET)

    assert response.status_code == 400


def test_webhook_only_accepts_post(client, fake_telegram):
    assert client.get(reverse("channels_tg:webhook")).status_code == 405


def test_a_redelivered_update_is_handled_once(client, fake_telegram, tg_user):
    update = tg_user.text("/help")

    first = post_update(client, update, WEBHOOK_SECRET)
    again = post_update(client, update, WEBHOOK_SECRET)

    assert (first.status_code, again.status_code) == (200, 200)
    assert len(fake_telegram.sent_texts(tg_user.chat_id)) == 1
