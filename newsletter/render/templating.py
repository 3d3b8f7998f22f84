"""The one Jinja2 environment every output is rendered with.

Markup templates (MJML and HTML) autoescape; the text part does not, because it is not markup and
an escaped `&amp;` would reach the reader as five characters.
"""

from __future__ import annotations

import functools

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from newsletter import localtime
from newsletter.paths import templates_dir
from newsletter.render import markdown


def _autoescape(name: str | None) -> bool:
    # Every template escapes but the plain-text parts (.txt.j2), where HTML escaping would show as "&amp;".
    return not (name or "").endswith(".txt.j2")


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir())),
        autoescape=_autoescape,  # nosec B701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["wrap"] = markdown.wrap
    env.filters["md_text"] = markdown.to_text
    env.filters["editor_html"] = markdown.to_editor_html
    # Team pages show every moment on the team's clock, with its zone ("1 July 2026 at 09:00 BST").
    env.filters["local"] = lambda moment, pattern="%-d %B %Y at %H:%M": localtime.shown(moment, pattern)
    return env
