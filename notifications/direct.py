"""Telling an organization's people at once what happened with its clients (a new lead, a deployment
that cannot answer): through the platform's Telegram bot to those who linked Telegram, else by e-mail,
in each person's language. Not recorded and not switchable (see notifications.services for the kinds
that are). Call it after commit (`transaction.on_commit`): it talks to Telegram or the mail server,
with a timeout, and never raises."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import translation

from botgeneric import telegram_bot_api as bot_api
from tenants.models import Role

logger = logging.getLogger(__name__)


def owners_and(*, organization_id: int, users: list | None = None) -> list:
    """The organization's active owners, plus `users` (members who opted in) who are still active members."""
    people = {
        user.pk: user
        for user in get_user_model().objects.filter(organization_id=organization_id, role=Role.OWNER, is_active=True)
    }
    for user in users or []:
        if user.is_active and user.organization_id == organization_id:
            people.setdefault(user.pk, user)
    return [people[pk] for pk in sorted(people)]


def notify(*, people: list, render: Callable[[], tuple[str, str]]) -> int:
    """Send each person `render()`'s (subject, text), rendered in their language; returns how many got it."""
    delivered = 0
    for person in people:
        with translation.override(person.locale or settings.LANGUAGE_CODE):
            subject, text = render()
        if _by_telegram(person, text) or _by_email(person, subject, text):
            delivered += 1
    return delivered


def _by_telegram(person, text: str) -> bool:
    if not (settings.TELEGRAM_BOT_TOKEN and person.telegram_id):
        return False
    try:
        bot_api.send_message(settings.TELEGRAM_BOT_TOKEN, chat_id=person.telegram_id, text=text)
    except bot_api.BotApiError as error:
        logger.warning("notice to user %s by Telegram failed (%s); trying e-mail", person.pk, error.status)
        return False
    return True


def _by_email(person, subject: str, text: str) -> bool:
    if not person.email:
        logger.warning("user %s has neither Telegram nor e-mail; notice dropped", person.pk)
        return False
    try:
        send_mail(subject, text, None, [person.email])
    except OSError:
        logger.exception("notice e-mail to user %s failed", person.pk)
        return False
    return True
