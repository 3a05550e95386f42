"""The bot's use-cases as plain sync functions; handlers call them through sync_to_async.

Nothing here decides access: accounts, billing, policy and agents services do, and their
DomainErrors travel back to the handlers, which put them into words (channels_tg.texts).
"""

import logging
from dataclasses import dataclass

from accounts.models import User
from accounts.services import attach_email, get_or_create_telegram_user, set_locale
from botgeneric.errors import DomainError
from channels_tg.models import TelegramChat

logger = logging.getLogger(__name__)


class TelegramChannelError(DomainError):
    """A rule of the chat itself (no agent chosen yet, a stale button), not of the product."""

    code = "telegram_error"
    http_status = 400


@dataclass(frozen=True)
class TelegramPerson:
    """Who wrote, as Telegram describes them."""

    telegram_id: int
    name: str
    language_code: str | None


def locale_from_telegram(language_code: str | None) -> str:
    """Telegram sends IETF tags like "ru" or "pt-br"; a new account starts in the closest supported one."""
    return "ru" if (language_code or "").lower().startswith("ru") else "en"


def chat_for(*, chat_id: int, person: TelegramPerson) -> TelegramChat:
    """The chat row (with its user and agent) for an update; the first update creates the account."""
    chat = TelegramChat.objects.select_related("user", "agent").filter(chat_id=chat_id).first()
    if chat is not None and chat.user.telegram_id == person.telegram_id:
        return chat
    user = get_or_create_telegram_user(
        telegram_id=person.telegram_id, name=person.name, locale=locale_from_telegram(person.language_code)
    )
    chat, created = TelegramChat.objects.select_related("user", "agent").get_or_create(
        chat_id=chat_id, defaults={"user": user}
    )
    if not created and chat.user_id != user.pk:
        chat.user, chat.agent, chat.conversation = user, None, None
        chat.save(update_fields=["user", "agent", "conversation", "updated_at"])
    if created:
        logger.info("telegram chat started", extra={"chat_id": chat_id, "user_id": user.pk})
    return chat


def start_new_conversation(*, chat: TelegramChat) -> TelegramChat:
    """Forget the running conversation; the next message opens a fresh one with the same agent."""
    chat.conversation = None
    chat.save(update_fields=["conversation", "updated_at"])
    return chat


def change_locale(*, chat: TelegramChat, locale: str) -> User:
    return set_locale(user=chat.user, locale=locale)


def register_email(*, chat: TelegramChat, email: str) -> User:
    return attach_email(user=chat.user, email=email)
