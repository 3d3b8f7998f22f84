"""Markdown from the team, turned into safe HTML for the email and web view, and into plain text.

Both outputs walk the same markdown-it parse, so the text part is written from the blocks and
not scraped back out of the HTML. Raw HTML in a field is never trusted: nh3 keeps only the few
tags markdown itself produces, and drops script and style with their content.
"""

from __future__ import annotations

import functools
import html
import re
import textwrap

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {"p", "strong", "em", "a", "ul", "ol", "li", "br", "code"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
WIDTH = 78

# The reader's name is the one personal part a team member may write into a block.
NAME_TAG = re.compile(r"\[\[\s*name\s*\]\]", re.IGNORECASE)


@functools.cache
def _parser() -> MarkdownIt:
    # commonmark with html on, so raw HTML reaches nh3 and is removed there (with html off it would be
    # shown to readers as literal tags); strikethrough and tables are outside what a block may hold.
    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False})


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


def to_html(markdown: str, name: str = "") -> str:
    """Markdown to sanitised HTML; `[[name]]` becomes `name` (already safe: a placeholder or plain text)."""
    html = sanitise(_parser().render(markdown))
    return NAME_TAG.sub(name, html)


# How the composer's text editor shows the reader's name: a label that is kept whole while editing.
EDITOR_NAME = '<span class="name-token" data-token="name" contenteditable="false">reader\'s name</span>'


def to_editor_html(markdown: str) -> str:
    """Markdown as the composer's text editor shows it: sanitised as the email is, the name as a label."""
    return to_html(markdown, name=EDITOR_NAME)


def strip_markup(text: str) -> str:
    """Plain words of a short markdown string (used for checks and feed summaries)."""
    return nh3.clean(_parser().render(text), tags=set()).strip()


def _inline_text(token: Token, name: str) -> str:
    """Inline children to text: emphasis dropped, links written out as 'label (url)'."""
    parts: list[str] = []
    href: str | None = None
    label_start = 0
    for child in token.children or []:
        if child.type == "text" or child.type == "code_inline":
            parts.append(child.content)
        elif child.type in ("softbreak",):
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            label_start = len(parts)
        elif child.type == "link_close" and href is not None:
            label = "".join(parts[label_start:]).strip()
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if label != shown:
                parts.append(f" ({shown})")
            href = None
    text = "".join(parts)
    return NAME_TAG.sub(name, text)


def wrap(text: str, indent: str = "", first: str | None = None, width: int = WIDTH) -> str:
    first = indent if first is None else first
    lines = []
    for index, paragraph_line in enumerate(text.split("\n")):
        lines.append(
            textwrap.fill(
                paragraph_line,
                width=width,
                initial_indent=first if index == 0 else indent,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines)


def to_text(markdown: str, name: str = "", width: int = WIDTH) -> str:
    """Markdown to plain text wrapped at 78 columns, keeping lists as lists and links written out."""
    tokens = _parser().parse(markdown)
    blocks: list[tuple[str, bool]] = []  # (text, is a list item)
    # A stack of open lists: [kind, next number]; nesting indents by the marker's width.
    lists: list[list[object]] = []
    pending_marker: str | None = None
    for token in tokens:
        if token.type == "bullet_list_open":
            lists.append(["bullet", 0])
        elif token.type == "ordered_list_open":
            lists.append(["ordered", int(token.attrs.get("start", 1) or 1)])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            kind, number = lists[-1]
            if kind == "bullet":
                pending_marker = "- "
            else:
                pending_marker = f"{number}. "
                lists[-1][1] = int(number) + 1  # type: ignore[call-overload]
        elif token.type == "inline":
            text = _inline_text(token, name).strip()
            if not text:
                continue
            if lists:
                depth_indent = "   " * (len(lists) - 1)
                marker = pending_marker or "  "
                blocks.append(
                    (wrap(text, depth_indent + " " * len(marker), depth_indent + marker, width), True)
                )
                pending_marker = None
            else:
                blocks.append((wrap(text, width=width), False))
        elif token.type == "html_block":
            # Raw HTML is dropped, but the words inside harmless tags are the team's and are kept.
            text = html.unescape(nh3.clean(token.content, tags=set())).strip()
            if text:
                blocks.append((wrap(" ".join(text.split()), width=width), False))
        elif token.type in ("code_block", "fence"):
            blocks.append((token.content.rstrip("\n"), False))
    # Items of one list sit on consecutive lines; paragraphs are separated by a blank line.
    out: list[str] = []
    in_list_prev = False
    for block, is_item in blocks:
        if out:
            out.append("\n" if (is_item and in_list_prev) else "\n\n")
        out.append(block)
        in_list_prev = is_item
    return "".join(out)
