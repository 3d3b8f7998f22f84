"""HTML from the text editor or the clipboard, turned into the Markdown subset a prose field stores.

The subset is the one `newsletter.render.markdown` renders: paragraphs, bold, italic, links (http,
https, mailto, tel), bulleted and numbered lists (nested too), line breaks, and `[[name]]`. Anything
else keeps its words and loses its form: headings become bold paragraphs (a prose field cannot hold
a heading; the team adds a Heading block for a section), tables become one paragraph a cell, quotes
plain paragraphs; images, fonts, colours, comments and styles go.

The HTML is first cleaned by nh3 (the same sanitiser the email uses), which removes script, style
and their content, event attributes and links that are not http(s), mailto or tel. What survives is
read as a tree, with three kinds of clipboard HTML in mind:

- Word (2016 to 365, from Chrome, Edge or Firefox): `mso-` styles, `<o:p>`, class `MsoNormal`, and
  lists either as real `<ul>`/`<ol>` or, from older Word, as paragraphs styled `mso-list:l0 level1
  lfo1` whose bullet or number is a `mso-list:Ignore` span; comments as `mso-element:comment` divs.
- Google Docs: everything wrapped in `<b id="docs-internal-guid-..." style="font-weight:normal">`
  (not bold), bold as `font-weight:700` spans and italic as `font-style:italic`, and nested lists
  placed directly inside their parent list rather than inside an item.
- Web pages and the browser's own editing: `<b>`, `<strong>`, `<i>`, `<em>`, `<div>`, `<br>`.

The converter is also the server's reading of the editor, so the Markdown written for some HTML,
rendered again by `newsletter.render.markdown` and read back, gives the same Markdown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3

from newsletter.render.markdown import NAME_TAG
from newsletter.web.links_input import try_normalise

NAME_TOKEN = "[[name]]"
MAX_HTML = 1_000_000

_KEPT_TAGS = {
    "p", "div", "br", "b", "strong", "i", "em", "u", "s", "strike", "del", "ins", "span", "font", "a",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "table", "thead",
    "tbody", "tfoot", "tr", "td", "th", "caption", "dl", "dt", "dd", "section", "article", "header",
    "footer", "main", "aside", "figure", "figcaption", "hr", "sup", "sub", "small", "mark", "abbr", "cite",
    "q", "address", "center", "nav",
}
_KEPT_STYLES = {"font-weight", "font-style", "mso-list", "mso-element", "display", "visibility"}
# Removed with everything inside: Word's document properties (`<xml>`), the head's title and styles.
_DROPPED_WITH_CONTENT = {"script", "style", "title", "xml", "head", "template", "noscript", "select",
                         "textarea", "object", "iframe", "svg", "math"}

_BLOCK = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "thead", "tbody",
    "tfoot", "tr", "td", "th", "caption", "dl", "dt", "dd", "section", "article", "header", "footer",
    "main", "aside", "figure", "figcaption", "hr", "address", "center", "nav",
}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_WORD_LIST = re.compile(r"\bl(\d+)\s+level(\d+)")
_ORDERED_MARKER = re.compile(r"^\(?([0-9]+|[a-zA-Z]|[ivxlcdmIVXLCDM]+)[.)]$")
_SPACE = re.compile(r"[ \t\n\r\f\v\u00a0\u200b]+")


def sanitise_input(html: str) -> str:
    """The clipboard's or editor's HTML with nothing dangerous left: the first step of every conversion."""
    return nh3.clean(
        html[:MAX_HTML],
        tags=_KEPT_TAGS,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes={"*": {"style", "class"}, "a": {"href"}, "ol": {"start"}, "span": {"data-token"}},
        filter_style_properties=_KEPT_STYLES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel=None,
        strip_comments=True,
    )


# --- a small tree -----------------------------------------------------------------------------------


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    children: list[_Element | str] = field(default_factory=list)

    def style(self, name: str) -> str:
        for declaration in self.attrs.get("style", "").split(";"):
            key, _, value = declaration.partition(":")
            if key.strip().lower() == name:
                return value.strip().lower()
        return ""

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)


_VOID = {"br", "hr"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Element("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = _Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _parse(html: str) -> _Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --- what the tree says -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Marks:
    bold: bool = False
    italic: bool = False
    href: str | None = None
    # Inside a heading: bold whatever the spans say (Google Docs sets font-weight:400 on heading text).
    heading: bool = False


@dataclass
class _Run:
    kind: str  # "text", "br", "name", "code"
    text: str
    marks: _Marks


@dataclass
class _Paragraph:
    runs: list[_Run] = field(default_factory=list)
    # Word's older lists are paragraphs: (list id, level, ordered, number shown) when this is one.
    word_list: tuple[str, int, bool, int | None] | None = None


@dataclass
class _List:
    ordered: bool
    start: int = 1
    items: list[list[_Paragraph | _List]] = field(default_factory=list)


_Blocks = list["_Paragraph | _List"]


@dataclass
class Converted:
    markdown: str
    # Plain-words notes for the person pasting: what could not be kept as it was.
    notes: list[str] = field(default_factory=list)


def _is_hidden(element: _Element) -> bool:
    classes = element.attrs.get("class", "").lower().split()
    return (
        element.style("display") == "none"
        or element.style("visibility") == "hidden"
        or element.style("mso-element") in ("comment-list", "comment", "footnote-list", "endnote-list")
        or any(name in ("msocommentreference", "msocomanchor", "msocommenttext", "msocomoff") for name in classes)
    )


def _weight(element: _Element) -> bool | None:
    value = element.style("font-weight")
    if not value:
        return None
    if value in ("bold", "bolder") or (value.isdigit() and int(value) >= 600):
        return True
    return False


def _italic(element: _Element) -> bool | None:
    value = element.style("font-style")
    if not value:
        return None
    return value in ("italic", "oblique")


class _Reader:
    def __init__(self) -> None:
        self.notes: set[str] = set()

    def blocks(self, element: _Element, marks: _Marks) -> _Blocks:
        """Block content of `element`: paragraphs and lists in order."""
        out: _Blocks = []
        current = _Paragraph()

        def flush() -> None:
            nonlocal current
            if any(run.kind != "br" and (run.kind != "text" or run.text.strip()) for run in current.runs):
                out.append(current)
            current = _Paragraph()

        def walk(node: _Element | str, marks: _Marks) -> None:
            if isinstance(node, str):
                current.runs.append(_Run("text", node, marks))
                return
            tag = node.tag
            if _is_hidden(node):
                return
            if tag == "span" and node.attrs.get("data-token") == "name":
                current.runs.append(_Run("name", NAME_TOKEN, marks))
                return
            if node.style("mso-list") == "ignore":
                return  # Word's typed bullet or number: the list itself says it
            if tag == "br":
                current.runs.append(_Run("br", "\n", marks))
                return
            inner = self._marks(node, marks)
            if tag in ("ul", "ol"):
                flush()
                out.append(self.list(node, inner))
                return
            if tag == "li":  # an item outside any list: its words are a paragraph
                flush()
                out.extend(self.blocks(node, inner))
                return
            if tag == "code":
                current.runs.append(_Run("code", node.text(), inner))
                return
            if tag in _BLOCK:
                flush()
                if tag in _HEADINGS:
                    self.notes.add("heading")
                    inner = _Marks(True, inner.italic, inner.href, heading=True)
                if tag == "table":
                    self.notes.add("table")
                word = _WORD_LIST.search(node.style("mso-list")) if tag in ("p", *_HEADINGS) else None
                if word:
                    current.word_list = (word.group(1), int(word.group(2)), *self._word_marker(node))
                for child in node.children:
                    walk(child, inner)
                flush()
                return
            for child in node.children:
                walk(child, inner)

        for child in element.children:
            walk(child, marks)
        flush()
        return _group_word_lists(out)

    def _marks(self, node: _Element, marks: _Marks) -> _Marks:
        bold, italic, href = marks.bold, marks.italic, marks.href
        if node.tag in ("b", "strong"):
            bold = True
        if node.tag in ("i", "em"):
            italic = True
        weight = _weight(node)
        if weight is not None and not marks.heading:
            bold = weight  # Google Docs' wrapper is <b style="font-weight:normal">: not bold
        slant = _italic(node)
        if slant is not None:
            italic = slant
        if node.tag == "a" and node.attrs.get("href"):
            href = try_normalise(node.attrs["href"])
            if href is None:
                self.notes.add("link")
        return _Marks(bold, italic, href, marks.heading)

    def _word_marker(self, node: _Element) -> tuple[bool, int | None]:
        """Whether an older Word list paragraph is numbered (from its typed marker), and its number."""
        def find(element: _Element) -> str | None:
            for child in element.children:
                if isinstance(child, _Element):
                    if child.style("mso-list") == "ignore":
                        return child.text()
                    found = find(child)
                    if found is not None:
                        return found
            return None

        marker = _SPACE.sub(" ", find(node) or "").strip()
        match = _ORDERED_MARKER.match(marker)
        if not match:
            return False, None
        return True, int(match.group(1)) if match.group(1).isdigit() else None

    def list(self, node: _Element, marks: _Marks) -> _List:
        ordered = node.tag == "ol"
        start = node.attrs.get("start", "1")
        result = _List(ordered, int(start) if start.isdigit() else 1)
        for child in node.children:
            if isinstance(child, str):
                if child.strip():
                    result.items.append([_Paragraph([_Run("text", child, marks)])])
                continue
            if _is_hidden(child):
                continue
            if child.tag in ("ul", "ol"):
                nested = self.list(child, marks)
                # Google Docs puts a nested list beside the items, not inside the one before it.
                if result.items:
                    result.items[-1].append(nested)
                else:
                    result.items.append([nested])
                continue
            blocks = self.blocks(child, self._marks(child, marks)) if child.tag == "li" else \
                self.blocks(_Element("div", {}, [child]), marks)
            if blocks:
                result.items.append(blocks)
        return result


def _group_word_lists(blocks: _Blocks) -> _Blocks:
    """Consecutive Word list paragraphs become one list, nested by their level."""
    out: _Blocks = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if not isinstance(block, _Paragraph) or block.word_list is None:
            out.append(block)
            index += 1
            continue
        run_end = index
        while run_end < len(blocks) and isinstance(blocks[run_end], _Paragraph) \
                and blocks[run_end].word_list is not None:  # type: ignore[union-attr]
            run_end += 1
        out.extend(_nest(blocks[index:run_end]))  # type: ignore[arg-type]
        index = run_end
    return out


def _nest(paragraphs: list[_Paragraph]) -> _Blocks:
    top: _Blocks = []
    # (level, list) from the outermost open list inwards.
    open_lists: list[tuple[int, _List]] = []
    for paragraph in paragraphs:
        assert paragraph.word_list is not None
        _, level, ordered, number = paragraph.word_list
        paragraph.word_list = None
        while open_lists and open_lists[-1][0] > level:
            open_lists.pop()
        if open_lists and open_lists[-1][0] == level and open_lists[-1][1].ordered != ordered:
            open_lists.pop()  # the same level changes kind: a new list
        if not open_lists or open_lists[-1][0] < level:
            new = _List(ordered, number or 1)
            if open_lists and open_lists[-1][1].items:
                open_lists[-1][1].items[-1].append(new)
            elif open_lists:
                open_lists[-1][1].items.append([new])
            else:
                top.append(new)
            open_lists.append((level, new))
        open_lists[-1][1].items.append([paragraph])
    return top


# --- writing Markdown -------------------------------------------------------------------------------


_ESCAPE = re.compile(r"([\\`*_\[\]<>])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_LINE_START = re.compile(r"^(\s*)([#=+-]|~~~|([0-9]+)([.)]))")


def _escape(text: str) -> str:
    """Words as Markdown that renders them as they are; `[[name]]` stays the reader's name."""
    parts = NAME_TAG.split(text)
    escaped = [_ENTITY.sub("\\\\&", _ESCAPE.sub(r"\\\1", part)) for part in parts]
    return NAME_TOKEN.join(escaped)


def _escape_line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if not match:
        return line
    if match.group(3):  # "1." at the start would begin a numbered list
        return line[: match.end(3)] + "\\" + line[match.end(3):]
    return line[: match.start(2)] + "\\" + line[match.start(2):]


def _code(text: str) -> str:
    text = _SPACE.sub(" ", text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _inline(runs: list[_Run]) -> str:
    """Runs as one paragraph of Markdown, emphasis and links opened and closed around the words."""
    # Whitespace folds as HTML folds it; a line break is kept, but never two in a row or at either end.
    pieces: list[tuple[str, _Run]] = []

    def blank(piece: tuple[str, _Run]) -> bool:
        return piece[1].kind == "text" and not piece[0].strip(" ")

    for run in runs:
        text = _SPACE.sub(" ", run.text) if run.kind == "text" else run.text
        if run.kind == "text" and not text:
            continue
        if run.kind == "br":
            while pieces and blank(pieces[-1]):
                pieces.pop()
            if not pieces or pieces[-1][1].kind == "br":
                continue
        elif blank((text, run)) and pieces and pieces[-1][1].kind == "br":
            continue
        pieces.append((text, run))
    while pieces and (pieces[-1][1].kind == "br" or blank(pieces[-1])):
        pieces.pop()
    out: list[str] = []
    stack: list[str] = []  # open marks, outermost first: "link", "bold", "italic"
    href_open: str | None = None
    pending_space = ""

    def wanted(marks: _Marks) -> list[str]:
        names = []
        if marks.href:
            names.append("link")
        if marks.bold:
            names.append("bold")
        if marks.italic:
            names.append("italic")
        return names

    def close_to(keep: int) -> None:
        nonlocal href_open
        while len(stack) > keep:
            name = stack.pop()
            if name == "link":
                out.append(f"]({href_open})")
                href_open = None
            else:
                out.append("**" if name == "bold" else "*")

    at_line_start = True
    for text, run in pieces:
        if run.kind == "br":
            close_to(0)
            pending_space = ""
            out.append("\\\n")
            at_line_start = True
            continue
        if run.kind == "text":
            lead = len(text) - len(text.lstrip(" "))
            core = text.strip(" ")
            if not core:
                pending_space = pending_space or " "
                continue
            leading, trailing = text[:lead], text[lead + len(core):]
        else:
            core, leading, trailing = text, "", ""
        want = wanted(run.marks)
        # Marks already open stay open, in their order, as long as they are still wanted; a link to
        # somewhere else is a new link.
        keep = 0
        while keep < len(stack) and stack[keep] in want \
                and not (stack[keep] == "link" and href_open != run.marks.href):
            keep += 1
        close_to(keep)
        want = [name for name in want if name not in stack]
        space = pending_space or leading[:1]
        if space and not at_line_start:
            out.append(" ")
        pending_space = ""
        for name in want:
            if name == "link":
                out.append("[")
                href_open = run.marks.href
            else:
                out.append("**" if name == "bold" else "*")
            stack.append(name)
        if run.kind == "name":
            out.append(NAME_TOKEN)
        elif run.kind == "code":
            out.append(_code(core))
        else:
            out.append(_escape(core))
        at_line_start = False
        pending_space = trailing[:1]
    close_to(0)
    return "\n".join(_escape_line_start(line) for line in "".join(out).split("\n"))


def _merge_lists(blocks: _Blocks) -> _Blocks:
    """Two lists of one kind side by side are one list in Markdown: make them one here too."""
    out: _Blocks = []
    for block in blocks:
        if isinstance(block, _List):
            block.items = [_merge_lists(item) for item in block.items]
            block.items = [item for item in block.items if item]
            if not block.items:
                continue
            if out and isinstance(out[-1], _List) and out[-1].ordered == block.ordered:
                out[-1].items.extend(block.items)
                continue
        elif not _inline(block.runs):
            continue
        out.append(block)
    return out


def _write_blocks(blocks: _Blocks) -> list[str]:
    return [_write_list(block) if isinstance(block, _List) else _inline(block.runs) for block in blocks]


def _write_list(block: _List) -> str:
    number = block.start
    items: list[str] = []
    loose = False
    for item in block.items:
        marker = f"{number}. " if block.ordered else "- "
        number += 1
        indent = " " * len(marker)
        parts: list[str] = []
        for index, (child, text) in enumerate(zip(item, _write_blocks(item))):
            if index:
                # A paragraph after anything in the same item needs a blank line (making the list loose);
                # a list right after the item's first words does not, unless it is numbered from other
                # than 1 (CommonMark lets only "1." interrupt a paragraph).
                joined_tight = isinstance(child, _List) and isinstance(item[index - 1], _Paragraph) \
                    and (not child.ordered or child.start == 1)
                if not joined_tight:
                    loose = True
                parts.append("\n" if joined_tight else "\n\n")
            parts.append(text)
        body = "".join(parts)
        lines = body.split("\n")
        written = [marker + lines[0]] + [(indent + line) if line else "" for line in lines[1:]]
        items.append("\n".join(written))
    return ("\n\n" if loose else "\n").join(items)


def convert(html: str) -> Converted:
    """HTML (the editor's, or pasted from Word, Google Docs or a web page) as the stored Markdown subset."""
    reader = _Reader()
    tree = _parse(sanitise_input(html))
    blocks = _merge_lists(reader.blocks(tree, _Marks()))
    markdown = "\n\n".join(text for text in _write_blocks(blocks) if text)
    notes = []
    if "heading" in reader.notes:
        notes.append("Headings were kept as bold text. For a section heading, add a Heading block.")
    if "table" in reader.notes:
        notes.append("A table was turned into paragraphs, one for each cell.")
    if "link" in reader.notes:
        notes.append("A link that did not go to a web page, an email address or a phone number was kept as text.")
    return Converted(markdown, notes)


def html_to_markdown(html: str) -> str:
    return convert(html).markdown
