"""A customer's own Telegram bot (a deployment): one update from its webhook, answered by its agent.

Clients write in private chats; a text message is answered as it is written (one message, edited, like
the platform bot: `channels_tg.progressive`), `/start` is greeted. Everything else gets a short line.
The client never reaches the organization's account, plans or other agents: this bot has no commands
for them, and its only agent is the deployment's.
"""

import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update
from asgiref.sync import sync_to_async
from django.utils import translation
from django.utils.translation import gettext as _

from agents.services import StreamDone, TextDelta
from botgeneric.errors import DomainError
from channels_tg import chat_lock
from channels_tg.bot import build_bot
from channels_tg.progressive import progressive_answer
from deployments import answering, services
from deployments.models import Deployment

logger = logging.getLogger(__name__)


def _locale(language_code: str | None) -> str:
    return "ru" if (language_code or "").lower().startswith("ru") else "en"


async def handle_update(*, deployment: Deployment, update: Update, token: str) -> None:
    """Answer one update. Two updates of one chat, even on two app servers, are answered one after the
    other (`chat_lock`): the second answer sees the first in its history, and their edits never interleave."""
    message = update.message
    if message is None or message.chat.type != "private" or message.from_user is None or message.from_user.is_bot:
        return
    async with chat_lock.chat_turn(message.chat.id, scope=f"deployment:{deployment.pk}"):
        await _handle_message(deployment=deployment, message=message, token=token)


async def _handle_message(*, deployment: Deployment, message, token: str) -> None:
    sender = message.from_user
    locale = _locale(sender.language_code)
    handles = {"telegram": f"@{sender.username}"} if sender.username else {}
    contact = await sync_to_async(services.contact_for)(
        deployment=deployment, external_id=str(sender.id), name=sender.full_name, handles=handles, locale=locale
    )
    bot = build_bot(token)
    try:
        with translation.override(locale):
            if message.text and message.text.startswith("/start"):
                await bot.send_message(chat_id=message.chat.id, text=_greeting(deployment), parse_mode=None)
            elif message.text:
                await _answer(bot, deployment, contact, message.chat.id, message.text)
            else:
                text = _("I can only read text messages.")
                await bot.send_message(chat_id=message.chat.id, text=text, parse_mode=None)
    except TelegramAPIError:
        logger.warning("deployment %s could not reply to chat %s", deployment.pk, message.chat.id, exc_info=True)
    finally:
        await bot.session.close()


def _greeting(deployment: Deployment) -> str:
    return _("Hello! I am %(agent)s. How can I help you?") % {"agent": deployment.agent.name}


async def _answer(bot, deployment: Deployment, contact, chat_id: int, text: str) -> None:
    answer = progressive_answer(bot, chat_id, private=True)
    written = ""
    result = None
    try:
        async for event in answering.answer(deployment=deployment, contact=contact, text=text):
            if isinstance(event, TextDelta):
                written += event.text
                await answer.grow(written)
            elif isinstance(event, StreamDone):
                result = event.result
    except DomainError as error:
        if written:
            await answer.finish(written)
        await bot.send_message(chat_id=chat_id, text=answering.client_message(error), parse_mode=None)
        return
    await answer.finish(result.output if result is not None else written)
