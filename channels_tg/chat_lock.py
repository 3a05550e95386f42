"""The lock one Telegram chat's turn holds across app servers: Redis when REDIS_URL is set, else a
PostgreSQL session advisory lock on a dedicated connection; SQLite (dev) keeps the in-process lock only.

A lock never outlives its holder: the Redis key expires after CHAT_LOCK_SECONDS and an advisory lock
dies with its connection. A Redis outage falls back to the database lock (logged): the bot keeps answering.
"""

import contextlib
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


@contextlib.asynccontextmanager
async def chat_turn(chat_id: int) -> AsyncIterator[None]:
    """Hold the chat's lock while its update is handled; waiting longer than CHAT_LOCK_SECONDS goes on unlocked."""
    if settings.REDIS_URL:
        async with _redis_lock(chat_id) as held:
            if held:
                yield
                return
    if connections["default"].vendor == "postgresql":
        async with _advisory_lock(chat_id):
            yield
        return
    yield


@contextlib.asynccontextmanager
async def _redis_lock(chat_id: int) -> AsyncIterator[bool]:
    """Yield True while the Redis lock is held, False if Redis is unreachable (the caller falls back)."""
    client = Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=CHAT_LOCK_SECONDS,
        socket_connect_timeout=settings.REDIS_TIMEOUT_SECONDS,
    )
    lock = client.lock(f"telegram:chat-lock:{chat_id}", timeout=CHAT_LOCK_SECONDS, blocking_timeout=CHAT_LOCK_SECONDS)
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
async def _advisory_lock(chat_id: int) -> AsyncIterator[None]:
    """A session advisory lock keyed by chat id on its own autocommit connection (never in a transaction)."""
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
            await conn.execute("SELECT pg_advisory_lock(%s)", [chat_id])
        except psycopg.errors.LockNotAvailable:
            logger.warning("chat %s still locked after %ss; handling the update anyway", chat_id, CHAT_LOCK_SECONDS)
            yield
            return
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                await conn.execute("SELECT pg_advisory_unlock(%s)", [chat_id])
