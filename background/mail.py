"""E-mail through a task: EMAIL_BACKEND queues each message after commit; the `background.send_email`
task delivers it with EMAIL_DELIVERY_BACKEND (what EMAIL_URL names), retried with backoff, so a slow
or failing SMTP server never holds a request and a message is not lost to one failure."""

import base64

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend


class QueuedEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from background.queue import enqueue_on_commit
        from background.tasks import send_email

        for message in email_messages:
            enqueue_on_commit(send_email, message=message_to_dict(message))
        return len(email_messages)


def message_to_dict(message: EmailMessage) -> dict:
    """The message as JSON the broker can carry (attachments base64-encoded)."""
    attachments = []
    for attachment in message.attachments:
        filename, content, mimetype = attachment
        raw = content.encode() if isinstance(content, str) else content
        attachments.append(
            {
                "filename": filename,
                "content": base64.b64encode(raw).decode(),
                "mimetype": mimetype,
                "text": isinstance(content, str),
            }
        )
    return {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "content_subtype": message.content_subtype,
        "alternatives": [list(alternative) for alternative in getattr(message, "alternatives", [])],
        "attachments": attachments,
    }


def message_from_dict(data: dict) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=data["subject"],
        body=data["body"],
        from_email=data["from_email"],
        to=data["to"],
        cc=data["cc"],
        bcc=data["bcc"],
        reply_to=data["reply_to"],
        headers=data["headers"],
        alternatives=[tuple(alternative) for alternative in data["alternatives"]],
    )
    message.content_subtype = data["content_subtype"]
    for attachment in data["attachments"]:
        content = base64.b64decode(attachment["content"])
        message.attach(
            attachment["filename"], content.decode() if attachment["text"] else content, attachment["mimetype"]
        )
    return message
