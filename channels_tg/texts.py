"""Everything the bot says, in the user's language. Error codes from the services become words here
(ERROR_TEXTS: every registered code, in English and Russian, as a test checks).

Each function takes the locale explicitly and renders under `translation.override`, so a reply is
in the language of the user it is for, whatever language the worker process runs in.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.errors import AccountErrorCode
from agents.errors import AgentErrorCode
from billing.errors import BillingErrorCode
from botgeneric.errors import ApiErrorCode, DomainError, ErrorCode
from deployments.errors import DeploymentErrorCode
from policy.errors import DenyCode
from privacy.errors import PrivacyErrorCode
from prompts.errors import PromptErrorCode
from tenants.errors import TenantErrorCode

TELEGRAM_MESSAGE_LIMIT = 4096


def split_message(text: str, limit: int = TELEGRAM_MESSAGE_LIMIT) -> list[str]:
    """Cut `text` into pieces Telegram accepts, preferring a newline, then a space, as the cut.

    Only the separator at a cut is dropped, so indentation and blank lines inside pieces survive.
    """
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            pieces.append(rest[:limit])
            rest = rest[limit:]
        else:
            pieces.append(rest[:cut])
            rest = rest[cut + 1 :]
    pieces.append(rest)
    return [piece for piece in pieces if piece.strip()]


def _when(value: datetime | str | None) -> str:
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plan_name(plan, locale: str) -> str:
    return plan.name_ru if locale == "ru" and plan.name_ru else plan.name


def status_word(status: str) -> str:
    words = {
        "none": _("no subscription"),
        "trialing": _("trial"),
        "active": _("active"),
        "past_due": _("payment overdue"),
        "canceled": _("canceled"),
        "expired": _("expired"),
    }
    return words.get(status, status)


def metric_word(metric: str) -> str:
    words = {"requests": _("requests"), "tokens_input": _("input tokens"), "tokens_output": _("output tokens")}
    return words.get(metric, metric)


def greeting(*, locale: str, name: str, plan_line: str) -> str:
    with translation.override(locale):
        hello = _("Hello, %(name)s!") % {"name": name} if name else _("Hello!")
        return "\n\n".join(
            [
                hello + " " + _("I give you access to AI agents right here in Telegram."),
                plan_line,
                _("Choose an agent with /agents, then just write (or send a voice message). /help lists all commands."),
            ]
        )


def plan_line(*, locale: str, account) -> str:
    """One sentence about the subscription; `account` is a BillingAccount or None."""
    with translation.override(locale):
        if account is None or account.plan is None:
            return _("You have no subscription yet. See the plans with /subscribe.")
        return _("Your plan: %(plan)s (%(status)s, until %(end)s).") % {
            "plan": plan_name(account.plan, locale),
            "status": status_word(account.status),
            "end": _when(account.current_period_end),
        }


def help_text(*, locale: str) -> str:
    with translation.override(locale):
        return "\n".join(
            [
                _("Commands:"),
                _("/agents — choose the agent to talk to"),
                _("/new — start a new conversation"),
                _("/plan — your plan, usage and period end"),
                _("/subscribe — choose or change your plan"),
                _("/locale — change the language"),
                _("/register <e-mail> — add an e-mail login for the website"),
                _("/help — this list"),
                "",
                _("Any other message goes to the agent you chose; voice messages are transcribed first."),
            ]
        )


def choose_agent(*, locale: str) -> str:
    with translation.override(locale):
        return _("Choose an agent:")


def no_agents(*, locale: str) -> str:
    with translation.override(locale):
        return _("Your plan includes no agents for Telegram. See the plans with /subscribe.")


def agent_chosen(*, locale: str, agent_name: str) -> str:
    with translation.override(locale):
        return _("You are talking to %(agent)s now. Just write your message; /new starts a new conversation.") % {
            "agent": agent_name
        }


def choose_agent_first(*, locale: str) -> str:
    with translation.override(locale):
        return _("Choose an agent first: /agents")


def new_conversation(*, locale: str, agent_name: str | None) -> str:
    with translation.override(locale):
        if agent_name is None:
            return _("Started a new conversation. Choose an agent with /agents.")
        return _("Started a new conversation with %(agent)s.") % {"agent": agent_name}


def plan_status(
    *, locale: str, account, usage: list[dict], payment_overdue_until: datetime | None = None, billing_url: str = ""
) -> str:
    """The /plan answer: plan, status, period end and each usage meter; after a failed renewal, first of
    all until when access lasts and where to fix the payment."""
    with translation.override(locale):
        if account is None or account.plan is None:
            return _("You have no subscription yet. See the plans with /subscribe.")
        lines = []
        if payment_overdue_until is not None:
            lines.append(
                _(
                    "⚠️ The renewal payment failed. You keep access until %(until)s while we retry it. "
                    "Fix the payment: %(link)s (or pay again with /subscribe)"
                )
                % {"until": _when(payment_overdue_until), "link": billing_url}
            )
            lines.append("")
        lines += [
            _("Plan: %(plan)s") % {"plan": plan_name(account.plan, locale)},
            _("Status: %(status)s") % {"status": status_word(account.status)},
            _("Period ends: %(end)s") % {"end": _when(account.current_period_end)},
        ]
        if account.cancel_at_period_end:
            lines.append(_("The subscription ends with this period."))
        if usage:
            lines.append("")
            lines.append(_("Usage this period:"))
            for meter in usage:
                limit = meter["limit"]
                lines.append(
                    _("%(metric)s: %(used)s of %(limit)s")
                    % {
                        "metric": metric_word(meter["metric"]),
                        "used": meter["used"],
                        "limit": _("unlimited") if limit is None else limit,
                    }
                )
        return "\n".join(lines)


def choose_plan(*, locale: str) -> str:
    with translation.override(locale):
        return _("Choose a plan:")


def no_plans(*, locale: str) -> str:
    with translation.override(locale):
        return _("No plans are on sale right now. Please try again later.")


def payments_unavailable(*, locale: str) -> str:
    with translation.override(locale):
        return _("Payments are not available right now. Please try again later.")


def choose_provider(*, locale: str) -> str:
    with translation.override(locale):
        return _("How would you like to pay?")


def plan_button(*, locale: str, plan) -> str:
    """'Monthly — 19.99 USD / month': the USD price (billing's default currency), else the first one."""
    with translation.override(locale):
        intervals = {"day": _("day"), "week": _("week"), "month": _("month"), "year": _("year")}
        prices = list(plan.prices.all())
        name = plan_name(plan, locale)
        if not prices:
            return name
        price = next((price for price in prices if price.currency == "USD"), prices[0])
        return f"{name} — {price.amount} {price.currency} / {intervals.get(plan.interval, plan.interval)}"


def checkout_link(*, locale: str, url: str) -> str:
    with translation.override(locale):
        return _("Open this link to pay: %(url)s\nThe plan starts as soon as the payment goes through.") % {"url": url}


def subscribed(*, locale: str, account) -> str:
    with translation.override(locale):
        return _("Done. %(plan_line)s") % {"plan_line": plan_line(locale=locale, account=account)}


def choose_locale(*, locale: str) -> str:
    with translation.override(locale):
        return _("Choose your language:")


def locale_changed(*, locale: str) -> str:
    with translation.override(locale):
        return _("From now on I will answer in English.")


def register_usage(*, locale: str) -> str:
    with translation.override(locale):
        return _("Send /register followed by your e-mail, for example: /register you@example.com")


def email_attached(*, locale: str, email: str) -> str:
    with translation.override(locale):
        return _(
            "The e-mail %(email)s is now your login on the website. Open the link we e-mailed you to verify it, "
            "then use “Forgot password” there to set a password."
        ) % {"email": email}


def voice_too_long(*, locale: str, max_seconds: int) -> str:
    with translation.override(locale):
        return _("Sorry, I can only take voice messages up to %(seconds)s seconds. Please send a shorter one.") % {
            "seconds": max_seconds
        }


def voice_too_large(*, locale: str, max_seconds: int) -> str:
    with translation.override(locale):
        return _("Sorry, this voice message is too large. Please send one of up to %(seconds)s seconds.") % {
            "seconds": max_seconds
        }


def answer_interrupted(*, locale: str) -> str:
    with translation.override(locale):
        return _("The AI service stopped in the middle of this answer. Only the part above was charged.")


def you_said(*, locale: str, text: str) -> str:
    with translation.override(locale):
        return _("🎙 You said: “%(text)s”") % {"text": text}


def unsupported_message(*, locale: str) -> str:
    with translation.override(locale):
        return _("I understand text and voice messages.")


def apology(*, locale: str) -> str:
    with translation.override(locale):
        return _("Sorry, something went wrong on our side. Please try again.")


def _quota_exceeded(error: DomainError) -> str:
    extra = error.extra
    return (
        _("You have used all %(metric)s of your plan for this period (%(used)s of %(limit)s).")
        % {
            "metric": metric_word(extra.get("metric", "requests")),
            "used": extra.get("used", "?"),
            "limit": extra.get("limit", "?"),
        }
        + " "
        + _("The quota resets on %(when)s. Upgrade now with /subscribe.") % {"when": _when(extra.get("resets_at"))}
    )


def _agent_not_in_plan(error: DomainError) -> str:
    plans = [plan["name"] for plan in error.extra.get("upgrade_plans", [])]
    text = _("This agent is not included in your plan.")
    if plans:
        text += " " + _("It is included in: %(plans)s. Upgrade with /subscribe.") % {"plans": ", ".join(plans)}
    return text + " " + _("Or choose another agent with /agents.")


def _email_unverified(error: DomainError) -> str:
    return _(
        "Your trial allows %(limit)s requests until your e-mail address is verified. Open the link we "
        "e-mailed you; the website's e-mail settings can send a new one."
    ) % {"limit": error.extra.get("limit", "?")}


def _rate_limited(error: DomainError) -> str:
    return _("You are sending messages too fast. Please wait %(seconds)s seconds and try again.") % {
        "seconds": error.extra.get("retry_after", 60)
    }


# Codes the bot's own flows never raise (API authentication, webhooks, operator settings) share a few
# plain sentences, so whatever reaches a chat is still said in the user's language.
_DID_NOT_WORK = gettext_lazy("Sorry, that did not work. Please try again.")
_OUR_FAULT = gettext_lazy("Sorry, something went wrong on our side. Please try again.")
_NOT_ALLOWED = gettext_lazy("Sorry, you may not do this.")
_SIGN_IN_AGAIN = gettext_lazy("Sorry, your sign-in did not work. Please sign in on the website again.")
_PAYMENTS_OFF = gettext_lazy("Payments are not available right now. Please try again later.")
_PAYMENT_FAILED = gettext_lazy("The payment service failed. Nothing was charged; please try again later.")
_BUSY = gettext_lazy("Your subscription is being changed right now. Please try again in a moment.")
_CHOOSE_AGAIN = gettext_lazy("Please choose the plan again with /subscribe and confirm it.")

ERROR_TEXTS: dict[ErrorCode, Promise | Callable[[DomainError], str]] = {
    DenyCode.USER_INACTIVE: gettext_lazy("Your account is deactivated. Please contact support."),
    DenyCode.AGENT_NOT_FOUND: gettext_lazy("This agent is no longer available. Choose another one with /agents."),
    DenyCode.NO_SUBSCRIPTION: gettext_lazy("You have no subscription. Choose a plan with /subscribe."),
    DenyCode.SUBSCRIPTION_INACTIVE: gettext_lazy("Your subscription is not active. Renew it with /subscribe."),
    DenyCode.AGENT_NOT_IN_PLAN: _agent_not_in_plan,
    DenyCode.CHANNEL_NOT_ALLOWED: gettext_lazy("Your plan does not include the Telegram bot. Upgrade with /subscribe."),
    DenyCode.FEATURE_NOT_IN_PLAN: gettext_lazy(
        "Your plan does not include this feature. See the plans with /subscribe."
    ),
    DenyCode.SEATS_EXHAUSTED: gettext_lazy(
        "All seats of your plan are taken (pending invitations count too). Revoke an invitation, remove a "
        "member or choose a plan with more seats."
    ),
    DenyCode.RATE_LIMITED: _rate_limited,
    DenyCode.QUOTA_EXCEEDED: _quota_exceeded,
    DenyCode.EMAIL_UNVERIFIED: _email_unverified,
    AgentErrorCode.UPSTREAM_ERROR: gettext_lazy(
        "The AI service failed to answer. You were not charged; please try again."
    ),
    AgentErrorCode.UPSTREAM_TIMEOUT: gettext_lazy(
        "The AI service took too long to answer. You were not charged; please try again."
    ),
    AgentErrorCode.AGENT_UNAVAILABLE: gettext_lazy(
        "This agent is not available right now. Try again later or choose another: /agents"
    ),
    AgentErrorCode.PROVIDER_KEY_UNAVAILABLE: gettext_lazy(
        "The AI service is not available right now. Please try again later."
    ),
    AgentErrorCode.ANSWER_NOT_SAVED: _OUR_FAULT,
    AgentErrorCode.AUDIO_UNREADABLE: gettext_lazy(
        "Sorry, I could not read this voice message. Please record it again."
    ),
    AgentErrorCode.AUDIO_TOO_LONG: gettext_lazy("Sorry, this voice message is too long. Please send a shorter one."),
    AgentErrorCode.CONTEXT_LENGTH_EXCEEDED: gettext_lazy(
        "This message is too long for the agent. Please send a shorter one, or start over with /new."
    ),
    AgentErrorCode.NO_AGENT: gettext_lazy("Choose an agent first: /agents"),
    AgentErrorCode.MODEL_NOT_FOUND: gettext_lazy("This agent is no longer available. Choose another one with /agents."),
    AgentErrorCode.INVALID_REQUEST_ERROR: _DID_NOT_WORK,
    AgentErrorCode.UNSUPPORTED_PARAMETER: _DID_NOT_WORK,
    AgentErrorCode.PARAMETER_LOCKED: _DID_NOT_WORK,
    AgentErrorCode.UNKNOWN_URL: _DID_NOT_WORK,
    PromptErrorCode.MISSING_VARIABLE: gettext_lazy(
        "This agent needs details a chat message cannot give. Please use it on the website."
    ),
    PromptErrorCode.INVALID_TEMPLATE: _OUR_FAULT,
    PromptErrorCode.VERSION_IMMUTABLE: _NOT_ALLOWED,
    PromptErrorCode.INVALID_VERSION: _DID_NOT_WORK,
    BillingErrorCode.UNKNOWN_PLAN: gettext_lazy("This plan is not available. Choose one with /subscribe."),
    BillingErrorCode.PROVIDER_DISABLED: _PAYMENTS_OFF,
    BillingErrorCode.PROVIDER_NOT_SUPPORTED: gettext_lazy(
        "This payment method cannot do this. Choose another plan with /subscribe."
    ),
    BillingErrorCode.CURRENCY_NOT_OFFERED: gettext_lazy(
        "This plan cannot be paid this way. Choose another plan with /subscribe."
    ),
    BillingErrorCode.ALREADY_SUBSCRIBED: gettext_lazy("You are already on this plan. /plan shows its status."),
    BillingErrorCode.NOT_SUBSCRIBED: gettext_lazy("You have no subscription. Choose a plan with /subscribe."),
    BillingErrorCode.NOT_RESUMABLE: gettext_lazy("Your subscription is not set to end; nothing to resume."),
    BillingErrorCode.NOT_TRIALING: _NOT_ALLOWED,
    BillingErrorCode.INVALID_PERIODS: _DID_NOT_WORK,
    BillingErrorCode.PLAN_NOT_PRICED: gettext_lazy("This plan cannot be bought. Choose another one with /subscribe."),
    BillingErrorCode.BUSY: _BUSY,
    BillingErrorCode.CHANGED_MEANWHILE: _BUSY,
    BillingErrorCode.NO_DOWNGRADE_SCHEDULED: gettext_lazy("No plan change is scheduled; there is nothing to undo."),
    BillingErrorCode.CONFIRMATION_REQUIRED: _CHOOSE_AGAIN,
    BillingErrorCode.CONFIRMATION_INVALID: _CHOOSE_AGAIN,
    BillingErrorCode.CONFIRMATION_STALE: gettext_lazy(
        "Your subscription or the prices changed since you saw them. Please choose the plan again with /subscribe."
    ),
    BillingErrorCode.PROVIDER_ERROR: _PAYMENT_FAILED,
    BillingErrorCode.PROVIDER_TIMEOUT: gettext_lazy(
        "The payment service did not answer in time. Nothing was charged; please try again."
    ),
    BillingErrorCode.PAYMENT_NOT_FOUND: _PAYMENT_FAILED,
    BillingErrorCode.WEBHOOK_REJECTED: _OUR_FAULT,
    BillingErrorCode.INVALID_SIGNATURE: _OUR_FAULT,
    BillingErrorCode.INVALID_PAYLOAD: _OUR_FAULT,
    BillingErrorCode.UNTRUSTED_SOURCE: _OUR_FAULT,
    BillingErrorCode.EVENT_REFUSED: _OUR_FAULT,
    BillingErrorCode.WEBHOOK_FAILED: _OUR_FAULT,
    TenantErrorCode.FORBIDDEN_ROLE: gettext_lazy(
        "Only the organization's owner or an admin can change the plan or payments."
    ),
    TenantErrorCode.SESSION_REQUIRED: _NOT_ALLOWED,
    TenantErrorCode.INSUFFICIENT_SCOPE: _NOT_ALLOWED,
    TenantErrorCode.INVALID_API_KEY: _SIGN_IN_AGAIN,
    TenantErrorCode.ALREADY_MEMBER: gettext_lazy("This person is already a member of the organization."),
    TenantErrorCode.INVITATION_INVALID: gettext_lazy(
        "This invitation link is not valid. Check that you opened the whole link."
    ),
    TenantErrorCode.INVITATION_EXPIRED: gettext_lazy("This invitation has expired. Ask for a new one."),
    TenantErrorCode.INVITATION_USED: gettext_lazy("This invitation has already been used."),
    TenantErrorCode.INVITATION_REVOKED: gettext_lazy("This invitation was withdrawn."),
    TenantErrorCode.INVITATION_EMAIL_MISMATCH: gettext_lazy(
        "This invitation was sent to another e-mail address. Sign in or sign up with that address."
    ),
    TenantErrorCode.INVITATION_EMAIL_UNVERIFIED: gettext_lazy(
        "Confirm your e-mail address first (with the link we mailed you), then accept the invitation."
    ),
    TenantErrorCode.ORGANIZATION_NOT_EMPTY: gettext_lazy(
        "You cannot move: your current organization has data or people of its own. Use another account for "
        "this invitation."
    ),
    AccountErrorCode.INVALID_CREDENTIALS: _SIGN_IN_AGAIN,
    AccountErrorCode.TOO_MANY_LOGIN_ATTEMPTS: _SIGN_IN_AGAIN,
    AccountErrorCode.EMAIL_TAKEN: gettext_lazy(
        "This e-mail belongs to another account. Sign in there, or send /register with another address."
    ),
    AccountErrorCode.INVALID_EMAIL: gettext_lazy(
        "That does not look like an e-mail address. Example: /register you@example.com"
    ),
    AccountErrorCode.WEAK_PASSWORD: _DID_NOT_WORK,
    AccountErrorCode.UNSUPPORTED_LOCALE: gettext_lazy("This language is not supported."),
    AccountErrorCode.TOKEN_NOT_VALID: _SIGN_IN_AGAIN,
    AccountErrorCode.BAD_AUTHORIZATION_HEADER: _SIGN_IN_AGAIN,
    AccountErrorCode.USER_NOT_FOUND: _SIGN_IN_AGAIN,
    AccountErrorCode.PASSWORD_CHANGED: _SIGN_IN_AGAIN,
    AccountErrorCode.PROVIDER_UNAVAILABLE: _SIGN_IN_AGAIN,
    AccountErrorCode.INVALID_TOKEN: _SIGN_IN_AGAIN,
    AccountErrorCode.TOKEN_EXPIRED: _SIGN_IN_AGAIN,
    AccountErrorCode.INVALID_AUDIENCE: _SIGN_IN_AGAIN,
    AccountErrorCode.TELEGRAM_LOGIN_UNAVAILABLE: _SIGN_IN_AGAIN,
    AccountErrorCode.TELEGRAM_AUTH_INVALID: _SIGN_IN_AGAIN,
    DenyCode.ORGANIZATION_PENDING_DELETION: gettext_lazy(
        "Your organization is scheduled for deletion, so its agents are unavailable. Its owner can restore "
        "it until the deletion date."
    ),
    AccountErrorCode.OWNER_MUST_TRANSFER: gettext_lazy(
        "You own this organization: transfer the ownership to another member, or delete the organization, "
        "before deleting your account."
    ),
    PrivacyErrorCode.EXPORT_IN_PROGRESS: gettext_lazy(
        "An export is already being prepared. You will get an e-mail when it is ready."
    ),
    PrivacyErrorCode.EXPORT_EXPIRED: gettext_lazy("This export has expired. Please request a new one."),
    PrivacyErrorCode.NOT_PENDING_DELETION: gettext_lazy("The organization is not scheduled for deletion."),
    PrivacyErrorCode.ALREADY_PENDING_DELETION: gettext_lazy("The organization is already scheduled for deletion."),
    DeploymentErrorCode.BOT_IN_USE: _NOT_ALLOWED,
    DeploymentErrorCode.TELEGRAM_ERROR: _OUR_FAULT,
    DeploymentErrorCode.DEPLOYMENT_UNAVAILABLE: gettext_lazy("This assistant cannot answer right now."),
    DeploymentErrorCode.VISITOR_RATE_LIMITED: gettext_lazy("This assistant cannot answer right now."),
    DeploymentErrorCode.INVALID_VISITOR: gettext_lazy("This assistant cannot answer right now."),
    ApiErrorCode.INVALID: _DID_NOT_WORK,
    ApiErrorCode.BAD_REQUEST: _DID_NOT_WORK,
    ApiErrorCode.PAYLOAD_TOO_LARGE: _DID_NOT_WORK,
    ApiErrorCode.PARSE_ERROR: _DID_NOT_WORK,
    ApiErrorCode.NOT_AUTHENTICATED: _SIGN_IN_AGAIN,
    ApiErrorCode.AUTHENTICATION_FAILED: _SIGN_IN_AGAIN,
    ApiErrorCode.PERMISSION_DENIED: _NOT_ALLOWED,
    ApiErrorCode.NOT_FOUND: gettext_lazy("This is no longer available."),
    ApiErrorCode.METHOD_NOT_ALLOWED: _DID_NOT_WORK,
    ApiErrorCode.NOT_ACCEPTABLE: _DID_NOT_WORK,
    ApiErrorCode.UNSUPPORTED_MEDIA_TYPE: _DID_NOT_WORK,
    ApiErrorCode.THROTTLED: gettext_lazy("You are sending messages too fast. Please wait a minute and try again."),
    ApiErrorCode.SERVER_ERROR: _OUR_FAULT,
}


def for_error(error: DomainError, *, locale: str) -> str:
    """Turn a service error code (policy denials, upstream failures, account errors) into words."""
    with translation.override(locale):
        text = ERROR_TEXTS[error.code]
        return str(text(error) if callable(text) else text)
