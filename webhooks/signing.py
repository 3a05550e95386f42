"""The signature every delivery carries, Stripe-style, so a receiver can check who sent it and when.

`BotGeneric-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the endpoint's secret>`.
A receiver recomputes v1 over the raw body and the t it received, compares in constant time, and refuses
a t too far from its clock (a replay); `BotGeneric-Event-Id` lets it process each event once.
"""

import hashlib
import hmac
import json
import secrets

SIGNATURE_HEADER = "BotGeneric-Signature"
EVENT_ID_HEADER = "BotGeneric-Event-Id"
EVENT_TYPE_HEADER = "BotGeneric-Event-Type"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def encode_body(body: dict) -> bytes:
    """The exact bytes posted (and signed): compact JSON, keys sorted, so every attempt sends the same body."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
