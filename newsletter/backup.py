"""Backing up and restoring the embedded SQLite database (`newsletter db backup` and `db restore`).

The copy is made with SQLite's online backup API (Python's `sqlite3.Connection.backup`), which copies
a consistent snapshot page by page while the service keeps reading and writing: copying the file
itself while it runs can give a torn database, or one missing what is still in the `-wal` file.

A restore checks that the file is a whole SQLite database made by this service (its schema revision
is one of ours, and it has our tables), refuses to replace a database in use unless told to, keeps
the database it replaces beside it, and brings the restored copy up to the current schema.

PostgreSQL has its own tools for this, pg_dump and pg_restore; the commands say so, and the README's
"Backups" section says how, and what else to keep (the media folder, the secret key, the DKIM key).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from newsletter.config import Settings
from newsletter.errors import NewsletterError

# Tables every database of this service has had since its first migrations.
OUR_TABLES = frozenset({"alembic_version", "issues", "lists", "subscribers", "consent_log"})
POSTGRES_ADVICE = (
    "the database is PostgreSQL: back it up with pg_dump (for example `pg_dump --format=custom "
    "--file=newsletter.dump DATABASE_URL`) and restore with pg_restore; see \"Backups\" in the README "
    "for what else to keep"
)


class BackupError(NewsletterError):
    """A backup or restore that was refused or could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    revision_before: str
    revision_after: str
    kept: Path | None  # the database that was replaced, kept beside it


def sqlite_file(settings: Settings) -> Path:
    """The database file of the embedded default; PostgreSQL gets its own tools' advice."""
    url = settings.database_url
    if not url.startswith("sqlite"):
        raise BackupError(POSTGRES_ADVICE)
    # sqlite:///relative and sqlite:////absolute: SQLAlchemy's rule is the part after the third slash.
    return Path(url.split(":///", 1)[1].split("?", 1)[0])


def _open(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    return sqlite3.connect(path, timeout=30)


def backup(settings: Settings, target: Path) -> Path:
    """A consistent copy of the running database at `target` (not overwritten if it exists)."""
    source = sqlite_file(settings)
    if not source.is_file():
        raise BackupError(f"there is no database at {source} yet; nothing to back up")
    target = target.expanduser().resolve()
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name, so no earlier backup is overwritten")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    src, dst = _open(source, read_only=True), _open(partial)
    try:
        # 1,024 pages a step: the service's own writes go on between steps (SQLite restarts the copy if a
        # writer changed pages already copied, so the result is always one consistent moment).
        src.backup(dst, pages=1024)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    describe(partial)
    partial.replace(target)
    return target


def describe(path: Path) -> str:
    """The schema revision of a backup file, after checking it is a whole database of this service."""
    from alembic.script import ScriptDirectory

    from newsletter.migrate import alembic_config

    if not path.is_file():
        raise BackupError(f"there is no file at {path}")
    with path.open("rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not a SQLite database (a PostgreSQL dump is restored with pg_restore)")
    connection = _open(path, read_only=True)
    try:
        if connection.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError(f"{path} is damaged (SQLite's check of it failed); use another backup")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not OUR_TABLES <= tables:
            raise BackupError(f"{path} is a SQLite database, but not one of this service (it has no issues, "
                              "lists and subscribers)")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} could not be read as a database ({error})") from None
    finally:
        connection.close()
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    known = {rev.revision for rev in script.walk_revisions()}
    if revision is None or revision[0] not in known:
        raise BackupError(f"{path} was made by a newer version of this service (schema {revision and revision[0]}); "
                          "install that version or newer to restore it")
    return str(revision[0])


def in_use(path: Path) -> bool:
    """Whether another process has the database open. The service runs SQLite in WAL mode, and leaving it
    needs the database to itself: SQLite refuses (or stays in WAL) while any other connection is open."""
    if not path.exists():
        return False
    connection = sqlite3.connect(path, timeout=0)
    try:
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()
        return mode is None or str(mode[0]).lower() != "delete"
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()


def restore(settings: Settings, source: Path, *, force: bool = False) -> Restored:
    """Replace the configured database with the backup `source`, then migrate it to the current schema."""
    from newsletter.migrate import current, upgrade

    target = sqlite_file(settings)
    source = source.expanduser().resolve()
    revision_before = describe(source)
    if target.exists() and source.samefile(target):
        raise BackupError("that is the database itself; restore from a backup file")
    if target.exists() and in_use(target) and not force:
        raise BackupError(f"the database {target} is in use (the service, a worker or a command has it open). "
                          "Stop the service first, or add --force to replace it while it runs")
    kept = None
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        backup(settings, kept)
    src, dst = _open(source, read_only=True), _open(target)
    try:
        # Through SQLite, not by copying the file: a process that still has it open sees the restored
        # pages (and its -wal is reset), instead of a file swapped under it.
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    upgrade(settings.database_url)
    return Restored(revision_before, current(settings.database_url) or "", kept)


__all__ = ["BackupError", "Restored", "backup", "describe", "in_use", "restore", "sqlite_file"]
