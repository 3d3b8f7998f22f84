"""The composer's form for each block type: which fields it shows, and how a posted form becomes a block.

The issue format (newsletter/issues/blocks.py) stays the single source of the rules; this module
only knows how to lay each type out for a person and how to read their answers back. A list of
links is a set of rows, each the words people will see and the address (newsletter/web/links_input.py
completes `www.`, email addresses and phone numbers); rows left empty are ignored, and a mistake is
named by its row ("Link 2: give the address, such as www.example.org").

Every registered block type must have a form here, and a form may only name its model's fields: the
module refuses to load otherwise. Which fields are Markdown (a textarea with a live preview) and
what the block list shows as a reminder of each block are read from the model.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from werkzeug.datastructures import MultiDict

from newsletter.headersafe import one_line_problem
from newsletter.issues.blocks import BLOCK_TYPES, REGISTRY, SOCIAL_NETWORKS
from newsletter.issues.editing import BlockInvalid, validate_block
from newsletter.render.markdown import strip_markup
from newsletter.web.html_to_markdown import html_to_markdown
from newsletter.web.links_input import AddressProblem, normalise_address
from newsletter.web.when_input import WhenProblem, when_boxes, when_value

# "lines": a list of short answers typed one a line (a poll's answers); "checkbox": yes or no.
Kind = Literal["line", "markdown", "url", "select", "image", "alt", "links", "email", "tel", "lines", "checkbox",
               "date", "when"]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    # None: taken from the model, "markdown" for a field marked Markdown and "line" otherwise.
    kind: Kind | None = None
    hint: str = ""
    required: bool = False
    choices: tuple[tuple[str, str], ...] = field(default=())
    # For "links": what names each link, its words ("label") or a social "network" chosen from a list.
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

    def link_rows(self, item: FormField, values: dict[str, str]) -> list[LinkRow]:
        """The rows the form shows for the link list `item` (templates call this)."""
        return link_rows(item, values)


# Shown with the plain text box, the form without JavaScript; the editor's toolbar replaces it otherwise.
MARKDOWN_HINT = ("Use **bold**, *italic*, [link text](www.example.org) and - or 1. at the start of a line for lists. "
                 "[[name]] puts in the reader's name.")

_ALT_HINT = ("Say what the picture shows that matters for this newsletter, in a sentence. "
             "Tick 'decorative' instead if it adds nothing a reader would miss.")
# An event's date and time boxes (a browser without date boxes shows text boxes, read by when_input.py).
_START_HINT = "The day, and the time it starts. Leave the time empty for an event that lasts all day."
_END_HINT = ("The time it finishes. Give a date too if it finishes on a later day; for an event over several "
             "whole days, give only the last day.")

FORMS: dict[str, BlockForm] = {form.type: form for form in (
    BlockForm("heading", "Heading", "Starts a section. Screen reader users jump between headings.", (
        FormField("text", "Heading text", required=True),
        FormField("level", "Heading level", "select", choices=(("2", "Section heading"), ("3", "Sub-heading"))),
    )),
    BlockForm("text", "Text", "Paragraphs, bold, italic, links and lists.", (
        FormField("markdown", "Text", hint=MARKDOWN_HINT, required=True),
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
        FormField("body", "Story", hint=MARKDOWN_HINT, required=True),
        FormField("image", "Picture (optional)", "image"),
        FormField("alt", "Alternative text for the picture", "alt", _ALT_HINT),
        FormField("link_label", "Link text (optional)"),
        FormField("link_url", "Link address (optional)", "url"),
    )),
    BlockForm("quote", "Quote", "Words from a parent carer, young person or partner.", (
        FormField("text", "Quote", hint=MARKDOWN_HINT, required=True),
        FormField("cite", "Who said it (optional)"),
    )),
    BlockForm("contact", "Contact details", "How families can reach the team.", (
        FormField("heading", "Heading (optional)"),
        FormField("email", "Email (optional)", "email"),
        FormField("phone", "Phone (optional)", "tel"),
        FormField("links", "Links (optional)", "links",
                  "Each link is the words people will see and the address: a web page, an email address or a "
                  "phone number. Leave a row empty to leave it out."),
    )),
    BlockForm("divider", "Divider", "A line between sections.", ()),
    BlockForm("event", "Event", "Something families can go to, with its access and an 'Add to your calendar' link.", (
        FormField("title", "Name of the event", hint="Say what it is: 'Coffee morning for parent carers'.",
                  required=True),
        FormField("starts", "Start", "when", _START_HINT, required=True),
        FormField("ends", "End (optional)", "when", _END_HINT),
        FormField("place", "Where", hint="The name and address, or 'Online'.", required=True),
        FormField("access", "Access", hint="What families need to know before they go: step-free access, a quiet "
                  "room, a BSL interpreter, autism-friendly. Say what there is, or that there is none."),
        FormField("booking_url", "Booking link (optional)", "url",
                  hint="Where families book a place: a web page, an email address or a phone number."),
        FormField("description", "More about it (optional)", hint=MARKDOWN_HINT),
    )),
    BlockForm("social", "Social links", "Links to the team's social media, read out by name.", (
        FormField("heading", "Heading (optional)"),
        FormField("links", "Links", "links",
                  "Choose the network and give the address of the team's page. Leave a row empty to leave it out.",
                  required=True, line_key="network", choices=tuple(
                      (key, words) for key, words in SOCIAL_NETWORKS.items() if key != "twitter")),
    )),
    BlockForm("notice", "Notice", "A box that stands out, for something families must not miss, such as a deadline.", (
        FormField("heading", "Heading", hint="Say what it is about: 'Apply for school transport by 31 May'.",
                  required=True),
        FormField("body", "Notice", hint=MARKDOWN_HINT, required=True),
    )),
    BlockForm("poll", "Poll", "A quick question families answer with one click. Only totals are kept, never who "
              "answered.", (
        FormField("question", "Question", hint="One short question, such as 'Which day suits you for coffee "
                  "mornings?'", required=True),
        FormField("options", "Answers", "lines", "Write each answer on its own line: 2 to 6 answers.", required=True),
        FormField("other", "Also offer “Something else”, where people write their own answer", "checkbox",
                  "What they write reaches you beside the issue, without a name."),
        FormField("closes", "Last day for answers (optional)", "date",
                  "From the next day the poll takes no more answers and the web copy shows the results. "
                  "Leave it empty and the poll never closes."),
    )),
)}

if missing := [name for name in BLOCK_TYPES if name not in FORMS]:
    raise FormMismatch(f"no composer form for block type {', '.join(missing)}: add one to FORMS")


EMPTY_LINK_ROWS = 2
MIN_LINK_ROWS = 3
_ROW_FIELD = re.compile(r"^(?P<name>[a-z_]+)-(?P<row>[0-9]{1,3})-(?P<part>label|network|url)$")
# Which network a social link is, from its address, when nobody chose one.
_NETWORK_HOSTS = {
    "facebook.com": "facebook", "fb.com": "facebook", "x.com": "x", "twitter.com": "x",
    "instagram.com": "instagram", "youtube.com": "youtube", "youtu.be": "youtube", "linkedin.com": "linkedin",
    "tiktok.com": "tiktok", "bsky.app": "bluesky", "threads.net": "threads", "threads.com": "threads",
}


@dataclass(frozen=True)
class LinkRow:
    """One row of a link list as the form shows it: its number (from 1) and what is in its boxes."""

    number: int
    label: str
    url: str


def row_id(name: str, number: int, part: str) -> str:
    """The form name of one box of one row: `links-2-url`. Its error key and element id (`field-…`) too."""
    return f"{name}-{number}-{part}"


def _posted_rows(form: MultiDict[str, str], name: str, key: str) -> list[LinkRow]:
    """The rows posted for the link list `name`, in the order of their numbers (gaps left by removed rows
    are fine)."""
    numbers = sorted({int(match["row"]) for field_name in form.keys()
                      if (match := _ROW_FIELD.match(field_name)) and match["name"] == name})
    return [LinkRow(number, form.get(row_id(name, number, key), ""), form.get(row_id(name, number, "url"), ""))
            for number in numbers]


def _network_of(address: str) -> str:
    host = address.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower().removeprefix("www.")
    host = host.removeprefix("m.")
    for known, network in _NETWORK_HOSTS.items():
        if host == known or host.endswith("." + known):
            return network
    return "mastodon" if "mastodon" in host else "website"


def _read_links(item: FormField, form: MultiDict[str, str]) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The links of a link list, and a problem for each row that has one, keyed by the box to fix.

    Every message starts with the row ("Link 2: ...") and says what to do; a row with nothing in it is
    not a link and not a mistake.
    """
    links: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    social = item.line_key == "network"
    for row in _posted_rows(form, item.name, item.line_key):
        label, typed = row.label.strip(), row.url.strip()
        if not label and not typed:
            continue
        where = f"Link {row.number}"
        if not typed:
            what = "the address of the team's page" if social else "the address"
            errors[row_id(item.name, row.number, "url")] = f"{where}: give {what}, such as www.example.org"
            continue
        try:
            address = normalise_address(typed, web_only=social)
        except AddressProblem as problem:
            errors[row_id(item.name, row.number, "url")] = f"{where}: {problem}"
            continue
        if len(address) > 2000:
            errors[row_id(item.name, row.number, "url")] = f"{where}: the address is too long (over 2,000 characters)"
            continue
        if social:
            network = label.lower() if label.lower() in SOCIAL_NETWORKS else _network_of(address)
            links.append({"network": network, "url": address})
            continue
        if not label:
            errors[row_id(item.name, row.number, "label")] = (
                f"{where}: give the words people will see for the link, such as 'Search the Local Offer directory'")
            continue
        problem = one_line_problem(label)
        if problem:
            errors[row_id(item.name, row.number, "label")] = f"{where}: the words people will see: {problem}"
            continue
        if len(label) > 300:
            errors[row_id(item.name, row.number, "label")] = (
                f"{where}: the words people will see are too long; keep them under 300 characters")
            continue
        links.append({"label": label, "url": address})
    if item.required and not links and not errors:
        errors[row_id(item.name, 1, "url")] = (
            "Link 1: give the address of at least one of the team's pages, such as www.facebook.com/yourteam")
    return links, errors


def link_rows(item: FormField, values: dict[str, str]) -> list[LinkRow]:
    """The rows a link list's form shows: those with something in them, then empty ones to fill in."""
    # A posted row keeps its number, so its error (keyed `links-3-url`) stays beside its boxes.
    shown = [row for row in _posted_rows(MultiDict(values), item.name, item.line_key)
             if row.label.strip() or row.url.strip()]
    last = shown[-1].number if shown else 0
    empty = max(EMPTY_LINK_ROWS, MIN_LINK_ROWS - len(shown))
    return shown + [LinkRow(last + n, "", "") for n in range(1, empty + 1)]


def block_from_form(block_type: str, form: MultiDict[str, str], uploaded_src: dict[str, str]) -> dict[str, Any]:
    """The raw block a form describes, ready for validation: empty optional fields are left out.

    `uploaded_src` holds the media addresses of files uploaded with this form, by field name; an
    upload wins over a typed address. Addresses are completed (`www.` gets `https://`); an address
    or a link row that cannot be read raises BlockInvalid naming the box, with the model's own
    complaints about the other fields.
    """
    spec = FORMS[block_type]
    raw: dict[str, Any] = {"type": block_type}
    errors: dict[str, str] = {}
    stand_ins: dict[str, list[dict[str, str]]] = {}
    for item in spec.fields:
        value = form.get(item.name, "")
        if item.kind == "markdown" and (edited := form.get(f"{item.name}__html")) is not None:
            # The text editor sends what it shows; the server, not the browser, decides its Markdown.
            value = html_to_markdown(edited)
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
        if item.kind == "links":
            links, problems = _read_links(item, form)
            errors.update(problems)
            if links or item.required:
                raw[item.name] = links
            if problems:
                # A row with a mistake still counts as a link when the model's other rules are checked.
                stand_ins[item.name] = [*links, {item.line_key: "website" if item.line_key == "network" else "Link",
                                                 "url": "https://example.org"}]
            continue
        if item.kind == "url" and value.strip():
            try:
                raw[item.name] = normalise_address(value)
            except AddressProblem as problem:
                # Shown after the field's label: "Link address cannot be a link: ..."
                errors[item.name] = f"cannot be a link: {problem}"
            continue
        if item.name == "level":
            raw[item.name] = int(value) if value in ("2", "3") else value
            continue
        if item.kind == "when":
            # An end given as a time alone is on the day the event starts (the form's first date box).
            first = next(field.name for field in spec.fields if field.kind == "when")
            try:
                typed = when_value(form.get(f"{item.name}_date", ""), form.get(f"{item.name}_time", ""),
                                   day_of_start="" if item.name == first else form.get(f"{first}_date", ""))
            except WhenProblem as problem:
                errors[item.name] = str(problem)
                continue
            if typed:
                raw[item.name] = typed
            continue
        if item.kind == "lines":
            lines = [line.strip() for line in value.splitlines() if line.strip()]
            if lines or item.required:
                raw[item.name] = lines
            continue
        if item.kind == "checkbox":
            if value:
                raw[item.name] = True
            continue
        if value.strip():
            raw[item.name] = value
    if block_type == "story" and not raw.get("image"):
        raw.pop("alt", None)
    if block_type == "image" and raw.get("alt", "") is None:
        raw.pop("alt")
    if errors:
        # The form's own mistakes and the model's, together, so the person sees every one at once.
        try:
            validate_block({**raw, **stand_ins})
        except BlockInvalid as invalid:
            errors = {**{name: message for name, message in invalid.fields.items() if name not in errors}, **errors}
        raise BlockInvalid(errors)
    return raw


def form_values(block: dict[str, Any]) -> dict[str, str]:
    """A stored block as the strings its form shows."""
    values: dict[str, str] = {}
    spec = FORMS.get(str(block.get("type")))
    when = {item.name for item in spec.fields if item.kind == "when"} if spec else set()
    for key, value in block.items():
        if key in when:
            values[f"{key}_date"], values[f"{key}_time"] = when_boxes(value)
            values[key] = f"{values[f'{key}_date']} {values[f'{key}_time']}".strip()  # what a conflict shows
            continue
        if key == "links" and isinstance(value, list):
            for number, link in enumerate(value, start=1):
                if isinstance(link, dict):
                    part = "network" if "network" in link else "label"
                    values[row_id(key, number, part)] = str(link.get(part, ""))
                    values[row_id(key, number, "url")] = str(link.get("url", ""))
        elif key == "alt" and value == "":
            values["alt_decorative"] = "1"
        elif isinstance(value, list):  # answers typed one a line
            values[key] = "\n".join(str(item) for item in value)
        elif isinstance(value, bool):
            values[key] = "1" if value else ""
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
