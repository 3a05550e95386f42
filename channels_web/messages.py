"""Domain error codes in the words a dashboard user reads.

The services raise DomainError with a registered code and extras (SPEC §5); ERROR_TEXTS is the one
place the web channel turns each code into sentences, so every page explains a refusal the same way.
A test checks that every registered code has its words here, in English and in Russian.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.errors import AccountErrorCode
from agents.errors import AgentErrorCode
from billing.errors import BillingErrorCode
from botgeneric.errors import ApiErrorCode, DomainError, ErrorCode
from deployments.errors import DeploymentErrorCode
from policy.errors import DenyCode
from privacy.errors import PrivacyErrorCode
from prompts.errors import PromptErrorCode
from tenants.errors import TenantErrorCode


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


def _say(text: Promise, link: str = "", link_text: Promise | str = "") -> Callable[[DomainError], ErrorMessage]:
    """Words that need nothing from the error; `link` is a URL name of the page with the fix."""
    return lambda error: ErrorMessage(str(text), reverse(link) if link else "", str(link_text))


def _agent_not_in_plan(error: DomainError) -> ErrorMessage:
    plans = [plan.get("name") or plan.get("code") for plan in error.extra.get("upgrade_plans") or []]
    if plans:
        return ErrorMessage(
            _("This agent is not included in your plan — upgrade to %(plans)s to use it.")
            % {"plans": _(" or ").join(plans)},
            reverse("web:billing"),
            _("See plans"),
        )
    return ErrorMessage(_("This agent is not included in your plan."), reverse("web:billing"), _("See plans"))


def _rate_limited(error: DomainError) -> ErrorMessage:
    seconds = int(error.extra.get("retry_after") or 1)
    return ErrorMessage(
        ngettext(
            "Too many requests. Please wait %(seconds)d second and try again.",
            "Too many requests. Please wait %(seconds)d seconds and try again.",
            seconds,
        )
        % {"seconds": seconds}
    )


def _quota_exceeded(error: DomainError) -> ErrorMessage:
    extra = error.extra
    return ErrorMessage(
        _("You have used %(used)s of %(limit)s %(metric)s in this billing period; the quota resets at %(when)s.")
        % {
            "used": extra.get("used"),
            "limit": extra.get("limit"),
            "metric": _metric(extra.get("metric", "requests")),
            "when": _when(extra.get("resets_at")),
        },
        reverse("web:billing"),
        _("Upgrade for a larger quota"),
    )


def _email_unverified(error: DomainError) -> ErrorMessage:
    return ErrorMessage(
        _(
            "Your trial allows %(limit)s requests until your e-mail address is verified. Open the link we "
            "e-mailed you, or send a new one from your e-mail settings."
        )
        % {"limit": error.extra.get("limit")},
        reverse("account_email"),
        _("Verify my e-mail"),
    )


def _missing_variable(error: DomainError) -> ErrorMessage:
    return ErrorMessage(
        _("This agent needs more details than a chat message provides: %(detail)s") % {"detail": error.detail}
    )


# Codes a dashboard user only meets through the API or an operator's mistake share a few plain sentences.
_NOT_AVAILABLE = gettext_lazy("That item does not exist or is not available to you.")
_CHECK_INPUT = gettext_lazy("That did not work: please check what you entered and try again.")
_SIGN_IN_AGAIN = gettext_lazy("Your sign-in did not work or has expired. Please sign in again.")
_NOT_ALLOWED = gettext_lazy("You may not do this.")
_OUR_FAULT = gettext_lazy("Something went wrong on our side. Please try again later.")
_TOO_MANY = gettext_lazy("Too many attempts. Please wait a few minutes and try again.")
_PAYMENT_FAILED = gettext_lazy("The payment service failed. Nothing was charged; please try again later.")
_BUSY = gettext_lazy("Your subscription is being changed right now. Please try again in a moment.")

ERROR_TEXTS: dict[ErrorCode, Callable[[DomainError], ErrorMessage]] = {
    DenyCode.USER_INACTIVE: _say(gettext_lazy("Your account is deactivated. Please contact support.")),
    DenyCode.AGENT_NOT_FOUND: _say(_NOT_AVAILABLE),
    DenyCode.NO_SUBSCRIPTION: _say(
        gettext_lazy("Your organization has no subscription yet. Choose a plan to start using agents."),
        "web:billing",
        gettext_lazy("Choose a plan"),
    ),
    DenyCode.SUBSCRIPTION_INACTIVE: _say(
        gettext_lazy("Your subscription is not active (it has expired, was canceled or is unpaid)."),
        "web:billing",
        gettext_lazy("Renew on the billing page"),
    ),
    DenyCode.AGENT_NOT_IN_PLAN: _agent_not_in_plan,
    DenyCode.CHANNEL_NOT_ALLOWED: _say(
        gettext_lazy("Your plan does not include the web dashboard. Upgrade to use agents here."),
        "web:billing",
        gettext_lazy("See plans"),
    ),
    DenyCode.FEATURE_NOT_IN_PLAN: _say(
        gettext_lazy("Your plan does not include this feature."), "web:billing", gettext_lazy("See plans")
    ),
    DenyCode.SEATS_EXHAUSTED: _say(
        gettext_lazy(
            "All seats of your plan are taken (pending invitations count too). Revoke an invitation, remove "
            "a member or choose a plan with more seats."
        ),
        "web:billing",
        gettext_lazy("See plans"),
    ),
    DenyCode.RATE_LIMITED: _rate_limited,
    DenyCode.QUOTA_EXCEEDED: _quota_exceeded,
    DenyCode.EMAIL_UNVERIFIED: _email_unverified,
    AgentErrorCode.UPSTREAM_ERROR: _say(
        gettext_lazy("The model provider failed to answer. You were not charged; please try again.")
    ),
    AgentErrorCode.UPSTREAM_TIMEOUT: _say(
        gettext_lazy("The model provider took too long to answer. You were not charged; please try again.")
    ),
    AgentErrorCode.PROVIDER_KEY_UNAVAILABLE: _say(
        gettext_lazy("The model provider is not available right now. You were not charged; please try later.")
    ),
    AgentErrorCode.AGENT_UNAVAILABLE: _say(
        gettext_lazy("This agent is not available right now. Try again later or choose another one.")
    ),
    AgentErrorCode.ANSWER_NOT_SAVED: _say(_OUR_FAULT),
    AgentErrorCode.AUDIO_UNREADABLE: _say(gettext_lazy("The recording could not be read. Please record it again.")),
    AgentErrorCode.AUDIO_TOO_LONG: _say(gettext_lazy("The recording is too long. Please send a shorter one.")),
    AgentErrorCode.MODEL_NOT_FOUND: _say(_NOT_AVAILABLE),
    AgentErrorCode.INVALID_REQUEST_ERROR: _say(_CHECK_INPUT),
    PromptErrorCode.MISSING_VARIABLE: _missing_variable,
    PromptErrorCode.INVALID_TEMPLATE: _say(_OUR_FAULT),
    PromptErrorCode.VERSION_IMMUTABLE: _say(_NOT_ALLOWED),
    PromptErrorCode.INVALID_VERSION: _say(_CHECK_INPUT),
    BillingErrorCode.UNKNOWN_PLAN: _say(gettext_lazy("That plan is not offered any more.")),
    BillingErrorCode.PROVIDER_DISABLED: _say(gettext_lazy("That payment method is not available right now.")),
    BillingErrorCode.PROVIDER_NOT_SUPPORTED: _say(
        gettext_lazy("That payment method cannot do this; choose another one.")
    ),
    BillingErrorCode.CURRENCY_NOT_OFFERED: _say(
        gettext_lazy("This plan is not sold in that currency through that payment method.")
    ),
    BillingErrorCode.ALREADY_SUBSCRIBED: _say(gettext_lazy("You are already subscribed to this plan.")),
    BillingErrorCode.NOT_SUBSCRIBED: _say(gettext_lazy("There is no current subscription to change.")),
    BillingErrorCode.NOT_RESUMABLE: _say(
        gettext_lazy("There is nothing to resume: the subscription is not set to end.")
    ),
    BillingErrorCode.NOT_TRIALING: _say(gettext_lazy("Only a running trial can be extended.")),
    BillingErrorCode.INVALID_PERIODS: _say(_CHECK_INPUT),
    BillingErrorCode.PLAN_NOT_PRICED: _say(gettext_lazy("This plan cannot be bought. Choose another one.")),
    BillingErrorCode.BUSY: _say(_BUSY),
    BillingErrorCode.CHANGED_MEANWHILE: _say(_BUSY),
    BillingErrorCode.NO_DOWNGRADE_SCHEDULED: _say(
        gettext_lazy("No plan change is scheduled; there is nothing to undo.")
    ),
    BillingErrorCode.CONFIRMATION_REQUIRED: _say(
        gettext_lazy("Please review the change and confirm it on the confirmation page.")
    ),
    BillingErrorCode.CONFIRMATION_INVALID: _say(
        gettext_lazy("This confirmation does not belong to this change. Please choose the plan again.")
    ),
    BillingErrorCode.CONFIRMATION_STALE: _say(
        gettext_lazy("Your subscription or the prices changed since you reviewed the change. Please review it again.")
    ),
    BillingErrorCode.PROVIDER_ERROR: _say(_PAYMENT_FAILED),
    BillingErrorCode.PROVIDER_TIMEOUT: _say(
        gettext_lazy("The payment service did not answer in time. Nothing was charged; please try again.")
    ),
    BillingErrorCode.PAYMENT_NOT_FOUND: _say(_PAYMENT_FAILED),
    BillingErrorCode.WEBHOOK_REJECTED: _say(_OUR_FAULT),
    BillingErrorCode.INVALID_SIGNATURE: _say(_OUR_FAULT),
    BillingErrorCode.INVALID_PAYLOAD: _say(_OUR_FAULT),
    BillingErrorCode.UNTRUSTED_SOURCE: _say(_OUR_FAULT),
    BillingErrorCode.EVENT_REFUSED: _say(_OUR_FAULT),
    BillingErrorCode.WEBHOOK_FAILED: _say(_OUR_FAULT),
    TenantErrorCode.FORBIDDEN_ROLE: _say(gettext_lazy("Your role in the organization does not allow this.")),
    TenantErrorCode.SESSION_REQUIRED: _say(_NOT_ALLOWED),
    TenantErrorCode.INSUFFICIENT_SCOPE: _say(_NOT_ALLOWED),
    TenantErrorCode.INVALID_API_KEY: _say(_SIGN_IN_AGAIN),
    TenantErrorCode.ALREADY_MEMBER: _say(gettext_lazy("This person is already a member of the organization.")),
    TenantErrorCode.INVITATION_INVALID: _say(
        gettext_lazy("This invitation link is not valid. Check that you opened the whole link.")
    ),
    TenantErrorCode.INVITATION_EXPIRED: _say(gettext_lazy("This invitation has expired. Ask for a new one.")),
    TenantErrorCode.INVITATION_USED: _say(gettext_lazy("This invitation has already been used.")),
    TenantErrorCode.INVITATION_REVOKED: _say(gettext_lazy("This invitation was withdrawn.")),
    TenantErrorCode.INVITATION_EMAIL_MISMATCH: _say(
        gettext_lazy("This invitation was sent to another e-mail address. Sign in or sign up with that address.")
    ),
    TenantErrorCode.INVITATION_EMAIL_UNVERIFIED: _say(
        gettext_lazy("Confirm your e-mail address first (with the link we mailed you), then accept the invitation.")
    ),
    TenantErrorCode.ORGANIZATION_NOT_EMPTY: _say(
        gettext_lazy(
            "You cannot move: your current organization has data or people of its own. Use another account "
            "for this invitation."
        )
    ),
    AccountErrorCode.INVALID_CREDENTIALS: _say(gettext_lazy("E-mail or password is wrong.")),
    AccountErrorCode.TOO_MANY_LOGIN_ATTEMPTS: _say(_TOO_MANY),
    AccountErrorCode.EMAIL_TAKEN: _say(gettext_lazy("This e-mail belongs to another account.")),
    AccountErrorCode.INVALID_EMAIL: _say(gettext_lazy("Enter a valid e-mail address.")),
    AccountErrorCode.WEAK_PASSWORD: _say(gettext_lazy("This password is too weak. Choose a longer, less common one.")),
    AccountErrorCode.UNSUPPORTED_LOCALE: _say(gettext_lazy("This language is not supported.")),
    AccountErrorCode.TOKEN_NOT_VALID: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.BAD_AUTHORIZATION_HEADER: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.USER_NOT_FOUND: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.PASSWORD_CHANGED: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.PROVIDER_UNAVAILABLE: _say(
        gettext_lazy("The sign-in provider is not reachable right now. Please try again shortly.")
    ),
    AccountErrorCode.INVALID_TOKEN: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.TOKEN_EXPIRED: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.INVALID_AUDIENCE: _say(_SIGN_IN_AGAIN),
    AccountErrorCode.TELEGRAM_LOGIN_UNAVAILABLE: _say(gettext_lazy("Telegram login is not enabled here.")),
    AccountErrorCode.TELEGRAM_AUTH_INVALID: _say(_SIGN_IN_AGAIN),
    AgentErrorCode.CONTEXT_LENGTH_EXCEEDED: _say(
        gettext_lazy("This message is too long for the agent. Please send a shorter one.")
    ),
    AgentErrorCode.NO_AGENT: _say(gettext_lazy("Choose an agent first.")),
    AgentErrorCode.UNSUPPORTED_PARAMETER: _say(_CHECK_INPUT),
    AgentErrorCode.PARAMETER_LOCKED: _say(_CHECK_INPUT),
    AgentErrorCode.UNKNOWN_URL: _say(_NOT_AVAILABLE),
    DeploymentErrorCode.BOT_IN_USE: _say(gettext_lazy("This bot is already deployed; delete that deployment first.")),
    DeploymentErrorCode.TELEGRAM_ERROR: _say(gettext_lazy("Telegram could not connect the bot. Please try again.")),
    DeploymentErrorCode.DEPLOYMENT_UNAVAILABLE: _say(gettext_lazy("This assistant cannot answer right now.")),
    DeploymentErrorCode.VISITOR_RATE_LIMITED: _say(
        gettext_lazy("Too many attempts. Please wait a few minutes and try again.")
    ),
    DeploymentErrorCode.INVALID_VISITOR: _say(gettext_lazy("This assistant cannot answer right now.")),
    DenyCode.ORGANIZATION_PENDING_DELETION: _say(
        gettext_lazy(
            "Your organization is scheduled for deletion, so its agents are unavailable. Its owner can restore "
            "it until the deletion date."
        )
    ),
    AccountErrorCode.OWNER_MUST_TRANSFER: _say(
        gettext_lazy(
            "You own this organization: transfer the ownership to another member, or delete the organization, "
            "before deleting your account."
        ),
        "web:organization",
        gettext_lazy("Organization"),
    ),
    PrivacyErrorCode.EXPORT_IN_PROGRESS: _say(
        gettext_lazy("An export is already being prepared. You will get an e-mail when it is ready.")
    ),
    PrivacyErrorCode.EXPORT_EXPIRED: _say(gettext_lazy("This export has expired. Please request a new one.")),
    PrivacyErrorCode.NOT_PENDING_DELETION: _say(gettext_lazy("The organization is not scheduled for deletion.")),
    PrivacyErrorCode.ALREADY_PENDING_DELETION: _say(
        gettext_lazy("The organization is already scheduled for deletion.")
    ),
    ApiErrorCode.INVALID: _say(_CHECK_INPUT),
    ApiErrorCode.BAD_REQUEST: _say(_CHECK_INPUT),
    ApiErrorCode.PAYLOAD_TOO_LARGE: _say(gettext_lazy("That is too long. Please send less at once.")),
    ApiErrorCode.PARSE_ERROR: _say(_CHECK_INPUT),
    ApiErrorCode.NOT_AUTHENTICATED: _say(_SIGN_IN_AGAIN),
    ApiErrorCode.AUTHENTICATION_FAILED: _say(_SIGN_IN_AGAIN),
    ApiErrorCode.PERMISSION_DENIED: _say(_NOT_ALLOWED),
    ApiErrorCode.NOT_FOUND: _say(_NOT_AVAILABLE),
    ApiErrorCode.METHOD_NOT_ALLOWED: _say(_CHECK_INPUT),
    ApiErrorCode.NOT_ACCEPTABLE: _say(_CHECK_INPUT),
    ApiErrorCode.UNSUPPORTED_MEDIA_TYPE: _say(_CHECK_INPUT),
    ApiErrorCode.THROTTLED: _say(_TOO_MANY),
    ApiErrorCode.SERVER_ERROR: _say(_OUR_FAULT),
}


def describe_error(error: DomainError) -> ErrorMessage:
    """Plain words (and, where it helps, a link to the fix) for an error a service raised."""
    return ERROR_TEXTS[error.code](error)
