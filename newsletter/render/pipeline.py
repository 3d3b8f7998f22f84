"""One pipeline, three outputs: blocks -> (email HTML, plain text, web view).

Email: Jinja2 renders each block's MJML partial inside the shell, mjml-python compiles it, premailer
inlines the CSS. Text and web view come from the same blocks through their own partials. Personal
parts are placeholders here and are filled in per reader by `personalise.PersonalTemplate`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import cssutils
from markupsafe import Markup
from mjml import mjml2html
from premailer import Premailer

from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.issues.blocks import IssueDocument
from newsletter.listening.links import feedback_url, poll_url
from newsletter.listening.models import Usefulness
from newsletter.render import markdown
from newsletter.render.events import event_helper, passed_events
from newsletter.render.imagesize import natural_width
from newsletter.render.personalise import PLACEHOLDERS, PersonalTemplate
from newsletter.render.templating import environment
from newsletter.theme import Theme

# cssutils logs a warning for every vendor property MJML emits; they are expected and useless.
cssutils.log.setLevel(logging.CRITICAL)


class RenderError(NewsletterError):
    """The issue could not be turned into email HTML; the message says which stage failed."""


@dataclass(frozen=True)
class BlockView:
    """A block as the partials see it: its position (for anchors and messages) and its heading level."""

    block: Any
    index: int
    # The level a story, contact or social heading takes so the outline never skips a level.
    level: int


@dataclass(frozen=True)
class RenderedIssue:
    mjml: str
    html: PersonalTemplate
    text: PersonalTemplate
    web_html: str
    web_url: str


def outline(doc: IssueDocument) -> list[BlockView]:
    views = []
    current = 1  # the issue title is the h1
    for index, block in enumerate(doc.blocks):
        if block.type == "heading":
            current = block.level
            level = block.level
        else:
            level = min(current + 1, 4)
        views.append(BlockView(block=block, index=index, level=level))
    return views


def underline(text: str, char: str) -> str:
    return f"{text}\n{char * min(len(text), 78)}"


def quote_text(text: str) -> str:
    return "\n".join(("> " + line) if line else ">" for line in text.splitlines())


def web_url(settings: Settings, slug: str) -> str:
    return f"{settings.base_url}/issues/{slug}"


def _absolute(settings: Settings) -> Callable[[str], str]:
    def absolute(src: str) -> str:
        if src.startswith(("http://", "https://")):
            return src
        return f"{settings.base_url}/{src.lstrip('/')}"

    return absolute


def _context(doc: IssueDocument, slug: str, theme: Theme, settings: Settings, name: str) -> dict[str, Any]:
    return {
        "issue": doc,
        "theme": theme,
        "views": outline(doc),
        "urls": {"web": web_url(settings, slug)},
        "absolute": _absolute(settings),
        "natural_width": lambda src: natural_width(src, settings.media_dir),
        # Sanitised by nh3 in to_html, so it is marked safe for the autoescaping templates.
        "md": lambda text: Markup(markdown.to_html(text, name)),  # nosec B704
        "md_text": lambda text, width=markdown.WIDTH: markdown.to_text(text, name, width),
        "underline": underline,
        "quote_text": quote_text,
        # An event's time in words, its calendar link, and whether it has passed (the web view says so).
        "event": event_helper(doc, slug, settings, datetime.now(timezone.utc)),
        # "Was this newsletter useful?" and poll answers: the same signed links in every copy (no reader in them).
        "feedback_urls": {answer.value: feedback_url(settings, slug, answer) for answer in Usefulness},
        "poll_url": lambda index, choice: poll_url(settings, slug, index, choice),
        # Poll states by block position (closed, results) for the web view; empty: every poll shown open.
        "polls": {},
    }


def _compile_mjml(source: str) -> str:
    try:
        # fonts={} stops MRML adding a Google Fonts link: no third-party request from an email.
        return mjml2html(source, fonts={}, disable_comments=True)
    except Exception as error:  # mjml-python raises a bare exception type from Rust
        raise RenderError(f"MJML could not be compiled: {error}") from None


def _inline(html: str) -> str:
    return Premailer(
        html,
        allow_network=False,
        keep_style_tags=True,  # media queries cannot be inlined; they stay in <style>
        remove_classes=False,
        strip_important=False,
        disable_validation=True,
        disable_leftover_css=False,
        cssutils_logging_level=logging.CRITICAL,
    ).transform()


# The email's dark mode (see templates/email/shell.mjml.j2): text 15:1 and links 11:1 on the page colour.
DARK = {"page": "#121212", "text": "#ececec", "link": "#9ec5ff"}
# Tells mail apps the email has its own dark styles, so they use them instead of inverting colours.
_COLOR_SCHEME = '<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">'


def render_email_html(doc: IssueDocument, slug: str, theme: Theme, settings: Settings) -> tuple[str, str]:
    context = _context(doc, slug, theme, settings, PLACEHOLDERS["name"])
    context["personal"] = PLACEHOLDERS
    context["dark"] = DARK
    mjml_source = environment().get_template("email/shell.mjml.j2").render(context)
    html = _compile_mjml(mjml_source).replace("</head>", _COLOR_SCHEME + "</head>", 1)
    return mjml_source, _inline(html)


def render_text(doc: IssueDocument, slug: str, theme: Theme, settings: Settings) -> str:
    context = _context(doc, slug, theme, settings, PLACEHOLDERS["name"])
    context["personal"] = PLACEHOLDERS
    text = environment().get_template("text/shell.txt.j2").render(context)
    # Collapse the blank lines templates leave behind: at most one empty line between parts.
    lines: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line and lines and not lines[-1]:
            continue
        lines.append(line)
    return "\n".join(lines).strip() + "\n"


def web_page_context(theme: Theme, settings: Settings) -> dict[str, Any]:
    """What every public page's layout needs; the web app and static publishing both use it."""
    return {
        "theme": theme,
        "noindex": settings.web_noindex,
        "archive_url": f"{settings.base_url}/issues/",
        "feed_url": f"{settings.base_url}/issues/feed.atom",
        "events_url": f"{settings.base_url}/events",
        "accessibility_url": f"{settings.base_url}/accessibility",
        "subscribe_url": f"{settings.base_url}/subscribe",
        "static_url": lambda name: f"{settings.base_url}/static/{name}",
    }


def render_web(doc: IssueDocument, slug: str, theme: Theme, settings: Settings, name_fallback: str = "there",
               polls: dict[int, Any] | None = None) -> str:
    """The public copy: the same blocks, semantic HTML, no personal data and no tracking.

    `polls` (newsletter/listening/polls.py's PollState by block position) shows a closed poll's results;
    the web app passes it on each request, since it changes with the date and the answers.
    """
    context = web_context(doc, slug, theme, settings, name_fallback)
    context["polls"] = polls or {}
    return environment().get_template("web/issue.html.j2").render(context)


def web_context(doc: IssueDocument, slug: str, theme: Theme, settings: Settings, name_fallback: str = "there") -> dict[str, Any]:
    """What the web partials of the blocks need; the review page shows the same blocks with comment forms."""
    context = _context(doc, slug, theme, settings, "")
    context["md"] = lambda text: Markup(markdown.to_html(text, name_fallback))  # nosec B704
    context.update(web_page_context(theme, settings))
    context["language"] = doc.language
    context["direction"] = doc.direction
    return context


def _fingerprint(doc: IssueDocument, slug: str, theme: Theme, settings: Settings) -> str:
    payload = json.dumps(
        [doc.model_dump(mode="json"), slug, theme.model_dump(mode="json"), settings.base_url, settings.web_noindex,
         # An event that has passed since the last render makes a new web view, which says so.
         passed_events(doc, settings, datetime.now(timezone.utc)), settings.timezone,
         # The feedback and poll links are signed with the key: another key is another rendering.
         hashlib.sha256(settings.secret_key.encode()).hexdigest()],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


_CACHE: OrderedDict[str, RenderedIssue] = OrderedDict()
_CACHE_SIZE = 64


def render_issue(doc: IssueDocument, slug: str, theme: Theme, settings: Settings) -> RenderedIssue:
    """Render an issue once; the same content, theme and address give the cached result."""
    key = _fingerprint(doc, slug, theme, settings)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    mjml_source, html = render_email_html(doc, slug, theme, settings)
    rendered = RenderedIssue(
        mjml=mjml_source,
        html=PersonalTemplate.compile(html, escape=True),
        text=PersonalTemplate.compile(render_text(doc, slug, theme, settings), escape=False),
        web_html=render_web(doc, slug, theme, settings),
        web_url=web_url(settings, slug),
    )
    _CACHE[key] = rendered
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return rendered
