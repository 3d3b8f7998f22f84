"""An app made with settings of its own reads them, its theme and its database, not the process's."""

from __future__ import annotations

from pathlib import Path

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.migrate import upgrade
from newsletter.web import create_app
from subscribers import api
from tests.conftest import ROOT


def test_an_app_serves_its_own_database_theme_and_addresses(db: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade(url)
    other = db.model_copy(update={"database_url": url, "base_url": "https://other.example.org",
                                  "theme_file": ROOT / "examples" / "theme.yaml"})
    with session_scope(url) as session:
        api.create_list(session, "only-there", "Only in the other database", public=True)
    with session_scope() as session:
        api.create_list(session, "only-here", "Only in the process's database", public=True)

    page = create_app(other).test_client().get("/subscribe").get_data(as_text=True)
    assert "Only in the other database" in page and "Only in the process&#39;s database" not in page
    assert "Anytown Council Local Offer" in create_app(other).test_client().get("/accessibility").get_data(as_text=True)

    page = create_app(db).test_client().get("/subscribe").get_data(as_text=True)
    assert "Only in the process" in page and "Only in the other database" not in page
