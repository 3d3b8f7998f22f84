"""The composer's form for each block type: which fields it shows, and how a posted form becomes a block.

The issue format (newsletter/issues/blocks.py) stays the single source of the rules; this module
only knows how to lay each type out for a person and how to read their answers back. Lists of links
are typed one per line ("Label | https://..."), which is quicker than a repeating form and works the
same with a keyboard, a screen reader or a phone.

Every registered block type must have a form here, and a form may only name its model's fields: the
module refuses to load otherwise. Which fields are Markdown (a textarea with a live preview) and
what the block list shows as a reminder of each block are read from the model.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from werkzeug.datastructures import MultiDict

from newsletter.issues.blocks import BLOCK_TYPES, REGISTRY, SOCIAL_NETWORKS
from newsletter.render.markdown import strip_markup

Kind = Literal["line", "markdown", "url", "select", "image", "alt", "lines", "email", "tel"]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    # None: taken from the model, "markdown" for a field marked Markdown and "line" otherwise.
    kind: Kind | None = None
    hint: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = field(default=())
    # For "lines": the key the words before the bar fill in each link ("label", or a social "network").
    line_key: str = "label"


class FormMismatch(Exception):
    """A block form does not fit its model; raised when this module loads, so it never reaches a user."""


@dataclass(frozen=True)
class BlockForm:
    type: str
    title: str
    description: str
    fields: tuple[FormField, ...]

    def __post_init__(self) -> None:
        model = REGISTRY.get(self.type)
        if model is None:
            raise FormMismatch(f"form for {self.type!r}: no block type of that name in newsletter/issues/blocks.py")
        markdown = model.markdown_fields()
        resolved = []
        for item in self.fields:
            if item.name not in model.model_fields or item.name == "type":
                raise FormMismatch(f"form for {self.type!r}: {item.name!r} is not a field of {model.__name__}")
            kind = item.kind or ("markdown" if item.name in markdown else "line")
            if (kind == "markdown") != (item.name in markdown):
                raise FormMismatch(f"form for {self.type!r}: field {item.name!r} is shown as {kind!r} but the "
                                   "model " + ("marks" if item.name in markdown else "does not mark") + " it Markdown")
            resolved.append(replace(item, kind=kind))
        object.__setattr__(self, "fields", tuple(resolved))


_ALT_HINT = ("Say what the picture shows that matters for this newsletter, in a sentence. "
             "Tick 'decorative' instead if it adds nothing a reader would miss.")

FORMS: dict[str, BlockForm] = {form.type: form for form in (
    BlockForm("heading", "Heading", "Starts a section. Screen reader users jump between headings.", (
        FormField("text", "Heading text", required=True),
        FormField("level", "Heading level", "select", choices=(("2", "Section heading"), ("3", "Sub-heading"))),
    )),
    BlockForm("text", "Text", "Paragraphs, bold, italic, links and lists, written in Markdown.", (
        FormField("markdown", "Text", hint="Use **bold**, *italic*, [link text](https://...) and - for bullets.",
                  required=True),
    )),
    BlockForm("image", "Image", "A picture, with a text alternative for people who cannot see it.", (
        FormField("src", "Image", "image", "Upload a PNG, JPEG, GIF or WebP under 5 MB, or give the address of one.",
                  required=True),
        FormField("alt", "Alternative text", "alt", _ALT_HINT),
        FormField("caption", "Caption (optional)"),
        FormField("link", "Link the image to (optional)", "url"),
    )),
    BlockForm("button", "Button", "One clear action, such as 'Book a place'.", (
        FormField("label", "Button text", hint="Say where it goes: 'Book a place', not 'Click here'.", required=True),
        FormField("url", "Link address", "url", required=True),
    )),
    BlockForm("story", "Story card", "A short story with an optional picture and link.", (
        FormField("title", "Title", required=True),
        FormField("body", "Story", required=True),
        FormField("image", "Picture (optional)", "image"),
        FormField("alt", "Alternative text for the picture", "alt", _ALT_HINT),
        FormField("link_label", "Link text (optional)"),
        FormField("link_url", "Link address (optional)", "url"),
    )),
    BlockForm("quote", "Quote", "Words from a parent carer, young person or partner.", (
        FormField("text", "Quote", required=True),
        FormField("cite", "Who said it (optional)"),
    )),
    BlockForm("contact", "Contact details", "How families can reach the team.", (
        FormField("heading", "Heading (optional)"),
        FormField("email", "Email (optional)", "email"),
        FormField("phone", "Phone (optional)", "tel"),
        FormField("links", "Links (optional)", "lines", "One per line: Label | https://address"),
    )),
    BlockForm("divider", "Divider", "A line between sections.", ()),
    BlockForm("social", "Social links", "Links to the team's social media, read out by name.", (
        FormField("heading", "Heading (optional)"),
        FormField("links", "Links", "lines",
                  "One per line: network | https://address. Networks: " + ", ".join(sorted(SOCIAL_NETWORKS)) + ".",
                  required=True, line_key="network"),
    )),
    BlockForm("notice", "Notice", "A box that stands out, for something families must not miss, such as a deadline.", (
        FormField("heading", "Heading", hint="Say what it is about: 'Apply for school transport by 31 May'.",
                  required=True),
        FormField("body", "Notice", hint="Use **bold**, *italic*, [link text](https://...) and - for bullets.",
                  required=True),
    )),
)}

if missing := [name for name in BLOCK_TYPES if name not in FORMS]:
    raise FormMismatch(f"no composer form for block type {', '.join(missing)}: add one to FORMS")


def _lines_to_links(text: str, first: str) -> list[dict[str, str]]:
    links = []
    for line in text.splitlines():
        if not line.strip():
            continue
        left, bar, right = line.partition("|")
        links.append({first: left.strip(), "url": right.strip()} if bar else {first: "", "url": line.strip()})
    return links


def block_from_form(block_type: str, form: MultiDict[str, str], uploaded_src: dict[str, str]) -> dict[str, Any]:
    """The raw block a form describes, ready for validation: empty optional fields are left out.

    `uploaded_src` holds the media addresses of files uploaded with this form, by field name; an
    upload wins over a typed address.
    """
    spec = FORMS[block_type]
    raw: dict[str, Any] = {"type": block_type}
    for item in spec.fields:
        value = form.get(item.name, "")
        if item.kind == "image":
            value = uploaded_src.get(item.name) or value.strip()
        if item.kind == "alt":
            if form.get(f"{item.name}_decorative"):
                raw[item.name] = ""
            elif value.strip():
                raw[item.name] = value
            elif item.required or block_type == "image":
                raw[item.name] = None  # validation says alt text is needed
            continue
        if item.kind == "lines":
            links = _lines_to_links(value, item.line_key)
            if links or item.required:
                raw[item.name] = links
            continue
        if item.name == "level":
            raw[item.name] = int(value) if value in ("2", "3") else value
            continue
        if value.strip():
            raw[item.name] = value
    if block_type == "story" and not raw.get("image"):
        raw.pop("alt", None)
    if block_type == "image" and raw.get("alt", "") is None:
        raw.pop("alt")
    return raw


def form_values(block: dict[str, Any]) -> dict[str, str]:
    """A stored block as the strings its form shows."""
    values: dict[str, str] = {}
    for key, value in block.items():
        if key == "links" and isinstance(value, list):
            values[key] = "\n".join(
                f"{link.get('network') or link.get('label', '')} | {link.get('url', '')}" for link in value
            )
        elif key == "alt" and value == "":
            values["alt_decorative"] = "1"
        else:
            values[key] = "" if value is None else str(value)
    return values


def summary(block: dict[str, Any]) -> str:
    """A one-line reminder of a block's content for the block list: the words, not the Markdown.

    The first of the model's `summary_fields` with a value; "links.network" joins the network of
    each link.
    """
    model = REGISTRY.get(str(block.get("type")))
    if model is None:
        return ""
    markdown = model.markdown_fields()
    for key in model.summary_fields:
        name, _, part = key.partition(".")
        value = block.get(name)
        if part:
            items = value if isinstance(value, list) else []
            value = ", ".join(str(item.get(part, "")) for item in items if isinstance(item, dict))
        if isinstance(value, str) and value.strip():
            if name in markdown:
                value = html.unescape(strip_markup(value))
            line = " ".join(value.split())
            return line if len(line) <= 90 else line[:87] + "..."
    return ""
