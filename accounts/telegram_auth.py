"""Verification of the Telegram Login Widget payload (https://core.telegram.org/widgets/login).

Telegram signs the fields it sends with HMAC-SHA256 keyed by SHA-256(bot token): we rebuild the
data-check-string (every received field but `hash`, sorted, `key=value` lines), compare in constant
time, and refuse stale `auth_date`s so a leaked payload cannot be replayed forever.
"""

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accounts.errors import AccountErrorCode
from botgeneric.errors import DomainError

CLOCK_SKEW_SECONDS = 60


class TelegramAuthError(DomainError):
    code = AccountErrorCode.TELEGRAM_AUTH_INVALID
    http_status = 401


@dataclass(frozen=True)
class TelegramLogin:
    telegram_id: int
    name: str
    username: str
    auth_date: int


def data_check_string(data: Mapping[str, Any]) -> str:
    return "\n".join(f"{key}={data[key]}" for key in sorted(data) if key != "hash")


def sign(data: Mapping[str, Any], *, bot_token: str) -> str:
    """The `hash` Telegram would put on `data`; tests and the fake widget use it too."""
    secret = hashlib.sha256(bot_token.encode()).digest()
    return hmac.new(secret, data_check_string(data).encode(), hashlib.sha256).hexdigest()


def verify_login_widget(
    data: Mapping[str, Any], *, bot_token: str, max_age_seconds: int, now: float | None = None
) -> TelegramLogin:
    """Return who signed in, or raise TelegramAuthError (bad signature, stale or malformed payload)."""
    if not bot_token:
        # 404 like a disabled payment provider's webhook: the feature is not here, nothing is broken.
        raise DomainError(AccountErrorCode.TELEGRAM_LOGIN_UNAVAILABLE, "Telegram login is not enabled here.", 404)
    if any(isinstance(value, (dict, list)) or value is None for value in data.values()):
        raise TelegramAuthError(detail="The Telegram login payload is malformed.")
    given_hash = str(data.get("hash", ""))
    if not hmac.compare_digest(given_hash.encode(), sign(data, bot_token=bot_token).encode()):
        raise TelegramAuthError(detail="The Telegram login signature does not match.")
    try:
        telegram_id = int(data["id"])
        auth_date = int(data["auth_date"])
    except (KeyError, TypeError, ValueError):
        raise TelegramAuthError(detail="The Telegram login payload is malformed.") from None
    now = time.time() if now is None else now
    if auth_date > now + CLOCK_SKEW_SECONDS or now - auth_date > max_age_seconds:
        raise TelegramAuthError(detail="The Telegram login has expired; sign in again.")
    name = " ".join(str(data.get(key, "")).strip() for key in ("first_name", "last_name")).strip()
    return TelegramLogin(
        telegram_id=telegram_id, name=name, username=str(data.get("username", "")), auth_date=auth_date
    )
