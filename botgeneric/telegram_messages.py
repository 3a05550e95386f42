"""Telegram messages sent outside the bot's handlers (notices from services), through the platform bot.

The bot itself (channels_tg, aiogram) answers updates; a service that must tell a user something
unprompted — after a commit, from billing_tick or a webhook — sends one plain message here with a
timeout, synchronously, and never lets a delivery failure undo what it reports.
"""

import logging

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 10
PRODUCTION_API = "https://api.telegram.org"


def send_telegram_text(*, chat_id: int, text: str) -> bool:
    """sendMessage to `chat_id` (a user's own id is their private chat with the bot), as plain text.

    False when no bot is configured, or when Telegram refuses (the user never started the bot or
    blocked it) or cannot be reached; the failure is logged."""
    if not settings.TELEGRAM_BOT_TOKEN:
        return False
    base = (settings.TELEGRAM_API_SERVER or PRODUCTION_API).rstrip("/")
    try:
        response = requests.post(
            f"{base}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage",
            json={"chat_id": chat_id, "text": text, "link_preview_options": {"is_disabled": True}},
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        logger.warning("telegram notice to chat %s not sent: %s", chat_id, type(error).__name__)
        return False
    if response.status_code != 200:
        logger.warning("telegram notice to chat %s refused: %s %s", chat_id, response.status_code, response.text[:200])
        return False
    return True
