"""Writes for notifications: recording a notice once per user and key, delivering it, preferences.

A trigger (a billing change, a quota crossing, a daily task) calls `notify()` inside its own
transaction: the notices are recorded with it (one INSERT … ON CONFLICT DO NOTHING, so a second or
concurrent trigger records nothing) and each new one is delivered by the `notifications.deliver` task
once that transaction commits — never a network call inside it. Delivery renders the templates under
templates/notifications/ in the user's language and sends them by e-mail and, to a user who linked
Telegram, through the platform bot; each channel is recorded as it succeeds, so a retry (the task's
backoff) sends only what is missing.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone, translation

from background.queue import enqueue_on_commit
from botgeneric import telegram_bot_api
from notifications.models import PREFERENCE_FIELDS, DeliveryChannel, Kind, Notification, NotificationPreferences
from notifications.rendering import render
from notifications.selectors import preferences_of
from tenants.services import record_audit

logger = logging.getLogger(__name__)

_TABLE = Notification._meta.db_table
_CONTEXT = Notification._meta.get_field("context")
_CHANNELS = Notification._meta.get_field("channels")
#: Telegram answers these when the user never started the bot or blocked it: retrying cannot help.
UNDELIVERABLE_STATUSES = (400, 403)


def notify(*, kind: Kind, users: Iterable, key: str, context: dict, organization_id: int | None = None) -> list[int]:
    """Record notice `kind` about `key` (e.g. "quota_warning:<account>:<period start>:requests") for each of
    `users` who did not switch the kind off, unless that user already has it; deliver the new ones
    after commit. `context` must be JSON-safe (dates as ISO strings, named `…_at`). Returns the new ids."""
    users = list(users)
    preferences = preferences_of(user_ids=[user.pk for user in users])
    wanted = [user for user in users if preferences[user.pk].wants(kind)]
    if not wanted:
        return []
    now = timezone.now()
    rows, params = [], []
    for user in wanted:
        rows.append("(%s, %s, %s, %s, %s, %s, %s)")
        params += [
            user.pk,
            organization_id,
            str(kind),
            key[:200],
            _CONTEXT.get_db_prep_value(context, connection),
            _CHANNELS.get_db_prep_value([], connection),
            now,
        ]
    sql = (
        f"INSERT INTO {_TABLE} (user_id, organization_id, kind, key, context, channels, created_at) "  # noqa: S608
        f"VALUES {', '.join(rows)} ON CONFLICT (user_id, key) DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        created = [row[0] for row in cursor.fetchall()]
    from notifications.tasks import deliver_notification

    for notification_id in created:
        enqueue_on_commit(deliver_notification, notification_id=notification_id)
    return created


def deliver(*, notification_id: int) -> list[str]:
    """Send a recorded notice by each channel it has not reached yet; returns the channels it reached.

    An e-mail failure or a Telegram that cannot be reached raises, and the task retries; a Telegram
    refusal for this user (blocked, never started the bot) is final and only logged."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or notification.sent_at is not None:
        return notification.channels if notification else []
    user = notification.user
    channels = list(notification.channels)
    if user.is_active:
        with translation.override(user.locale or settings.LANGUAGE_CODE):
            message = render(notification)
        if user.email and DeliveryChannel.EMAIL not in channels:
            email = EmailMultiAlternatives(message.subject, message.text, None, [user.email])
            email.attach_alternative(message.html, "text/html")
            email.send()
            channels = _reached(notification, channels, DeliveryChannel.EMAIL)
        if _telegram_wanted(notification, user) and DeliveryChannel.TELEGRAM not in channels:
            try:
                telegram_bot_api.send_message(
                    settings.TELEGRAM_BOT_TOKEN, chat_id=user.telegram_id, text=f"{message.subject}\n\n{message.text}"
                )
                channels = _reached(notification, channels, DeliveryChannel.TELEGRAM)
            except telegram_bot_api.BotApiError as error:
                if error.status not in UNDELIVERABLE_STATUSES:
                    raise
                logger.warning("notice %s: Telegram refused user %s (%s)", notification.pk, user.pk, error.status)
    Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), channels=channels)
    return channels


def _telegram_wanted(notification: Notification, user) -> bool:
    return bool(
        settings.TELEGRAM_BOT_TOKEN and user.telegram_id is not None and notification.kind != Kind.DAILY_SUMMARY
    )


def _reached(notification: Notification, channels: list[str], channel: str) -> list[str]:
    channels = [*channels, str(channel)]
    Notification.objects.filter(pk=notification.pk).update(channels=channels)
    return channels


def update_preferences(*, user, changes: dict[str, bool]) -> NotificationPreferences:
    """Switch kinds on or off for `user` (only the given ones); audited. The operators' daily summary
    is for staff users only."""
    changes = {name: bool(value) for name, value in changes.items() if name in PREFERENCE_FIELDS}
    if not user.is_staff:
        changes.pop(Kind.DAILY_SUMMARY.value, None)
    with transaction.atomic():
        NotificationPreferences.objects.get_or_create(user=user)
        preferences = NotificationPreferences.objects.select_for_update().get(user=user)
        before = {name: getattr(preferences, name) for name in changes}
        changed = {name: value for name, value in changes.items() if before[name] != value}
        if changed:
            for name, value in changed.items():
                setattr(preferences, name, value)
            preferences.save(update_fields=list(changed))
            record_audit(
                action="notifications.preferences_changed",
                target=user,
                organization=user.organization,
                actor=user,
                before={name: before[name] for name in changed},
                after=changed,
            )
    return preferences
