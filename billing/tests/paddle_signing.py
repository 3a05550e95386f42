"""Sign and build Paddle notifications exactly as Paddle does, for tests."""

import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime


def paddle_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """`Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of "<ts>:<raw body>">`."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return f"ts={ts};h1={digest}"


def notification(event_type: str, data: dict, event_id: str | None = None) -> dict:
    return {
        "event_id": event_id or f"evt_{uuid.uuid4().hex[:26]}",
        "event_type": event_type,
        "occurred_at": datetime.now().isoformat(),
        "notification_id": f"ntf_{uuid.uuid4().hex[:26]}",
        "data": data,
    }


def post_paddle(client, payload: dict, secret: str, timestamp: int | None = None):
    body = json.dumps(payload).encode()
    return client.post(
        "/api/v1/billing/webhooks/paddle",
        data=body,
        content_type="application/json",
        HTTP_PADDLE_SIGNATURE=paddle_signature(body, secret, timestamp),
    )
