"""Building the aiogram Bot and Dispatcher; polling (the worker command) and webhook (the view) share them."""

import functools
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from channels_tg import handlers
from channels_tg.middlewares import AccountMiddleware, ChatLockMiddleware, RetryRequestMiddleware

logger = logging.getLogger(__name__)


def build_bot(token: str | None = None) -> Bot:
    """A Bot on its own aiohttp session, pointed at TELEGRAM_API_SERVER when set, with request retries."""
    token = token or settings.TELEGRAM_BOT_TOKEN
    if not token:
        raise ImproperlyConfigured("TELEGRAM_BOT_TOKEN is not set.")
    api = TelegramAPIServer.from_base(settings.TELEGRAM_API_SERVER) if settings.TELEGRAM_API_SERVER else PRODUCTION
    session = AiohttpSession(api=api)
    session.middleware(RetryRequestMiddleware())
    return Bot(token=token, session=session)


def build_dispatcher() -> Dispatcher:
    """Middlewares in order: per-chat lock, then the account; then the handlers and the error handler."""
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.update.outer_middleware(ChatLockMiddleware())
    dispatcher.update.outer_middleware(AccountMiddleware())
    dispatcher.include_router(handlers.build_router())
    dispatcher.errors.register(handlers.on_error)
    return dispatcher


@functools.cache
def get_dispatcher() -> Dispatcher:
    """The process-wide dispatcher, so the per-chat locks are shared by every update this process serves."""
    return build_dispatcher()


async def poll(*, handle_signals: bool = True) -> None:
    """Long-poll getUpdates until stopped (SIGINT/SIGTERM, or Dispatcher.stop_polling())."""
    bot = build_bot()
    dispatcher = get_dispatcher()
    # A webhook left over from webhook mode would make getUpdates fail with 409 Conflict.
    await bot.delete_webhook(drop_pending_updates=False)
    me = await bot.get_me()
    logger.info("polling as @%s", me.username)
    await dispatcher.start_polling(
        bot, allowed_updates=dispatcher.resolve_used_update_types(), handle_signals=handle_signals
    )
