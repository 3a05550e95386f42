"""The bot's use-cases as plain sync functions; handlers call them through channels_tg.service_calls.

Nothing here decides access: accounts, billing, policy and agents services do, and their
DomainErrors travel back to the handlers, which put them into words (channels_tg.texts).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from allauth.utils import build_absolute_uri
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from accounts.services import attach_email, get_or_create_telegram_user, set_locale
from agents import speech
from agents.errors import AgentErrorCode
from agents.models import Agent, Conversation
from agents.selectors import access_agent, access_conversation, with_active_prompt
from billing import selectors as billing_selectors
from billing import services as billing_services
from billing.errors import BillingErrorCode
from billing.models import BillingAccount, Plan
from billing.providers import enabled_providers
from billing.services.preview import Preview
from botgeneric.channels import Channel
from botgeneric.errors import DomainError
from channels_tg.models import TelegramChat
from policy.selectors import agents_for, usage_summary
from policy.services import check_access

logger = logging.getLogger(__name__)


class TelegramChannelError(DomainError):
    """A rule of the chat itself (no agent chosen yet, a stale button), not of the product."""

    http_status = 400


@dataclass(frozen=True)
class TelegramPerson:
    """Who wrote, as Telegram describes them."""

    telegram_id: int
    name: str
    language_code: str | None


def locale_from_telegram(language_code: str | None) -> str:
    """Telegram sends IETF tags like "ru" or "pt-br"; a new account starts in the closest supported one."""
    return "ru" if (language_code or "").lower().startswith("ru") else "en"


def chat_for(*, chat_id: int, person: TelegramPerson) -> TelegramChat:
    """The chat row (with its user and agent) for an update; the first update creates the account."""
    chat = TelegramChat.objects.select_related("user", "agent").filter(chat_id=chat_id).first()
    if chat is not None and chat.user.telegram_id == person.telegram_id:
        return chat
    user = get_or_create_telegram_user(
        telegram_id=person.telegram_id, name=person.name, locale=locale_from_telegram(person.language_code)
    )
    chat, created = TelegramChat.objects.select_related("user", "agent").get_or_create(
        chat_id=chat_id, defaults={"user": user}
    )
    if not created and chat.user_id != user.pk:
        chat.user, chat.agent, chat.conversation = user, None, None
        chat.save(update_fields=["user", "agent", "conversation", "updated_at"])
    if created:
        logger.info("telegram chat started", extra={"chat_id": chat_id, "user_id": user.pk})
    return chat


def start_new_conversation(*, chat: TelegramChat) -> TelegramChat:
    """Forget the running conversation; the next message opens a fresh one with the same agent."""
    chat.conversation = None
    chat.save(update_fields=["conversation", "updated_at"])
    return chat


def change_locale(*, chat: TelegramChat, locale: str) -> User:
    return set_locale(user=chat.user, locale=locale)


def register_email(*, chat: TelegramChat, email: str) -> User:
    return attach_email(user=chat.user, email=email)


def telegram_agents(*, chat: TelegramChat) -> list[Agent]:
    """The agents the policy lets this user call on Telegram, for the /agents keyboard."""
    return list(agents_for(user=chat.user, channel=Channel.TELEGRAM).order_by("name"))


def choose_agent(*, chat: TelegramChat, agent_id: int) -> TelegramChat:
    """Make `agent_id` the chat's agent (a new conversation starts). A stale button for an agent the
    plan no longer includes is refused by the policy, with its reason."""
    agent = access_agent(agent_id=agent_id)
    check_access(user=chat.user, agent=agent, channel=Channel.TELEGRAM)
    chat.agent, chat.conversation = agent, None
    chat.save(update_fields=["agent", "conversation", "updated_at"])
    return chat


def _chat_agent(chat: TelegramChat) -> Agent:
    if chat.agent_id is None:
        raise TelegramChannelError(AgentErrorCode.NO_AGENT)
    return with_active_prompt(Agent.objects.filter(pk=chat.agent_id)).get()


def answer_context(*, chat: TelegramChat) -> tuple[Agent, Conversation | None]:
    """The chat's agent (with its active prompt) and running conversation (with its history), read as
    the user: the handler streams the answer through agents.services.invoke_stream with them."""
    agent = _chat_agent(chat)
    conversation = None
    if chat.conversation_id is not None:
        # Scoped to the user like any conversation read, with its history in the same query.
        conversation = access_conversation(
            user=chat.user, conversation_id=chat.conversation_id, history=settings.CONVERSATION_HISTORY_MESSAGES
        )
    return agent, conversation


def remember_conversation(*, chat: TelegramChat, conversation: Conversation) -> TelegramChat:
    """The next message continues `conversation` (the first answer of a chat opened it)."""
    if chat.conversation_id != conversation.pk:
        chat.conversation = conversation
        chat.save(update_fields=["conversation", "updated_at"])
    return chat


def transcribe_voice(*, chat: TelegramChat, audio: bytes, filename: str) -> speech.Transcript:
    """What the voice message says: authorized and metered as a call of its own (agents.speech)."""
    return speech.transcribe_voice(
        user=chat.user,
        agent=_chat_agent(chat),
        channel=Channel.TELEGRAM,
        audio=audio,
        filename=filename,
        max_seconds=settings.TELEGRAM_VOICE_MAX_SECONDS,
    )


@dataclass
class AccountOverview:
    account: BillingAccount | None
    usage: list[dict]
    # A failed renewal: when its grace ends, and the web page where the payment is fixed.
    payment_overdue_until: datetime | None = None
    billing_url: str = ""


def billing_account(*, chat: TelegramChat) -> BillingAccount | None:
    return billing_selectors.account_for(organization=chat.user.organization)


def account_overview(*, chat: TelegramChat) -> AccountOverview:
    organization = chat.user.organization
    account = billing_selectors.account_for(organization=organization)
    overdue_until = billing_selectors.grace_ends_at(account) if account is not None else None
    return AccountOverview(
        account=account,
        usage=usage_summary(organization=organization) if organization else [],
        payment_overdue_until=overdue_until,
        billing_url=build_absolute_uri(None, reverse("web:billing")) if overdue_until else "",
    )


def plans_for_sale() -> list[Plan]:
    """Active plans that include the Telegram channel, with prices."""
    return [plan for plan in billing_selectors.active_plans() if Channel.TELEGRAM in plan.channels]


def payment_providers() -> list[str]:
    return enabled_providers()


def subscribe(
    *, chat: TelegramChat, plan_code: str, provider: str, return_url: str, confirmation: str | None = None
) -> billing_services.SubscribeResult:
    """Start (or change) the subscription as confirmed; paying providers answer with a checkout link that
    brings the customer back to `return_url` (the bot's t.me link unless TELEGRAM_CHECKOUT_RETURN_URL says)."""
    return billing_services.subscribe(
        organization=chat.user.organization,
        plan=plan_code,
        provider=provider,
        actor=chat.user,
        return_url=settings.TELEGRAM_CHECKOUT_RETURN_URL or return_url,
        confirmation=confirmation,
    )


@dataclass(frozen=True)
class SubscriptionOffer:
    """A previewed plan change waiting for the customer's button; `key` names it in the button's data."""

    preview: Preview
    key: str


def _offer_key(chat: TelegramChat, key: str) -> str:
    return f"telegram:billing-offer:{chat.pk}:{key}"


def offer_subscription(*, chat: TelegramChat, plan_code: str, provider: str) -> SubscriptionOffer:
    """Preview subscribing to `plan_code` through `provider`; the confirmation waits in the cache (a
    button's data holds 64 bytes) until the customer confirms or it expires."""
    confirmable = billing_services.preview_change(
        organization=chat.user.organization, actor=chat.user, plan=plan_code, provider=provider
    )
    key = secrets.token_urlsafe(8)
    offer = {"plan": plan_code, "provider": provider, "confirmation": confirmable.confirmation}
    cache.set(_offer_key(chat, key), offer, timeout=settings.BILLING_CONFIRMATION_MAX_AGE_SECONDS)
    return SubscriptionOffer(confirmable.preview, key)


def accept_offer(*, chat: TelegramChat, key: str, return_url: str) -> billing_services.SubscribeResult:
    """Make the change the customer saw (once); an unknown or expired offer is confirmation_stale."""
    offer = cache.get(_offer_key(chat, key))
    if offer is None:
        raise billing_services.BillingError(
            BillingErrorCode.CONFIRMATION_STALE, "The offer expired; choose the plan again.", http_status=409
        )
    cache.delete(_offer_key(chat, key))
    return subscribe(
        chat=chat,
        plan_code=offer["plan"],
        provider=offer["provider"],
        return_url=return_url,
        confirmation=offer["confirmation"],
    )
