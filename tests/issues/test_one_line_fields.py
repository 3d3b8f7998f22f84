"""One-line fields of an issue refuse every line break and control character, naming the field.

The subject becomes the Subject header: a U+2028 there once made the email package raise on every
attempt to build the message, so a campaign stayed "running" and blocked the ones behind it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.issues.blocks import InvalidIssue, parse_issue

BREAKS = ["\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]


def _issue(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = {"title": "Co-production Week", "subject": "Co-production Week is here",
                              "preheader": "Three ways to have your say",
                              "blocks": [{"type": "heading", "text": "What is happening"},
                                         {"type": "button", "label": "Book a place", "url": "https://example.org/b"}]}
    raw.update(overrides)
    return raw


@pytest.mark.parametrize("brk", BREAKS)
@pytest.mark.parametrize("field", ["subject", "title", "preheader"])
def test_issue_line_fields_refuse_every_line_break(field: str, brk: str) -> None:
    with pytest.raises(InvalidIssue) as raised:
        parse_issue(_issue(**{field: f"Co-production Week{brk}Bcc: victim@example.com"}))
    assert raised.value.problems == [f"field {field}: must be one line, without line breaks"]


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x9b", "\t"])
def test_subject_refuses_control_characters(control: str) -> None:
    with pytest.raises(InvalidIssue) as raised:
        parse_issue(_issue(subject=f"Co-production{control}Week"))
    assert raised.value.problems == ["field subject: must not contain tabs or other invisible control characters"]


def test_one_line_block_fields_refuse_line_breaks_too() -> None:
    raw = _issue(blocks=[{"type": "heading", "text": "What is\u2028happening"},
                         {"type": "button", "label": "Book\x85a place", "url": "https://example.org/b"}])
    with pytest.raises(InvalidIssue) as raised:
        parse_issue(raw)
    assert raised.value.problems == [
        "block 1 (heading), field text: must be one line, without line breaks",
        "block 2 (button), field label: must be one line, without line breaks",
    ]


def test_ordinary_subjects_in_any_language_still_pass() -> None:
    doc = parse_issue(_issue(subject="Café morning: ‘Get together’ – July", title="نشرة الأخبار", language="ar"))
    assert doc.subject == "Café morning: ‘Get together’ – July"


def test_a_subject_with_u2028_is_refused_at_import_and_nothing_is_stored(db: Settings, tmp_path: Path) -> None:
    source = tmp_path / "bad.yaml"
    # Written as YAML escapes, the way a file pasted from elsewhere carries them.
    source.write_text(yaml.safe_dump(_issue(subject="Co-production Week\u2028Bcc: victim@example.com",
                                            slug="bad-subject"), allow_unicode=False), encoding="utf-8")
    assert "\\L" in source.read_text(encoding="utf-8") or "\\u2028" in source.read_text(encoding="utf-8")
    with pytest.raises(InvalidIssue) as raised:
        with session_scope() as session:
            service.import_issue(session, source, db)
    assert raised.value.problems == ["field subject: must be one line, without line breaks"]
    with session_scope() as session:
        assert store.find_issue(session, "bad-subject") is None


def test_an_issue_stored_before_the_rule_still_opens_so_it_can_be_corrected(db: Settings, tmp_path: Path) -> None:
    source = tmp_path / "ok.yaml"
    source.write_text(yaml.safe_dump(_issue(slug="old-issue")), encoding="utf-8")
    with session_scope() as session:
        issue, _ = service.import_issue(session, source, db)
        issue.subject = "Co-production Week\u2028Bcc: victim@example.com"
    with session_scope() as session:
        doc = store.document(store.get_issue(session, "old-issue"))
        assert doc.subject == "Co-production Week\u2028Bcc: victim@example.com"
        # Saving it again goes through the rule, which names the field to correct.
        with pytest.raises(InvalidIssue, match="field subject: must be one line, without line breaks"):
            parse_issue(doc.model_dump())


def test_checking_an_issue_stored_before_the_rule_names_the_field_without_a_traceback(
    db: Settings, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    source = tmp_path / "ok.yaml"
    source.write_text(yaml.safe_dump(_issue(slug="old-issue")), encoding="utf-8")
    with session_scope() as session:
        issue, _ = service.import_issue(session, source, db)
        issue.subject = "Co-production Week\u2028Bcc: victim@example.com"
    result = subprocess.run([sys.executable, "-m", "newsletter.cli", "check", "old-issue"], cwd=tmp_path,
                            env=dict(os.environ), capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "Error: The subject cannot go in an email header: it must be one line, without line breaks or control "
        "characters (it holds the character U+2028)"
    ]
