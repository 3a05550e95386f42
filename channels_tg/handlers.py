"""Bot handlers: read the update, call a channels_tg.services function off the event loop, reply in words.

Handlers receive `tg_chat` (the chat row with its user and agent) from AccountMiddleware.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ErrorEvent, InlineKeyboardButton, InlineKeyboardMarkup, Message
from django.conf import settings

from agents.services import StreamDone, TextDelta, invoke_stream
from billing.models import PaymentProvider
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from channels_tg import preview_texts, progressive, service_calls, services, texts
from channels_tg.models import TelegramChat

logger = logging.getLogger(__name__)

LOCALE_NAMES = {"en": "English", "ru": "Русский"}
# Telegram shows "typing…" for five seconds; refresh it a little sooner while the agent thinks.
TYPING_REFRESH_SECONDS = 4.5
VOICE_DOWNLOAD_TIMEOUT_SECONDS = 30


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" until the block ends. The first action is awaited, so a blocked bot fails here;
    a failed refresh only stops the refreshing."""
    await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)

    async def refresh() -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH_SECONDS)
            try:
                await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
            except TelegramAPIError:
                logger.info("typing refresh failed for chat %s", chat_id, exc_info=True)
                return

    task = asyncio.create_task(refresh())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
    account = await service_calls.call(services.billing_account, chat=tg_chat)
    plan_line = texts.plan_line(locale=user.locale, account=account)
    await send_text(bot, tg_chat.chat_id, texts.greeting(locale=user.locale, name=user.name, plan_line=plan_line))


async def cmd_agents(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    locale = tg_chat.user.locale
    agents = await service_calls.call(services.telegram_agents, chat=tg_chat)
    if not agents:
        await send_text(bot, tg_chat.chat_id, texts.no_agents(locale=locale))
        return
    rows = [(("✓ " if agent.pk == tg_chat.agent_id else "") + agent.name, f"agent:{agent.pk}") for agent in agents]
    await send_text(bot, tg_chat.chat_id, texts.choose_agent(locale=locale), _keyboard(rows))


async def on_agent_button(callback: CallbackQuery, bot: Bot, tg_chat: TelegramChat) -> None:
    await callback.answer()
    locale = tg_chat.user.locale
    try:
        chat = await service_calls.call(services.choose_agent, chat=tg_chat, agent_id=_int(callback.data))
    except DomainError as error:
        await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
        return
    await send_text(bot, chat.chat_id, texts.agent_chosen(locale=locale, agent_name=chat.agent.name))


async def cmd_plan(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    overview = await service_calls.call(services.account_overview, chat=tg_chat)
    text = texts.plan_status(
        locale=tg_chat.user.locale,
        account=overview.account,
        usage=overview.usage,
        payment_overdue_until=overview.payment_overdue_until,
        billing_url=overview.billing_url,
    )
    await send_text(bot, tg_chat.chat_id, text)


async def cmd_subscribe(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    locale = tg_chat.user.locale
    plans = await service_calls.call(services.plans_for_sale)
    if not plans:
        await send_text(bot, tg_chat.chat_id, texts.no_plans(locale=locale))
        return
    if not services.payment_providers():
        await send_text(bot, tg_chat.chat_id, texts.payments_unavailable(locale=locale))
        return
    rows = [(texts.plan_button(locale=locale, plan=plan), f"plan:{plan.code}") for plan in plans]
    await send_text(bot, tg_chat.chat_id, texts.choose_plan(locale=locale), _keyboard(rows))


async def on_plan_button(callback: CallbackQuery, bot: Bot, tg_chat: TelegramChat) -> None:
    await callback.answer()
    plan_code = callback.data.split(":", 1)[1]
    providers = services.payment_providers()
    if len(providers) == 1:
        await _subscribe(bot, tg_chat, plan_code, providers[0])
        return
    if not providers:
        await send_text(bot, tg_chat.chat_id, texts.payments_unavailable(locale=tg_chat.user.locale))
        return
    labels = dict(PaymentProvider.choices)
    rows = [(labels.get(name, name), f"pay:{plan_code}:{name}") for name in providers]
    await send_text(bot, tg_chat.chat_id, texts.choose_provider(locale=tg_chat.user.locale), _keyboard(rows))


async def on_provider_button(callback: CallbackQuery, bot: Bot, tg_chat: TelegramChat) -> None:
    await callback.answer()
    _, plan_code, provider = callback.data.split(":", 2)
    await _subscribe(bot, tg_chat, plan_code, provider)


async def _subscribe(bot: Bot, tg_chat: TelegramChat, plan_code: str, provider: str) -> None:
    """Show what the change would do, with a button that confirms it."""
    locale = tg_chat.user.locale
    try:
        offer = await service_calls.call(
            services.offer_subscription, chat=tg_chat, plan_code=plan_code, provider=provider
        )
    except DomainError as error:
        await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
        return
    rows = [
        (preview_texts.confirm_button(locale=locale), f"confirm:{offer.key}"),
        (preview_texts.dismiss_button(locale=locale), "dismiss:"),
    ]
    await send_text(
        bot, tg_chat.chat_id, preview_texts.change_preview(locale=locale, preview=offer.preview), _keyboard(rows)
    )


async def on_confirm_button(callback: CallbackQuery, bot: Bot, tg_chat: TelegramChat) -> None:
    await callback.answer()
    locale = tg_chat.user.locale
    try:
        me = await bot.me()
        result = await service_calls.call_slow(
            services.accept_offer,
            chat=tg_chat,
            key=callback.data.split(":", 1)[1],
            return_url=f"https://t.me/{me.username}",
        )
    except DomainError as error:
        await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
        return
    if result.checkout_url:
        await send_text(bot, tg_chat.chat_id, texts.checkout_link(locale=locale, url=result.checkout_url))
    else:
        await send_text(bot, tg_chat.chat_id, texts.subscribed(locale=locale, account=result.account))


async def on_dismiss_button(callback: CallbackQuery, bot: Bot, tg_chat: TelegramChat) -> None:
    await callback.answer()
    await send_text(bot, tg_chat.chat_id, preview_texts.change_dismissed(locale=tg_chat.user.locale))


async def cmd_help(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    await send_text(bot, tg_chat.chat_id, texts.help_text(locale=tg_chat.user.locale))


async def cmd_new(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    chat = await service_calls.call(services.start_new_conversation, chat=tg_chat)
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
        user = await service_calls.call(services.change_locale, chat=tg_chat, locale=locale)
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
        user = await service_calls.call(services.register_email, chat=tg_chat, email=email)
    except DomainError as error:
        await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
        return
    await send_text(bot, tg_chat.chat_id, texts.email_attached(locale=locale, email=user.email))


async def on_text(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    if tg_chat.agent_id is None:
        await send_text(bot, tg_chat.chat_id, texts.choose_agent_first(locale=tg_chat.user.locale))
        return
    await _answer(bot, tg_chat, message.text)


async def on_voice(message: Message, bot: Bot, tg_chat: TelegramChat) -> None:
    """Transcribe, then answer. The declared duration only refuses early (a client lying upwards hurts
    only itself); the size comes from getFile before any download, the duration from the audio."""
    locale = tg_chat.user.locale
    max_seconds = settings.TELEGRAM_VOICE_MAX_SECONDS
    if message.voice.duration > max_seconds:
        await send_text(bot, tg_chat.chat_id, texts.voice_too_long(locale=locale, max_seconds=max_seconds))
        return
    if tg_chat.agent_id is None:
        await send_text(bot, tg_chat.chat_id, texts.choose_agent_first(locale=locale))
        return
    async with typing(bot, tg_chat.chat_id):
        voice_file = await bot.get_file(message.voice.file_id)
        max_bytes = settings.TELEGRAM_VOICE_MAX_BYTES
        if not voice_file.file_size or voice_file.file_size > max_bytes or not voice_file.file_path:
            await send_text(bot, tg_chat.chat_id, texts.voice_too_large(locale=locale, max_seconds=max_seconds))
            return
        audio = (await bot.download_file(voice_file.file_path, timeout=VOICE_DOWNLOAD_TIMEOUT_SECONDS)).read()
        if len(audio) > max_bytes:
            await send_text(bot, tg_chat.chat_id, texts.voice_too_large(locale=locale, max_seconds=max_seconds))
            return
        try:
            transcript = await service_calls.call_slow(
                services.transcribe_voice, chat=tg_chat, audio=audio, filename="voice.ogg"
            )
        except DomainError as error:
            await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
            return
    await send_text(bot, tg_chat.chat_id, texts.you_said(locale=locale, text=transcript.text))
    await _answer(bot, tg_chat, transcript.text)


async def _answer(bot: Bot, tg_chat: TelegramChat, text: str) -> None:
    """Ask the chat's agent and show the answer as it is written (one message, edited), or the reason
    there is none, in words. A failure mid-answer leaves what was written, then says what happened."""
    locale = tg_chat.user.locale
    # A private chat's id is the user's (positive); groups' ids are negative.
    answer = progressive.progressive_answer(bot, tg_chat.chat_id, private=tg_chat.chat_id > 0)
    written = ""
    try:
        async with typing(bot, tg_chat.chat_id):
            agent, conversation = await service_calls.call(services.answer_context, chat=tg_chat)
            stream = invoke_stream(
                user=tg_chat.user, agent=agent, channel=Channel.TELEGRAM, input=text, conversation=conversation
            )
            try:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        written += event.text
                        await answer.grow(written)
                    elif isinstance(event, StreamDone):
                        result = event.result
            finally:
                await stream.aclose()
    except DomainError as error:
        if written:
            await answer.finish(written)
            await send_text(bot, tg_chat.chat_id, texts.answer_interrupted(locale=locale))
        else:
            await send_text(bot, tg_chat.chat_id, texts.for_error(error, locale=locale))
        return
    await service_calls.call(services.remember_conversation, chat=tg_chat, conversation=result.conversation)
    await answer.finish(result.output)


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


def _int(callback_data: str) -> int:
    """The id after the prefix of a button's data; garbage becomes 0, which no row has."""
    value = callback_data.split(":", 1)[1]
    return int(value) if value.isdigit() else 0


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
    router.message.register(cmd_agents, Command("agents"))
    router.message.register(cmd_plan, Command("plan"))
    router.message.register(cmd_subscribe, Command("subscribe"))
    router.message.register(cmd_new, Command("new"))
    router.message.register(cmd_locale, Command("locale"))
    router.message.register(cmd_register, Command("register"))
    router.callback_query.register(on_locale_button, F.data.startswith("locale:"))
    router.callback_query.register(on_agent_button, F.data.startswith("agent:"))
    router.callback_query.register(on_plan_button, F.data.startswith("plan:"))
    router.callback_query.register(on_provider_button, F.data.startswith("pay:"))
    router.callback_query.register(on_confirm_button, F.data.startswith("confirm:"))
    router.callback_query.register(on_dismiss_button, F.data.startswith("dismiss:"))
    router.message.register(cmd_help, F.text.startswith("/"))
    router.message.register(on_text, F.text)
    router.message.register(on_voice, F.voice)
    router.message.register(on_other_message)
    return router
