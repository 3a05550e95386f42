"""Rotating the encryption key (`rotate_provider_keys`) re-encrypts deployments' bot tokens too: once the
old key is dropped, the customer's bot still answers its clients."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from deployments.models import Deployment
from deployments.services import bot_token
from deployments.tests.conftest import SHOP_BOT_TOKEN, client_update
from deployments.tests.test_telegram_deployments import deploy_bot, post_update

pytestmark = pytest.mark.django_db(transaction=True)

OLD_SECRET = "old-secret-" + "o" * 50
NEW_SECRET = "new-secret-" + "n" * 50


def rotate() -> str:
    out = StringIO()
    call_command("rotate_provider_keys", stdout=out)
    return out.getvalue()


def test_a_rotated_bot_token_keeps_the_bot_answering_after_the_old_key_is_dropped(
    tenant, fake_telegram, fake_openai, settings
):
    provider_secret = settings.SECRET_KEY  # the fixture's provider key is encrypted under it
    settings.SECRET_KEY = OLD_SECRET
    deployment = deploy_bot(tenant)
    stored = deployment.bot_token_encrypted
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_SECRET, [OLD_SECRET, provider_secret]

    assert "Re-encrypted 1 deployment bot token(s)." in rotate()

    settings.SECRET_KEY_FALLBACKS = []
    deployment = Deployment.objects.get(pk=deployment.pk)
    assert deployment.bot_token_encrypted != stored and bot_token(deployment) == SHOP_BOT_TOKEN
    assert post_update(deployment, client_update("Still there?")).status_code == 200
    assert "Still there?" in fake_telegram.sent_texts(chat_id=777_001, token=SHOP_BOT_TOKEN)[-1]


def test_without_rotation_dropping_the_old_key_silences_the_bot(tenant, fake_telegram, fake_openai, settings):
    settings.SECRET_KEY = OLD_SECRET
    deployment = deploy_bot(tenant)
    settings.SECRET_KEY = NEW_SECRET

    assert bot_token(Deployment.objects.get(pk=deployment.pk)) == ""
    post_update(deployment, client_update("Hello?"))
    assert not fake_openai.chat_requests


def test_rotation_names_the_bot_tokens_nothing_decrypts(tenant, fake_telegram, settings):
    settings.SECRET_KEY = OLD_SECRET
    deployment = deploy_bot(tenant)
    stored = deployment.bot_token_encrypted
    settings.SECRET_KEY = NEW_SECRET

    with pytest.raises(CommandError, match=f"deployment {deployment.pk} \\(@shop_bot\\)"):
        rotate()
    assert Deployment.objects.get(pk=deployment.pk).bot_token_encrypted == stored
