"""Bot handlers: read the update, call a channels_tg.services function off the event loop, reply in words.

Handlers receive `tg_chat` (the chat row with its user and agent) from AccountMiddleware.
"""

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ErrorEvent, InlineKeyboardButton, InlineKeyboardMarkup, Message
from asgiref.sync import sync_to_async
from django.conf import settings

from botgeneric.errors import DomainError
from channels_tg import services, texts
from channels_tg.models import TelegramChat

logger = logging.getLogger(__name__)

LOCALE_NAMES = {"en": "English", "ru": "Русский"}


async def send_text(bot: Bot, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> None:
    """Send plain text (no parse mode, so model output can never break formatting), split at the limit."""
    pieces = texts.split_message(text)
    for index, piece in enumerate(pieces):
        markup = reply_markup if index == len(pieces) - 1 else None
        await bot.send_message(chat_id=chat_id, text=piece, parse_mode=None, reply_markup=markup)


def _keyboard(rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=label, callback_data=data)] for label, data in rows]
    )


async def cmd_start(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    user = tg_chat.user
    await send_text(bot, tg_chat.chat_id, texts.greeting(locale=user.locale, name=user.name, plan_line=""))


async def cmd_help(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    await send_text(bot, tg_chat.chat_id, texts.help_text(locale=tg_chat.user.locale))


async def cmd_new(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    chat = await sync_to_async(services.start_new_conversation)(chat=tg_chat)
    agent_name = chat.agent.name if chat.agent else None
    await send_text(bot, chat.chat_id, texts.new_conversation(locale=chat.user.locale, agent_name=agent_name))


async def cmd_locale(message: Message, bot: Bot, tg_chat: TelegramChat, command: CommandObject) -> None:
    wanted = (command.args or "").strip().lower()
    if wanted:
        await _change_locale(bot, tg_chat, wanted)
        return
    rows = [(name, f"locale:{code}") for code, name in LOCALE_NAMES.items() if code in settings.SUPPORTED_LOCALES]
    await send_text(bot, tg_chat.chat_id, texts.choose_locale(locale=tg_chat.user.locale), _keyboard(rows))


async def on_locale_button(callback: CallbackQuery, bot: Bot, tg_chat: TelegramChat) -> None:
    await callback.answer()
    await _change_locale(bot, tg_chat, callback.data.split(":", 1)[1])


async def _change_locale(bot: Bot, tg_chat: TelegramChat, locale: str) -> None:
    try:
        user = await sync_to_async(services.change_locale)(chat=tg_chat, locale=locale)
    except DomainError as error:
        await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=tg_chat.user.locale))
        return
    await send_text(bot, tg_chat.chat_id, texts.locale_changed(locale=user.locale))


async def cmd_register(message: Message, bot: Bot, tg_chat: TelegramChat, command: CommandObject) -> None:
    locale = tg_chat.user.locale
    email = (command.args or "").strip()
    if not email:
        await send_text(bot, tg_chat.chat_id, texts.register_usage(locale=locale))
        return
    try:
        user = await sync_to_async(services.register_email)(chat=tg_chat, email=email)
    except DomainError as error:
        await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
        return
    await send_text(bot, tg_chat.chat_id, texts.email_attached(locale=locale, email=user.email))


async def on_other_message(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    await send_text(bot, tg_chat.chat_id, texts.unsupported_message(locale=tg_chat.user.locale))


async def on_error(event: ErrorEvent, bot: Bot, tg_chat: TelegramChat | None = None) -> bool:
    """Keep the worker alive whatever one update did: log it and, when possible, apologise to the user."""
    if isinstance(event.exception, TelegramForbiddenError):
        logger.info("user blocked the bot; update %s dropped", event.update.update_id)
        return True
    logger.error("update %s failed", event.update.update_id, exc_info=event.exception)
    chat_id = tg_chat.chat_id if tg_chat else _chat_id_of(event)
    if chat_id is None:
        return True
    locale = tg_chat.user.locale if tg_chat else settings.LANGUAGE_CODE
    try:
        await bot.send_message(chat_id=chat_id, text=texts.apology(locale=locale), parse_mode=None)
    except TelegramAPIError:
        logger.warning("could not apologise to chat %s", chat_id, exc_info=True)
    return True


def _chat_id_of(event: ErrorEvent) -> int | None:
    update = event.update
    if update.message:
        return update.message.chat.id
    if update.callback_query and update.callback_query.message:
        return update.callback_query.message.chat.id
    return None


def build_router() -> Router:
    """A fresh router with every handler, so each Dispatcher (worker, webhook, tests) owns its own."""
    router = Router(name="channels_tg")
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_new, Command("new"))
    router.message.register(cmd_locale, Command("locale"))
    router.message.register(cmd_register, Command("register"))
    router.callback_query.register(on_locale_button, F.data.startswith("locale:"))
    router.message.register(on_other_message)
    return router
