"""SQL for many values at once, the same way on SQLite and PostgreSQL.

`column IN (:v1, :v2, ...)` makes SQLAlchemy render, and the driver bind, one placeholder per value
for every query, and SQLite caps the number of placeholders. Passing the values as one parameter
(an array on PostgreSQL, a JSON array read by `json_each` on SQLite) avoids both; each backend still
uses the column's index (checked with EXPLAIN).

Also the two places where the backends' writes differ: inserting while ignoring rows that are already
there, and, on SQLite, taking its single write lock before reading what a change will be decided on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select, text
from sqlalchemy.orm import Session


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
