"""Room to write: the media folder, the outbox (without SMTP) and the SQLite database's folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sqlalchemy.engine import make_url

from newsletter.config import Settings
from newsletter.doctor.findings import Finding, error, ok, warning

GB = 1024 ** 3
# Under this nothing much can be written (an import, a day's outbox, the database's write-ahead log).
ERROR_BELOW = 200 * 1024 ** 2
WARN_BELOW = 2 * GB


def _places(settings: Settings) -> list[tuple[str, Path]]:
    places = [("media folder", Path(settings.media_dir))]
    if not settings.smtp_url:
        places.append(("outbox folder", Path(settings.outbox_dir)))
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database:
        places.append(("database folder", Path(url.database).resolve().parent))
    return places


def _existing(path: Path) -> Path:
    """The folder itself, or the nearest one above it that exists (the service makes the rest)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def disk(settings: Settings, error_below: int = ERROR_BELOW, warn_below: int = WARN_BELOW) -> list[Finding]:
    findings = []
    for label, path in _places(settings):
        found = _existing(path.absolute())
        if not found.is_dir():
            findings.append(error("disk", f"The {label} {path} cannot be made: {found} is a file, not a folder."))
            continue
        if not os.access(found, os.W_OK | os.X_OK):
            findings.append(error("disk", f"The {label} {path} is not writable by this user ({found}): give the "
                                  "user the service runs as write access."))
            continue
        free = shutil.disk_usage(found).free
        amount = f"{free / GB:.1f} GB free"
        if free < error_below:
            findings.append(error("disk", f"The {label} {path} has only {amount}: free some space or move it "
                                  "to a larger disk."))
        elif free < warn_below:
            findings.append(warning("disk", f"The {label} {path} has {amount}: keep an eye on it."))
        else:
            findings.append(ok("disk", f"The {label} {path} is writable, {amount}."))
    return findings


__all__ = ["disk"]
