"""The database answers, and its schema is the one this version of the service expects."""

from __future__ import annotations

import os

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from newsletter.config import Settings
from newsletter.doctor.findings import Finding, error, ok

UPGRADE = "run `newsletter db upgrade` (after a backup)"
# What connection failures usually mean, in words; the server's own words follow for anything else.
_REASONS = (
    ("password authentication failed", "the user name or password was refused"),
    ("does not exist", "the database or user does not exist"),
    ("connection refused", "nothing is listening there (is PostgreSQL running, on that host and port?)"),
    ("could not translate host name", "the host name does not resolve"),
    ("name or service not known", "the host name does not resolve"),
    ("timeout", "it did not answer in time (a firewall?)"),
    ("unable to open database file", "the file cannot be opened (its folder missing, or not writable?)"),
)


def _reason(problem: SQLAlchemyError) -> str:
    said = str(getattr(problem, "orig", None) or problem).strip().splitlines()[0] if str(problem).strip() else ""
    lowered = said.lower()
    for clue, words in _REASONS:
        if clue in lowered:
            return words
    return f"the server said: {said[:200]}"


def head_revision(url: str) -> str | None:
    from newsletter.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def database(settings: Settings) -> list[Finding]:
    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.drivername.startswith("sqlite") and url.database and not os.path.exists(url.database):
        # Opening it would create an empty file: say so instead.
        return [error("database", f"The database file {url.database} does not exist: run `newsletter db upgrade` "
                      "or start `newsletter serve` once, in the folder the service runs in.")]
    # A connection of its own, with a short timeout, so a firewalled server does not hang the doctor.
    connect_args = {"connect_timeout": 5} if url.drivername.startswith("postgresql") else {"timeout": 5}
    engine = create_engine(settings.database_url, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as problem:
        return [error("database", f"The database {shown} does not answer: {_reason(problem)}.")]
    finally:
        engine.dispose()
    head = head_revision(settings.database_url)
    if current is None:
        return [error("database", f"The database {shown} answers but has no tables yet (it was never migrated): "
                      f"{UPGRADE}.")]
    if current != head:
        from newsletter.migrate import alembic_config

        known = {script.revision for script in ScriptDirectory.from_config(alembic_config(settings.database_url))
                 .walk_revisions()}
        if current not in known:
            return [error("database", f"The database {shown} is at revision {current}, which this version does not "
                          "know: a newer version of the service has used it. Install that version again.")]
        return [error("database", f"The database {shown} is at revision {current} but this version needs {head}: "
                      f"{UPGRADE}.")]
    return [ok("database", f"The database {shown} answers and its schema is current (revision {head}).")]


__all__ = ["database", "head_revision"]
