"""What every command starts from: the settings, a database ready to use, and the exit statuses."""

from __future__ import annotations

from newsletter.config import Settings, get_settings

EXIT_PROBLEM = 1
EXIT_CONFIG = 2


def settings() -> Settings:
    return get_settings()


def ensure_schema(current: Settings) -> None:
    """The embedded default creates its database on first use; a production database is migrated on purpose."""
    from newsletter.migrate import upgrade

    if current.database_url.startswith("sqlite"):
        upgrade(current.database_url)


def ready() -> Settings:
    """The settings, once the embedded database exists and is up to date."""
    current = settings()
    ensure_schema(current)
    return current
