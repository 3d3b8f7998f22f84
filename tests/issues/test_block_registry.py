"""The block registry: a block type is its model, three partials and a composer form, and nothing else.

Everything that lists block types or reads their fields (the union that parses a block, the list of
types, the checks, the composer's summaries) is derived from the models, so these tests hold the
registry to that: every registered type has its partials and its form, the README documents it, and
a model or form that does not fit is refused when the code loads, not when a user meets it.
"""

from __future__ import annotations

import re
from typing import Literal

import pytest
import yaml

from newsletter.issues.blocks import (
    BLOCK_TYPES,
    REGISTRY,
    BlockModel,
    IssueDocument,
    Markdown,
    Prose,
    fields_marked,
    parse_issue,
)
from newsletter.paths import templates_dir
from newsletter.web.blockforms import FORMS, BlockForm, FormField, FormMismatch

from tests.conftest import ROOT

PARTIALS = ("email/blocks/{}.mjml.j2", "text/blocks/{}.txt.j2", "web/blocks/{}.html.j2")


def readme_example() -> dict:
    """The issue in the README's "The issue format" section, as YAML data."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The issue format", 1)[1]
    return yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))


def test_block_types_and_the_union_come_from_the_models() -> None:
    assert BLOCK_TYPES == tuple(REGISTRY)
    assert set(BLOCK_TYPES) >= {"heading", "text", "image", "button", "story", "quote", "contact", "divider",
                                "social", "notice"}
    for name, model in REGISTRY.items():
        assert model.block_type() == name
        # The issue's block list reads each registered type through the union built from the registry.
        assert "type" in model.model_fields
    assert set(IssueDocument.model_json_schema()["$defs"]) >= {model.__name__ for model in REGISTRY.values()}


@pytest.mark.parametrize("block_type", BLOCK_TYPES)
def test_every_block_type_has_its_three_partials_and_a_form(block_type: str) -> None:
    for pattern in PARTIALS:
        path = templates_dir() / pattern.format(block_type)
        assert path.is_file(), f"block type {block_type!r} has no partial {path}"
        assert path.read_text(encoding="utf-8").strip(), f"{path} is empty"
    assert block_type in FORMS, f"block type {block_type!r} has no composer form in newsletter/web/blockforms.py"
    model = REGISTRY[block_type]
    for item in FORMS[block_type].fields:
        assert item.name in model.model_fields
        assert (item.kind == "markdown") == (item.name in model.markdown_fields())


def test_no_partial_or_form_is_left_for_a_type_that_no_longer_exists() -> None:
    for pattern in PARTIALS:
        folder = templates_dir() / pattern.rsplit("/", 1)[0]
        suffix = pattern.rsplit("}", 1)[1]
        names = {path.name.removesuffix(suffix) for path in folder.glob("*" + suffix)}
        assert names == set(BLOCK_TYPES), f"{folder}: {sorted(names ^ set(BLOCK_TYPES))}"
    assert set(FORMS) == set(BLOCK_TYPES)


def test_readme_documents_every_block_type_with_a_valid_example() -> None:
    doc = parse_issue(readme_example())
    assert {block.type for block in doc.blocks} == set(BLOCK_TYPES)


def test_an_unknown_type_names_every_registered_one() -> None:
    with pytest.raises(Exception) as caught:
        parse_issue({"title": "News", "subject": "News", "blocks": [{"type": "poster"}]})
    assert "use one of " + ", ".join(BLOCK_TYPES) in str(caught.value)


def test_a_block_model_must_name_its_type() -> None:
    with pytest.raises(TypeError, match="type: Literal"):
        class Untyped(BlockModel):  # noqa: F841 - defining it is the test
            words: Prose


def test_a_block_model_defined_after_the_union_is_refused_not_silently_ignored() -> None:
    with pytest.raises(TypeError, match="after the block union"):
        class Late(BlockModel):  # noqa: F841
            type: Literal["late"]
    assert "late" not in REGISTRY


def test_a_form_must_fit_its_model() -> None:
    with pytest.raises(FormMismatch, match="no block type"):
        BlockForm("poster", "Poster", "", ())
    with pytest.raises(FormMismatch, match="not a field"):
        BlockForm("story", "Story card", "", (FormField("colour", "Colour"),))
    with pytest.raises(FormMismatch, match="marks it Markdown"):
        BlockForm("story", "Story card", "", (FormField("body", "Story", "line"),))
    with pytest.raises(FormMismatch, match="does not mark it Markdown"):
        BlockForm("story", "Story card", "", (FormField("title", "Title", "markdown"),))


def test_markdown_fields_are_read_from_the_marks() -> None:
    assert fields_marked(REGISTRY["story"], Markdown) == ("body",)
    assert REGISTRY["quote"].markdown_fields() == ("text",)
    assert REGISTRY["heading"].markdown_fields() == ()
    # The composer shows a Markdown field as a textarea with a live preview, without being told.
    assert [(item.name, item.kind) for item in FORMS["story"].fields][:2] == [("title", "line"), ("body", "markdown")]
