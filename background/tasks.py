"""Tasks of the background app: delivering e-mail."""

from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection

from background.mail import message_from_dict
from background.task_base import BackgroundTask


@shared_task(base=BackgroundTask, name="background.send_email")
def send_email(*, message: dict) -> None:
    """Deliver one queued message; an SMTP failure is retried with backoff, then dead-lettered."""
    connection = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=False)
    connection.send_messages([message_from_dict(message)])
