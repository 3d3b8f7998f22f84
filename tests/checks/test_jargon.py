"""Acronyms spelled out at first use, and officer words with everyday ones offered."""

from __future__ import annotations

from typing import Any

from newsletter.checks.jargon import jargon_findings
from newsletter.issues.blocks import parse_issue


def _doc(*blocks: dict[str, Any], title: str = "Winter news", language: str = "en-GB"):  # type: ignore[no-untyped-def]
    return parse_issue({"title": title, "subject": "News", "language": language, "blocks": list(blocks)})


def _text(markdown: str) -> dict[str, str]:
    return {"type": "text", "markdown": markdown}


def test_an_acronym_never_spelled_out_is_named_with_its_long_form() -> None:
    findings = jargon_findings(_doc(_text("Ask your SENCO about an EHCP. The EHCP review is in May.")))
    assert [(f.code, f.block) for f in findings] == [("acronym", 1), ("acronym", 1)]
    assert "special educational needs co-ordinator (SENCO)" in findings[0].message
    assert "education, health and care plan (EHCP)" in findings[1].message


def test_spelled_out_at_first_use_either_way_round_is_fine() -> None:
    doc = _doc(_text("An education, health and care plan (EHCP) sets out support."),
               _text("Ask your SENCO (special educational needs co-ordinator). Then the EHCP and SENCO again."))
    assert jargon_findings(doc) == []


def test_explained_only_after_first_use_points_at_the_first_use() -> None:
    doc = _doc({"type": "heading", "text": "About CAMHS"}, _text("Child and adolescent mental health services (CAMHS)."))
    [finding] = jargon_findings(doc)
    assert finding.block == 1 and "only after it is first used" in finding.message


def test_title_may_use_an_acronym_explained_in_the_body() -> None:
    doc = _doc(_text("Special educational needs and disabilities (SEND) news."), title="News for SEND families")
    assert jargon_findings(doc) == []
    assert [f.block for f in jargon_findings(_doc(_text("Hello."), title="News for SEND families"))] == [None]


def test_everyday_acronyms_and_other_languages_are_left_alone() -> None:
    assert jargon_findings(_doc(_text("Ask your GP or call the NHS on 111. We are in the UK."))) == []
    assert jargon_findings(_doc(_text("Gofynnwch i'ch SENCO."), language="cy")) == []


def test_officer_words_get_everyday_ones_once() -> None:
    findings = jargon_findings(_doc(_text("We will signpost you to provision. We signpost again."),
                                    {"type": "button", "label": "Commence booking", "url": "https://example.org"}))
    assert [(f.code, f.block) for f in findings] == [("jargon", 1), ("jargon", 1), ("jargon", 2)]
    assert 'Try "point you to"' in findings[0].message
