"""`manage.py run_telegram_bot`: the long-polling worker (one per bot token), or webhook registration."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_tg.bot import build_bot, get_dispatcher, poll


class Command(BaseCommand):
    help = (
        "Run the Telegram bot in long-polling mode, or with --set-webhook URL register webhook mode "
        "(Telegram then POSTs updates to /telegram/webhook/ with TELEGRAM_WEBHOOK_SECRET)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--set-webhook", metavar="URL", help="register URL as the bot's webhook and exit")

    def handle(self, *args, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set; get one from @BotFather and put it in the environment.")
        if options["set_webhook"]:
            if not settings.TELEGRAM_WEBHOOK_SECRET:
                raise CommandError("TELEGRAM_WEBHOOK_SECRET is not set; the webhook view refuses updates without it.")
            asyncio.run(self._set_webhook(options["set_webhook"]))
            self.stdout.write(f"Webhook set to {options['set_webhook']}")
            return
        asyncio.run(poll())

    async def _set_webhook(self, url: str) -> None:
        bot = build_bot()
        try:
            dispatcher = get_dispatcher()
            await bot.set_webhook(
                url=url,
                secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                allowed_updates=dispatcher.resolve_used_update_types(),
            )
        finally:
            await bot.session.close()
