"""The converter behind the text editor and paste: HTML in, the stored Markdown subset out.

Clipboard fixtures are in tests/data/paste/ (see its README for what each one shows). Every result
must also survive the round trip the composer makes each time a form is opened and saved: Markdown
rendered by newsletter/render/markdown.py into the editor, read back by the converter, is the same
Markdown.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.render import markdown
from newsletter.web.html_to_markdown import convert, html_to_markdown
from newsletter.web.richtext import NAME_CHIP, editor_html

PASTE = Path(__file__).resolve().parents[1] / "data" / "paste"
FIXTURES = sorted(path.stem for path in PASTE.glob("*.html"))


def round_trip(text: str) -> str:
    return html_to_markdown(editor_html(text))


def test_there_are_fixtures_for_word_google_docs_and_a_web_page() -> None:
    assert {"word365-chrome", "word2016-edge-mso-lists", "google-docs", "web-page"} <= set(FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_each_clipboard_fixture_gives_its_markdown(name: str) -> None:
    expected = (PASTE / f"{name}.md").read_text(encoding="utf-8").rstrip("\n")
    result = convert((PASTE / f"{name}.html").read_text(encoding="utf-8"))
    assert result.markdown == expected
    # What is stored renders as the subset allows and reads back the same.
    assert round_trip(result.markdown) == result.markdown


@pytest.mark.parametrize("name", FIXTURES)
def test_no_office_or_docs_noise_survives(name: str) -> None:
    text = html_to_markdown((PASTE / f"{name}.html").read_text(encoding="utf-8"))
    for noise in ("mso", "Mso", "o:p", "docs-internal-guid", "font-", "color", "Calibri", "Arial", "Symbol",
                  "Normal", "StartFragment", "·", "&nbsp;", "\u00a0", "<", "Check the age range", "dataLayer",
                  "Example Council", "javascript"):
        assert noise not in text, noise


def test_word_comment_list_and_references_are_dropped() -> None:
    text = html_to_markdown((PASTE / "word365-chrome.html").read_text(encoding="utf-8"))
    assert "Check the age range" not in text and "EHC plan." in text


def test_older_word_lists_become_real_lists_with_their_levels_and_kinds() -> None:
    text = html_to_markdown((PASTE / "word2016-edge-mso-lists.html").read_text(encoding="utf-8"))
    assert "- Any medicines, *clearly labelled*\n  - with the dose written down\n- A change" in text
    assert "1. Ring **01632 960 123**\n2. Fill in" in text
    rendered = markdown.to_html(text)
    assert rendered.count("<ul>") == 2 and rendered.count("<ol>") == 1


def test_google_docs_wrapper_is_not_bold_but_its_700_spans_are() -> None:
    result = convert((PASTE / "google-docs.html").read_text(encoding="utf-8"))
    assert result.markdown.startswith("**Co-production week**\n\nCome to our **drop-in sessions** at")
    assert "\n\n**Come" not in result.markdown
    assert result.notes == ["Headings were kept as bold text. For a section heading, add a Heading block."]


def test_a_docs_nested_list_beside_its_items_nests_under_the_item_before() -> None:
    html = "<ol><li>1</li><ul><li>A</li></ul><li>2</li></ol>"
    assert html_to_markdown(html) == "1. 1\n   - A\n2. 2"


# --- hostile HTML ------------------------------------------------------------------------------------


@pytest.mark.parametrize("html, expected", [
    ("<p>Hi<script>alert(1)</script></p>", "Hi"),
    ("<style>p{color:red}</style><p>Hi</p>", "Hi"),
    ('<p onclick="alert(1)" onmouseover="x()">Hi</p>', "Hi"),
    ('<a href="javascript:alert(1)">Hi</a>', "Hi"),
    ('<a href="JaVaScRiPt:alert(1)">Hi</a>', "Hi"),
    ('<a href="data:text/html;base64,PHNjcmlwdD4=">Hi</a>', "Hi"),
    ('<img src="data:image/png;base64,AAAA" onerror="alert(1)">Hi', "Hi"),
    ('<a href="vbscript:msgbox(1)">Hi</a>', "Hi"),
    ("<iframe src='https://evil.example'>x</iframe>Hi", "Hi"),
    ("<svg><script>alert(1)</script></svg>Hi", "Hi"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\<script\\>alert(1)\\</script\\>"),
    ('<p>[x](javascript:alert(1))</p>', "\\[x\\](javascript:alert(1))"),
    ("<p>**not bold** _nor this_ `code`</p>", "\\*\\*not bold\\*\\* \\_nor this\\_ \\`code\\`"),
])
def test_hostile_html_leaves_only_words(html: str, expected: str) -> None:
    text = html_to_markdown(html)
    assert text == expected
    rendered = markdown.to_html(text)
    assert "<script" not in rendered and "javascript:" not in rendered.lower().replace("(javascript:", "")
    assert "onerror" not in rendered and "<iframe" not in rendered


def test_typed_markdown_characters_stay_words() -> None:
    html = "<p>1. Not a list. # Not a heading</p><p>- not a bullet</p><p>+44 and &amp;amp; and &lt;b&gt;</p>"
    text = html_to_markdown(html)
    assert markdown.to_html(text) == (
        "<p>1. Not a list. # Not a heading</p>\n<p>- not a bullet</p>\n<p>+44 and &amp;amp; and &lt;b&gt;</p>\n")


def test_nested_lists_three_deep() -> None:
    html = "<ul><li>one<ul><li>two<ol start='4'><li>three</li><li>four</li></ol></li></ul></li><li>five</li></ul>"
    text = html_to_markdown(html)
    # "4." cannot interrupt a paragraph in CommonMark, so a blank line comes before it.
    assert text == "- one\n  - two\n\n    4. three\n    5. four\n- five"
    assert round_trip(text) == text


def test_tables_are_flattened_into_paragraphs() -> None:
    result = convert("<table><thead><tr><th>Day</th><th>Place</th></tr></thead>"
                     "<tbody><tr><td><b>Monday</b></td><td>Library</td></tr></tbody></table>")
    assert result.markdown == "Day\n\nPlace\n\n**Monday**\n\nLibrary"
    assert "A table was turned into paragraphs, one for each cell." in result.notes


def test_addresses_in_pasted_links_are_completed_or_dropped() -> None:
    html = ('<a href="www.example.org">w</a> <a href="jo@example.org">e</a> <a href="/relative">r</a> '
            '<a href="#top">t</a>')
    assert html_to_markdown(html) == "[w](https://www.example.org) [e](mailto:jo@example.org) r t"


def test_the_readers_name_chip_and_typed_token_are_both_the_name() -> None:
    html = f"<p>Hello {NAME_CHIP}, and [[name]] and [[ Name ]]</p>"
    assert html_to_markdown(html) == "Hello [[name]], and [[name]] and [[name]]"
    assert markdown.to_html("Hello [[name]]", name="there") == "<p>Hello there</p>\n"


def test_whitespace_and_emphasis_edges() -> None:
    assert html_to_markdown("<p><b>bold </b>word</p>") == "**bold** word"
    assert html_to_markdown("<p>a<b> b</b></p>") == "a **b**"
    assert html_to_markdown("<p><b><i>both</i></b> <i>it</i></p>") == "***both*** *it*"
    assert html_to_markdown("<p>line<br>next<br><br></p><p><br></p>") == "line\\\nnext"
    assert html_to_markdown("<p>&nbsp;</p><p>  </p>") == ""


def test_browser_editing_markup_divs_and_spans() -> None:
    html = ('<div>First</div><div><span style="font-weight: bold;">Second</span></div>'
            '<div><br></div><ul><li>x</li></ul><ul><li>y</li></ul>')
    assert html_to_markdown(html) == "First\n\n**Second**\n\n- x\n- y"


@pytest.mark.parametrize("text", [
    "Hello [[name]],\n\nParagraphs, **bold**, *italic*, [links](https://www.example.org) and lists:\n\n"
    "- bullet lists\n\n1. numbered lists",
    "If your child starts secondary school in September, **apply by 31 May**.",
    "- a\n- b\n  - c\n- d",
    "1. one\n\n2. two\n\n   more about two\n\n3. three",
    "Call [01632 960 123](tel:+441632960123) or [email us](mailto:localoffer@example.org).",
    "Line one\\\nline two",
    "Use `code` and ``a `tick` inside``",
    "**Bold with [a link](https://example.org) inside**",
    "A \\* star and a \\_ and 5 \\< 6",
])
def test_stored_markdown_survives_the_editor(text: str) -> None:
    assert round_trip(text) == text


@pytest.mark.parametrize("text", [
    "__bold__ and _italic_", "* star bullets\n* more", "Setext\n===", "# A heading in a field", "> quoted",
    "<b>raw</b> html", "[ref]: https://example.org\n\n[ref]", "1) paren\n2) list", "    indented code",
])
def test_other_markdown_settles_after_one_pass(text: str) -> None:
    once = round_trip(text)
    assert round_trip(once) == once


_words = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=12)


@st.composite
def _inline_html(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 5))):
        word = draw(_words).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        wrapper = draw(st.sampled_from(["", "b", "i", "a", "b-i"]))
        if wrapper == "a":
            word = f'<a href="https://example.org/{draw(st.integers(0, 9))}">{word}</a>'
        elif wrapper == "b-i":
            word = f"<b><i>{word}</i></b>"
        elif wrapper:
            word = f"<{wrapper}>{word}</{wrapper}>"
        parts.append(word)
    return " ".join(parts)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "ul", "ol"]), _inline_html()), min_size=1, max_size=4))
def test_any_editor_html_reaches_a_stable_markdown(blocks: list[tuple[str, str]]) -> None:
    html = "".join(f"<p>{inner}</p>" if kind == "p" else f"<{kind}><li>{inner}</li></{kind}>" for kind, inner in blocks)
    once = html_to_markdown(html)
    assert round_trip(once) == once
