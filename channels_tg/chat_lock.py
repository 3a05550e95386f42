"""The lock one Telegram chat's turn holds across app servers: Redis when REDIS_URL is set, else a
PostgreSQL session advisory lock on a dedicated connection; SQLite (dev) keeps the in-process lock only.
The platform bot's chats and each customer bot's chats (`scope`) are locked apart: the same person
writing to two bots is two chats.

A lock never outlives its holder: the Redis key expires after CHAT_LOCK_SECONDS and an advisory lock
dies with its connection. A Redis outage falls back to the database lock (logged): the bot keeps answering.
"""

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator

import psycopg
from django.conf import settings
from django.db import connections
from redis import RedisError
from redis.asyncio import Redis

logger = logging.getLogger(__name__)

# A turn (LLM answer, voice transcription, Bot API retries) ends well within this; the lock expires after it.
CHAT_LOCK_SECONDS = 300
_ADVISORY_SQL = {
    ("lock", 1): "SELECT pg_advisory_lock(%s::bigint)",
    ("unlock", 1): "SELECT pg_advisory_unlock(%s::bigint)",
    ("lock", 2): "SELECT pg_advisory_lock(%s::integer, %s::integer)",
    ("unlock", 2): "SELECT pg_advisory_unlock(%s::integer, %s::integer)",
}


@contextlib.asynccontextmanager
async def chat_turn(chat_id: int, *, scope: str = "") -> AsyncIterator[None]:
    """Hold the chat's lock while its update is handled; waiting longer than CHAT_LOCK_SECONDS goes on unlocked.
    `scope` names a customer's bot ("deployment:<id>"); "" is the platform's bot."""
    name = f"telegram:chat-lock:{scope}:{chat_id}" if scope else f"telegram:chat-lock:{chat_id}"
    if settings.REDIS_URL:
        async with _redis_lock(name, chat_id) as held:
            if held:
                yield
                return
    if connections["default"].vendor == "postgresql":
        async with _advisory_lock(_advisory_keys(chat_id, scope), chat_id):
            yield
        return
    yield


def _advisory_keys(chat_id: int, scope: str) -> list[int]:
    """The platform bot's chat locks on its id (one bigint key); a customer bot's chat on two int4 keys
    hashed from scope and id, a key space PostgreSQL keeps apart from the one-key space (a hash collision
    only makes two chats wait for each other, never answer out of order)."""
    if not scope:
        return [chat_id]
    digest = hashlib.blake2b(f"{scope}:{chat_id}".encode(), digest_size=8).digest()
    return [int.from_bytes(digest[:4], "big", signed=True), int.from_bytes(digest[4:], "big", signed=True)]


@contextlib.asynccontextmanager
async def _redis_lock(name: str, chat_id: int) -> AsyncIterator[bool]:
    """Yield True while the Redis lock is held, False if Redis is unreachable (the caller falls back)."""
    client = Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=CHAT_LOCK_SECONDS,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )
    lock = client.lock(name, timeout=CHAT_LOCK_SECONDS, blocking_timeout=CHAT_LOCK_SECONDS)
    try:
        try:
            acquired = await lock.acquire()
        except RedisError:
            logger.warning("Redis unreachable; chat %s is locked in the database instead", chat_id, exc_info=True)
            yield False
            return
        if not acquired:
            logger.warning("chat %s still locked after %ss; handling the update anyway", chat_id, CHAT_LOCK_SECONDS)
        try:
            yield True
        finally:
            if acquired:
                with contextlib.suppress(RedisError):
                    await lock.release()
    finally:
        with contextlib.suppress(RedisError):
            await client.aclose()


@contextlib.asynccontextmanager
async def _advisory_lock(keys: list[int], chat_id: int) -> AsyncIterator[None]:
    """A session advisory lock on `keys` (the chat's) on its own autocommit connection (never in a transaction)."""
    db = connections["default"].settings_dict
    conn = await psycopg.AsyncConnection.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        autocommit=True,
        connect_timeout=10,
        options=f"-c lock_timeout={CHAT_LOCK_SECONDS * 1000}",
    )
    async with conn:
        try:
            await conn.execute(_ADVISORY_SQL["lock", len(keys)], keys)
        except psycopg.errors.LockNotAvailable:
            logger.warning("chat %s still locked after %ss; handling the update anyway", chat_id, CHAT_LOCK_SECONDS)
            yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                await conn.execute(_ADVISORY_SQL["unlock", len(keys)], keys)
