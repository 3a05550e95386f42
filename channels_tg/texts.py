"""Everything the bot says, in the user's language. Error codes from the services become words here.

Each function takes the locale explicitly and renders under `translation.override`, so a reply is
in the language of the user it is for, whatever language the worker process runs in.
"""

from datetime import UTC, datetime

from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from botgeneric.errors import DomainError
from policy.errors import DenyCode

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


def plan_status(*, locale: str, account, usage: list[dict]) -> str:
    """The /plan answer: plan, status, period end and each usage meter."""
    with translation.override(locale):
        if account is None or account.plan is None:
            return _("You have no subscription yet. See the plans with /subscribe.")
        lines = [
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


def for_error(error: DomainError, *, locale: str) -> str:
    """Turn a service error code (policy denials, upstream failures, account errors) into words."""
    with translation.override(locale):
        extra = error.extra
        code = error.code
        if code == DenyCode.QUOTA_EXCEEDED:
            return (
                _("You have used all %(metric)s of your plan for this period (%(used)s of %(limit)s).")
                % {
                    "metric": metric_word(extra.get("metric", "requests")),
                    "used": extra.get("used", "?"),
                    "limit": extra.get("limit", "?"),
                }
                + " "
                + _("The quota resets on %(when)s. Upgrade now with /subscribe.")
                % {"when": _when(extra.get("resets_at"))}
            )
        if code == DenyCode.AGENT_NOT_IN_PLAN:
            plans = [plan["name"] for plan in extra.get("upgrade_plans", [])]
            text = _("This agent is not included in your plan.")
            if plans:
                text += " " + _("It is included in: %(plans)s. Upgrade with /subscribe.") % {"plans": ", ".join(plans)}
            return text + " " + _("Or choose another agent with /agents.")
        if code == DenyCode.EMAIL_UNVERIFIED:
            return _(
                "Your trial allows %(limit)s requests until your e-mail address is verified. Open the link we "
                "e-mailed you; the website's e-mail settings can send a new one."
            ) % {"limit": extra.get("limit", "?")}
        if code == DenyCode.RATE_LIMITED:
            return _("You are sending messages too fast. Please wait %(seconds)s seconds and try again.") % {
                "seconds": extra.get("retry_after", 60)
            }
        messages = {
            DenyCode.USER_INACTIVE: _("Your account is deactivated. Please contact support."),
            DenyCode.AGENT_NOT_FOUND: _("This agent is no longer available. Choose another one with /agents."),
            DenyCode.NO_SUBSCRIPTION: _("You have no subscription. Choose a plan with /subscribe."),
            DenyCode.SUBSCRIPTION_INACTIVE: _("Your subscription is not active. Renew it with /subscribe."),
            DenyCode.CHANNEL_NOT_ALLOWED: _("Your plan does not include the Telegram bot. Upgrade with /subscribe."),
            "upstream_error": _("The AI service failed to answer. You were not charged; please try again."),
            "upstream_timeout": _("The AI service took too long to answer. You were not charged; please try again."),
            "missing_variable": _("This agent needs details a chat message cannot give. Please use it on the website."),
            "no_agent": _("Choose an agent first: /agents"),
            "audio_unreadable": _("Sorry, I could not read this voice message. Please record it again."),
            "audio_too_long": _("Sorry, this voice message is too long. Please send a shorter one."),
            "provider_key_unavailable": _("The AI service is not available right now. Please try again later."),
            "agent_unavailable": _("This agent is not available right now. Try again later or choose another: /agents"),
            "email_taken": _(
                "This e-mail belongs to another account. Sign in there, or send /register with another address."
            ),
            "invalid_email": _("That does not look like an e-mail address. Example: /register you@example.com"),
            "unsupported_locale": _("This language is not supported."),
            "unknown_plan": _("This plan is not available. Choose one with /subscribe."),
            "provider_disabled": _("Payments are not available right now. Please try again later."),
            "currency_not_offered": _("This plan cannot be paid this way. Choose another plan with /subscribe."),
            "already_subscribed": _("You are already on this plan. /plan shows its status."),
            "forbidden_role": _("Only the organization's owner or an admin can change the plan or payments."),
            "plan_not_priced": _("This plan cannot be bought. Choose another one with /subscribe."),
            "provider_error": _("The payment service failed. Nothing was charged; please try again later."),
            "provider_timeout": _("The payment service did not answer in time. Nothing was charged; please try again."),
            "billing_busy": _("Your subscription is being changed right now. Please try again in a moment."),
        }
        return messages.get(code) or _("Sorry, that did not work (%(code)s).") % {"code": code}
