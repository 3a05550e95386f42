"""Webhook mode: Telegram POSTs each update here; it goes to the same dispatcher the polling worker uses.
Customers' own bots (deployments) have a webhook each, `deployment_webhook`, answered by `tenant_bots`."""

import hmac
import json
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from deployments import selectors as deployment_selectors
from deployments import services as deployment_services

logger = logging.getLogger(__name__)

# Telegram re-sends an update it got no 200 for (a slow answer, a timeout); remembering the ids
# handled in the last day keeps a re-delivery from asking the agent (and charging) twice.
SEEN_UPDATE_SECONDS = 24 * 3600


@csrf_exempt
@require_POST
async def webhook(request: HttpRequest) -> HttpResponse:
    """Accept an update only with the secret set in setWebhook(secret_token=…); answer 200 once handled.

    Each update is handled at most once: a re-delivered update_id is acknowledged and skipped.
    """
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not settings.TELEGRAM_BOT_TOKEN or not hmac.compare_digest(given.encode(), secret.encode()):
        return HttpResponseForbidden()
    # aiogram's pydantic models take seconds to import; importing them here, not at module level,
    # keeps them out of the URLconf, so app servers without the bot do not pay on their first request.
    from aiogram.types import Update
    from pydantic import ValidationError

    from channels_tg.bot import build_bot, get_dispatcher

    try:
        payload = json.loads(request.body)
        update = Update.model_validate(payload)
    except (ValueError, ValidationError):
        return HttpResponseBadRequest()
    bot_id = settings.TELEGRAM_BOT_TOKEN.split(":", 1)[0]
    if not await cache.aadd(f"telegram:{bot_id}:update:{update.update_id}", 1, SEEN_UPDATE_SECONDS):
        logger.info("update %s delivered again; already handled", update.update_id)
        return HttpResponse()
    bot = build_bot()
    try:
        await get_dispatcher().feed_update(bot, update)
    finally:
        await bot.session.close()
    return HttpResponse()


@csrf_exempt
@require_POST
async def deployment_webhook(request: HttpRequest, deployment_id: int) -> HttpResponse:
    """One update for the organization's bot, routed by the deployment id in the path and accepted only
    with that deployment's own secret (X-Telegram-Bot-Api-Secret-Token)."""
    deployment = await sync_to_async(deployment_selectors.deployment_for_webhook)(deployment_id=deployment_id)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if (
        deployment is None
        or not deployment.webhook_secret
        or not hmac.compare_digest(given.encode(), deployment.webhook_secret.encode())
    ):
        return HttpResponseForbidden()
    from aiogram.types import Update
    from pydantic import ValidationError

    from channels_tg.tenant_bots import handle_update

    try:
        update = Update.model_validate(json.loads(request.body))
    except (ValueError, ValidationError):
        return HttpResponseBadRequest()
    if not await cache.aadd(f"deployments:{deployment.pk}:update:{update.update_id}", 1, SEEN_UPDATE_SECONDS):
        return HttpResponse()
    token = deployment_services.bot_token(deployment)
    if not token:
        return HttpResponse()
    await handle_update(deployment=deployment, update=update, token=token)
    return HttpResponse()
