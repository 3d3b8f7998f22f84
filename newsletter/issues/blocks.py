"""The issue format: an issue is a title, a subject and a list of typed content blocks.

A block type is one pydantic model here (a subclass of `BlockModel`), one MJML partial in
`templates/email/blocks/`, one text partial in `templates/text/blocks/`, one web partial in
`templates/web/blocks/` and one editor form in `newsletter/web/blockforms.py`; adding a block type
touches those places and nothing else. Defining the model registers it: the list of types, the
union that reads a block, and every check that reads the team's words come from the registry.

A model says what its fields are for by marking them, and the rest of the service reads the marks:
`Markdown` prose is rendered through the sanitiser and checked for readability and jargon; `Words`
(every one-line field, alt text) are short words a reader sees and are checked for jargon; `Picture`
fields hold an image address, copied to the media folder on import.
"""

from __future__ import annotations

import re
import types
import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from newsletter.errors import NewsletterError
from newsletter.events import times
from newsletter.headersafe import check_one_line

# BCP 47, loosely: a primary language subtag and optional subtags (en, en-GB, cy, zh-Hant-HK).
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ps", "sd", "yi", "ug", "dv", "ku"}


class InvalidIssue(NewsletterError):
    """An issue file or form failed validation; `problems` holds one line per fault, naming block and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _check_url(value: str, *, allow_mailto: bool = True) -> str:
    value = value.strip()
    schemes = ("https://", "http://", "mailto:", "tel:") if allow_mailto else ("https://", "http://")
    if not value.lower().startswith(schemes):
        allowed = ", ".join(s.rstrip(":/") for s in schemes)
        raise ValueError(f"must be a full address starting with {allowed}")
    if any(ch.isspace() for ch in value):
        raise ValueError("must not contain spaces")
    return value


class _Mark:
    """What a field holds, for the code that reads blocks without knowing their types."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


Markdown = _Mark("Markdown")
"""Prose in Markdown: sanitised when rendered, checked for readability and for jargon."""
Words = _Mark("Words")
"""Plain words a reader sees (headings, labels, captions, alt text): checked for jargon."""
Picture = _Mark("Picture")
"""An image address: an http(s) URL, or a file beside the issue's YAML copied to the media folder."""

Url = Annotated[str, Field(min_length=1, max_length=2000)]


def _one_line(value: str, info: ValidationInfo) -> str:
    """No line breaks (U+2028 and U+0085 included) or control characters: the rule that keeps the
    subject safe as a header (newsletter/headersafe.py).

    An issue read back from the database (`store.document`) was checked when it was saved; one saved
    before this rule existed must still open, so the team can correct it. Sending it is refused by
    the header writer instead.
    """
    if info.context and info.context.get("stored"):
        return value
    return check_one_line(value)


# A field typed into a one-line box: always words a reader sees.
OneLine = Annotated[str, AfterValidator(_one_line), Words]
Line = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_one_line), Words]
# Running text in Markdown.
Prose = Annotated[str, Field(min_length=1), Markdown]
AltText = Annotated[str, Field(max_length=1000), Words]
# When an event happens: a date, or a date and time kept with its offset (newsletter/events/times.py).
EventTime = Annotated[dt.date | dt.datetime, BeforeValidator(times.read_event_time)]


def _has_mark(annotation: Any, mark: _Mark) -> bool:
    """The mark is on the annotation, or on a member of it (`Line | None` is still Words)."""
    if get_origin(annotation) is Annotated:
        return any(item is mark for item in annotation.__metadata__) or _has_mark(get_args(annotation)[0], mark)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_has_mark(arg, mark) for arg in get_args(annotation))
    if get_origin(annotation) is list:  # a list of words (a poll's answers) is words too
        return any(_has_mark(arg, mark) for arg in get_args(annotation))
    return False


def fields_marked(model: type[BaseModel], mark: _Mark) -> tuple[str, ...]:
    """The names of the model's fields carrying `mark`, in the order the model declares them."""
    return tuple(
        name for name, info in model.model_fields.items()
        if any(item is mark for item in info.metadata) or _has_mark(info.annotation, mark)
    )


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    """Models a field holds (the links of a contact block): their marked fields count as the block's."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _nested_models(arg)


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


REGISTRY: dict[str, type[BlockModel]] = {}
"""Every block type by its `type` name, in the order the models are defined (the composer's order)."""
_registry_closed = False


class BlockModel(_Block):
    """A block type. Subclassing registers it under the name in its `type: Literal[...]` field.

    `summary_fields` names what the composer's block list shows as a reminder of a block (the first
    one with a value; "links.network" joins that field of each link). It defaults to the block's
    words and prose in the order the model declares them.
    """

    summary_fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        names = get_args(cls.model_fields["type"].annotation) if "type" in cls.model_fields else ()
        if len(names) != 1 or not isinstance(names[0], str):
            raise TypeError(f"{cls.__name__} needs a field `type: Literal[\"name\"]` naming its block type")
        if _registry_closed:
            raise TypeError(f"{cls.__name__} is defined after the block union was built; define it with the others")
        if names[0] in REGISTRY:
            raise TypeError(f"block type {names[0]!r} is defined twice ({REGISTRY[names[0]].__name__}, {cls.__name__})")
        if "summary_fields" not in cls.__dict__:
            shown = set(fields_marked(cls, Words) + fields_marked(cls, Markdown))
            cls.summary_fields = tuple(name for name in cls.model_fields if name in shown)
        REGISTRY[names[0]] = cls

    @classmethod
    def block_type(cls) -> str:
        return get_args(cls.model_fields["type"].annotation)[0]

    @classmethod
    def markdown_fields(cls) -> tuple[str, ...]:
        """Fields of running text in Markdown: what readability scores and the sanitiser renders."""
        return fields_marked(cls, Markdown)

    @classmethod
    def picture_fields(cls) -> tuple[str, ...]:
        return fields_marked(cls, Picture)

    def prose(self) -> list[str]:
        """The block's Markdown fields that have a value, in the model's order."""
        return [value for name in self.markdown_fields() if isinstance(value := getattr(self, name), str) and value]

    def visible_words(self) -> Iterator[tuple[str, bool]]:
        """(text, is Markdown) for every field a reader sees, nested links included, in the model's order."""
        yield from _words_of(self)


def _words_of(model: BaseModel) -> Iterator[tuple[str, bool]]:
    kind = type(model)
    prose, plain = fields_marked(kind, Markdown), fields_marked(kind, Words)
    for name, info in kind.model_fields.items():
        value = getattr(model, name)
        if name in prose or name in plain:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item:
                    yield item, name in prose
        elif any(True for _ in _nested_models(info.annotation)):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, BaseModel):
                    yield from _words_of(item)


class HeadingBlock(BlockModel):
    type: Literal["heading"]
    text: Line
    # The issue title is the page's only h1, so sections start at 2.
    level: Literal[2, 3] = 2


class TextBlock(BlockModel):
    type: Literal["text"]
    markdown: Prose


class ImageBlock(BlockModel):
    # The caption, when there is one, is what the team wrote to describe the picture in the list.
    summary_fields: ClassVar[tuple[str, ...]] = ("caption", "alt")

    type: Literal["image"]
    src: Annotated[Url, Picture]
    # Required: an empty string is the explicit statement "this image is decorative".
    alt: AltText
    caption: OneLine | None = None
    link: Url | None = None
    width: Annotated[int, Field(ge=40, le=600)] | None = None

    @field_validator("link")
    @classmethod
    def _link(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @model_validator(mode="after")
    def _linked_images_need_alt(self) -> ImageBlock:
        if self.link and not self.alt:
            raise ValueError("alt: a linked image needs alt text saying where the link goes")
        return self


class ButtonBlock(BlockModel):
    type: Literal["button"]
    label: Line
    url: Url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)


class StoryBlock(BlockModel):
    type: Literal["story"]
    title: Line
    body: Prose
    image: Annotated[Url, Picture] | None = None
    alt: Annotated[str, Words] | None = None
    link_label: Line | None = None
    link_url: Url | None = None

    @field_validator("link_url")
    @classmethod
    def _link_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @model_validator(mode="after")
    def _pairs(self) -> StoryBlock:
        if self.image and self.alt is None:
            raise ValueError('alt: a story image needs alt text (use "" if it is decorative)')
        if bool(self.link_label) != bool(self.link_url):
            raise ValueError("link_label: give both the link's words and its address, or neither")
        return self


class QuoteBlock(BlockModel):
    type: Literal["quote"]
    text: Prose
    cite: OneLine | None = None


class LabelledLink(_Block):
    label: Line
    url: Url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)


class ContactBlock(BlockModel):
    type: Literal["contact"]
    heading: OneLine | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[str, Field(pattern=r"^[0-9 +()-]{6,30}$")] | None = None
    links: list[LabelledLink] = []

    @model_validator(mode="after")
    def _something(self) -> ContactBlock:
        if not (self.email or self.phone or self.links):
            raise ValueError("email: a contact block needs at least an email, a phone number or a link")
        return self


class DividerBlock(BlockModel):
    type: Literal["divider"]


SOCIAL_NETWORKS = {
    "facebook": "Facebook",
    "x": "X (formerly Twitter)",
    "twitter": "X (formerly Twitter)",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "linkedin": "LinkedIn",
    "tiktok": "TikTok",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "threads": "Threads",
    "website": "Website",
}


class SocialLink(_Block):
    network: str
    url: Url
    label: OneLine | None = None

    @field_validator("network")
    @classmethod
    def _network(cls, value: str) -> str:
        key = value.lower()
        if key not in SOCIAL_NETWORKS:
            raise ValueError(f"must be one of {', '.join(sorted(SOCIAL_NETWORKS))}")
        return key

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value, allow_mailto=False)

    @property
    def text(self) -> str:
        """What a screen reader and the text part say: the network's name, not an icon."""
        return self.label or SOCIAL_NETWORKS[self.network]


class SocialBlock(BlockModel):
    # Without a heading, the networks say what the block is.
    summary_fields: ClassVar[tuple[str, ...]] = ("heading", "links.network")

    type: Literal["social"]
    heading: OneLine | None = None
    links: Annotated[list[SocialLink], Field(min_length=1)]


class NoticeBlock(BlockModel):
    """A call-out box for something families must not miss (a deadline, a change to a service)."""

    type: Literal["notice"]
    # Required: the heading names the box for screen readers and puts it in the page's outline.
    heading: Line
    body: Prose


Answer = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_one_line), Words]


class PollBlock(BlockModel):
    """A quick question families answer by choosing a link (newsletter/listening/ counts the answers).

    Only totals are kept, never who answered. Once `closes` has passed, the web view shows the totals,
    so families see what others said; without `closes` the poll never closes (the checks warn).
    """

    summary_fields: ClassVar[tuple[str, ...]] = ("question",)

    type: Literal["poll"]
    question: Line
    options: Annotated[list[Answer], Field(min_length=2, max_length=6)]
    # A free-text "something else": what is typed reaches the team as a comment, with no name.
    other: bool = False
    closes: dt.date | None = None

    @field_validator("options")
    @classmethod
    def _different(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for answer in value:
            folded = " ".join(answer.casefold().split())
            if folded in seen:
                raise ValueError(f"each answer must be different: “{answer}” is there twice")
            seen.add(folded)
        return value


class EventBlock(BlockModel):
    """Something families can go to: when, where, what access there is, and how to book a place.

    `starts` and `ends` are a date (all day) or a date and time; a time without a zone is on the team's
    clock (newsletter/events/times.py). The checks warn when `access` is empty: families need to know
    about step-free access, quiet rooms or interpreters before they set out (newsletter/checks/events.py).
    """

    summary_fields: ClassVar[tuple[str, ...]] = ("title",)

    type: Literal["event"]
    title: Line
    starts: EventTime
    ends: EventTime | None = None
    # A name and address, or "Online".
    place: Line
    access: Line | None = None
    booking_url: Url | None = None
    description: Prose | None = None

    @field_validator("booking_url")
    @classmethod
    def _booking_url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> EventBlock:
        problem = times.order_problem(self.starts, self.ends)
        if problem:
            raise ValueError(f"ends: {problem}")
        return self


# Every block type is defined above this line: the union that reads a block is built from the registry.
Block = Annotated[Union[tuple(REGISTRY.values())], Field(discriminator="type")]  # type: ignore[valid-type]
BLOCK_TYPES: tuple[str, ...] = tuple(REGISTRY)
_registry_closed = True


def picture_fields(block_type: Any) -> tuple[str, ...]:
    """The image-address fields of a stored block's type (none for a type this version does not know)."""
    model = REGISTRY.get(block_type) if isinstance(block_type, str) else None
    return model.picture_fields() if model else ()


class IssueDocument(BaseModel):
    """An issue as the team writes it: the same shape in YAML, in the database and in the composer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line
    subject: Line
    preheader: Annotated[str, Field(max_length=200), AfterValidator(_one_line)] = ""
    language: str = "en-GB"
    date: dt.date | None = None
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)] | None = None
    # "Was this newsletter useful?" at the end of the issue (newsletter/listening/); on unless turned off.
    feedback: bool = True
    blocks: list[Block] = []

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError("must be a code such as en-GB for English (UK), cy for Welsh or pl for Polish")
        return value

    @property
    def direction(self) -> str:
        return "rtl" if self.language.split("-")[0].lower() in _RTL_LANGUAGES else "ltr"


def _where(loc: tuple[int | str, ...], raw: Any) -> str:
    """Turn pydantic's location into words: 'block 3 (image), field alt'."""
    if len(loc) >= 2 and loc[0] == "blocks" and isinstance(loc[1], int):
        index = loc[1]
        block_type = "?"
        if isinstance(raw, dict) and isinstance(raw.get("blocks"), list) and index < len(raw["blocks"]):
            entry = raw["blocks"][index]
            if isinstance(entry, dict):
                block_type = str(entry.get("type", "no type"))
        # Positions inside a block (links of a contact or social block) count from 1, like blocks do.
        inside = loc[3:] if len(loc) > 2 and loc[2] in BLOCK_TYPES else loc[2:]  # pydantic names the block type first
        rest = [str(part + 1) if isinstance(part, int) else str(part) for part in inside]
        field = ".".join(rest)
        where = f"block {index + 1} ({block_type})"
        return f"{where}, field {field}" if field else where
    return "field " + ".".join(str(part) for part in loc) if loc else "the issue"


# What a pattern asks for, by the field it is on, in words (pydantic would print the regular expression).
_PATTERN_WORDS = {
    "email": "must be an email address, such as localoffer@yourcouncil.gov.uk",
    "phone": "must be a phone number: digits and spaces, such as 0300 123 4567 (+, ( ) and - may be used too)",
    "slug": "must be lower-case letters and digits with hyphens between words, such as july-news-2026",
}


# What a list field holds, for "needs at least 2 answers".
_ITEM_WORDS = {"options": " answers", "links": " links"}


def plain_message(error: Any) -> str:
    """One pydantic error in words for the person who typed the value: never the library's own message.

    The issue file's reader and the composer's forms both come here, so a field says the same thing
    wherever it is typed. Messages our own validators raise are already in words and pass through.
    """
    kind, ctx = error["type"], error.get("ctx") or {}
    field = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
    if kind in ("missing", "string_too_short") or (kind == "too_short" and ctx.get("min_length") == 1):
        return "is required"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return _PATTERN_WORDS.get(field, "is not written in a form this field accepts")
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the choices offered')}".replace("'", "")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return "must be a date such as 2026-12-01"
    items = _ITEM_WORDS.get(field, "")
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')}{items}"
    if kind == "too_long":
        return f"can have at most {ctx.get('max_length')}{items}"
    if kind in ("bool_parsing", "bool_type"):
        return "must be yes or no (true or false)"
    if kind in ("string_type", "string_unicode"):
        return "must be words (text)"
    if kind == "list_type":
        return "must be a list"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "must be a set of fields"
    return "is not something this field can take"


def _message(error: dict[str, Any]) -> tuple[tuple[int | str, ...], str]:
    loc = tuple(error["loc"])
    msg = plain_message(error)
    if error["type"] == "union_tag_invalid":
        msg = f"unknown block type; use one of {', '.join(BLOCK_TYPES)}"
    elif error["type"] == "union_tag_not_found":
        msg = f"has no type; use one of {', '.join(BLOCK_TYPES)}"
    elif error["type"] == "extra_forbidden":
        msg = "is not a field of this block" if "blocks" in loc else "is not a field of an issue"
    # A model validator reports against the block; its message starts with the field it is about.
    match = re.match(r"^([a-z_]+): (.*)$", msg)
    if match and error["type"] == "value_error":
        loc = loc + (match.group(1),)
        msg = match.group(2)
    return loc, msg


def parse_issue(raw: Any) -> IssueDocument:
    """Validate a decoded issue, raising InvalidIssue with one line per problem."""
    if not isinstance(raw, dict):
        raise InvalidIssue(["the issue must be a mapping with title, subject and blocks"])
    try:
        return IssueDocument.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc, msg = _message(item)
            problems.append(f"{_where(loc, raw)}: {msg}")
        raise InvalidIssue(problems) from None


BlockList = TypeAdapter(list[Block])
