"""Settings: defaults for the embedded mode, and one clear line naming any bad setting."""

from __future__ import annotations

import pytest

from newsletter.config import SettingsError, load_settings


def test_embedded_defaults(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("NEWSLETTER_DATABASE_URL", "NEWSLETTER_BASE_URL"):
        monkeypatch.delenv(name)
    loaded = load_settings()
    assert loaded.database_url.startswith("sqlite:///") and loaded.database_url.endswith("newsletter.db")
    assert loaded.redis_url is None and loaded.smtp_url is None
    assert loaded.base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NEWSLETTER_DATABASE_URL", "mysql://x", "NEWSLETTER_DATABASE_URL is invalid"),
        ("NEWSLETTER_REDIS_URL", "localhost:6379", "NEWSLETTER_REDIS_URL is invalid"),
        ("NEWSLETTER_SMTP_URL", "mail.example.org", "NEWSLETTER_SMTP_URL is invalid"),
        ("NEWSLETTER_FROM_ADDRESS", "nobody", "NEWSLETTER_FROM_ADDRESS is invalid"),
        ("NEWSLETTER_READABILITY_MIN_SCORE", "150", "NEWSLETTER_READABILITY_MIN_SCORE is invalid"),
        ("NEWSLETTER_SECRET_KEY", "short", "NEWSLETTER_SECRET_KEY is too short"),
    ],
)
def test_bad_setting_is_named(settings, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_postgres_url_uses_psycopg3(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSLETTER_DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    assert load_settings().database_url == "postgresql+psycopg://127.0.0.1:5432/test"
    assert load_settings().sender_domain == "example.org"


def test_several_smtp_servers_each_with_its_pace(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEWSLETTER_SEND_RATE", "30")
    monkeypatch.setenv("NEWSLETTER_SMTP_URL",
                       "smtp+starttls://user:p%40ss@relay1.example.org:587?rate=20&per_day=50000, smtp://relay2.example.org")
    servers = load_settings().smtp_servers
    assert [(s.name, s.rate, s.per_day) for s in servers] == [("relay1.example.org:587", 20.0, 50000),
                                                               ("relay2.example.org:25", 30.0, 0)]
    assert servers[0].url == "smtp+starttls://user:p%40ss@relay1.example.org:587"
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", "smtp://relay1.example.org?speed=fast")
    with pytest.raises(SettingsError, match="unknown or invalid option speed=fast"):
        load_settings()


# --- the built-in development secret (issue 9, item 4) ----------------------------------------------


def _with_development_secret(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    from newsletter.config import reset_settings

    monkeypatch.delenv("NEWSLETTER_SECRET_KEY")
    monkeypatch.setenv("NEWSLETTER_BASE_URL", base_url)
    reset_settings()


@pytest.mark.parametrize("base_url", ["https://news.example.org", "http://192.168.1.20:8000", "http://[2001:db8::1]/",
                                      "http://localhost.example.org", "http://127.0.0.1.nip.io:8000"])
def test_development_secret_is_refused_for_a_public_address(settings, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                            base_url: str) -> None:
    from newsletter.web import create_app

    _with_development_secret(monkeypatch, base_url)
    loaded = load_settings()
    with pytest.raises(SettingsError) as refused:
        loaded.refuse_development_secret_off_loopback()
    message = str(refused.value)
    assert "\n" not in message and "set NEWSLETTER_SECRET_KEY" in message
    with pytest.raises(SettingsError, match="NEWSLETTER_SECRET_KEY"):
        create_app(loaded)  # what gunicorn calls


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8000", "http://127.0.1.1:5000", "http://localhost:8000",
                                      "http://[::1]:8000", "http://app.localhost"])
def test_development_secret_still_works_on_this_machine(settings, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                        base_url: str) -> None:
    from newsletter.web import create_app

    _with_development_secret(monkeypatch, base_url)
    loaded = load_settings()
    loaded.refuse_development_secret_off_loopback()
    assert create_app(loaded).config["SECRET_KEY"] == "development-only-secret-change-me"


def test_own_secret_is_accepted_on_a_public_address(settings) -> None:  # type: ignore[no-untyped-def]
    settings.refuse_development_secret_off_loopback()  # https://news.example.org with the test's own key


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["send", "any-issue", "--list", "news"]])
def test_serve_and_send_refuse_the_development_secret_with_one_line(settings, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                                    tmp_path, command: list[str]) -> None:
    from click.testing import CliRunner

    from newsletter.cli import main

    _with_development_secret(monkeypatch, "https://news.example.org")
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: setting NEWSLETTER_SECRET_KEY is missing")
    assert not (tmp_path / "newsletter.db").exists(), "refused before touching the database"
