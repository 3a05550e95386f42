"""Issue 17 item 4: a notice is recorded once per user and key, sent after commit by a task in the
user's language, by e-mail and (linked users) Telegram; each kind can be switched off."""

import threading
from email import message_from_bytes
from email.header import decode_header, make_header

import pytest
from django.core import mail
from django.db import connection, transaction

from background.models import DeadLetter
from notifications.models import Kind, Notification
from notifications.services import notify, update_preferences

pytestmark = pytest.mark.django_db

CONTEXT = {"metric": "requests", "limit": 10, "used": 8, "percent": 80, "resets_at": "2026-12-31T00:00:00+00:00"}


def warn(users, key="quota_warning:1:2026-12-01:requests"):
    return notify(kind=Kind.QUOTA_WARNING, users=users, key=key, context=CONTEXT)


def test_a_notice_is_sent_after_commit_and_recorded_with_its_channels(
    owner, admin, bot_api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        created = warn([owner, admin])
        assert len(created) == 2
        assert mail.outbox == [] and bot_api.sent_texts() == []  # nothing leaves before commit

    assert sorted(message.to[0] for message in mail.outbox) == sorted([owner.email, admin.email])
    english = next(message for message in mail.outbox if message.to == [owner.email])
    assert english.subject == "80 % of your requests quota is used"
    assert "used 8 of its 10 requests" in english.body and "http://127.0.0.1:8000/billing/" in english.body
    assert english.alternatives[0][1] == "text/html" and "<a href=" in english.alternatives[0][0]
    assert bot_api.sent_texts(chat_id=owner.telegram_id or 0) == []
    [telegram] = bot_api.sent_texts(chat_id=admin.telegram_id)
    assert telegram.startswith("Использовано 80 % квоты запросов")
    sent = {row.user_id: row for row in Notification.objects.all()}
    assert sent[owner.pk].channels == ["email"] and sent[owner.pk].sent_at is not None
    assert sent[admin.pk].channels == ["email", "telegram"]


def test_the_same_key_is_sent_once_however_often_it_fires(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert len(warn([owner])) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert warn([owner]) == []
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


def test_russian_text_for_a_russian_user(admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        warn([admin])
    [message] = mail.outbox
    assert message.subject == "Использовано 80 % квоты запросов"
    assert "Ваша организация использовала 8 из 10 запросов" in message.body
    assert "Отключить такие уведомления можно в профиле" in message.body


def test_a_kind_switched_off_is_not_recorded_nor_sent(owner, admin, django_capture_on_commit_callbacks):
    update_preferences(user=owner, changes={"quota_warning": False})
    with django_capture_on_commit_callbacks(execute=True):
        warn([owner, admin])
    assert [message.to for message in mail.outbox] == [[admin.email]]
    assert list(Notification.objects.values_list("user_id", flat=True)) == [admin.pk]


def test_a_telegram_failure_is_retried_without_sending_the_mail_again(
    admin, bot_api, django_capture_on_commit_callbacks
):
    bot_api.fail("sendMessage", status=502)
    with django_capture_on_commit_callbacks(execute=True):
        [notification_id] = warn([admin])

    notification = Notification.objects.get(pk=notification_id)
    assert notification.channels == ["email"] and notification.sent_at is None
    [dead] = DeadLetter.objects.filter(task_name="notifications.deliver")  # inline: one run, then an operator's
    assert dead.kwargs == {"notification_id": notification_id}

    from notifications.tasks import deliver_notification

    deliver_notification.delay(**dead.kwargs)
    notification.refresh_from_db()
    assert notification.channels == ["email", "telegram"] and notification.sent_at is not None
    assert len(mail.outbox) == 1
    assert len(bot_api.sent_texts(chat_id=admin.telegram_id)) == 2  # the refused call and the retry


def test_a_user_who_blocked_the_bot_still_gets_the_mail(admin, bot_api, django_capture_on_commit_callbacks):
    bot_api.fail("sendMessage", status=403)
    with django_capture_on_commit_callbacks(execute=True):
        [notification_id] = warn([admin])
    notification = Notification.objects.get(pk=notification_id)
    assert notification.channels == ["email"] and notification.sent_at is not None
    assert not DeadLetter.objects.exists()


def test_mail_goes_through_the_queue_to_the_smtp_server(owner, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        warn([owner])
    [raw] = smtp.messages
    message = message_from_bytes(raw)
    assert message["To"] == owner.email
    assert str(make_header(decode_header(message["Subject"]))) == "80 % of your requests quota is used"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_triggers_of_one_notice_send_it_once(owner):
    callers = 8
    barrier, created, errors = threading.Barrier(callers), [], []

    def fire():
        try:
            barrier.wait()
            created.extend(warn([owner]))
        except Exception as error:  # noqa: BLE001 — surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fire) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors, errors
    assert len(created) == 1
    assert Notification.objects.count() == 1
    assert [message.to for message in mail.outbox] == [[owner.email]]
