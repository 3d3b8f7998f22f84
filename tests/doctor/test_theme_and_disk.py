"""The theme's example details and the room left on disk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from newsletter.config import Settings
from newsletter.doctor.disk import disk
from newsletter.doctor.theme import theme


def test_the_built_in_theme_has_example_details_and_the_councils_own_has_none(
        configured: Callable[..., Settings], tmp_path: Path) -> None:
    built_in = theme(configured(theme_file=None))
    assert built_in and all(f.level == "error" for f in built_in)
    assert any("Anytown" in f.message for f in built_in)
    [own] = theme(configured())  # tests/data/theme.yaml: a council's real-looking details
    assert own.level == "ok"
    missing = theme(configured(theme_file=tmp_path / "nowhere.yaml"))
    assert missing[0].level == "error" and "does not exist" in missing[0].message


def test_disk_space_and_places_that_cannot_be_written(configured: Callable[..., Settings], tmp_path: Path) -> None:
    findings = disk(configured(), error_below=1, warn_below=2)
    assert [f.level for f in findings] == ["ok", "ok", "ok"]  # media, outbox, the SQLite database's folder
    assert all(f.level == "error" and "GB free" in f.message for f in disk(configured(), error_below=1 << 60))
    assert all(f.level == "warning" for f in disk(configured(), error_below=1, warn_below=1 << 60))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    [media, *_] = disk(configured(media_dir=blocker / "media"), error_below=1, warn_below=2)
    assert media.level == "error" and "is a file" in media.message
    # With an SMTP server the outbox is not used, so it is not checked.
    assert len(disk(configured(smtp_url="smtp://relay.yourcouncil.gov.uk"), error_below=1, warn_below=2)) == 2
