"""Writes of deployments and contacts. Deploying is an entitlement (`policy.require_feature`) and the
agent must be one the plan allows on the deployment's channel (`policy.check_access`): only policy
decides. Bot API calls run outside any transaction, with a timeout."""

import logging
import re
import secrets
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent, Conversation
from agents.provider_keys import field_encryption
from agents.selectors import access_agent
from botgeneric import telegram_bot_api as bot_api
from botgeneric.channels import Channel
from botgeneric.errors import ApiErrorCode, DomainError
from deployments.errors import DeploymentErrorCode
from deployments.models import Contact, Deployment, DeploymentChannel, DeploymentStatus
from deployments.selectors import principal
from policy.services import check_access, require_feature
from tenants.errors import TenantErrorCode
from tenants.services import record_audit

logger = logging.getLogger(__name__)

DEPLOYMENTS_FEATURE = "deployments"
PUBLIC_KEY_PREFIX = "pub_"
_BOT_TOKEN_PURPOSE = b"bot-generic deployment bot token v1"
_BOT_TOKEN = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{20,100}")
MAX_ORIGINS = 20


class DeploymentError(DomainError):
    code = ApiErrorCode.INVALID
    http_status = 400


def _invalid(field: str, reason: str) -> DeploymentError:
    return DeploymentError(ApiErrorCode.INVALID, reason, 400, {"fields": {field: [reason]}})


def _require_manager(actor) -> None:
    """Owners and admins of the organization manage its deployments; operators (staff) from the console."""
    if not (getattr(actor, "can_manage_organization", False) or getattr(actor, "is_staff", False)):
        raise DomainError(
            TenantErrorCode.FORBIDDEN_ROLE, "Only the organization's owner or an admin can manage deployments.", 403
        )


def encrypt_bot_token(token: str) -> str:
    return field_encryption(_BOT_TOKEN_PURPOSE).encrypt(token.encode()).decode()


def bot_token(deployment: Deployment) -> str:
    """The bot's token in clear, for a Bot API call; "" when it cannot be read (logged)."""
    if not deployment.bot_token_encrypted:
        return ""
    try:
        return field_encryption(_BOT_TOKEN_PURPOSE).decrypt(deployment.bot_token_encrypted.encode()).decode()
    except InvalidToken:
        logger.error("deployment %s has a bot token no configured key decrypts", deployment.pk)
        return ""


def rotate_bot_tokens() -> tuple[int, list[str]]:
    """Re-encrypt every deployment's bot token under the current first key (`rotate_provider_keys`
    runs it after a key rotation). Returns (rotated, the deployments whose token nothing decrypts:
    left as they are, for their owner to deploy the bot again)."""
    fernet = field_encryption(_BOT_TOKEN_PURPOSE)
    rotated, unreadable = 0, []
    for deployment in Deployment.objects.exclude(bot_token_encrypted="").order_by("pk"):
        try:
            token = fernet.rotate(deployment.bot_token_encrypted.encode()).decode()
        except InvalidToken:
            unreadable.append(f"deployment {deployment.pk} (@{deployment.bot_username})")
            continue
        Deployment.objects.filter(pk=deployment.pk, bot_token_encrypted=deployment.bot_token_encrypted).update(
            bot_token_encrypted=token
        )
        rotated += 1
    return rotated, unreadable


def normalize_origins(origins) -> list[str]:
    """`scheme://host[:port]` of each origin (what browsers send in `Origin`), deduplicated; a path,
    a query or another scheme than http(s) is refused with its reason."""
    if not isinstance(origins, list) or not all(isinstance(origin, str) for origin in origins):
        raise _invalid("allowed_origins", "A list of origins such as https://shop.example.com.")
    if not origins:
        raise _invalid("allowed_origins", "Name at least one website origin, such as https://shop.example.com.")
    if len(origins) > MAX_ORIGINS:
        raise _invalid("allowed_origins", f"At most {MAX_ORIGINS} origins.")
    normalized = []
    for origin in origins:
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise _invalid("allowed_origins", f"{origin!r} is not an origin: scheme://host[:port], nothing after.")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise _invalid("allowed_origins", f"{origin!r} is not an origin: scheme://host[:port], nothing after.")
        try:
            port = parts.port
        except ValueError:
            raise _invalid("allowed_origins", f"{origin!r} has an invalid port.") from None
        value = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
        if value not in normalized:
            normalized.append(value)
    return normalized


def require_deployments(*, organization_id: int) -> None:
    """The organization's plan has deployments (policy decides); PolicyDenied otherwise."""
    require_feature(organization_id=organization_id, feature=DEPLOYMENTS_FEATURE)


def _check_entitled(*, member, agent: Agent, channel: str) -> None:
    """The plan has deployments and allows `agent` on `channel` for the member the deployment acts as."""
    require_deployments(organization_id=member.organization_id)
    check_access(user=member, agent=agent, channel=channel)


def create_deployment(
    *,
    actor,
    agent_id: int,
    channel: str,
    webhook_base_url: str,
    telegram_bot_token: str = "",
    allowed_origins: list[str] | None = None,
    name: str = "",
) -> Deployment:
    """Deploy an agent the plan allows to the organization's own bot or website.

    A bot token is verified with getMe first and stored encrypted (never shown again); the row is then
    committed and the bot's webhook set to `webhook_base_url` + its own path with a secret of its own.
    If Telegram refuses the webhook, the row is removed again (502 telegram_error)."""
    _require_manager(actor)
    if channel not in DeploymentChannel.values:
        raise _invalid("channel", f"Choose {' or '.join(DeploymentChannel.values)}.")
    agent = access_agent(agent_id=agent_id)
    _check_entitled(member=actor, agent=agent, channel=channel)
    fields = {
        "organization_id": actor.organization_id,
        "agent": agent,
        "channel": channel,
        "name": (name or "").strip()[:120],
        "public_key": PUBLIC_KEY_PREFIX + secrets.token_urlsafe(18),
        "created_by": actor,
    }
    token = ""
    if channel == DeploymentChannel.TELEGRAM:
        token = (telegram_bot_token or "").strip()
        if not _BOT_TOKEN.fullmatch(token):
            raise _invalid("telegram_bot_token", "Paste the token @BotFather gave you (123456:ABC…).")
        identity = _verified_bot(token)
        fields.update(
            bot_token_encrypted=encrypt_bot_token(token),
            bot_id=identity.id,
            bot_username=identity.username,
            webhook_secret=secrets.token_urlsafe(32),
        )
    else:
        fields["allowed_origins"] = normalize_origins(allowed_origins)
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(**fields)
            record_audit(
                action="deployment.created",
                target=deployment,
                organization=deployment.organization,
                actor=actor,
                after=_audit_state(deployment),
            )
    except IntegrityError:
        raise DomainError(
            DeploymentErrorCode.BOT_IN_USE, "This bot is already deployed; delete that deployment first.", 409
        ) from None
    if token:
        try:
            bot_api.set_webhook(token, url=webhook_url(webhook_base_url, deployment), secret=deployment.webhook_secret)
        except bot_api.BotApiError as error:
            logger.warning("setWebhook failed for deployment %s: %s", deployment.pk, error.description)
            with transaction.atomic():
                record_audit(
                    action="deployment.deleted",
                    target=deployment,
                    organization=deployment.organization,
                    actor=actor,
                    before=_audit_state(deployment),
                    after={"reason": "webhook refused"},
                )
                deployment.delete()
            raise DomainError(
                DeploymentErrorCode.TELEGRAM_ERROR, "Telegram refused to connect the bot; try again.", 502
            ) from None
    logger.info("deployment %s created org=%s channel=%s", deployment.pk, deployment.organization_id, channel)
    return deployment


def webhook_url(base_url: str, deployment: Deployment) -> str:
    return f"{base_url.rstrip('/')}/telegram/deployments/{deployment.pk}/webhook"


def _verified_bot(token: str) -> bot_api.BotIdentity:
    try:
        return bot_api.get_me(token)
    except bot_api.BotApiError as error:
        if error.status in (401, 404):
            raise _invalid("telegram_bot_token", "Telegram does not know this token.") from None
        raise DomainError(
            DeploymentErrorCode.TELEGRAM_ERROR, "Telegram could not check the token; try again.", 502
        ) from None


def _audit_state(deployment: Deployment) -> dict:
    return {
        "agent": deployment.agent_id,
        "channel": deployment.channel,
        "status": deployment.status,
        "bot_username": deployment.bot_username,
        "allowed_origins": deployment.allowed_origins,
    }


def update_deployment(
    *,
    deployment: Deployment,
    actor,
    status: str | None = None,
    allowed_origins: list[str] | None = None,
    name: str | None = None,
) -> Deployment:
    """Pause or resume, rename, or change a widget's allowed origins. Resuming is checked by the policy
    like deploying (the plan may have changed meanwhile)."""
    _require_manager(actor)
    before = _audit_state(deployment)
    if status is not None:
        if status not in DeploymentStatus.values:
            raise _invalid("status", f"Choose {' or '.join(DeploymentStatus.values)}.")
        if status == DeploymentStatus.ACTIVE and deployment.status != DeploymentStatus.ACTIVE:
            member = principal(deployment=deployment)
            if member is None:
                raise DomainError(
                    DeploymentErrorCode.DEPLOYMENT_UNAVAILABLE, "The organization has no active owner.", 409
                )
            _check_entitled(member=member, agent=deployment.agent, channel=deployment.channel)
        deployment.status = status
    if allowed_origins is not None:
        if deployment.channel != DeploymentChannel.WIDGET:
            raise _invalid("allowed_origins", "Only a website widget has allowed origins.")
        deployment.allowed_origins = normalize_origins(allowed_origins)
    if name is not None:
        deployment.name = name.strip()[:120]
    with transaction.atomic():
        deployment.save(update_fields=["status", "allowed_origins", "name", "updated_at"])
        after = _audit_state(deployment)
        if after != before:
            record_audit(
                action="deployment.changed",
                target=deployment,
                organization=deployment.organization,
                actor=actor,
                before=before,
                after=after,
            )
    return deployment


def delete_deployment(*, deployment: Deployment, actor) -> None:
    """Disconnect the bot (deleteWebhook, best effort) and delete the deployment; its contacts,
    conversations stay with the organization."""
    _require_manager(actor)
    token = bot_token(deployment) if deployment.channel == DeploymentChannel.TELEGRAM else ""
    with transaction.atomic():
        record_audit(
            action="deployment.deleted",
            target=deployment,
            organization=deployment.organization,
            actor=actor,
            before=_audit_state(deployment),
        )
        deployment.delete()
    if token:
        try:
            bot_api.delete_webhook(token)
        except bot_api.BotApiError as error:
            logger.warning("deleteWebhook failed after deleting a deployment: %s", error.description)


def contact_for(
    *, deployment: Deployment, external_id: str, name: str = "", handles: dict | None = None, locale: str = ""
) -> Contact:
    """The organization's contact for this identity on the deployment's channel, created on first
    contact; what the client's profile says now (name, handle, language) is kept up to date."""
    contact, created = Contact.objects.get_or_create(
        organization_id=deployment.organization_id,
        channel=deployment.channel,
        external_id=str(external_id)[:64],
        defaults={"deployment": deployment, "name": name[:200], "handles": handles or {}, "locale": locale[:8]},
    )
    if not created:
        changed = {"last_seen_at": timezone.now()}
        if name and not contact.name:
            changed["name"] = name[:200]
        if handles and any(contact.handles.get(key) != value for key, value in handles.items()):
            changed["handles"] = {**contact.handles, **handles}
        if locale and contact.locale != locale[:8]:
            changed["locale"] = locale[:8]
        Contact.objects.filter(pk=contact.pk).update(**changed)
        for field, value in changed.items():
            setattr(contact, field, value)
    return contact


def open_conversation(*, deployment: Deployment, contact: Contact, user) -> Conversation:
    """A new conversation of `contact` with the deployment's agent, held in the name of `user` (the
    member the deployment acts as) and never shown in that member's own lists."""
    return Conversation.objects.create(
        organization_id=deployment.organization_id,
        user=user,
        agent_id=deployment.agent_id,
        channel=Channel(deployment.channel),
        contact=contact,
        deployment=deployment,
        title=(contact.name or contact.external_id)[:80],
    )
