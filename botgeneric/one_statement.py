"""Several writes sent as one SQL statement (PostgreSQL's data-modifying WITH clauses).

Why: the end of an invoke writes the exchange, settles the period counter and records the usage event.
As separate statements that is three or four round trips (five with BEGIN/COMMIT), and a process that
dies between them leaves a call stored but not charged, or charged but not recorded. As one statement
it is one round trip and all-or-nothing. Each app builds its own part (`Write`) from its own models'
metadata; the service that owns the action puts them together.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connections

from botgeneric.prepared_statements import fetch_one


@dataclass(frozen=True)
class Write:
    """One INSERT/UPDATE (optionally `RETURNING`), named so that later parts and the final SELECT can read
    what it returned. Identifiers come from model metadata; every value is a parameter. `after` runs once
    the statement has succeeded (e.g. counting a metric of what was written)."""

    name: str
    sql: str
    params: list
    after: Callable[[], None] | None = field(default=None, compare=False)


def supported(using: str = "default") -> bool:
    """Data-modifying WITH clauses are PostgreSQL's; elsewhere the caller runs its writes one by one."""
    return connections[using].vendor == "postgresql"


def run_together(writes: list[Write], *, select: str = "SELECT 1", using: str = "default") -> tuple | None:
    """Run `writes` in one statement, in order of dependence (a part may read an earlier part's RETURNING
    rows by its name), and return the first row of `select`. PostgreSQL runs every part even if
    `select` reads none of them."""
    sql = "WITH " + ", ".join(f"{write.name} AS ({write.sql})" for write in writes) + " " + select
    params = [param for write in writes for param in write.params]
    row = fetch_one(connections[using], sql, params)
    for write in writes:
        if write.after is not None:
            write.after()
    return row
