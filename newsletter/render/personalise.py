"""Per-recipient fill-in of an issue that was rendered once.

Rendering runs MJML and premailer (about a quarter of a second); doing that per reader would cap a
send at a few messages a second. Instead the pipeline renders placeholders once, and this module
splits the result into fixed segments so each reader costs one join of a handful of strings.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Plain letters and underscores: MJML, lxml and premailer pass them through untouched, in text and in href.
FIELDS = ("unsubscribe_url", "preferences_url", "name")
_TOKEN = re.compile(r"NLP__([A-Z_]+?)__")


def placeholder(field: str) -> str:
    if field not in FIELDS:
        raise KeyError(field)
    return f"NLP__{field.upper()}__"


PLACEHOLDERS = {field: placeholder(field) for field in FIELDS}


@dataclass(frozen=True)
class PersonalTemplate:
    """A rendered body cut at its personal parts: segments[0] field[0] segments[1] ... segments[-1]."""

    segments: tuple[str, ...]
    fields: tuple[str, ...]
    escape: bool

    @classmethod
    def compile(cls, rendered: str, *, escape: bool) -> PersonalTemplate:
        parts = _TOKEN.split(rendered)
        fields = tuple(part.lower() for part in parts[1::2])
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown personal field in template: {sorted(unknown)}")
        return cls(segments=tuple(parts[0::2]), fields=fields, escape=escape)

    def fill(self, values: Mapping[str, str]) -> str:
        """The body for one reader. Values are HTML-escaped for the HTML part, so a name can't inject markup."""
        if self.escape:
            values = {key: html.escape(value, quote=True) for key, value in values.items()}
        segments = self.segments
        out = [segments[0]]
        for index, field in enumerate(self.fields, start=1):
            out.append(values[field])
            out.append(segments[index])
        return "".join(out)

    def fill_bytes(self, values: Mapping[str, str]) -> bytes:
        """The same as `fill`, as UTF-8. Joining bytes is a plain copy; joining str is not when the
        segments mix character widths (an en dash in one, plain ASCII in another), which costs 4x."""
        encoded = self._encoded
        if self.escape:
            values = {key: html.escape(value, quote=True) for key, value in values.items()}
        out = [encoded[0]]
        for index, field in enumerate(self.fields, start=1):
            out.append(values[field].encode("utf-8"))
            out.append(encoded[index])
        return b"".join(out)

    @functools.cached_property
    def _encoded(self) -> tuple[bytes, ...]:
        return tuple(segment.encode("utf-8") for segment in self.segments)

    @property
    def source(self) -> str:
        """The body with its placeholders back in: what `compile` was given, to store and compile again."""
        out = [self.segments[0]]
        for index, field in enumerate(self.fields, start=1):
            out.append(placeholder(field))
            out.append(self.segments[index])
        return "".join(out)

    @property
    def public(self) -> str:
        """The body with no personal data, for previews: links point nowhere personal, the name is generic."""
        return self.fill({"unsubscribe_url": "#unsubscribe", "preferences_url": "#preferences", "name": "there"})
