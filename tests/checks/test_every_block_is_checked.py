"""Every block type's words are checked, whoever added the type and whatever its fields are called.

The expectation is found without asking the checks or the model's marks: each field of each block
in the README's issue format (which shows every block type) is filled with a probe and the block is
rendered. A field the web view turns into formatted HTML is prose, and a field whose words a reader
can see is reader-facing. Then every prose field with a hard sentence must get a readability warning
naming its block, and every reader-facing field with an officer word must get a jargon warning.
"""

from __future__ import annotations

import copy
from typing import Any, get_args

import lxml.html
import pytest
from pydantic import BaseModel

from newsletter.checks.jargon import jargon_findings
from newsletter.checks.readability import readability_findings
from newsletter.config import Settings
from newsletter.issues.blocks import BLOCK_TYPES, REGISTRY, InvalidIssue, IssueDocument, parse_issue
from newsletter.render.pipeline import render_web
from newsletter.theme import Theme

from tests.issues.test_block_registry import readme_example

HARD = ("Consequently, multidisciplinary practitioners facilitate individualised educational assessments, "
        "coordinating comprehensive therapeutic interventions across organisational boundaries whenever "
        "statutory responsibilities necessitate collaborative deliberation between professionals, families, "
        "governors, commissioners and independent specialists.")
PROBE = "Zorblewick"


def _example_blocks() -> dict[str, dict[str, Any]]:
    return {block["type"]: block for block in readme_example()["blocks"]}


def _nested_model(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    for arg in get_args(model.model_fields[name].annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None


def _places(block_type: str, block: dict[str, Any]) -> list[tuple[str, ...]]:
    """Every field of the block, and of each item of its lists of links, that could hold words."""
    model = REGISTRY[block_type]
    places: list[tuple[str, ...]] = []
    for name in model.model_fields:
        if name == "type":
            continue
        nested = _nested_model(model, name)
        if nested is not None and isinstance(block.get(name), list):
            for index in range(len(block[name])):
                places += [(name, str(index), inner) for inner in nested.model_fields]
        elif nested is None:
            places.append((name,))
    return places


def _with(block: dict[str, Any], place: tuple[str, ...], value: str) -> dict[str, Any]:
    changed = copy.deepcopy(block)
    if len(place) == 1:
        changed[place[0]] = value
    else:
        changed[place[0]][int(place[1])][place[2]] = value
    return changed


def _doc(block: dict[str, Any]) -> IssueDocument | None:
    try:
        return parse_issue({"title": "News", "subject": "News for families", "blocks": [block]})
    except InvalidIssue:
        return None  # the probe is not a valid value for this field (an address, a number, a network)


def _probe(block_type: str, settings: Settings) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """(fields rendered as Markdown, fields whose words a reader sees) for one block type."""
    block = _example_blocks()[block_type]
    prose, visible = set(), set()
    for place in _places(block_type, block):
        doc = _doc(_with(block, place, f"Plain **{PROBE}** words."))
        if doc is None:
            continue
        page = render_web(doc, "probe", Theme(), settings)
        if f"<strong>{PROBE}</strong>" in page:
            prose.add(place)
        tree = lxml.html.fromstring(page)
        if PROBE in tree.text_content() or any(PROBE in alt for alt in tree.xpath("//img/@alt")):
            visible.add(place)
    return prose, visible


@pytest.mark.parametrize("block_type", BLOCK_TYPES)
def test_every_prose_field_is_checked_for_readability_and_every_visible_field_for_jargon(
    block_type: str, settings: Settings
) -> None:
    block = _example_blocks()[block_type]
    prose, visible = _probe(block_type, settings)
    assert {place[0] for place in prose} == set(REGISTRY[block_type].markdown_fields()), (
        "the partials render as Markdown exactly the fields the model marks Markdown")
    for place in prose:
        doc = _doc(_with(block, place, HARD))
        assert doc is not None
        findings = [f for f in readability_findings(doc) if f.block == 1]
        assert {"long-sentence", "hard-to-read"} <= {f.code for f in findings}, (block_type, place)
        assert any("Consequently, multidisciplinary" in f.message for f in findings)
    for place in visible:
        doc = _doc(_with(block, place, "We utilise the new Travel Hub"))
        assert doc is not None
        findings = [(f.code, f.block) for f in jargon_findings(doc)]
        assert ("jargon", 1) in findings, (block_type, place)


def test_the_probe_is_not_blind(settings: Settings) -> None:
    # If rendering changed so the probe found nothing, the test above would pass with nothing checked.
    found = {block_type: _probe(block_type, settings) for block_type in BLOCK_TYPES}
    assert {name for name, (prose, _) in found.items() if prose} >= {"text", "story", "quote", "notice"}
    assert {name for name, (_, visible) in found.items() if not visible} == {"divider"}
    assert ("links", "0", "label") in found["social"][1] and ("alt",) in found["image"][1]


def test_the_notice_is_checked_like_any_prose(settings: Settings) -> None:
    prose, visible = _probe("notice", settings)
    assert prose == {("body",)} and visible == {("heading",), ("body",)}
