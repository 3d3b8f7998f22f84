"""The rendering pipeline: everything the team wrote reaches the email, the text part and the web view."""

from __future__ import annotations

import email
import email.policy
import html
import re
from pathlib import Path

import lxml.html
import pytest

from newsletter.config import Settings
from newsletter.delivery.mime import single_copy
from newsletter.issues.blocks import IssueDocument, parse_issue
from newsletter.issues.yamlio import read_issue_file
from newsletter.render import markdown
from newsletter.render.pipeline import render_issue
from newsletter.theme import Theme

from tests.conftest import EXAMPLE

PERSONAL = {
    "unsubscribe_url": "https://news.example.org/u/abc?x=1&y=2",
    "preferences_url": "https://news.example.org/p/abc",
    "name": "Sam",
}


@pytest.fixture
def example(settings: Settings) -> IssueDocument:
    return read_issue_file(EXAMPLE, settings.media_dir)


def _normal(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _words(page: str) -> str:
    return _normal(lxml.html.fromstring(page).text_content())


def _attributes(page: str, xpath: str) -> list[str]:
    return [str(value) for value in lxml.html.fromstring(page).xpath(xpath)]


def _inline_pieces(source: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Paragraphs and list items of a markdown field as plain text, and its links as (label, href)."""
    texts, links = [], []
    for token in markdown._parser().parse(source):
        if token.type != "inline":
            continue
        parts, label, href = [], [], None
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
                if href is not None:
                    label.append(child.content)
            elif child.type == "softbreak":
                parts.append(" ")
            elif child.type == "link_open":
                href, label = str(child.attrs["href"]), []
            elif child.type == "link_close":
                links.append(("".join(label), href))
                href = None
        texts.append(_normal(markdown.NAME_TAG.sub("Sam", "".join(parts))))
    return texts, links


def _content(doc: IssueDocument) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Every piece of text, every meaningful alt text and every link the YAML holds."""
    texts: list[str] = [doc.title]
    alts: list[str] = []
    links: list[tuple[str, str]] = []
    for block in doc.blocks:
        data = block.model_dump()
        for field in ("markdown", "body"):
            if data.get(field):
                found_texts, found_links = _inline_pieces(data[field])
                texts += found_texts
                links += found_links
        if block.type == "quote":
            found_texts, found_links = _inline_pieces(block.text)
            texts += found_texts
            links += found_links
        elif block.type in ("heading",):
            texts.append(block.text)
        for field in ("title", "caption", "cite", "heading", "email", "phone", "label", "link_label"):
            if data.get(field):
                texts.append(data[field])
        if data.get("alt"):
            alts.append(data["alt"])
        for field, label in (("url", "label"), ("link_url", "link_label")):
            if data.get(field):
                links.append((data[label], data[field]))
        if data.get("link"):
            links.append((data.get("alt", ""), data["link"]))
        for link in data.get("links") or []:
            label = link.get("label") or ""
            links.append((label, link["url"]))
            if label:
                texts.append(label)
    return texts, alts, links


def test_every_part_of_the_example_reaches_all_three_outputs(example: IssueDocument, settings: Settings) -> None:
    rendered = render_issue(example, "co-production-week-2026", Theme(), settings)
    email_html = rendered.html.fill(PERSONAL)
    # Quote markers ("> ") begin each wrapped line of a quote; they are layout, not words.
    text = _normal(re.sub(r"^> ?", "", rendered.text.fill(PERSONAL), flags=re.M))
    web = rendered.web_html
    email_words, web_words = _words(email_html), _words(web)
    texts, alts, links = _content(example)
    assert len(texts) > 40 and len(alts) >= 3 and len(links) > 10
    for piece in texts:
        assert piece in email_words, f"missing from the email: {piece!r}"
        assert piece in text, f"missing from the text part: {piece!r}"
        assert piece.replace("Sam", "there") in web_words, f"missing from the web view: {piece!r}"
    for alt in alts:
        assert alt in _attributes(email_html, "//img/@alt")
        assert alt in _attributes(web, "//img/@alt")
        assert _normal(f"[Image: {alt}]") in text
    for label, href in links:
        assert href in _attributes(email_html, "//a/@href"), href
        assert href in _attributes(web, "//a/@href"), href
        assert href.removeprefix("mailto:").removeprefix("tel:").replace(" ", "") in text.replace(" ", "")


def test_decorative_images_have_empty_alt_and_are_not_described(settings: Settings) -> None:
    doc = parse_issue({"title": "T", "subject": "S", "blocks": [{"type": "image", "src": "https://e.org/x.png", "alt": ""}]})
    rendered = render_issue(doc, "t", Theme(), settings)
    assert _attributes(rendered.html.public, "//img/@alt") == [""]
    assert "[Image" not in rendered.text.public


def test_email_makes_no_third_party_request(example: IssueDocument, settings: Settings) -> None:
    page = render_issue(example, "x", Theme(), settings).html.public
    assert "fonts.googleapis" not in page
    assert not _attributes(page, "//link/@href")
    assert "@import" not in page
    for src in _attributes(page, "//img/@src"):
        assert src.startswith(settings.base_url + "/media/")


def test_email_carries_preheader_web_link_and_personal_footer(example: IssueDocument, settings: Settings) -> None:
    rendered = render_issue(example, "co-production-week-2026", Theme(), settings)
    page = rendered.html.fill(PERSONAL)
    assert example.preheader in _words(page)
    assert "View this email as a web page" in page
    assert f"{settings.base_url}/issues/co-production-week-2026" in _attributes(page, "//a/@href")
    assert PERSONAL["unsubscribe_url"] in _attributes(page, "//a/@href")
    assert PERSONAL["preferences_url"] in _attributes(page, "//a/@href")
    text = rendered.text.fill(PERSONAL)
    assert PERSONAL["unsubscribe_url"] in text and "View this email as a web page" in text


def test_personal_values_are_escaped_in_html_only(settings: Settings) -> None:
    doc = parse_issue({"title": "T", "subject": "S", "blocks": [{"type": "text", "markdown": "Hello [[name]]!"}]})
    rendered = render_issue(doc, "t", Theme(), settings)
    hostile = dict(PERSONAL, name='<script>alert("x")</script>')
    page = rendered.html.fill(hostile)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'Hello <script>alert("x")</script>!' in rendered.text.fill(hostile)


def test_web_view_has_no_personal_data_or_placeholders(example: IssueDocument, settings: Settings) -> None:
    web = render_issue(example, "x", Theme(), settings).web_html
    assert "NLP__" not in web
    assert "unsubscribe" not in web.lower()
    assert "Hello there," in _words(web)
    assert "<script" not in web


def test_script_in_markdown_never_reaches_any_output(settings: Settings) -> None:
    doc = parse_issue({"title": "T", "subject": "S", "blocks": [
        {"type": "text", "markdown": "Hi <script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))"},
        {"type": "quote", "text": "<iframe src='https://evil.example'></iframe>Quoted"},
    ]})
    rendered = render_issue(doc, "t", Theme(), settings)
    for page in (rendered.html.public, rendered.web_html):
        tree = lxml.html.fromstring(page)
        assert tree.xpath("//script | //iframe") == []
        assert tree.xpath("//@*[starts-with(name(), 'on')]") == []
        assert not [href for href in tree.xpath("//@href") if href.lower().startswith("javascript")]
        assert "alert(1)" not in page and "alert(2)" not in page
    assert "<script" not in rendered.text.public and "<iframe" not in rendered.text.public
    assert "Quoted" in rendered.text.public


def test_heading_outline_never_skips_a_level(example: IssueDocument, settings: Settings) -> None:
    for page in (render_issue(example, "x", Theme(), settings).html.public, render_issue(example, "x", Theme(), settings).web_html):
        levels = [int(el.tag[1]) for el in lxml.html.fromstring(page).iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels


def test_text_part_is_wrapped_and_keeps_lists(example: IssueDocument, settings: Settings) -> None:
    text = render_issue(example, "x", Theme(), settings).text.fill(PERSONAL)
    long_lines = [line for line in text.splitlines() if len(line) > 78 and "://" not in line]
    assert long_lines == []
    assert re.search(r"^- \S", text, re.M), "bullet lists are kept as lists"


def test_render_is_cached(example: IssueDocument, settings: Settings) -> None:
    first = render_issue(example, "x", Theme(), settings)
    assert render_issue(example, "x", Theme(), settings) is first
    changed = example.model_copy(update={"title": "Another title"})
    assert render_issue(changed, "x", Theme(), settings) is not first


def test_message_is_quoted_printable_crlf_and_short_lined(example: IssueDocument, settings: Settings) -> None:
    rendered = render_issue(example, "x", Theme(), settings)
    raw = single_copy(rendered, subject=example.subject, from_address=settings.from_address, to="reader@example.org",
                      language="en-GB", domain=settings.sender_domain, links_to=PERSONAL["unsubscribe_url"])
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)
    assert PERSONAL["unsubscribe_url"] in parts[1].get_content().replace("&amp;", "&")
    assert parsed["Message-ID"].endswith("@example.org>")


def test_email_stays_under_gmail_clipping(example: IssueDocument, settings: Settings) -> None:
    page = render_issue(example, "x", Theme(), settings).html.fill(PERSONAL)
    assert len(page.encode()) < 102_000
