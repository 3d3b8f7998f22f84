"""Fixtures: settings pointed at temporary folders, and migrated databases on SQLite and PostgreSQL.

Every test that takes `db` runs twice, once per backend. PostgreSQL is the real server at
127.0.0.1:5432 (database `test`), each test run in its own schema; when it does not answer the
PostgreSQL half is skipped, unless NEWSLETTER_REQUIRE_POSTGRES=1 (CI) makes that a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from newsletter.config import Settings, reset_settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "co-production-week.yaml"
TEST_THEME = ROOT / "tests" / "data" / "theme.yaml"
# CI runs the property tests with a fixed seed so a red build always means a change broke something;
# runs by hand keep exploring new examples (and print the seed of any failure to reproduce it).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_SERVER = os.environ.get("NEWSLETTER_TEST_POSTGRES", "postgresql+psycopg://127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_SERVER, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means "not here"
        return str(error).splitlines()[0]


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    problem = _postgres_available()
    if problem:
        if os.environ.get("NEWSLETTER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but did not answer at {PG_SERVER}: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_SERVER)
    with engine.begin() as connection:
        connection.execute(text(f'create schema "{schema}"'))
    yield schema
    with engine.begin() as connection:
        connection.execute(text(f'drop schema "{schema}" cascade'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"}


def _url_for(backend: str, request: pytest.FixtureRequest, migrated: dict[str, str]) -> str:
    if backend == "postgresql" and backend not in migrated:
        schema = request.getfixturevalue("postgres_schema")
        migrated[backend] = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    return migrated[backend]


_UPGRADED: set[str] = set()


def _clean(url: str) -> None:
    from newsletter.db import Base, engine_for
    from newsletter.models import load_all

    load_all()
    with engine_for(url).begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for one test: its own media and outbox folders, SQLite in a temporary file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'newsletter.db'}")
    monkeypatch.setenv("NEWSLETTER_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("NEWSLETTER_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://news.example.org")
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.setenv("NEWSLETTER_FROM_ADDRESS", "Local Offer Team <news@example.org>")
    for name in ("NEWSLETTER_REDIS_URL", "NEWSLETTER_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    # A theme without the example address and numbers, which the checks refuse to send.
    monkeypatch.setenv("NEWSLETTER_THEME_FILE", str(TEST_THEME))
    reset_settings()
    from newsletter.config import get_settings

    yield get_settings()
    reset_settings()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(
    request: pytest.FixtureRequest,
    settings: Settings,
    migrated_urls: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    """Settings whose database is a freshly emptied, fully migrated SQLite or PostgreSQL database."""
    from newsletter.migrate import upgrade

    url = _url_for(request.param, request, migrated_urls)
    if url not in _UPGRADED:
        upgrade(url)
        _UPGRADED.add(url)
    _clean(url)
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", url)
    reset_settings()
    from newsletter.config import get_settings

    yield get_settings()
    reset_settings()
