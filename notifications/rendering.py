"""A recorded notice as a message: subject and plain text (e-mail and Telegram) rendered from
templates/notifications/<kind>/ in the active language (the caller activates the user's), and the
e-mail's HTML part from templates/notifications/email.html."""

from dataclasses import dataclass
from decimal import Decimal

from allauth.utils import build_absolute_uri
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification

METRIC_WORDS = {
    "requests": _("requests"),
    "tokens_input": _("input tokens"),
    "tokens_output": _("output tokens"),
}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def render(notification: Notification) -> Message:
    context = _prepared(notification.context)
    context.update(
        user=notification.user,
        billing_url=build_absolute_uri(None, reverse("web:billing")),
        profile_url=build_absolute_uri(None, reverse("web:profile")),
    )
    if "invoice_id" in context:
        context["invoice_url"] = build_absolute_uri(None, reverse("web:invoice", args=[context["invoice_id"]]))
    base = f"notifications/{notification.kind}"
    subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())
    text = render_to_string(f"{base}/body.txt", context).strip()
    html = render_to_string(
        "notifications/email.html", {"subject": subject, "text": text, "LANGUAGE_CODE": get_language()}
    )
    return Message(subject=subject, text=text, html=html)


def _prepared(stored: dict) -> dict:
    """The stored context with its dates as datetimes, a plan's name in the active language, a metric's
    name in words and an amount as the language writes it."""
    context = dict(stored)
    for name, value in stored.items():
        if name.endswith("_at") and isinstance(value, str):
            context[name] = parse_datetime(value)
    if get_language() == "ru" and context.get("plan_ru"):
        context["plan"] = context["plan_ru"]
    if "metric" in context:
        context["metric_name"] = METRIC_WORDS.get(context["metric"], context["metric"])
    if "amount" in context:
        context["amount"] = number_format(Decimal(context["amount"]), decimal_pos=2, force_grouping=True)
    return context
