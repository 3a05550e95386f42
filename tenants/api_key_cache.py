"""API keys and the people they act as, read from memory: a per-process memo valid for a version token.

Why a memo: every call made with an API key looked its key up with its creator (a join the ORM builds and
compiles anew each time, ~1 ms of CPU and a round trip), though keys and their creators change rarely.
Each process keeps the active keys it has seen, by prefix, with their creator; the secret is still
checked against the stored hash on every call (`tenants.selectors.api_key_from_secret`).

Why a version token in the database (as `policy.rules_cache` does for the rules): the memo is valid only
for the token it was loaded under, and the token must be one every worker of every server sees. It is the
one row of `ApiKeysVersion`; the receivers in `tenants.apps` replace it in the same transaction whenever an
API key or a user is saved or deleted, and the services that change them with `QuerySet.update()`
(revoking a key, deactivating a user, verifying an address) call `invalidate()`. Each process reads the
token at most every POLL_SECONDS: a key revoked (or a creator deactivated or removed) on one server stops
working there at once and on every other server within POLL_SECONDS.
"""

import secrets
import threading
import time

from django.db import transaction

from tenants.models import ApiKey, ApiKeysVersion

POLL_SECONDS = 0.5
# Keys held per process; past it the memo starts afresh (each key costs one query to load again).
MAX_ENTRIES = 10_000

_entries: dict[str, tuple[str, ApiKey]] = {}  # prefix -> (token it was loaded under, key with created_by)
_lock = threading.Lock()
_version: str | None = None
_next_poll_at = 0.0


def active_key(prefix: str) -> ApiKey | None:
    """The unrevoked key with this prefix, its creator loaded (`created_by`), or None. Shared by the
    requests of this process: callers must not change it (but `last_used_at`, which only ever grows)."""
    version = _polled()
    entry = _entries.get(prefix)
    if entry is not None and version is not None and entry[0] == version:
        return entry[1]
    key = ApiKey.objects.select_related("created_by").filter(prefix=prefix, revoked_at__isnull=True).first()
    with _lock:
        if key is None:
            _entries.pop(prefix, None)
        elif version is not None:
            if len(_entries) >= MAX_ENTRIES:
                _entries.clear()
            _entries[prefix] = (version, key)
    return key


def _polled() -> str | None:
    global _version, _next_poll_at
    if time.monotonic() >= _next_poll_at:
        _version = ApiKeysVersion.objects.filter(pk=1).values_list("token", flat=True).first()
        _next_poll_at = time.monotonic() + POLL_SECONDS
    return _version


def _poll_now() -> None:
    global _next_poll_at
    _next_poll_at = 0.0


def clear() -> None:
    """Forget this process's memo, as a new process starts (tests do, so none inherits another's)."""
    global _version, _next_poll_at
    with _lock:
        _entries.clear()
    _version, _next_poll_at = None, 0.0


def new_token() -> str:
    return secrets.token_hex(8)


def invalidate() -> None:
    """Make every process load keys and their creators afresh: the new token is written in the caller's
    transaction (it commits, or rolls back, with the change); this process reads it again at once and
    again after commit."""
    ApiKeysVersion.objects.bulk_create(
        [ApiKeysVersion(id=1, token=new_token())],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["token", "changed_at"],
    )
    _poll_now()
    transaction.on_commit(_poll_now)
