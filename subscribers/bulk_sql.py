"""SQL for many values at once, the same way on SQLite and PostgreSQL.

`column IN (:v1, :v2, ...)` makes SQLAlchemy render, and the driver bind, one placeholder per value
for every query, and SQLite caps the number of placeholders. Passing the values as one parameter
(an array on PostgreSQL, a JSON array read by `json_each` on SQLite) avoids both; each backend still
uses the column's index (checked with EXPLAIN).

Also the two places where the backends' writes differ: inserting while ignoring rows that are already
there, and, on SQLite, taking its single write lock before reading what a change will be decided on;
and the bulk inserts the CSV import writes its batches with (`insert_rows`, `insert_rows_ignoring_conflicts`,
`BulkValues`), which skip SQLAlchemy's per-row type processing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, any_, bindparam, column, func, insert, select, table, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def one_of(session: Session, column: Any, values: Sequence[Any]) -> Any:
    """A WHERE clause: `column` is one of `values` (any number of them)."""
    if is_postgresql(session):
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    each = func.json_each(bindparam(None, json.dumps(list(values)), type_=String)).table_valued("value")
    return column.in_(select(each.c.value))


def insert_ignoring_conflicts(session: Session, entity: Any) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for this backend; add `.returning(...)` to learn which rows went in.

    Used instead of "insert, catch the IntegrityError in a savepoint": with the pysqlite driver a savepoint
    that is the transaction's first write commits when it is released, so it cannot be part of a larger change.
    """
    if is_postgresql(session):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(entity).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(entity).on_conflict_do_nothing()


def take_sqlite_write_lock(session: Session) -> None:
    """On SQLite, make this transaction the database's one writer now, before it reads what it will decide on.

    SQLite locks the whole database, and only when a transaction first writes; until then every read sees
    the latest commit and another writer may commit between our read and our write. A write that changes
    nothing takes the lock (measured: a second connection then waits), and every read after it sees a state
    nobody else can change until we commit. PostgreSQL locks rows instead (see store.lock_subscriber).
    """
    if not is_postgresql(session):
        session.execute(text("UPDATE subscribers SET id = id WHERE 0"))


@functools.cache
def untyped_table(table_name: str) -> TableClause:
    """The table with type-less columns: values go to the driver as we give them, with no per-row processing."""
    from newsletter.db import Base

    return table(table_name, *(column(c.name) for c in Base.metadata.tables[table_name].columns))


class BulkValues:
    """Column values for the bulk inserts, converted once per batch the way SQLAlchemy's types would.

    SQLAlchemy's per-row type processing (UTC timestamps, JSON, enums) was most of the CSV import's time,
    so the bulk inserts bypass it: timestamps in SQLAlchemy's own SQLite text format (read back by the same
    UTCDateTime columns) or ISO 8601 text that PostgreSQL casts, JSON as text, enums as their values.
    """

    def __init__(self, session: Session, now: datetime):
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        # On PostgreSQL the whole batch becomes one JSON document, so JSON columns stay objects.
        self.json = _dump_json if self.sqlite else _keep  # type: ignore[assignment]
        utc = now.astimezone(UTC)
        self.now: Any = utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if self.sqlite \
            else utc.isoformat()


def _dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _keep(value: Any) -> Any:
    return value


def insert_rows_ignoring_conflicts(session: Session, table_name: str, rows: list[dict[str, Any]],
                                   returning: Sequence[str]) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING: the rows that went in. Someone else (a form sign-up, a
    second import of the same file) may have stored the same key meanwhile; their row stays as it is."""
    if not rows:
        return []
    if is_postgresql(session):
        return _insert_unnest(session, table_name, rows,
                              on_conflict=f"ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}").all()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    untyped = untyped_table(table_name)
    statement = sqlite_insert(untyped).on_conflict_do_nothing().returning(*(untyped.c[name] for name in returning))
    return session.execute(statement, rows).all()


def insert_rows(session: Session, table_name: str, rows: list[dict[str, Any]]) -> None:
    """A plain INSERT of many rows, through the same fast paths as `insert_rows_ignoring_conflicts`."""
    if not rows:
        return
    if is_postgresql(session):
        _insert_unnest(session, table_name, rows)
    else:
        session.execute(insert(untyped_table(table_name)), rows)


def _insert_unnest(session: Session, table_name: str, rows: list[dict[str, Any]], on_conflict: str = "") -> Any:
    """One statement for the whole batch on PostgreSQL: the rows as one JSON document, typed by the server.

    psycopg's executemany sends a statement per row, and array parameters are escaped value by value in
    Python; `json_populate_recordset` instead lets PostgreSQL cast each field to its column's type, so a
    2,000-row batch costs one json.dumps.
    """
    columns = ", ".join(rows[0])
    # Table and column names come from this code's own table definitions, never from input; the values
    # travel as one bound JSON parameter.
    sql = (f"INSERT INTO {table_name} ({columns}) SELECT {columns} "  # nosec B608
           f"FROM json_populate_recordset(CAST(NULL AS {table_name}), CAST(:rows AS JSON)) {on_conflict}")
    return session.execute(text(sql), {"rows": json.dumps(rows, ensure_ascii=False, separators=(",", ":"))})
