"""The address of the client that made a request, behind `TRUSTED_PROXY_HOPS` reverse proxies."""

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR with no trusted proxy; behind N trusted proxies, the N-th address from the right of
    X-Forwarded-For (the one our own outermost proxy saw). Anything further left was written by the
    client and is never trusted. "" when the header is shorter than the proxies we were told about."""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return request.META.get("REMOTE_ADDR", "")
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else ""
