"""The theme: the file, the composer's changes laid over it, and the table that holds them."""

from __future__ import annotations

import json
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from newsletter.config import Settings
from newsletter.db import Base, engine_for, session_scope
from newsletter.models import load_all
from newsletter.theme import ThemeSettings, get_theme, load_theme, with_overrides

from tests.conftest import TEST_THEME


def test_migration_0012_makes_exactly_the_theme_settings_table(db: Settings) -> None:
    load_all()
    with engine_for(db.database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert [entry for entry in diff if "theme_settings" in repr(entry)] == []


def _store(overrides: dict[str, object], version: int) -> None:
    with session_scope() as session:
        row = session.get(ThemeSettings, 1) or ThemeSettings(id=1)
        row.overrides, row.version, row.updated_by = json.dumps(overrides), version, "Ann"
        session.add(row)


def test_stored_changes_lay_over_the_file_and_follow_every_change(db: Settings) -> None:
    assert get_theme() == load_theme(TEST_THEME)
    _store({"masthead": "Local Offer news", "font_family": "Comic Sans MS"}, 1)
    theme = get_theme()
    assert theme.masthead == "Local Offer news" and theme.font_family == "Arial, Helvetica, sans-serif", \
        "only the page's fields are taken"
    assert theme.postal_address == load_theme(TEST_THEME).postal_address
    _store({"masthead": "Family news"}, 2)
    assert get_theme().masthead == "Family news"


def test_a_stored_value_the_theme_cannot_use_is_ignored_not_fatal(db: Settings) -> None:
    _store({"text_colour": "red", "masthead": "x"}, 1)
    assert get_theme() == load_theme(TEST_THEME)


def test_no_database_or_no_table_means_the_file_alone(settings: Settings, tmp_path: Path) -> None:
    base = load_theme(TEST_THEME)
    missing = tmp_path / "not-made-yet.db"
    assert with_overrides(base, f"sqlite:///{missing}") is base
    assert not missing.exists(), "reading the theme must not create a database"
    empty = tmp_path / "empty.db"
    with engine_for(f"sqlite:///{empty}").connect():
        pass
    assert with_overrides(base, f"sqlite:///{empty}") is base


def test_a_theme_file_with_a_mistake_stops_start_up_with_one_plain_line(tmp_path: Path) -> None:
    import pytest

    from newsletter.config import SettingsError

    bad = tmp_path / "theme.yaml"
    bad.write_text('organisation: "Brackenfield\\r\\nBcc: x@y.test"\ntext_colour: red\n', encoding="utf-8")
    with pytest.raises(SettingsError) as raised:
        load_theme(bad)
    message = str(raised.value)
    assert "\n" not in message and "NEWSLETTER_THEME_FILE" in message
    assert "organisation must be one line" in message and "text_colour" in message
    assert "String should" not in message and "Value error" not in message and "pydantic" not in message
