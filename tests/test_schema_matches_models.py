"""The migrations make exactly the schema the models describe, on SQLite and PostgreSQL.

One check for every table, so a column added to a model without its migration (or the reverse) fails
here whichever part of the service it belongs to.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from newsletter.config import Settings
from newsletter.db import Base, engine_for
from newsletter.models import load_all


def test_the_migrated_database_is_what_the_models_say(db: Settings) -> None:
    load_all()
    with engine_for(db.database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []
