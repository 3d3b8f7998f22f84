"""Migration 0011 makes the version and draft tables the models describe, and gives each issue a first version."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from newsletter.config import Settings
from newsletter.db import Base, engine_for
from newsletter.migrate import downgrade, upgrade
from newsletter.models import load_all

OURS = {"issue_versions", "block_drafts"}


def _tables_in(diff: object) -> set[str]:
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
    assert OURS <= set(Base.metadata.tables)
    with engine_for(db.database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert [entry for entry in diff if _tables_in(entry) & OURS] == []


def test_existing_issues_get_a_first_version_and_downgrade_removes_the_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0010")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "insert into issues (slug, title, subject, preheader, language, blocks, block_keys, status, notes,"
            " created_at, updated_at) values ('june', 'June news', 'News', '', 'en-GB',"
            " '[{\"type\": \"divider\"}]', '[\"k1\"]', 'draft', '', '2026-06-01 09:00:00', '2026-06-02 09:00:00')"))
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(text("select saved_by_name, description, content from issue_versions")).all()
    assert len(rows) == 1 and rows[0][1] == "As it was when version history began"
    assert '"block_keys": ["k1"]' in rows[0][2]
    downgrade(url, "0010")
    with engine.connect() as connection:
        names = {r[0] for r in connection.execute(text("select name from sqlite_master where type='table'"))}
    assert not (OURS & names)
    engine.dispose()
