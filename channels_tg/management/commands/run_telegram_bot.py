"""`manage.py run_telegram_bot`: the long-polling worker (one per bot token)."""

import asyncio
import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_tg.bot import build_bot, get_dispatcher

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the Telegram bot in long-polling mode (use the /telegram/webhook/ view for webhook mode)."

    def handle(self, *args, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set; get one from @BotFather and put it in the environment.")
        asyncio.run(self._poll())

    async def _poll(self) -> None:
        bot = build_bot()
        dispatcher = get_dispatcher()
        # A webhook left over from webhook mode would make getUpdates fail with 409 Conflict.
        await bot.delete_webhook(drop_pending_updates=False)
        me = await bot.get_me()
        logger.info("polling as @%s", me.username)
        await dispatcher.start_polling(bot, allowed_updates=dispatcher.resolve_used_update_types())
