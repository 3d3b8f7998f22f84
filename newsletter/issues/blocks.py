"""The issue format: an issue is a title, a subject and a list of typed content blocks.

Each block type is one pydantic model here, one MJML partial in `templates/email/blocks/`, one
text partial in `templates/text/blocks/` and one web partial in `templates/web/blocks/`; adding a
block type touches those places and nothing else.
"""

from __future__ import annotations

import re
import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from newsletter.headersafe import check_one_line

# BCP 47, loosely: a primary language subtag and optional subtags (en, en-GB, cy, zh-Hant-HK).
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ps", "sd", "yi", "ug", "dv", "ku"}


class InvalidIssue(Exception):
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


# A field typed into a one-line box.
OneLine = Annotated[str, AfterValidator(_one_line)]
Line = Annotated[str, Field(min_length=1, max_length=300), AfterValidator(_one_line)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HeadingBlock(_Block):
    type: Literal["heading"]
    text: Line
    # The issue title is the page's only h1, so sections start at 2.
    level: Literal[2, 3] = 2


class TextBlock(_Block):
    type: Literal["text"]
    markdown: Annotated[str, Field(min_length=1)]


class ImageBlock(_Block):
    type: Literal["image"]
    src: Url
    # Required: an empty string is the explicit statement "this image is decorative".
    alt: Annotated[str, Field(max_length=1000)]
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


class ButtonBlock(_Block):
    type: Literal["button"]
    label: Line
    url: Url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)


class StoryBlock(_Block):
    type: Literal["story"]
    title: Line
    body: Annotated[str, Field(min_length=1)]
    image: Url | None = None
    alt: str | None = None
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
            raise ValueError("link_label: give both link_label and link_url, or neither")
        return self


class QuoteBlock(_Block):
    type: Literal["quote"]
    text: Annotated[str, Field(min_length=1)]
    cite: OneLine | None = None


class LabelledLink(_Block):
    label: Line
    url: Url

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_url(value)


class ContactBlock(_Block):
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


class DividerBlock(_Block):
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


class SocialBlock(_Block):
    type: Literal["social"]
    heading: OneLine | None = None
    links: Annotated[list[SocialLink], Field(min_length=1)]


Block = Annotated[
    Union[
        HeadingBlock,
        TextBlock,
        ImageBlock,
        ButtonBlock,
        StoryBlock,
        QuoteBlock,
        ContactBlock,
        DividerBlock,
        SocialBlock,
    ],
    Field(discriminator="type"),
]
BLOCK_TYPES = ("heading", "text", "image", "button", "story", "quote", "contact", "divider", "social")


class IssueDocument(BaseModel):
    """An issue as the team writes it: the same shape in YAML, in the database and in the composer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Line
    subject: Line
    preheader: Annotated[str, Field(max_length=200), AfterValidator(_one_line)] = ""
    language: str = "en-GB"
    date: dt.date | None = None
    slug: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)] | None = None
    blocks: list[Block] = []

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not _LANGUAGE.match(value):
            raise ValueError("must be a BCP 47 language tag such as en-GB")
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


def _message(error: dict[str, Any]) -> tuple[tuple[int | str, ...], str]:
    loc = tuple(error["loc"])
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "union_tag_invalid":
        msg = f"unknown block type; use one of {', '.join(BLOCK_TYPES)}"
    elif error["type"] == "union_tag_not_found":
        msg = f"has no type; use one of {', '.join(BLOCK_TYPES)}"
    elif error["type"] == "missing":
        msg = "is required"
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
