"""The notice block (a call-out box) in all three outputs, and every block type of the README's
issue format reaching all three outputs."""

from __future__ import annotations

import html
import re

import lxml.html

from newsletter.config import Settings
from newsletter.issues.blocks import BLOCK_TYPES, parse_issue
from newsletter.render.markdown import NAME_TAG, strip_markup
from newsletter.render.pipeline import render_issue
from newsletter.theme import Theme

from tests.issues.test_block_registry import readme_example

PERSONAL = {"unsubscribe_url": "https://news.example.org/u/abc", "preferences_url": "https://news.example.org/p/abc",
            "name": "Sam"}
NOTICE = {
    "type": "notice",
    "heading": "Apply for school transport by 31 May",
    "body": "Hello [[name]], if your child starts a new school in September, **apply by 31 May**.\n\n"
            "- Read the [transport guide](https://example.org/guide)\n- Ask us if you need help"
            "<script>alert(1)</script>",
}


def _render(settings: Settings, *blocks: dict, slug: str = "notice-news"):
    doc = parse_issue({"title": "Autumn news", "subject": "Autumn news", "blocks": list(blocks)})
    return render_issue(doc, slug, Theme(), settings)


def test_notice_in_the_web_view_is_a_section_named_by_its_heading(settings: Settings) -> None:
    rendered = _render(settings, {"type": "heading", "text": "School transport"}, NOTICE)
    page = lxml.html.fromstring(rendered.web_html)
    (box,) = page.xpath("//section[@class='notice']")
    heading = page.get_element_by_id(box.get("aria-labelledby"))
    assert heading.tag == "h3" and heading.text_content() == NOTICE["heading"]
    assert box.xpath(".//strong")[0].text == "apply by 31 May"
    assert box.xpath(".//a/@href") == ["https://example.org/guide"]
    assert len(box.xpath(".//li")) == 2
    # The web view has no personal data, and script never survives the sanitiser.
    assert "Hello there," in box.text_content() and "Sam" not in rendered.web_html
    assert "<script" not in lxml.html.tostring(box, encoding="unicode")


def test_notice_in_the_email_is_a_bordered_box_with_readable_words(settings: Settings) -> None:
    email = _render(settings, NOTICE).html.fill(PERSONAL)
    page = lxml.html.fromstring(email)
    (cell,) = page.xpath("//td[contains(@style, 'border:2px solid #1d4f91')]")
    assert "border-left:8px solid #1d4f91" in cell.get("style")
    assert [h.tag for h in cell.xpath(".//h2")] == ["h2"]
    assert "Hello Sam," in cell.text_content()
    for styled in cell.xpath(".//*[contains(@style, 'font-size')]"):
        sizes = [int(size) for size in re.findall(r"font-size:\s*(\d+)px", styled.get("style"))]
        assert all(size >= 14 or size == 0 for size in sizes), styled.get("style")
    assert "alert(1)" not in email


def test_notice_in_the_text_part_has_its_heading_words_and_links(settings: Settings) -> None:
    text = _render(settings, NOTICE).text.fill(PERSONAL)
    assert "Apply for school transport by 31 May\n~~~~~~~~~~" in text
    assert "Hello Sam, if your child starts a new school in September, apply by 31 May." in " ".join(text.split())
    assert "https://example.org/guide" in text and "<script" not in text


def _seen(page: str) -> str:
    """The words of a page and its images' alt text, as a screen reader meets them."""
    tree = lxml.html.fromstring(page)
    return " ".join(" ".join([tree.text_content(), *tree.xpath("//img/@alt")]).split())


def test_every_block_type_of_the_readme_reaches_all_three_outputs(settings: Settings) -> None:
    doc = parse_issue(readme_example())
    rendered = render_issue(doc, "readme-example", Theme(), settings)
    email, web = (_seen(page) for page in (rendered.html.fill(PERSONAL), rendered.web_html))
    text = " ".join(rendered.text.fill(PERSONAL).split())
    for block in doc.blocks:
        # Each block's first words a reader sees must be in every output (a divider has none).
        for value, is_markdown in list(block.visible_words())[:1]:
            plain = html.unescape(strip_markup(NAME_TAG.sub("Sam", value))) if is_markdown else value
            first = " ".join(plain.split()[:4])
            assert first in email, (block.type, first)
            assert first.replace("Sam", "there") in web, (block.type, first)
            assert first in text, (block.type, first)
    assert {block.type for block in doc.blocks} == set(BLOCK_TYPES)
