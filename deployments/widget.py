"""The website widget's rules: which page may talk to a deployment (its allowed origins), who the
visitor is (a signed token the browser keeps) and how fast one visitor may write.

A visitor token names one deployment and one random visitor id, signed with SECRET_KEY: it cannot be
forged, and a token of one deployment is worthless on another. It is not a login: it only lets the
same browser continue the same conversation.
"""

import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils import timezone

from botgeneric.errors import DomainError
from deployments.errors import DeploymentErrorCode
from deployments.models import Deployment

_SALT = "deployments.widget.visitor"
RATE_WINDOW_SECONDS = 60


class VisitorRateLimited(DomainError):
    code = DeploymentErrorCode.VISITOR_RATE_LIMITED
    http_status = 429


class BadVisitorToken(DomainError):
    code = DeploymentErrorCode.INVALID_VISITOR
    http_status = 401


def origin_allowed(*, deployment: Deployment, origin: str) -> bool:
    return bool(origin) and origin.rstrip("/") in deployment.allowed_origins


def new_visitor_token(*, deployment: Deployment) -> tuple[str, str]:
    """A fresh visitor: (token, visitor id)."""
    visitor_id = secrets.token_urlsafe(12)
    return signing.dumps({"d": deployment.pk, "v": visitor_id}, salt=_SALT), visitor_id


def visitor_id(*, deployment: Deployment, token: str) -> str:
    """The visitor id in `token`, if it was made for this deployment; BadVisitorToken otherwise."""
    try:
        payload = signing.loads(token or "", salt=_SALT)
    except signing.BadSignature:
        raise BadVisitorToken(detail="Start a new chat.") from None
    if not isinstance(payload, dict) or payload.get("d") != deployment.pk or not payload.get("v"):
        raise BadVisitorToken(detail="Start a new chat.")
    return str(payload["v"])


def _count(key: str, limit: int) -> None:
    if not limit:
        return
    window = int(timezone.now().timestamp()) // RATE_WINDOW_SECONDS
    full_key = f"{key}:{window}"
    cache.add(full_key, 0, timeout=RATE_WINDOW_SECONDS + 5)
    try:
        count = cache.incr(full_key)
    except ValueError:
        cache.add(full_key, 1, timeout=RATE_WINDOW_SECONDS + 5)
        count = 1
    if count > limit:
        raise VisitorRateLimited(detail="Too many messages; wait a minute.", extra={"retry_after": RATE_WINDOW_SECONDS})


def check_visitor_rate(*, deployment: Deployment, visitor: str) -> None:
    """WIDGET_VISITOR_MESSAGES_PER_MINUTE per visitor of a deployment (0 = none), in the shared cache."""
    _count(f"deployments:widget-rate:{deployment.pk}:{visitor}", settings.WIDGET_VISITOR_MESSAGES_PER_MINUTE)


def check_new_visitor_rate(*, deployment: Deployment, ip: str) -> None:
    """WIDGET_NEW_VISITORS_PER_MINUTE new visitor tokens per client address, so fresh tokens are no way
    around the visitor limit."""
    _count(f"deployments:widget-visitors:{deployment.pk}:{ip}", settings.WIDGET_NEW_VISITORS_PER_MINUTE)
