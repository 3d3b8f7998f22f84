"""The database check against real SQLite and PostgreSQL databases: migrated, not migrated, behind, away."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from newsletter.config import Settings
from newsletter.doctor.database import database, head_revision
from newsletter.migrate import downgrade, upgrade

from tests.conftest import PG_SERVER
from tests.smtp import free_port


def test_a_migrated_database_is_fine(db: Settings) -> None:
    [finding] = database(db)
    assert finding.level == "ok" and head_revision(db.database_url) in finding.message


def test_a_database_that_was_never_migrated_is_an_error(configured: Callable[..., Settings], tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    [finding] = database(configured(database_url=f"sqlite:///{path}"))
    assert finding.level == "error" and "never migrated" in finding.message and "newsletter db upgrade" in finding.message


@pytest.fixture
def empty_postgres_schema() -> Iterator[str]:
    engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
    try:
        with engine.begin() as connection:
            schema = f"t_{uuid.uuid4().hex[:10]}"
            connection.execute(text(f'create schema "{schema}"'))
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not available: {error}")
    yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(text(f'drop schema "{schema}" cascade'))
    engine.dispose()


def test_a_postgresql_database_not_migrated_then_behind_then_current(configured: Callable[..., Settings],
                                                                      empty_postgres_schema: str) -> None:
    current = configured(database_url=empty_postgres_schema)
    [never] = database(current)
    assert never.level == "error" and "never migrated" in never.message
    upgrade(current.database_url, "0015")
    [behind] = database(current)
    assert behind.level == "error" and "at revision 0015" in behind.message and "newsletter db upgrade" in behind.message
    upgrade(current.database_url)
    assert database(current)[0].level == "ok"
    downgrade(current.database_url, "0015")
    assert database(current)[0].level == "error"


def test_a_revision_this_version_does_not_know_is_an_error(configured: Callable[..., Settings], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    [finding] = database(configured(database_url=url))
    assert finding.level == "error" and "0099" in finding.message and "newer version" in finding.message


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(configured: Callable[..., Settings], tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    [finding] = database(configured(database_url=f"sqlite:///{path}"))
    assert finding.level == "error" and "does not exist" in finding.message
    assert not path.exists()


def test_a_postgresql_server_that_does_not_answer_is_an_error(configured: Callable[..., Settings]) -> None:
    [finding] = database(configured(database_url=f"postgresql://news:secret-pw@127.0.0.1:{free_port()}/news"))
    assert finding.level == "error" and "nothing is listening" in finding.message
    assert "secret-pw" not in finding.message
