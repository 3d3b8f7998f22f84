"""Migration 0002 creates exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from newsletter.config import Settings
from newsletter.db import Base, engine_for
from newsletter.models import load_all

OURS = {"lists", "subscribers", "subscriptions", "consent_log", "suppressions"}


def _tables_in(diff: object) -> set[str]:
    """Every table name a diff entry (or nested list of entries) mentions."""
    names: set[str] = set()
    if isinstance(diff, (list, tuple)):
        for item in diff:
            names |= _tables_in(item)
    else:
        for attribute in ("name", "table"):
            value = getattr(diff, attribute, None)
            if isinstance(value, str):
                names.add(value)
            elif value is not None and hasattr(value, "name"):
                names.add(value.name)
    return names


def test_migrated_schema_matches_the_models(db: Settings) -> None:
    load_all()
    with engine_for(db.database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    ours = [entry for entry in diff if _tables_in(entry) & OURS]
    assert ours == [], ours
    tables = set(Base.metadata.tables)
    assert OURS <= tables
