"""Issue 16 item 1: e-mail goes through the `background.send_email` task after commit; a delivery that
fails for good is a dead letter an operator can run again from the admin. With no broker (the tests'
default) the task runs inline once the transaction commits."""

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, send_mail
from django.db import transaction

from background.models import DeadLetter
from tenants.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_mail(settings):
    """The production setting (mail queued through the task), delivering into Django's test outbox."""
    settings.EMAIL_BACKEND = "background.mail.QueuedEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_the_verification_mail_of_a_sign_up_is_delivered_by_the_task_after_commit(
    queued_mail, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register", {"email": "new@example.com", "password": "a-long-passphrase-1"}, format="json"
        )
        assert response.status_code == 201
        assert mail.outbox == []  # queued, not sent, until the sign-up commits

    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    assert "/accounts/confirm-email/" in message.body


def test_a_message_rolled_back_with_its_transaction_is_never_sent(queued_mail, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        send_mail("Hello", "text", None, ["someone@example.com"])
        raise RuntimeError("the write failed")

    assert mail.outbox == []


def test_alternatives_attachments_and_headers_survive_the_queue(queued_mail, django_capture_on_commit_callbacks):
    message = EmailMultiAlternatives(
        "Invoice", "plain", "billing@example.com", ["a@example.com"], cc=["c@example.com"], headers={"X-Tag": "7"}
    )
    message.attach_alternative("<p>html</p>", "text/html")
    message.attach("invoice.pdf", b"%PDF-1.4 \x00\xff", "application/pdf")
    message.attach("notes.txt", "plain notes", "text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        message.send()

    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.from_email, sent.to, sent.cc) == (
        "Invoice",
        "plain",
        "billing@example.com",
        ["a@example.com"],
        ["c@example.com"],
    )
    assert sent.extra_headers == {"X-Tag": "7"}
    assert [tuple(alternative) for alternative in sent.alternatives] == [("<p>html</p>", "text/html")]
    assert [tuple(attachment) for attachment in sent.attachments] == [
        ("invoice.pdf", b"%PDF-1.4 \x00\xff", "application/pdf"),
        ("notes.txt", "plain notes", "text/plain"),
    ]


def test_a_delivery_that_fails_inline_is_a_dead_letter_an_operator_runs_again(
    smtp, admin_client, admin_user, django_capture_on_commit_callbacks
):
    smtp.unavailable = True
    with django_capture_on_commit_callbacks(execute=True):
        send_mail("Hello", "text", "noreply@example.com", ["someone@example.com"])

    [dead] = DeadLetter.objects.all()
    assert (dead.task_name, dead.attempts) == ("background.send_email", 1)
    assert "SMTP" in dead.error and dead.kwargs["message"]["to"] == ["someone@example.com"]
    listed = admin_client.get("/admin/background/deadletter/")
    assert listed.status_code == 200 and "background.send_email" in listed.content.decode()

    smtp.unavailable = False
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post("/admin/background/deadletter/", {"action": "run_again", "_selected_action": [dead.pk]})

    [delivered] = smtp.messages
    assert b"Subject: Hello" in delivered
    dead.refresh_from_db()
    assert dead.requeued_at is not None
    assert AuditEvent.objects.get(action="task.requeued").actor == admin_user


def test_running_a_task_again_needs_the_change_permission(
    smtp, client, django_user_model, django_capture_on_commit_callbacks
):
    smtp.unavailable = True
    with django_capture_on_commit_callbacks(execute=True):
        send_mail("Hello", "text", "noreply@example.com", ["someone@example.com"])
    viewer = django_user_model.objects.create_user(email="viewer@example.com", password="pw-0123456789", is_staff=True)
    viewer.user_permissions.add(*_permissions("view_deadletter"))
    client.force_login(viewer)
    dead = DeadLetter.objects.get()

    page = client.get("/admin/background/deadletter/")
    client.post("/admin/background/deadletter/", {"action": "run_again", "_selected_action": [dead.pk]})

    assert page.status_code == 200 and "run_again" not in page.content.decode()
    dead.refresh_from_db()
    assert dead.requeued_at is None


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="background", codename__in=codenames)
