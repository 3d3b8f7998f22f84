"""The house style: logo, colours, fonts and the footer every issue carries.

It starts in configuration (`NEWSLETTER_THEME_FILE`, a YAML file), not in each issue, so the
team's legal footer and brand are set once and cannot drift between issues. Approvers change it
on the composer's "Theme and footer" page (newsletter/web/theme_page.py), which stores only what
differs from the file, in one row of `theme_settings`; `with_overrides` lays that row over the
file. The row is read (one small query) with each theme, so a change made in one process is used by
the next render in every other (web processes, workers, the command line) without a restart.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Integer, String, Text, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.config import SettingsError, get_settings
from newsletter.db import Base, UTCDateTime, engine_for, utcnow
from newsletter.headersafe import check_one_line

_HEX = r"^#[0-9a-fA-F]{6}$"


# Every words-and-addresses value of the theme ends up in the footer of every email, and the
# organisation's name in notices' headers: one line, no control characters (newsletter/headersafe.py).
OneLine = Annotated[str, AfterValidator(check_one_line)]


class Logo(BaseModel):
    src: Annotated[str, Field(max_length=2000)]
    alt: Annotated[OneLine, Field(max_length=300)]
    width: int = Field(default=180, ge=40, le=600)


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: Annotated[OneLine, Field(min_length=1, max_length=200)] = "Local Offer Team"
    masthead: Annotated[OneLine, Field(min_length=1, max_length=200)] = "News for SEND families"
    logo: Logo | None = None
    # No web fonts: an email must make no third-party request, so we use fonts the reader already has.
    font_family: str = "Arial, Helvetica, sans-serif"
    text_colour: str = Field(default="#1f1f1f", pattern=_HEX)
    background_colour: str = Field(default="#ffffff", pattern=_HEX)
    page_colour: str = Field(default="#f3f2f1", pattern=_HEX)
    accent_colour: str = Field(default="#1d4f91", pattern=_HEX)
    link_colour: str = Field(default="#1d4f91", pattern=_HEX)
    button_text_colour: str = Field(default="#ffffff", pattern=_HEX)
    muted_colour: str = Field(default="#505a5f", pattern=_HEX)
    base_font_size: int = Field(default=16, ge=10, le=24)
    postal_address: Annotated[OneLine, Field(min_length=1, max_length=300)] = (
        "Local Offer Team, Town Hall, High Street, Anytown, AB1 2CD"
    )
    contact_email: Annotated[OneLine, Field(max_length=254)] | None = "localoffer@example.org"
    contact_phone: Annotated[OneLine, Field(max_length=40)] | None = None
    footer_text: Annotated[str, Field(max_length=2000)] = (
        "You are getting this because you signed up for news from the Local Offer Team."
    )
    # The council's privacy notice: how it uses the readers' addresses (UK GDPR articles 13 and 14).
    privacy_url: Annotated[OneLine, Field(max_length=2000)] | None = None

    @field_validator("font_family")
    @classmethod
    def _no_quotes(cls, value: str) -> str:
        if any(ch in value for ch in "<>\"{};"):
            raise ValueError("must be a plain list of font names")
        return value


def load_theme(path: Path | None) -> Theme:
    if path is None:
        return Theme()
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return Theme.model_validate(raw)
    except FileNotFoundError:
        raise SettingsError(f"setting NEWSLETTER_THEME_FILE is invalid: {path} does not exist") from None
    except yaml.YAMLError as error:
        first = str(error).splitlines()
        raise SettingsError(f"setting NEWSLETTER_THEME_FILE is invalid: {' '.join(first[:3])}") from None
    except ValidationError as error:
        from newsletter.issues.blocks import plain_message

        problems = "; ".join(f"{'.'.join(str(part) for part in item['loc']) or 'the file'} {plain_message(item)}"
                             for item in error.errors()[:3])
        raise SettingsError(f"setting NEWSLETTER_THEME_FILE is invalid: {path}: {problems}") from None


@functools.cache
def _cached(path: Path | None) -> Theme:
    return load_theme(path)


class ThemeSettings(Base):
    """What the "Theme and footer" page changed from the theme file: one row (id 1), or none."""

    __tablename__ = "theme_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A JSON object of Theme fields; a field not in it comes from the theme file.
    overrides: Mapped[str] = mapped_column(Text, default="{}")
    # One more with every save, so every process sees a change at its next read of the theme.
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="")


# Fields the page may change. The font and text size stay in the file: the checks and templates
# are tuned to them.
EDITABLE_FIELDS = (
    "organisation", "masthead", "postal_address", "contact_email", "contact_phone", "logo",
    "text_colour", "background_colour", "page_colour", "accent_colour", "link_colour",
    "button_text_colour", "muted_colour", "footer_text", "privacy_url",
)

_merged: dict[str, tuple[str, Theme, Theme]] = {}
_merged_lock = threading.Lock()


def _database_exists(database_url: str) -> bool:
    """False for a SQLite file not made yet: reading the theme must not create an empty database."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return True
    return bool(url.database) and url.database != ":memory:" and os.path.exists(url.database)


def _stored_row(database_url: str) -> tuple[int, str]:
    """(version, overrides as stored); (0, "{}") when nothing is stored or there is no table yet."""
    if not _database_exists(database_url):
        return 0, "{}"
    try:
        with engine_for(database_url).connect() as connection:
            row = connection.execute(text("SELECT version, overrides FROM theme_settings WHERE id = 1")).first()
    except SQLAlchemyError:
        return 0, "{}"  # a database not migrated to 0012 yet: the file's theme, as before
    return (0, "{}") if row is None else (int(row[0]), row[1] or "{}")


def _decode(stored: str) -> dict[str, Any]:
    try:
        values = json.loads(stored)
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def read_overrides(database_url: str) -> tuple[int, dict[str, Any]]:
    """(version, overrides) stored by the page; (0, {}) when nothing is stored."""
    version, stored = _stored_row(database_url)
    return version, _decode(stored)


def merge(base: Theme, overrides: dict[str, Any]) -> Theme:
    """The file's theme with the page's values on top, validated as a whole."""
    values = base.model_dump()
    values.update({name: value for name, value in overrides.items() if name in EDITABLE_FIELDS})
    return Theme.model_validate(values)


def with_overrides(base: Theme, database_url: str) -> Theme:
    """`base` (the file's theme) with what the "Theme and footer" page stored in `database_url`.

    One small query a call; the merged theme is kept while the stored values are the same. A stored
    value that no longer validates (the file changed under it) is ignored rather than stopping every page.
    """
    _version, stored = _stored_row(database_url)
    if stored in ("", "{}"):
        return base
    with _merged_lock:
        cached = _merged.get(database_url)
        if cached is not None and cached[0] == stored and cached[1] is base:
            return cached[2]
    try:
        merged = merge(base, _decode(stored))
    except ValidationError:
        merged = base
    with _merged_lock:
        _merged[database_url] = (stored, base, merged)
    return merged


def get_theme() -> Theme:
    """The process's theme: its settings' theme file, with the page's changes in its database."""
    settings = get_settings()
    return with_overrides(_cached(settings.theme_file), settings.database_url)
