"""SQL for many values at once, the same way on SQLite and PostgreSQL.

`column IN (:v1, :v2, ...)` makes SQLAlchemy render, and the driver bind, one placeholder per value
for every query, and SQLite caps the number of placeholders. Passing the values as one parameter
(an array on PostgreSQL, a JSON array read by `json_each` on SQLite) avoids both; each backend still
uses the column's index (checked with EXPLAIN).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, any_, bindparam, func, select
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
