"""Plain-English warnings: each fires on text that needs it and stays quiet on plain text."""

from __future__ import annotations

from newsletter.checks.readability import (
    block_readability,
    flesch_reading_ease,
    paragraphs,
    readability_findings,
    reading_age,
    sentences,
)
from newsletter.issues.blocks import IssueDocument, parse_issue

PLAIN = (
    "We are holding a drop-in session at the library on Tuesday. Come along and meet the team. "
    "You can ask about school places, short breaks and help at home. Children are welcome too."
)
HARD = (
    "Parents and carers requiring individualised consideration regarding educational provision "
    "should communicate with the designated coordinator. Applications necessitate comprehensive "
    "documentation evidencing the eligibility determination. Additional information concerning "
    "administrative procedures is available electronically."
)
LONG_SENTENCE = (
    "If you would like to come to the event you can book a place online or you can ring the team "
    "and they will book a place for you and tell you where to park."
)


def issue(*blocks: dict, language: str = "en-GB") -> IssueDocument:
    return parse_issue({"title": "News", "subject": "News", "language": language, "blocks": list(blocks)})


def codes(doc: IssueDocument, **kwargs: float) -> list[tuple[str, int | None]]:
    return [(finding.code, finding.block) for finding in readability_findings(doc, **kwargs)]


def test_plain_text_has_no_warnings():
    doc = issue({"type": "text", "markdown": PLAIN}, {"type": "quote", "text": "It helped us a lot.", "cite": "A parent"})
    assert readability_findings(doc) == []


def test_all_findings_are_warnings():
    doc = issue({"type": "text", "markdown": " ".join([HARD] * 3)})
    findings = readability_findings(doc)
    assert findings and all(finding.level == "warning" for finding in findings)


def test_long_paragraph():
    long_paragraph = " ".join([PLAIN] * 4)  # about 130 words, short sentences
    doc = issue({"type": "heading", "text": "Events"}, {"type": "text", "markdown": long_paragraph})
    assert codes(doc) == [("long-paragraph", 2)]


def test_paragraphs_are_counted_separately():
    doc = issue({"type": "text", "markdown": "\n\n".join([PLAIN] * 4)})
    assert codes(doc) == []


def test_list_items_are_paragraphs_not_one_long_sentence():
    items = "\n".join(f"- Item number {n} on the list of things to bring" for n in range(12))
    doc = issue({"type": "text", "markdown": items})
    assert codes(doc) == []


def test_long_sentence():
    doc = issue({"type": "story", "title": "Events", "body": LONG_SENTENCE})
    findings = readability_findings(doc)
    assert [(f.code, f.block) for f in findings] == [("long-sentence", 1)]
    assert "35 words" in findings[0].message
    assert '"If you would like to come to the' in findings[0].message


def test_hard_to_read_gives_score_and_reading_age():
    doc = issue({"type": "text", "markdown": PLAIN}, {"type": "quote", "text": HARD})
    findings = readability_findings(doc)
    assert [(f.code, f.block) for f in findings] == [("hard-to-read", 2)]
    score = flesch_reading_ease(HARD)
    assert f"scores {score:.0f}" in findings[0].message
    assert f"reading age of {reading_age(score)}" in findings[0].message


def test_threshold_is_a_parameter():
    doc = issue({"type": "text", "markdown": PLAIN})
    score = flesch_reading_ease(PLAIN)
    assert codes(doc, minimum_score=score - 1) == []
    assert codes(doc, minimum_score=score + 1) == [("hard-to-read", 1)]


def test_short_text_is_not_scored_for_a_warning():
    doc = issue({"type": "quote", "text": "Transformational collaboration!"})
    assert codes(doc) == []


def test_other_languages_are_not_scored_with_an_english_formula():
    doc = issue({"type": "text", "markdown": HARD}, language="cy")
    assert codes(doc) == []


def test_scores_order_plain_above_hard():
    assert flesch_reading_ease(PLAIN) > 60 > flesch_reading_ease(HARD)


def test_reading_age_bands():
    assert reading_age(95) == "10 to 11"
    assert reading_age(65) == "13 to 15"
    assert reading_age(10) == "21 and over"


def test_block_readability_lists_text_blocks_only():
    doc = issue(
        {"type": "heading", "text": "Hello"},
        {"type": "text", "markdown": PLAIN},
        {"type": "button", "label": "Book", "url": "https://example.org/book"},
        {"type": "story", "title": "Forms", "body": HARD},
        {"type": "quote", "text": "Great stuff."},
    )
    scores = block_readability(doc)
    assert [block for block, _ in scores] == [2, 4, 5]
    assert scores[0][1] > scores[1][1]


def test_markdown_is_read_as_words():
    assert paragraphs("Hi [[name]], read **the** [guide](https://example.org/g).\n\n- one\n- two") == [
        "Hi there, read the guide.",
        "one",
        "two",
    ]


def test_sentence_split_keeps_abbreviations_and_prices():
    assert sentences("Bring e.g. a coat. It costs £1.50 each! Ask us.") == [
        "Bring e.g. a coat.",
        "It costs £1.50 each!",
        "Ask us.",
    ]
