"""The invoke path's written-out statements, bound and prepared by PostgreSQL.

Why: Django's psycopg cursors bind parameters on the client — every call quotes each value into the SQL
text in Python, and PostgreSQL parses and plans the statement again. The few statements an invoke runs
on every call (the account read, the agent read, the reservation, the settle) are the same text each
time, so on PostgreSQL they go through a server-binding cursor: psycopg sends the values apart from the
text, and once a statement has run `DATABASE_PREPARE_THRESHOLD` times on a connection (the pool keeps
connections), PostgreSQL keeps it parsed and planned there. Only these statements use such cursors; the
ORM's queries are bound on the client as before. The cursor is Django's own wrapper around it, so the
statements are logged, counted by the tests' query assertions and their errors are Django's.
"""

import contextlib

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor


def fetch_one(connection: BaseDatabaseWrapper, sql: str, params: list) -> tuple | None:
    """The first row of one statement with `%s` placeholders, run on `connection`."""
    with _cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _cursor(connection: BaseDatabaseWrapper):
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    cursor = ServerBindingCursor(connection.connection)
    return _LoggedCursor(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)


class _LoggedCursor(CursorDebugWrapper):
    @contextlib.contextmanager
    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        # psycopg keeps the text with $n placeholders (none once prepared): logged with the values quoted
        # in, as Django logs statements under server-side binding.
        with super().debug_sql(self.db.ops.compose_sql(sql, params), params, many=many):
            yield
