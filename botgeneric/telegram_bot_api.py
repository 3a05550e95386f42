"""The Bot API calls made outside a conversation, synchronous and with a timeout: a customer's own bot
(getMe, setWebhook, deleteWebhook) and notices sent unprompted through the platform bot or a
customer's (sendMessage). An adapter: it translates and decides nothing.

The server is TELEGRAM_API_SERVER (tests point it at the fake Bot API). The bot that answers updates
(channels_tg, aiogram) has its own client.
"""

import logging
from dataclasses import dataclass

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

PRODUCTION_SERVER = "https://api.telegram.org"
BOT_API_TIMEOUT_SECONDS = 10


class BotApiError(Exception):
    """Telegram refused (`status` is its error code: 401 for a token it does not know) or was unreachable
    (`status` 0)."""

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description

    def __reduce__(self):  # picklable with both arguments (Celery keeps a task's exception)
        return type(self), (self.status, self.description)


@dataclass(frozen=True)
class BotIdentity:
    id: int
    username: str
    name: str


def _call(token: str, method: str, params: dict | None = None):
    server = (settings.TELEGRAM_API_SERVER or PRODUCTION_SERVER).rstrip("/")
    try:
        response = requests.post(f"{server}/bot{token}/{method}", json=params or {}, timeout=BOT_API_TIMEOUT_SECONDS)
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        logger.warning("Bot API %s unreachable: %s", method, type(error).__name__)
        raise BotApiError(0, "Telegram could not be reached.") from None
    if not body.get("ok"):
        raise BotApiError(int(body.get("error_code") or response.status_code), str(body.get("description") or ""))
    return body.get("result")


def get_me(token: str) -> BotIdentity:
    result = _call(token, "getMe")
    return BotIdentity(id=int(result["id"]), username=result.get("username") or "", name=result.get("first_name") or "")


def set_webhook(token: str, *, url: str, secret: str) -> None:
    _call(
        token,
        "setWebhook",
        {"url": url, "secret_token": secret, "allowed_updates": ["message"], "drop_pending_updates": True},
    )


def delete_webhook(token: str) -> None:
    _call(token, "deleteWebhook", {"drop_pending_updates": False})


def send_message(token: str, *, chat_id: int, text: str) -> None:
    """Plain text to `chat_id` (a user's own id is their private chat with the bot), without link previews."""
    _call(
        token,
        "sendMessage",
        {"chat_id": chat_id, "text": text[:4096], "link_preview_options": {"is_disabled": True}},
    )
