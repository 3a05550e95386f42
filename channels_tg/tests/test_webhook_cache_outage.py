"""Issue 11 item 4: a Telegram webhook update is still handled while Redis (the seen-update marks) is down."""

import pytest
from django.urls import reverse

from accounts.models import User
from botgeneric.cache import cache_settings
from channels_tg.tests.conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def test_webhook_handles_an_update_while_redis_is_down(client, settings, fake_telegram, tg_user):
    settings.CACHES = cache_settings(redis_url="redis://127.0.0.1:1/0", timeout_seconds=0.5)

    response = client.post(
        reverse("channels_tg:webhook"),
        tg_user.text("/start"),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
    )

    assert response.status_code == 200
    assert User.objects.filter(telegram_id=tg_user.telegram_id).exists()
    assert len(fake_telegram.sent_texts(tg_user.chat_id)) == 1
