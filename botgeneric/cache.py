"""The shared cache (Redis), built so that a Redis outage degrades the app instead of failing requests.

What the cache holds here is disposable: DRF throttle and allauth rate-limit histories, the policy
rate-limit windows, and the Telegram webhook's "update already handled" marks. Quotas live in
PostgreSQL and the policy rules memo's version token too, so nothing that must stay exact depends on it.
So when Redis cannot be reached, each call behaves as Django's DummyCache would (reads miss, writes are
dropped, `add` reports success, `incr` finds no key) and logs an error: throttles and rate limits fail
open, and login, invoking and the bot keep working. `/readyz` reports the outage (its write-then-read
round trip misses).
"""

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)


def cache_settings(*, redis_url: str, timeout_seconds: float) -> dict[str, Any]:
    """CACHES for the environment: Redis (degrading, with socket timeouts) when a URL is given, else
    this process's memory."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "botgeneric.cache.DegradingRedisCache",
            "LOCATION": redis_url,
            "OPTIONS": {"socket_connect_timeout": timeout_seconds, "socket_timeout": timeout_seconds},
        }
    }


class DegradingRedisCache(RedisCache):
    """Django's Redis cache that answers as an empty cache, and logs, while Redis is unreachable."""

    def _outage(self, operation: str, exc: Exception) -> None:
        logger.error("cache unavailable, %s degraded to a miss: %s", operation, exc)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except OUTAGE_ERRORS as exc:
            self._outage("add", exc)
            return True

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except OUTAGE_ERRORS as exc:
            self._outage("get", exc)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except OUTAGE_ERRORS as exc:
            self._outage("set", exc)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except OUTAGE_ERRORS as exc:
            self._outage("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except OUTAGE_ERRORS as exc:
            self._outage("delete", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except OUTAGE_ERRORS as exc:
            self._outage("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except OUTAGE_ERRORS as exc:
            self._outage("has_key", exc)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except OUTAGE_ERRORS as exc:
            self._outage("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except OUTAGE_ERRORS as exc:
            self._outage("set_many", exc)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except OUTAGE_ERRORS as exc:
            self._outage("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except OUTAGE_ERRORS as exc:
            self._outage("clear", exc)
            return False
