"""Checks on the compiled email HTML: what a reader's mail client will actually get.

These look at the HTML after MJML and premailer, not at the blocks, because that is what screen
readers, zoom and phone mail apps meet: a layout table without role="presentation" or a 12px
footer only exists after compiling. Each check is a small function returning `Finding`s so it can
be tested with a few lines of broken HTML.

Problems a council officer can fix in the composer (link text, alt text, heading levels) say how;
problems that come from the templates or the theme say so, so nobody hunts for them in the content.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator

import lxml.html
from lxml.html import HtmlElement

from newsletter.checks.report import Finding

# Where a finding sits in the issue: takes an element, gives a 1-based block number or None.
Locate = Callable[[HtmlElement], int | None]

MINIMUM_FONT_PX = 14.0
MAX_LINE_OCTETS = 998  # RFC 5322 section 2.1.1, not counting the CRLF
DEFAULT_FONT_PX = 16.0

VAGUE_LINK_TEXT = frozenset({"click here", "here", "read more", "more", "link", "this link"})
_URL_TEXT = ("http://", "https://", "www.")
_EDGE_PUNCTUATION = string.punctuation + "…“”‘’«»–— \u00a0"
_INVISIBLE_TAGS = frozenset({"head", "title", "style", "script", "template", "noscript"})

_FONT_KEYWORDS = {
    "xx-small": 9.0,
    "x-small": 10.0,
    "small": 13.0,
    "medium": 16.0,
    "large": 18.0,
    "x-large": 24.0,
    "xx-large": 32.0,
    "xxx-large": 48.0,
}
_LENGTH = re.compile(r"^(-?\d*\.?\d+)\s*(px|pt|em|rem|%)?$")


def _nowhere(element: HtmlElement) -> int | None:
    return None


def parse(html: str) -> HtmlElement:
    """The document's <html> element; a fragment is wrapped in one (without lang), as a client would."""
    return lxml.html.document_fromstring(html)


def _elements(root: HtmlElement, tag: str | None = None) -> Iterator[HtmlElement]:
    """Real elements only: comments (MJML's Outlook conditionals) are not part of what is shown."""
    for element in root.iter(tag) if tag else root.iter():
        if isinstance(element.tag, str):
            yield element


def style_of(element: HtmlElement) -> dict[str, str]:
    """The inline style as lower-case property -> value (without !important)."""
    declarations: dict[str, str] = {}
    for part in (element.get("style") or "").split(";"):
        name, colon, value = part.partition(":")
        if colon:
            value = value.strip()
            value = re.sub(r"\s*!\s*important$", "", value, flags=re.IGNORECASE)
            declarations[name.strip().lower()] = value.lower()
    return declarations


def is_hidden(element: HtmlElement) -> bool:
    """Hidden from every reader: display:none, the hidden attribute or aria-hidden, on it or an ancestor.

    MJML's preheader div is display:none; it is read by the inbox list, not in the email, so the
    text checks leave it alone.
    """
    node: HtmlElement | None = element
    while node is not None:
        if isinstance(node.tag, str):
            if node.tag in _INVISIBLE_TAGS:
                return True
            if node.get("hidden") is not None or (node.get("aria-hidden") or "").strip().lower() == "true":
                return True
            if style_of(node).get("display", "").replace(" ", "") == "none":
                return True
        node = node.getparent()
    return False


def _snippet(text: str, length: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def block_locator(root: HtmlElement, block_count: int) -> Locate:
    """Map elements back to the issue's blocks through the compiled section structure.

    Every block partial is exactly one <mj-section>, and MJML compiles each section to one <div>
    directly inside the role="article" wrapper, after the 'view as a web page' bar and the masthead
    and before the footer. The shell's own sections after the blocks ("Was this newsletter useful?")
    carry the class `nl-after-blocks` and are not counted. When the count does not match (the shell
    changed), findings are kept but are not tied to a block rather than tied to the wrong one.
    """
    wrapper = root.find('.//div[@role="article"]')
    if wrapper is None:
        return _nowhere
    sections = [child for child in wrapper if isinstance(child.tag, str) and child.tag == "div"
                and "nl-after-blocks" not in (child.get("class") or "").split()]
    if len(sections) != block_count + 3:
        return _nowhere
    numbers = {section: position for position, section in enumerate(sections[2:-1], start=1)}

    def locate(element: HtmlElement) -> int | None:
        node: HtmlElement | None = element
        while node is not None:
            number = numbers.get(node)
            if number is not None:
                return number
            node = node.getparent()
        return None

    # `sections` stays referenced by `numbers`, so lxml keeps returning the same element proxies.
    return locate


# -- the document as a whole -------------------------------------------------------------------


def check_language(root: HtmlElement) -> list[Finding]:
    """<html> says which language and direction the email is in.

    Without lang a screen reader reads the email with the reader's default voice (English words
    in a Polish voice, say); without dir, right-to-left issues can come out mirrored.
    """
    findings: list[Finding] = []
    if not (root.get("lang") or "").strip():
        findings.append(
            Finding(
                "error",
                "missing-lang",
                "The email does not say what language it is in (no lang on <html>), so screen readers "
                "may read it in the wrong voice. Set the issue's language (for example en-GB); if it "
                "is set, the email template has lost it and needs fixing.",
            )
        )
    direction = (root.get("dir") or "").strip().lower()
    if direction not in ("ltr", "rtl", "auto"):
        findings.append(
            Finding(
                "error",
                "missing-dir",
                "The email does not say which way its text runs (no valid dir on <html>), so "
                "right-to-left languages can be shown back to front. The email template needs "
                'dir="ltr" or dir="rtl" on <html>.',
            )
        )
    return findings


def check_title(root: HtmlElement) -> list[Finding]:
    """A non-empty <title>: it is what a screen reader announces first, and the browser tab's name."""
    title = root.find(".//title")
    if title is None or not (title.text_content() or "").strip():
        return [
            Finding(
                "error",
                "missing-title",
                "The email has no title, so screen readers announce it as 'untitled'. Give the issue "
                "a title; if it has one, the email template has lost it and needs fixing.",
            )
        ]
    return []


def check_layout_tables(root: HtmlElement, locate: Locate = _nowhere) -> list[Finding]:
    """Every <table> has role="presentation".

    Emails are laid out with tables; without the role a screen reader announces "table, 3 rows,
    1 column" and cell positions around every paragraph. The newsletter never holds data tables.
    """
    findings: list[Finding] = []
    for table in _elements(root, "table"):
        if (table.get("role") or "").strip().lower() != "presentation":
            findings.append(
                Finding(
                    "error",
                    "table-role",
                    'A layout table has no role="presentation", so screen readers will read out rows '
                    "and columns around the content. This comes from the email template, not the "
                    "issue's words: report it to whoever looks after the newsletter templates.",
                    locate(table),
                )
            )
    return findings


def check_image_alt(root: HtmlElement, locate: Locate = _nowhere) -> list[Finding]:
    """Every <img> has an alt attribute (alt="" is a deliberate 'decorative' and is fine).

    With no alt at all, screen readers read out the image's file name or address instead.
    """
    findings: list[Finding] = []
    for image in _elements(root, "img"):
        if image.get("alt") is None:
            source = image.get("src") or "(no address)"
            findings.append(
                Finding(
                    "error",
                    "missing-alt",
                    f"The image {_snippet(source, 80)} has no alt text, so screen readers read out its "
                    "file name instead. Add alt text that says what the image shows, or leave the alt "
                    "text empty on purpose if the image is only decoration.",
                    locate(image),
                )
            )
    return findings


def check_headings(root: HtmlElement, locate: Locate = _nowhere) -> list[Finding]:
    """Exactly one <h1>, and no heading level skipped going down (h2 then h4).

    Many screen reader users move through an email by its headings; a missing level sounds like a
    section has gone missing, and two h1s make it unclear what the email is.
    """
    headings = [
        element
        for element in _elements(root)
        if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6") and not is_hidden(element)
    ]
    findings: list[Finding] = []
    top = [heading for heading in headings if heading.tag == "h1"]
    if not top:
        findings.append(
            Finding(
                "error",
                "missing-h1",
                "The email has no main heading (h1). The issue title should be the one main heading; "
                "the email template needs to show it as one.",
            )
        )
    elif len(top) > 1:
        names = ", ".join(f'"{_snippet(heading.text_content(), 40)}"' for heading in top)
        findings.append(
            Finding(
                "error",
                "multiple-h1",
                f"The email has {len(top)} main headings (h1): {names}. There should be only one, the "
                "issue title; make the others level 2 headings.",
                locate(top[1]),
            )
        )
    previous: int | None = None
    for heading in headings:
        level = int(heading.tag[1])
        if previous is not None and level > previous + 1:
            findings.append(
                Finding(
                    "error",
                    "skipped-heading",
                    f'The heading "{_snippet(heading.text_content(), 50)}" is level {level} but comes '
                    f"after a level {previous} heading, so a level is skipped and screen reader users may "
                    f"think a section is missing. Use a level {previous + 1} heading here, or add a "
                    f"level {previous + 1} heading before it.",
                    locate(heading),
                )
            )
        previous = level
    return findings


# -- links -------------------------------------------------------------------------------------


def link_name(link: HtmlElement) -> str:
    """What a screen reader says for a link: aria-label, else its words plus any image's alt text."""
    label = (link.get("aria-label") or "").strip()
    if label:
        return label
    parts = [link.text_content()]
    parts.extend(image.get("alt") or "" for image in _elements(link, "img"))
    return " ".join(" ".join(parts).split())


def check_link_text(root: HtmlElement, locate: Locate = _nowhere) -> list[Finding]:
    """Link text that makes sense on its own.

    Screen reader users often pull up a list of just the links; "click here" five times, or a web
    address read out letter by letter, tells them nothing. A mailto link showing the address is
    fine: an email address is what the reader needs.
    """
    findings: list[Finding] = []
    for link in _elements(root, "a"):
        href = (link.get("href") or "").strip()
        if not href or is_hidden(link):
            continue
        name = link_name(link)
        plain = name.strip(_EDGE_PUNCTUATION).lower()
        target = _snippet(href, 80)
        if not plain:
            findings.append(
                Finding(
                    "error",
                    "empty-link",
                    f"A link to {target} has no words a screen reader can read out (no text, and no alt "
                    "text on its image). Give the link words that say where it goes, or give its image "
                    "alt text that does.",
                    locate(link),
                )
            )
        elif plain in VAGUE_LINK_TEXT:
            findings.append(
                Finding(
                    "error",
                    "vague-link",
                    f'A link to {target} just says "{_snippet(name, 30)}", which means nothing when a screen '
                    "reader lists the links on their own. Change the link text to say where it goes, for "
                    'example "Read the short breaks guide".',
                    locate(link),
                )
            )
        elif name.lower().startswith(_URL_TEXT):
            findings.append(
                Finding(
                    "error",
                    "url-link-text",
                    f'A link shows a web address ("{_snippet(name, 50)}") as its text. Screen readers read '
                    "addresses out letter by letter and they are hard to follow. Use words that say where "
                    'it goes instead, for example "See the Local Offer directory".',
                    locate(link),
                )
            )
    return findings


# -- text size ---------------------------------------------------------------------------------


def _font_px(value: str, inherited: float) -> float | None:
    """A CSS font-size in px, relative units worked out against the inherited size; None if unknown."""
    value = value.strip().lower()
    if value in _FONT_KEYWORDS:
        return _FONT_KEYWORDS[value]
    if value == "smaller":
        return inherited / 1.2
    if value == "larger":
        return inherited * 1.2
    match = _LENGTH.match(value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2) or "px"
    if unit == "px":
        return number
    if unit == "pt":
        return number * 4 / 3
    if unit == "em":
        return number * inherited
    if unit == "rem":
        return number * DEFAULT_FONT_PX
    return number * inherited / 100  # %


def _text_owners(root: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    """Each piece of visible text with the element whose font size it takes.

    An element's .text is its own; a child's .tail belongs to the parent (that includes the tail
    of a comment, which is how text after an MJML Outlook conditional is stored).
    """
    for element in _elements(root):
        if element.text and element.text.strip():
            yield element, element.text
        for child in element:
            if child.tail and child.tail.strip():
                yield element, child.tail


def check_font_size(root: HtmlElement, locate: Locate = _nowhere, minimum: float = MINIMUM_FONT_PX) -> list[Finding]:
    """No visible text smaller than 14px.

    Only text decides: MJML sets font-size:0 on layout wrappers to close gaps between columns,
    and those hold no text of their own, so following each piece of text to the element whose
    inline font-size it takes avoids flagging them. Hidden text (the preheader) is skipped.
    """
    sizes: dict[HtmlElement, tuple[float, HtmlElement | None]] = {}

    def size_of(element: HtmlElement) -> tuple[float, HtmlElement | None]:
        """(size in px, the element whose inline font-size set it) for an element."""
        if element in sizes:
            return sizes[element]
        parent = element.getparent()
        inherited, source = size_of(parent) if parent is not None else (DEFAULT_FONT_PX, None)
        declared = style_of(element).get("font-size")
        if declared is not None:
            px = _font_px(declared, inherited)
            if px is not None:
                inherited, source = px, element
        sizes[element] = (inherited, source)
        return inherited, source

    flagged: dict[HtmlElement, tuple[float, str]] = {}
    for owner, text in _text_owners(root):
        if is_hidden(owner):
            continue
        px, source = size_of(owner)
        if source is not None and px < minimum:
            size, words = flagged.get(source, (px, ""))
            flagged[source] = (size, (words + " " + text).strip())
    findings = []
    for source, (px, words) in flagged.items():
        findings.append(
            Finding(
                "error",
                "small-text",
                f'The text "{_snippet(words, 50)}" is {px:g}px, below the {minimum:g}px minimum, so many '
                "readers would have to zoom in to read it. If this is the issue's main text, set the "
                "theme's base_font_size to 16; otherwise the email template sets this size and needs "
                "fixing.",
                locate(source),
            )
        )
    return findings


# -- the MIME message --------------------------------------------------------------------------


def check_line_length(message: bytes | None, limit: int = MAX_LINE_OCTETS) -> list[Finding]:
    """No line of the raw message over 998 octets (RFC 5322), skipped when there is no message.

    Mail servers may cut or refold longer lines, which breaks links and layout in the middle of
    the email; the fix is in how the message is encoded, never in the issue's words.
    """
    if message is None:
        return []
    long_lines = []
    for number, line in enumerate(message.split(b"\n"), start=1):
        length = len(line.removesuffix(b"\r"))
        if length > limit:
            long_lines.append((number, length))
    if not long_lines:
        return []
    first, length = long_lines[0]
    count = len(long_lines)
    return [
        Finding(
            "error",
            "long-line",
            f"{count} line{'s' if count != 1 else ''} of the email message {'are' if count != 1 else 'is'} "
            f"longer than {limit} characters (the first is line {first}, {length} characters). Mail "
            "servers may cut such lines and break the email. This is not caused by the issue's content: "
            "report it so the message is sent with quoted-printable or base64 encoding.",
        )
    ]


def email_html_findings(html: str, message: bytes | None = None, block_count: int | None = None) -> list[Finding]:
    """Every check above on one compiled email; `block_count` lets findings name their block."""
    root = parse(html)
    locate = block_locator(root, block_count) if block_count is not None else _nowhere
    return [
        *check_language(root),
        *check_title(root),
        *check_layout_tables(root, locate),
        *check_image_alt(root, locate),
        *check_headings(root, locate),
        *check_link_text(root, locate),
        *check_font_size(root, locate),
        *check_line_length(message),
    ]
