"""Domain error codes in the words a dashboard user reads.

The services raise DomainError with a stable code and extras (SPEC §5); this is the one place the
web channel turns them into sentences, so every page explains a refusal the same way.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from botgeneric.errors import DomainError


@dataclass(frozen=True)
class ErrorMessage:
    text: str
    link_url: str = ""
    link_text: str = ""


def _when(value: str | None) -> str:
    if not value:
        return _("the start of the next period")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.UTC)
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _metric(metric: str) -> str:
    return {
        "requests": _("requests"),
        "tokens_input": _("input tokens"),
        "tokens_output": _("output tokens"),
    }.get(metric, metric)


def describe_error(error: DomainError) -> ErrorMessage:
    """Plain words (and, where it helps, a link to the fix) for an error a service raised."""
    code, extra = error.code, error.extra
    billing = reverse("web:billing")
    if code == "user_inactive":
        return ErrorMessage(_("Your account is deactivated. Please contact support."))
    if code in ("agent_not_found", "not_found"):
        return ErrorMessage(_("That item does not exist or is not available to you."))
    if code == "no_subscription":
        return ErrorMessage(
            _("Your organization has no subscription yet. Choose a plan to start using agents."),
            billing,
            _("Choose a plan"),
        )
    if code == "subscription_inactive":
        return ErrorMessage(
            _("Your subscription is not active (it has expired, was canceled or is unpaid)."),
            billing,
            _("Renew on the billing page"),
        )
    if code == "agent_not_in_plan":
        plans = [plan.get("name") or plan.get("code") for plan in extra.get("upgrade_plans") or []]
        if plans:
            return ErrorMessage(
                _("This agent is not included in your plan — upgrade to %(plans)s to use it.")
                % {"plans": _(" or ").join(plans)},
                billing,
                _("See plans"),
            )
        return ErrorMessage(_("This agent is not included in your plan."), billing, _("See plans"))
    if code == "channel_not_allowed":
        return ErrorMessage(
            _("Your plan does not include the web dashboard. Upgrade to use agents here."), billing, _("See plans")
        )
    if code == "rate_limited":
        seconds = int(extra.get("retry_after") or 1)
        return ErrorMessage(
            ngettext(
                "Too many requests. Please wait %(seconds)d second and try again.",
                "Too many requests. Please wait %(seconds)d seconds and try again.",
                seconds,
            )
            % {"seconds": seconds}
        )
    if code == "quota_exceeded":
        return ErrorMessage(
            _("You have used %(used)s of %(limit)s %(metric)s in this billing period; the quota resets at %(when)s.")
            % {
                "used": extra.get("used"),
                "limit": extra.get("limit"),
                "metric": _metric(extra.get("metric", "requests")),
                "when": _when(extra.get("resets_at")),
            },
            billing,
            _("Upgrade for a larger quota"),
        )
    if code == "email_unverified":
        return ErrorMessage(
            _(
                "Your trial allows %(limit)s requests until your e-mail address is verified. Open the link we "
                "e-mailed you, or send a new one from your e-mail settings."
            )
            % {"limit": extra.get("limit")},
            reverse("account_email"),
            _("Verify my e-mail"),
        )
    if code == "upstream_error":
        return ErrorMessage(_("The model provider failed to answer. You were not charged; please try again."))
    if code == "upstream_timeout":
        return ErrorMessage(_("The model provider took too long to answer. You were not charged; please try again."))
    if code == "provider_key_unavailable":
        return ErrorMessage(_("The model provider is not available right now. You were not charged; please try later."))
    if code == "missing_variable":
        return ErrorMessage(
            _("This agent needs more details than a chat message provides: %(detail)s") % {"detail": error.detail}
        )
    billing_words = {
        "unknown_plan": _("That plan is not offered any more."),
        "provider_disabled": _("That payment method is not available right now."),
        "provider_not_supported": _("That payment method cannot do this; choose another one."),
        "currency_not_offered": _("This plan is not sold in that currency through that payment method."),
        "already_subscribed": _("You are already subscribed to this plan."),
        "not_subscribed": _("There is no current subscription to change."),
        "not_resumable": _("There is nothing to resume: the subscription is not set to end."),
    }
    if code in billing_words:
        return ErrorMessage(billing_words[code])
    return ErrorMessage(str(error.detail))
