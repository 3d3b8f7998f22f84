"""The issue format: every block type validates, and bad input names the block and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from newsletter.issues.blocks import BLOCK_TYPES, InvalidIssue, parse_issue
from newsletter.issues.yamlio import read_issue_file

from tests.conftest import EXAMPLE


def _issue(*blocks: dict) -> dict:
    return {"title": "Summer news", "subject": "Summer news from the Local Offer", "blocks": list(blocks)}


def _problems(raw: object) -> list[str]:
    with pytest.raises(InvalidIssue) as caught:
        parse_issue(raw)
    return caught.value.problems


# The block types the example issue was written with. Types added since (the notice, the event, ...) are shown
# in the README's issue format (tests/issues/test_block_registry.py), and the example's rendering is kept as it was.
EXAMPLE_TYPES = {"heading", "text", "image", "button", "story", "quote", "contact", "divider", "social"}


def test_example_uses_the_block_types_it_was_written_with() -> None:
    doc = parse_issue(yaml.safe_load(EXAMPLE.read_text()))
    assert {block.type for block in doc.blocks} == EXAMPLE_TYPES
    assert EXAMPLE_TYPES < set(BLOCK_TYPES)
    assert doc.language == "en-GB"
    assert doc.direction == "ltr"


def test_missing_alt_names_block_and_field() -> None:
    problems = _problems(_issue({"type": "heading", "text": "Hi"}, {"type": "image", "src": "https://e.org/a.png"}))
    assert problems == ["block 2 (image), field alt: is required"]


def test_empty_alt_is_an_explicit_decorative_image() -> None:
    doc = parse_issue(_issue({"type": "image", "src": "https://e.org/a.png", "alt": ""}))
    assert doc.blocks[0].alt == ""


def test_linked_image_needs_alt() -> None:
    problems = _problems(_issue({"type": "image", "src": "https://e.org/a.png", "alt": "", "link": "https://e.org"}))
    assert problems[0].startswith("block 1 (image), field alt:")


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "banner"}, "block 1 (banner): unknown block type"),
        ({"text": "x"}, "block 1 (no type): has no type"),
        ({"type": "heading", "text": "x", "level": 1}, "block 1 (heading), field level:"),
        ({"type": "heading", "text": "x", "colour": "red"}, "block 1 (heading), field colour: is not a field"),
        ({"type": "button", "label": "Go", "url": "javascript:alert(1)"}, "block 1 (button), field url: must be"),
        ({"type": "story", "title": "t", "body": "b", "image": "https://e.org/a.png"}, "block 1 (story), field alt:"),
        ({"type": "story", "title": "t", "body": "b", "link_label": "More"}, "block 1 (story), field link_label:"),
        ({"type": "contact", "heading": "Us"}, "block 1 (contact), field email:"),
        ({"type": "contact", "phone": "call me"}, "block 1 (contact), field phone:"),
        ({"type": "notice", "body": "Apply by Friday."}, "block 1 (notice), field heading: is required"),
        ({"type": "notice", "heading": "Deadline"}, "block 1 (notice), field body: is required"),
        ({"type": "notice", "heading": "Dead\u2028line", "body": "b"}, "block 1 (notice), field heading:"),
        ({"type": "notice", "heading": "Deadline", "body": "   "}, "block 1 (notice), field body:"),
        ({"type": "social", "links": [{"network": "myspace", "url": "https://e.org"}]}, "block 1 (social), field links.1.network:"),
        ({"type": "social", "links": []}, "block 1 (social), field links:"),
        ({"type": "text", "markdown": ""}, "block 1 (text), field markdown:"),
    ],
)
def test_bad_blocks_are_named(block: dict, expected: str) -> None:
    problems = _problems(_issue(block))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_every_problem_is_reported_at_once() -> None:
    problems = _problems(
        {"title": "", "subject": "two\nlines", "language": "English", "blocks": [{"type": "image", "src": "x.png"}]}
    )
    joined = "\n".join(problems)
    assert "field title:" in joined
    assert "field subject: must be one line, without line breaks" in joined
    assert "field language: must be a code such as en-GB for English (UK)" in joined
    assert "block 1 (image), field alt: is required" in joined


def test_top_level_must_be_a_mapping() -> None:
    assert _problems(["not", "a", "mapping"]) == ["the issue must be a mapping with title, subject and blocks"]


def test_rtl_language_sets_direction() -> None:
    assert parse_issue({**_issue(), "language": "ar"}).direction == "rtl"


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("title: x\nsubject: [unclosed\nblocks: []\n")
    with pytest.raises(InvalidIssue) as caught:
        read_issue_file(path, tmp_path / "media")
    assert "line" in caught.value.problems[0]


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Café\nsubject: x\n".encode("latin-1"))
    with pytest.raises(InvalidIssue, match="UTF-8"):
        read_issue_file(path, tmp_path / "media")


def test_local_images_are_copied_to_media(tmp_path: Path) -> None:
    doc = read_issue_file(EXAMPLE, tmp_path / "media")
    stored = [b.src for b in doc.blocks if b.type == "image"] + [b.image for b in doc.blocks if b.type == "story" and b.image]
    assert stored and all(src.startswith("/media/") for src in stored)
    for src in stored:
        assert (tmp_path / "media" / src.removeprefix("/media/")).is_file()


def test_missing_local_image_names_block(tmp_path: Path) -> None:
    path = tmp_path / "issue.yaml"
    path.write_text(yaml.safe_dump(_issue({"type": "image", "src": "nope.png", "alt": "A map"})))
    with pytest.raises(InvalidIssue) as caught:
        read_issue_file(path, tmp_path / "media")
    assert caught.value.problems[0].startswith("block 1 (image), field src:")
