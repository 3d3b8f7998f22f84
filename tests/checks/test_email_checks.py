"""Each email HTML check catches its fault in a few lines of broken HTML and passes the good version;
then the real renderer's output for a realistic issue passes every check."""

from __future__ import annotations

import pytest

from newsletter.checks.email_html import (
    check_font_size,
    check_headings,
    check_image_alt,
    check_language,
    check_layout_tables,
    check_line_length,
    check_link_text,
    check_title,
    email_html_findings,
    parse,
)
from newsletter.checks.report import CheckReport, Finding
from newsletter.checks.runner import check_issue
from newsletter.config import load_settings
from newsletter.issues.blocks import parse_issue
from newsletter.render.pipeline import render_issue
from newsletter.theme import Logo, Theme

# The built-in theme's colours with a council's own footer: the example address would be an error.
COUNCIL = Theme(postal_address="Civic Centre, Mill Lane, Brackenfield, BF1 4QT",
                contact_email="localoffer@brackenfield.gov.uk")

GOOD = """<!doctype html>
<html lang="en-GB" dir="ltr"><head><title>Summer news</title></head>
<body style="margin:0">
<div style="display:none;font-size:1px;max-height:0px;overflow:hidden;">Preheader for the inbox list</div>
<div role="article">
<table role="presentation"><tr><td style="font-size:0px;padding:0">
  <div style="font-size:0px;display:inline-block">
    <div style="font-size:16px;color:#1f1f1f">
      <p style="font-size:14px">News for SEND families</p>
      <h1>Summer news</h1>
      <h2>Events</h2><h3>Drop-in</h3><h2>Contact</h2>
      <p>Read <a href="https://example.org/guide">the short breaks guide</a> or email
      <a href="mailto:team@example.org">team@example.org</a>.</p>
      <a href="https://example.org/map"><img src="map.png" alt="Map of the library"></a>
      <img src="line.png" alt="">
      <p style="font-size:1px;border-top:1px solid #000"></p>
    </div>
  </div>
</td></tr></table>
</div>
</body></html>"""


def codes(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def test_good_html_passes_every_check():
    assert email_html_findings(GOOD, message=b"Subject: x\r\n\r\nshort\r\n") == []


# -- lang and dir ----------------------------------------------------------------------------------


def test_missing_lang_and_dir():
    root = parse("<html><head><title>T</title></head><body><p>Hi</p></body></html>")
    assert codes(check_language(root)) == ["missing-lang", "missing-dir"]


def test_bad_dir_value():
    assert codes(check_language(parse('<html lang="ar" dir="backwards"><body>x</body></html>'))) == ["missing-dir"]


def test_lang_and_dir_present():
    assert check_language(parse('<html lang="ar" dir="rtl"><body>x</body></html>')) == []


# -- title -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", ["", "<title></title>", "<title>   </title>"])
def test_missing_or_empty_title(head: str):
    root = parse(f'<html lang="en"><head>{head}</head><body>x</body></html>')
    assert codes(check_title(root)) == ["missing-title"]


def test_title_present():
    assert check_title(parse(GOOD)) == []


# -- layout tables ---------------------------------------------------------------------------------


def test_table_without_role_presentation():
    root = parse('<html><body><table role="presentation"><tr><td><table><tr><td>x</td></tr></table></td></tr></table></body></html>')
    findings = check_layout_tables(root)
    assert codes(findings) == ["table-role"]
    assert "template" in findings[0].message


def test_table_with_other_role_is_caught():
    assert codes(check_layout_tables(parse('<table role="grid"><tr><td>x</td></tr></table>'))) == ["table-role"]


# -- images ----------------------------------------------------------------------------------------


def test_image_without_alt():
    findings = check_image_alt(parse('<p><img src="https://example.org/photo.jpg"></p>'))
    assert codes(findings) == ["missing-alt"]
    assert "photo.jpg" in findings[0].message


def test_empty_alt_is_a_decision_not_a_fault():
    assert check_image_alt(parse('<p><img src="a.png" alt=""><img src="b.png" alt="A family"></p>')) == []


# -- headings --------------------------------------------------------------------------------------


def test_no_h1():
    assert codes(check_headings(parse("<h2>A</h2><h3>B</h3>"))) == ["missing-h1"]


def test_two_h1():
    assert codes(check_headings(parse("<h1>A</h1><h2>B</h2><h1>C</h1>"))) == ["multiple-h1"]


def test_skipped_level():
    findings = check_headings(parse("<h1>News</h1><h2>Events</h2><h4>Drop-in</h4>"))
    assert codes(findings) == ["skipped-heading"]
    assert '"Drop-in" is level 4' in findings[0].message and "level 3" in findings[0].message


def test_h1_straight_to_h3():
    assert codes(check_headings(parse("<h1>News</h1><h3>Drop-in</h3>"))) == ["skipped-heading"]


def test_going_back_up_any_number_of_levels_is_fine():
    assert check_headings(parse("<h1>A</h1><h2>B</h2><h3>C</h3><h4>D</h4><h2>E</h2><h3>F</h3>")) == []


def test_hidden_heading_is_ignored():
    assert check_headings(parse('<h1>A</h1><div style="display: none"><h4>x</h4></div><h2>B</h2>')) == []


# -- link text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["click here", "Click Here.", "here", "Read more", "read more…", "More", "more »", "link", "This link", " HERE! "],
)
def test_vague_link_text(text: str):
    findings = check_link_text(parse(f'<p><a href="https://example.org/guide">{text}</a></p>'))
    assert codes(findings) == ["vague-link"]
    assert "https://example.org/guide" in findings[0].message


@pytest.mark.parametrize(
    "link",
    [
        '<a href="https://example.org/x"></a>',
        '<a href="https://example.org/x">  </a>',
        '<a href="https://example.org/x"><img src="a.png" alt=""></a>',
        '<a href="https://example.org/x"><img src="a.png"></a>',
        '<a href="https://example.org/x">…</a>',
    ],
)
def test_empty_link(link: str):
    assert codes(check_link_text(parse(f"<p>{link}</p>"))) == ["empty-link"]


@pytest.mark.parametrize(
    "text", ["https://example.org/guide", "http://example.org", "www.example.org/guide", "HTTPS://EXAMPLE.ORG"]
)
def test_bare_url_as_link_text(text: str):
    assert codes(check_link_text(parse(f'<p><a href="https://example.org/guide">{text}</a></p>'))) == ["url-link-text"]


@pytest.mark.parametrize(
    "link",
    [
        '<a href="mailto:team@example.org">team@example.org</a>',
        '<a href="tel:01610000000">0161 000 0000</a>',
        '<a href="https://example.org/g">Read more about short breaks</a>',
        '<a href="https://example.org/g"><img src="a.png" alt="Short breaks guide"></a>',
        '<a href="https://example.org/g" aria-label="Short breaks guide"><img src="a.png" alt=""></a>',
        '<a href="https://example.org/g"><strong>Here is the guide</strong></a>',
        '<a name="top"></a>',
    ],
)
def test_meaningful_links_pass(link: str):
    assert check_link_text(parse(f"<p>{link}</p>")) == []


# -- text size -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["12px", "13.5px", "10pt", "0.8em", "80%", "x-small", "small"])
def test_small_text(size: str):
    findings = check_font_size(parse(f'<div style="font-size: {size}">Small print</div>'))
    assert codes(findings) == ["small-text"]
    assert '"Small print"' in findings[0].message


def test_small_text_inherited_into_a_child_is_reported_once_at_its_source():
    html = '<div style="font-size:12px"><p>One</p><p>Two <strong>three</strong></p></div>'
    findings = check_font_size(parse(html))
    assert codes(findings) == ["small-text"]
    assert "One Two three" in findings[0].message


def test_text_reset_to_a_readable_size_inside_a_zero_wrapper_passes():
    html = '<td style="font-size:0"> <div style="font-size:0px"> <div style="font-size:16px">Body text</div> </div> </td>'
    assert check_font_size(parse(html)) == []


def test_text_directly_in_a_zero_wrapper_is_caught():
    html = '<td style="font-size:0px"><div style="font-size:16px">Body</div>stray words</td>'
    assert codes(check_font_size(parse(html))) == ["small-text"]


def test_hidden_preheader_and_empty_divider_are_ignored():
    html = (
        '<div style="display:none;font-size:1px;line-height:1px">Preheader text</div>'
        '<p style="font-size:1px;border-top:1px solid #505a5f"></p>'
        '<img src="a.png" alt="A photo" style="font-size:13px">'
    )
    assert check_font_size(parse(html)) == []


def test_14px_and_larger_pass():
    assert check_font_size(parse('<p style="font-size:14px">a</p><p style="font-size:1.5em">b</p>')) == []


# -- raw message line length -------------------------------------------------------------------------


def test_no_message_no_check():
    assert check_line_length(None) == []


def test_998_octets_is_the_limit():
    ok = b"Subject: x\r\n\r\n" + b"a" * 998 + b"\r\n"
    too_long = b"Subject: x\r\n\r\n" + b"a" * 999 + b"\r\n" + b"b" * 1200 + b"\n"
    assert check_line_length(ok) == []
    findings = check_line_length(too_long)
    assert codes(findings) == ["long-line"]
    assert "2 lines" in findings[0].message and "line 3" in findings[0].message


def test_multibyte_characters_count_as_octets():
    line = "é".encode() * 500  # 500 characters, 1000 octets
    assert codes(check_line_length(b"Subject: x\r\n\r\n" + line + b"\r\n")) == ["long-line"]


# -- the report ------------------------------------------------------------------------------------


def test_report_format():
    report = CheckReport(
        findings=[
            Finding("warning", "long-sentence", "A sentence is long.", 2),
            Finding("error", "missing-alt", "An image has no alt text.", 3),
            Finding("error", "missing-title", "The email has no title."),
        ],
        block_types=("heading", "text", "image"),
    )
    assert not report.ok
    assert codes(report.errors) == ["missing-alt", "missing-title"]
    assert codes(report.warnings) == ["long-sentence"]
    assert report.format().splitlines() == [
        "error   [missing-alt] block 3 (image): An image has no alt text.",
        "error   [missing-title] The email has no title.",
        "warning [long-sentence] block 2 (text): A sentence is long.",
        "2 errors, 1 warning",
    ]


def test_empty_report():
    report = CheckReport(findings=[])
    assert report.ok and report.format() == "No problems found."


def test_warnings_alone_are_ok():
    report = CheckReport(findings=[Finding("warning", "hard-to-read", "Hard.", 1)])
    assert report.ok
    assert report.format().splitlines()[-1] == "0 errors, 1 warning"


# -- the real renderer -----------------------------------------------------------------------------

REALISTIC = {
    "title": "Summer holidays 2026",
    "subject": "Summer holidays: activities, short breaks and school transport",
    "preheader": "What is on for children and young people with SEND this summer",
    "date": "2026-07-04",
    "blocks": [
        {"type": "heading", "text": "What is on this summer"},
        {
            "type": "text",
            "markdown": (
                "Hello [[name]],\n\nThere are lots of free activities this summer for children with special "
                "educational needs and disabilities (SEND). "
                "You can find them all in [the holiday activities list](https://example.org/holidays).\n\n"
                "- Swimming at the leisure centre\n- Art club at the library\n- Family days at the farm"
            ),
        },
        {
            "type": "image",
            "src": "https://example.org/farm.jpg",
            "alt": "Children feeding goats at the farm",
            "caption": "Family day at the farm last year",
        },
        {"type": "button", "label": "See the holiday activities", "url": "https://example.org/holidays"},
        {"type": "heading", "text": "Short breaks", "level": 3},
        {
            "type": "story",
            "title": "Apply for a short break",
            "body": "Short breaks give you and your child time to do something fun. You can apply online or by phone.",
            "image": "https://example.org/break.jpg",
            "alt": "",
            "link_label": "How to apply for a short break",
            "link_url": "https://example.org/short-breaks",
        },
        {"type": "heading", "text": "School transport"},
        {
            "type": "story",
            "title": "Travel training",
            "body": "Travel training helps young people learn to travel on their own. Ask your school about it.",
        },
        {"type": "quote", "text": "My son now takes the bus to college on his own.", "cite": "A parent"},
        {
            "type": "notice",
            "heading": "Apply for school transport by 31 May",
            "body": "If your child starts a new school in September, **apply by 31 May**. "
                    "[Apply for school transport](https://example.org/transport).",
        },
        {"type": "image", "src": "https://example.org/map.png", "alt": "Map of bus routes", "link": "https://example.org/map"},
        {
            "type": "contact",
            "heading": "Get in touch",
            "email": "localoffer@example.org",
            "phone": "0161 000 0000",
            "links": [{"label": "Local Offer directory", "url": "https://example.org/directory"}],
        },
        {"type": "divider"},
        {"type": "social", "heading": "Follow us", "links": [{"network": "facebook", "url": "https://facebook.com/x"}]},
    ],
}


def _render(raw: dict, theme: Theme, slug: str = "summer-holidays-2026"):
    doc = parse_issue(raw)
    return doc, render_issue(doc, slug, theme, load_settings())


def test_realistic_issue_from_the_renderer_has_no_errors():
    theme = COUNCIL.model_copy(update={"logo": Logo(src="/static/logo.png", alt="Brackenfield Council Local Offer"),
                                     "contact_phone": "0161 111 1111"})
    doc, rendered = _render(REALISTIC, theme)
    report = check_issue(doc, rendered, theme)
    assert report.errors == [], report.format()
    assert report.findings == [], report.format()


def test_right_to_left_issue_from_the_renderer_has_no_errors():
    raw = {**REALISTIC, "language": "ar"}
    doc, rendered = _render(raw, COUNCIL, slug="summer-holidays-2026-ar")
    assert check_issue(doc, rendered, COUNCIL).errors == []


def test_renderer_findings_point_at_the_block():
    raw = {
        "title": "News",
        "subject": "News",
        "blocks": [
            {"type": "heading", "text": "Events", "level": 3},
            {"type": "text", "markdown": "Book a place [here](https://example.org/book)."},
        ],
    }
    doc, rendered = _render(raw, COUNCIL, slug="news-findings")
    report = check_issue(doc, rendered, COUNCIL)
    assert [(f.code, f.block) for f in report.findings] == [("skipped-heading", 1), ("vague-link", 2)]
    assert "block 1 (heading)" in report.format() and "block 2 (text)" in report.format()


def test_runner_reports_theme_size_and_message_problems():
    theme = COUNCIL.model_copy(update={"base_font_size": 12, "muted_colour": "#999999"})
    raw = {"title": "News", "subject": "News", "blocks": [{"type": "text", "markdown": "Hello."}]}
    doc, rendered = _render(raw, theme, slug="news-theme")
    report = check_issue(doc, rendered, theme, message=b"Subject: x\r\n\r\n" + b"x" * 2000 + b"\r\n")
    assert sorted(set(codes(report.errors))) == ["long-line", "low-contrast", "small-text"]
    assert ("small-text", 1) in [(f.code, f.block) for f in report.errors]


# -- the notice block --------------------------------------------------------------------------------


def _notice_issue(body: str, heading: str = "Apply for school transport by 31 May") -> dict:
    return {"title": "News", "subject": "News", "blocks": [
        {"type": "heading", "text": "School transport"},
        {"type": "notice", "heading": heading, "body": body},
    ]}


def test_notice_in_the_email_passes_every_check_in_the_box():
    doc, rendered = _render(_notice_issue("Apply by **31 May**. [Apply for school transport](https://example.org/t)."),
                            COUNCIL, slug="news-notice")
    report = check_issue(doc, rendered, COUNCIL)
    assert report.findings == [], report.format()
    root = parse(rendered.html.fill({"unsubscribe_url": "https://x.org/u", "preferences_url": "https://x.org/p",
                                     "name": "Sam"}))
    # The box: a cell with the accent colour round it, holding the heading (h3, under the h2) and 16px words.
    box = root.xpath("//td[contains(@style, 'border:2px solid #1d4f91')]")
    assert len(box) == 1
    assert [h.text_content() for h in box[0].xpath(".//h3")] == ["Apply for school transport by 31 May"]
    assert box[0].xpath(".//div[contains(@style, 'font-size:16px')]//strong")[0].text == "31 May"


def test_notice_findings_point_at_the_notice_block():
    doc, rendered = _render(_notice_issue("Find out more [here](https://example.org/t)."), COUNCIL,
                            slug="news-notice-vague")
    report = check_issue(doc, rendered, COUNCIL)
    assert [(f.code, f.block) for f in report.findings] == [("vague-link", 2)]
    assert "block 2 (notice)" in report.format()


def test_notice_heading_follows_the_outline():
    raw = _notice_issue("Apply by 31 May.")
    raw["blocks"] = raw["blocks"][1:]  # straight after the title: the notice's heading is an h2
    doc, rendered = _render(raw, COUNCIL, slug="news-notice-h2")
    report = check_issue(doc, rendered, COUNCIL)
    assert report.findings == [], report.format()
    root = parse(rendered.html.fill({"unsubscribe_url": "https://x.org/u", "preferences_url": "https://x.org/p",
                                     "name": "Sam"}))
    assert [h.text_content() for h in root.xpath("//h2")] == ["Apply for school transport by 31 May",
                                                              "Was this newsletter useful?"]
