"""Middlewares of the bot: Bot API retries (session side) and per-chat ordering + account (update side)."""

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, TelegramObject, User

from channels_tg import chat_lock, service_calls, services

logger = logging.getLogger(__name__)


class RetryRequestMiddleware(BaseRequestMiddleware):
    """Retry a Bot API call on 429 (after the retry_after Telegram asks for) and on 5xx/network errors.

    403 (the user blocked the bot) and other 4xx are not retried: repeating them cannot succeed.
    A retry_after longer than `max_retry_after` is not waited out in-line; the error goes up.
    """

    def __init__(self, *, attempts: int = 5, base_delay: float = 0.5, max_retry_after: float = 60.0):
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_retry_after = max_retry_after

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 1
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt >= self.attempts or exc.retry_after > self.max_retry_after:
                    raise
                delay = float(exc.retry_after)
                reason = "flood control"
            except (TelegramServerError, TelegramNetworkError) as exc:
                if attempt >= self.attempts or isinstance(exc, TelegramEntityTooLarge):
                    raise
                delay = self.base_delay * 2 ** (attempt - 1)
                reason = type(exc).__name__
            logger.warning("Bot API %s failed (%s), retry %d in %.1fs", method.__api_method__, reason, attempt, delay)
            await asyncio.sleep(delay)
            attempt += 1


class ChatLockMiddleware(BaseMiddleware):
    """One update at a time per chat: a second message waits until the first one is answered.

    Locks live only while someone holds or waits for them (weak values), so idle chats cost nothing.
    They are per event loop (an asyncio.Lock must not be shared across loops, and webhook requests
    may each run in their own); across loops, processes and app servers, `chat_lock.chat_turn` orders them.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[tuple[int, int], asyncio.Lock] = weakref.WeakValueDictionary()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        if chat is None:
            return await handler(event, data)
        key = (id(asyncio.get_running_loop()), chat.id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock, chat_lock.chat_turn(chat.id):
            return await handler(event, data)


class AccountMiddleware(BaseMiddleware):
    """Resolve (or create, on first contact) the account and chat row; handlers get it as `tg_chat`.

    Only private chats are served: a group chat has no single owner to bill.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        chat: Chat | None = data.get("event_chat")
        sender: User | None = data.get("event_from_user")
        if chat is None or sender is None or sender.is_bot or chat.type != "private":
            return UNHANDLED
        person = services.TelegramPerson(
            telegram_id=sender.id, name=sender.full_name, language_code=sender.language_code
        )
        data["tg_chat"] = await service_calls.call(services.chat_for, chat_id=chat.id, person=person)
        return await handler(event, data)
