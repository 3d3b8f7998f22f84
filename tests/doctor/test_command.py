"""`newsletter doctor` and `--json`: every finding printed, exit 1 on any error, 0 otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import main
from newsletter.config import Settings, reset_settings


def _run(*args: str) -> tuple[int, str]:
    reset_settings()
    result = CliRunner().invoke(main, ["doctor", *args])
    return result.exit_code, result.output


def test_a_ready_installation_exits_0_and_json_lists_every_check(db: Settings, configured: Callable[..., Settings],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _run("--json")
    report = json.loads(output)
    assert code == 0 and report["ok"] is True, output
    assert set(report) == {"ok", "findings"}
    assert all(set(f) == {"level", "check", "message"} and f["level"] in {"ok", "warning", "error"}
               for f in report["findings"])
    checks = {f["check"] for f in report["findings"]}
    assert {"secret-key", "base-url", "database", "redis", "scheduler", "smtp", "dkim", "spf", "dmarc",
            "unsubscribe", "theme", "disk"} <= checks
    code, text = _run()
    assert code == 0 and text.startswith("OK      secret-key:") and "0 errors" in text


def test_a_database_not_migrated_makes_the_doctor_exit_1(configured: Callable[..., Settings], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "fresh.db").close()
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    code, output = _run("--json")
    report = json.loads(output)
    assert code == 1 and report["ok"] is False
    [problem] = [f for f in report["findings"] if f["level"] == "error"]
    assert problem["check"] == "database" and "never migrated" in problem["message"]
    code, text = _run()
    assert code == 1 and "ERROR   database:" in text and "1 error," in text


def test_a_setting_that_stops_everything_is_reported_as_a_finding(settings: Settings,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "short")
    code, output = _run("--json")
    assert code == 1 and json.loads(output)["findings"] == [
        {"level": "error", "check": "settings",
         "message": "setting NEWSLETTER_SECRET_KEY is too short: use at least 16 characters"}]


def test_dns_records_are_printed_whole_for_copying(db: Settings, configured: Callable[..., Settings],
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "dkim.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                          serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    monkeypatch.setenv("NEWSLETTER_DKIM_KEY_FILE", str(tmp_path / "dkim.pem"))
    code, text = _run()
    [record] = [line for line in text.splitlines() if "_domainkey" in line and "IN TXT" in line]
    assert record.startswith("        newsletter._domainkey.yourcouncil.gov.uk. IN TXT \"v=DKIM1; k=rsa; p=")
    assert record.count('"') == 4  # two strings, on one line
