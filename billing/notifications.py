"""What billing tells an organization's owner by itself: the notice that a renewal failed.

`send_past_due_notice` is the one function a service registers with `transaction.on_commit` when an
account becomes past_due; it reads fresh rows by id, so it can run later or elsewhere (a task queue)
just as well. A delivery failure is logged and never undoes the account change it reports.
"""

import logging
import smtplib

from allauth.utils import build_absolute_uri
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.models import BillingAccount
from billing.selectors import grace_ends_at
from botgeneric.telegram_messages import send_telegram_text
from tenants.models import Role

logger = logging.getLogger(__name__)


def send_past_due_notice(*, account_id: int) -> None:
    """Tell the organization's owner, in their language, that the renewal failed: until when they keep
    access while we retry, and the billing page where they pay or change the payment method. By e-mail
    when the owner has an address, and through the platform bot when they linked Telegram."""
    account = BillingAccount.objects.select_related("plan", "organization").filter(pk=account_id).first()
    until = grace_ends_at(account) if account is not None else None
    if until is None:
        return  # paid, ended or gone before the notice went out
    owner = account.organization.members.filter(role=Role.OWNER, is_active=True).order_by("pk").first()
    if owner is None:
        logger.warning("past_due notice for account %s: the organization has no active owner", account.pk)
        return
    link = build_absolute_uri(None, reverse("web:billing"))
    with translation.override(owner.locale):
        plan = account.plan.name_ru if owner.locale == "ru" and account.plan.name_ru else account.plan.name
        words = {"plan": plan, "until": f"{date_format(until, 'DATETIME_FORMAT')} UTC", "link": link}
        subject = _("Payment for your %(plan)s plan failed") % words
        body = (
            _(
                "We could not charge the renewal of your %(plan)s plan. You keep access until %(until)s "
                "while we retry the payment. Pay or change your payment method here: %(link)s"
            )
            % words
        )
    if owner.email:
        try:
            send_mail(subject, body, None, [owner.email])
        except (smtplib.SMTPException, OSError) as error:
            logger.warning("past_due notice e-mail for account %s not sent: %s", account.pk, error)
    if owner.telegram_id is not None:
        send_telegram_text(chat_id=owner.telegram_id, text=f"{subject}\n\n{body}")
