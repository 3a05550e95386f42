"""An answer shown while it is written: one message, edited as the text grows, then the final text.

Updates are at most one per `interval` seconds (TELEGRAM_EDIT_INTERVAL_SECONDS, default 1), the final
text included: a chat is answered one message at a time, so this is a per-chat rate within
Telegram's flood limits. An answer written within one interval of its first words is sent once,
unedited. Each
update shows the first piece of the text so far, formatted like the final answer; the final text
replaces it, and an answer longer than one message goes on in new messages.
"""

import asyncio
import logging
import secrets
import time

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from django.conf import settings

from channels_tg import formatting

logger = logging.getLogger(__name__)


class ProgressiveAnswer:
    def __init__(self, bot: Bot, chat_id: int, *, interval: float):
        self.bot = bot
        self.chat_id = chat_id
        self.interval = interval
        self.message_id: int | None = None
        self._shown = ""
        # Set by the first delta: the first update waits one interval too, so an answer written
        # within it arrives as one message, unedited.
        self._shown_at: float | None = None

    @property
    def started(self) -> bool:
        return self.message_id is not None

    async def grow(self, text: str) -> None:
        """Show `text`, the answer so far, unless the last update (or the first delta) is less than
        `interval` old."""
        if self._shown_at is None:
            self._shown_at = time.monotonic()
        elif time.monotonic() - self._shown_at >= self.interval:
            pieces = formatting.telegram_pieces(text)
            if pieces:
                await self._show(pieces[0])

    async def finish(self, text: str) -> None:
        """Replace the draft with the final `text` (a new message when nothing was shown yet)."""
        pieces = formatting.telegram_pieces(text)
        if not pieces:
            return
        first, rest = (pieces[0], pieces[1:]) if self.started else (None, pieces)
        if first is not None and first.text != self._shown:
            await self._wait_for_interval()
            await self._show(first)
        for piece in rest:
            await self._send(piece)

    async def _wait_for_interval(self) -> None:
        await asyncio.sleep(max(0.0, (self._shown_at or 0.0) + self.interval - time.monotonic()))

    async def _show(self, piece: formatting.Piece) -> None:
        if piece.text == self._shown:
            return
        if self.message_id is None:
            message = await self._send(piece)
            self.message_id = message.message_id
        else:
            try:
                await self.bot.edit_message_text(
                    chat_id=self.chat_id,
                    message_id=self.message_id,
                    text=piece.text,
                    entities=piece.entities,
                    parse_mode=None,
                )
            except TelegramBadRequest:
                logger.warning("chat %s refused a formatted edit; editing as plain text", self.chat_id, exc_info=True)
                await self.bot.edit_message_text(
                    chat_id=self.chat_id, message_id=self.message_id, text=piece.text, parse_mode=None
                )
        self._shown, self._shown_at = piece.text, time.monotonic()

    async def _send(self, piece: formatting.Piece):
        try:
            return await self.bot.send_message(
                chat_id=self.chat_id, text=piece.text, entities=piece.entities, parse_mode=None
            )
        except TelegramBadRequest:
            logger.warning("chat %s refused a formatted message; sending plain text", self.chat_id, exc_info=True)
            return await self.bot.send_message(chat_id=self.chat_id, text=piece.text, parse_mode=None)


class DraftAnswer(ProgressiveAnswer):
    """The same, through Bot API drafts (sendMessageDraft, private chats only): the text so far is an
    animated preview that is not a message; the final text is sent as message(s) of its own. Opt-in
    (TELEGRAM_ANSWER_DRAFTS): a draft disappears by itself after 30 seconds, so an answer the worker
    could not finish leaves nothing behind, where an edited message keeps what was written."""

    def __init__(self, bot: Bot, chat_id: int, *, interval: float):
        super().__init__(bot, chat_id, interval=interval)
        self.draft_id = secrets.randbelow(2**31 - 1) + 1

    @property
    def started(self) -> bool:
        return bool(self._shown)

    async def finish(self, text: str) -> None:
        pieces = formatting.telegram_pieces(text)
        if pieces and self.started:
            await self._wait_for_interval()
        for piece in pieces:
            await self._send(piece)

    async def _show(self, piece: formatting.Piece) -> None:
        if piece.text == self._shown:
            return
        try:
            await self.bot.send_message_draft(
                chat_id=self.chat_id, draft_id=self.draft_id, text=piece.text, entities=piece.entities, parse_mode=None
            )
        except TelegramBadRequest:
            logger.warning("chat %s refused a draft; the final answer will still come", self.chat_id, exc_info=True)
        self._shown, self._shown_at = piece.text, time.monotonic()


def progressive_answer(bot: Bot, chat_id: int, *, private: bool) -> ProgressiveAnswer:
    """Drafts where the Bot API offers them and the operator chose them (private chats), else edits."""
    interval = settings.TELEGRAM_EDIT_INTERVAL_SECONDS
    if private and settings.TELEGRAM_ANSWER_DRAFTS:
        return DraftAnswer(bot, chat_id, interval=interval)
    return ProgressiveAnswer(bot, chat_id, interval=interval)
