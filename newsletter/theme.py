"""The house style: logo, colours, fonts and the footer every issue carries.

It lives in configuration (`NEWSLETTER_THEME_FILE`, a YAML file), not in each issue, so the
team's legal footer and brand are set once and cannot drift between issues.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsletter.config import SettingsError, get_settings

_HEX = r"^#[0-9a-fA-F]{6}$"


class Logo(BaseModel):
    src: str
    alt: str
    width: int = Field(default=180, ge=40, le=600)


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation: str = "Local Offer Team"
    masthead: str = "News for SEND families"
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
    postal_address: str = "Local Offer Team, Town Hall, High Street, Anytown, AB1 2CD"
    contact_email: str | None = "localoffer@example.org"
    contact_phone: str | None = None
    footer_text: str = (
        "You are getting this because you signed up for news from the Local Offer Team."
    )

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
    except (yaml.YAMLError, ValidationError) as error:
        first = str(error).splitlines()
        raise SettingsError(f"setting NEWSLETTER_THEME_FILE is invalid: {' '.join(first[:3])}") from None


@functools.cache
def _cached(path: Path | None) -> Theme:
    return load_theme(path)


def get_theme() -> Theme:
    return _cached(get_settings().theme_file)
