"""The one rule for header values: one line, no control characters; and the settings that reach headers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsletter.config import Settings, SettingsError, load_settings
from newsletter.headersafe import (
    HAS_CONTROL,
    NOT_ONE_LINE,
    HeaderValueError,
    check_header,
    check_one_line,
    one_line_problem,
)

# Every line break the email package refuses, and the one an attacker reaches for first.
BREAKS = ["\r\n", "\r", "\n", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e"]
CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x9b", "\t", "\ud800"]


@pytest.mark.parametrize("brk", BREAKS)
def test_every_line_break_is_refused_in_words(brk: str) -> None:
    assert one_line_problem(f"Co-production{brk}Bcc: victim@example.com") == NOT_ONE_LINE
    with pytest.raises(ValueError, match="must be one line, without line breaks"):
        check_one_line(f"Evil list{brk}Bcc: victim@example.com")


@pytest.mark.parametrize("control", CONTROLS)
def test_control_characters_are_refused(control: str) -> None:
    assert one_line_problem(f"News{control}letter") == HAS_CONTROL


@pytest.mark.parametrize("value", ["SEND newsletter", "Café morning: ‘Get together’ – July", "نشرة", "O'Brien \"Jo\""])
def test_ordinary_text_in_any_script_passes(value: str) -> None:
    assert one_line_problem(value) is None
    assert check_one_line(value) == value == check_header("the subject", value)


@pytest.mark.parametrize("brk", BREAKS + ["\x00", "\x1b", "\x9b"])
def test_header_check_names_the_field_and_the_character(brk: str) -> None:
    with pytest.raises(HeaderValueError) as raised:
        check_header("the list name", f"Evil list{brk}Bcc: victim@example.com")
    assert raised.value.field == "the list name"
    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert message.startswith("The list name cannot go in an email header: it must be one line")
    assert f"U+{ord(brk[0]):04X}" in message
    # The message is itself one line, so a log or a campaign page shows it whole.
    assert one_line_problem(message) is None


def test_a_tab_already_stored_does_not_stop_a_header() -> None:
    # Tabs are refused at input, but are legal white space in a header: no reason to fail a send on one.
    assert check_header("the subject", "News\tletter") == "News\tletter"


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\u2028", "\x85", "\x0b", "\x0c"])
def test_from_address_with_a_line_break_is_refused_at_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, brk: str
) -> None:
    monkeypatch.setenv("NEWSLETTER_FROM_ADDRESS", f"Local Offer Team{brk}Bcc: victim@example.com <news@example.org>")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value) == ("setting NEWSLETTER_FROM_ADDRESS is invalid: must be one line, without line breaks")


def test_from_address_domain_must_be_ascii(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_FROM_ADDRESS", "Team <news@exämple.org>")
    with pytest.raises(SettingsError, match="NEWSLETTER_FROM_ADDRESS is invalid: .*xn--"):
        load_settings()


def test_base_url_and_dkim_selector_reach_headers_so_are_checked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://news.example.org/\u2028Bcc: victim@example.com")
    with pytest.raises(SettingsError, match="NEWSLETTER_BASE_URL is invalid"):
        load_settings()
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://news.example.org")
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "news; h=from")
    with pytest.raises(SettingsError, match="NEWSLETTER_DKIM_SELECTOR is invalid"):
        load_settings()
    monkeypatch.setenv("NEWSLETTER_DKIM_SELECTOR", "news-2026")
    assert load_settings().dkim_selector == "news-2026"


def test_cli_refuses_to_start_with_one_line_naming_the_setting(settings: Settings, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLETTER_")}
    environment.update({k: v for k, v in os.environ.items() if k.startswith("NEWSLETTER_")})
    environment["NEWSLETTER_FROM_ADDRESS"] = "Team\x0bBcc: victim@example.com <news@example.org>"
    result = subprocess.run([sys.executable, "-m", "newsletter.cli", "issues", "list"], cwd=tmp_path,
                            env=environment, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: setting NEWSLETTER_FROM_ADDRESS is invalid: must be one line, without line breaks"
    ]
