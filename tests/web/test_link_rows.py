"""Links without syntax: addresses completed as people type them, and lists of links as rows of boxes.

Also the text editor's endpoints (newsletter/web/richtext.py), which the browser tests drive for real.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from newsletter.config import Settings
from newsletter.issues.editing import BlockInvalid
from newsletter.web.blockforms import FORMS, block_from_form, form_values, link_rows
from newsletter.web.links_input import AddressProblem, normalise_address

from tests.web.conftest import Team, TeamClient
from tests.web.test_composer import _add, _issue, _new_issue

# --- the address normaliser --------------------------------------------------------------------------


@pytest.mark.parametrize("typed, address", [
    ("www.example.org", "https://www.example.org"),
    ("  www.example.org/short-breaks?x=1#top ", "https://www.example.org/short-breaks?x=1#top"),
    ("example.org", "https://example.org"),
    ("gov.uk/apply-blue-badge", "https://gov.uk/apply-blue-badge"),
    ("//cdn.example.org/a", "https://cdn.example.org/a"),
    ("https://www.example.org", "https://www.example.org"),
    ("HTTP://Example.org/A", "HTTP://Example.org/A"),
    ("localoffer@example.org", "mailto:localoffer@example.org"),
    ("mailto:localoffer@example.org", "mailto:localoffer@example.org"),
    ("Jo.Bloggs+send@council.gov.uk", "mailto:Jo.Bloggs+send@council.gov.uk"),
    ("01632 960 123", "tel:+441632960123"),
    ("01632 960123", "tel:+441632960123"),
    ("0800 123 4567", "tel:+448001234567"),
    ("07700 900123", "tel:+447700900123"),
    ("+44 1632 960 123", "tel:+441632960123"),
    ("+44 (0)1632 960 123", "tel:+441632960123"),
    ("(01632) 960-123", "tel:+441632960123"),
    ("tel:01632 960 123", "tel:+441632960123"),
    ("0044 1632 960123", "tel:+441632960123"),
])
def test_addresses_are_completed(typed: str, address: str) -> None:
    assert normalise_address(typed) == address


@pytest.mark.parametrize("typed, words", [
    ("", "give the address"),
    ("   ", "give the address"),
    ("not an address", "cannot have spaces"),
    ("javascript:alert(1)", "only web addresses, email addresses and phone numbers"),
    ("data:text/html,hi", "only web addresses"),
    ("ftp://example.org", "only web addresses"),
    ("https://", "not a whole web address"),
    ("https://www.example.org/a page", "cannot have spaces"),
    ("hello", "not a web address, email address or phone number"),
    ("12", "not a web address"),
    ("jo@", "not a web address"),
])
def test_junk_is_refused_in_plain_words(typed: str, words: str) -> None:
    with pytest.raises(AddressProblem, match=words):
        normalise_address(typed)


def test_social_links_must_be_web_pages() -> None:
    assert normalise_address("www.facebook.com/team", web_only=True) == "https://www.facebook.com/team"
    for typed in ("team@example.org", "01632 960 123", "tel:01632960123"):
        with pytest.raises(AddressProblem, match="web page"):
            normalise_address(typed, web_only=True)


# --- link rows in the block forms --------------------------------------------------------------------


def _form(**fields: str) -> MultiDict[str, str]:
    return MultiDict({name.replace("__", "-"): value for name, value in fields.items()})


def test_contact_rows_are_read_in_order_and_empty_ones_ignored() -> None:
    raw = block_from_form("contact", _form(
        email="localoffer@example.org",
        links__1__label="Local Offer directory", links__1__url="www.example.org/directory",
        links__2__label="", links__2__url="",
        links__3__label="Email the team", links__3__url="localoffer@example.org",
        links__10__label="Ring us", links__10__url="01632 960 123",
    ), {})
    assert raw["links"] == [
        {"label": "Local Offer directory", "url": "https://www.example.org/directory"},
        {"label": "Email the team", "url": "mailto:localoffer@example.org"},
        {"label": "Ring us", "url": "tel:+441632960123"},
    ]


def test_a_contact_block_with_only_empty_rows_has_no_links() -> None:
    raw = block_from_form("contact", _form(email="a@example.org", links__1__label=" ", links__1__url=""), {})
    assert "links" not in raw


@pytest.mark.parametrize("label, url, box, message", [
    ("Directory", "", "url", "Link 2: give the address, such as www.example.org"),
    ("", "www.example.org", "label", "Link 2: give the words people will see for the link"),
    ("Directory", "not an address", "url", "Link 2: an address cannot have spaces in it"),
    ("Directory", "javascript:alert(1)", "url", "Link 2: only web addresses, email addresses and phone numbers"),
    ("Two\nlines", "www.example.org", "label", "Link 2: the words people will see: "),
    ("x" * 301, "www.example.org", "label", "Link 2: the words people will see are too long"),
])
def test_a_mistake_is_named_by_its_row_and_box(label: str, url: str, box: str, message: str) -> None:
    with pytest.raises(BlockInvalid) as caught:
        block_from_form("contact", _form(
            links__1__label="Fine", links__1__url="www.example.org",
            links__2__label=label, links__2__url=url), {})
    assert list(caught.value.fields) == [f"links-2-{box}"]
    assert caught.value.fields[f"links-2-{box}"].startswith(message)


def test_the_old_missing_bar_message_cannot_happen() -> None:
    """A link typed without its bar used to give "2 label: is required" although the label was there."""
    with pytest.raises(BlockInvalid) as caught:
        block_from_form("contact", _form(links__1__label="Directory | www.example.org",
                                         links__2__label="Search the directory"), {})
    assert caught.value.fields == {
        "links-1-url": "Link 1: give the address, such as www.example.org",
        "links-2-url": "Link 2: give the address, such as www.example.org",
    }


def test_form_mistakes_and_model_mistakes_come_together() -> None:
    with pytest.raises(BlockInvalid) as caught:
        block_from_form("story", _form(title="", body="Words", link_label="Read more", link_url="not an address"), {})
    assert caught.value.fields["link_url"].startswith("cannot be a link:")
    assert "title" in caught.value.fields


def test_social_rows_take_a_network_or_tell_it_from_the_address() -> None:
    raw = block_from_form("social", _form(
        links__1__network="", links__1__url="www.facebook.com/ourteam",
        links__2__network="youtube", links__2__url="youtube.com/@ourteam",
        links__3__network="", links__3__url="https://social.example.org/@team",
    ), {})
    assert raw["links"] == [
        {"network": "facebook", "url": "https://www.facebook.com/ourteam"},
        {"network": "youtube", "url": "https://youtube.com/@ourteam"},
        {"network": "website", "url": "https://social.example.org/@team"},
    ]


def test_a_social_block_needs_one_link_and_says_so_on_the_first_row() -> None:
    with pytest.raises(BlockInvalid) as caught:
        block_from_form("social", _form(links__1__network="facebook", links__1__url=""), {})
    assert caught.value.fields == {
        "links-1-url": "Link 1: give the address of the team's page, such as www.example.org"}
    with pytest.raises(BlockInvalid) as caught:
        block_from_form("social", _form(heading="Follow us"), {})
    assert caught.value.fields["links-1-url"].startswith("Link 1: give the address of at least one")


def test_stored_links_fill_rows_and_leave_empty_ones_to_fill() -> None:
    values = form_values({"type": "contact", "links": [{"label": "A", "url": "https://a.example"},
                                                       {"label": "B", "url": "mailto:b@example.org"}]})
    assert values["links-2-url"] == "mailto:b@example.org"
    rows = link_rows(FORMS["contact"].fields[-1], values)
    assert [(row.number, row.label) for row in rows] == [(1, "A"), (2, "B"), (3, ""), (4, "")]
    assert len(link_rows(FORMS["contact"].fields[-1], {})) == 3


# --- through the composer ----------------------------------------------------------------------------


def test_a_contact_block_saved_from_rows_and_shown_back(as_user: Callable[[str], TeamClient], team: Team,
                                                        db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    key = _add(client, slug, {"type": "contact", "links-1-label": "Local Offer directory",
                              "links-1-url": "www.example.org/directory", "links-2-label": "", "links-2-url": "",
                              "links-3-label": "Ring the team", "links-3-url": "01632 960 123"})
    assert _issue(slug).blocks[0]["links"] == [
        {"label": "Local Offer directory", "url": "https://www.example.org/directory"},
        {"label": "Ring the team", "url": "tel:+441632960123"}]
    page = client.get(f"/team/issues/{slug}/blocks/{key}").get_data(as_text=True)
    assert '<legend>Link 1</legend>' in page and '<legend>Link 4</legend>' in page
    assert 'value="tel:+441632960123"' in page
    assert "Add another link" in page and "Label |" not in page


def test_a_row_mistake_comes_back_named_with_what_was_typed(as_user: Callable[[str], TeamClient], team: Team,
                                                            db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    response = client.post(f"/team/issues/{slug}/blocks/new", {
        "type": "contact", "links-1-label": "Directory", "links-1-url": "www.example.org",
        "links-2-label": "Search the directory", "links-2-url": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert ('<a href="#field-links-2-url">Link 2: give the address, such as www.example.org</a>' in page)
    assert re.search(r'id="field-links-2-url"[^>]*aria-invalid="true"', page)
    assert 'value="Search the directory"' in page and 'value="www.example.org"' in page
    assert "2 label" not in page and _issue(slug).blocks == []


def test_markdown_from_the_editor_is_converted_on_the_server(as_user: Callable[[str], TeamClient], team: Team,
                                                              db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, {"type": "text", "markdown": "stale copy",
                        "markdown__html": '<p>Hello <span data-token="name">reader\'s name</span>, '
                                          '<b>book</b> <a href="www.example.org">here</a>'
                                          '<script>alert(1)</script></p>'})
    assert _issue(slug).blocks[0]["markdown"] == "Hello [[name]], **book** [here](https://www.example.org)"


def test_without_the_editor_the_textarea_markdown_is_kept(as_user: Callable[[str], TeamClient], team: Team,
                                                          db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, {"type": "text", "markdown": "Hello [[name]], **book** [here](https://www.example.org)"})
    assert _issue(slug).blocks[0]["markdown"] == "Hello [[name]], **book** [here](https://www.example.org)"
    page = client.get(f"/team/issues/{slug}/blocks/new?type=text").get_data(as_text=True)
    assert "[[name]] puts in the reader&#39;s name" in page or "[[name]] puts in the reader's name" in page


def test_editor_endpoints(as_user: Callable[[str], TeamClient], team: Team, db: Settings) -> None:
    client = as_user(team.editor)
    word = Path(__file__).resolve().parents[1] / "data" / "paste" / "word365-chrome.html"
    answer = client.post("/team/richtext/markdown", {"html": word.read_text(encoding="utf-8")}).get_json()
    assert answer["markdown"].startswith("**Short breaks this winter**")
    assert "<strong>what works</strong>" in answer["html"] and "mso" not in answer["html"]
    assert answer["notes"] == ["Headings were kept as bold text. For a section heading, add a Heading block."]
    shown = client.post("/team/richtext/html", {"markdown": "Hi [[name]] <script>x</script>"}).get_json()
    assert shown["html"] == ('<p>Hi <span class="name-token" data-token="name" contenteditable="false">'
                             "reader's name</span> </p>\n")
    assert client.post("/team/richtext/address", {"address": "www.example.org"}).get_json() == {
        "address": "https://www.example.org"}
    refused = client.post("/team/richtext/address", {"address": "javascript:alert(1)"})
    assert refused.status_code == 200 and refused.get_json()["error"].startswith("Only web addresses")
    preview = client.post("/team/markdown-preview", {"markdown": "Hello [[name]]"}).get_data(as_text=True)
    assert preview == "<p>Hello there</p>\n"


def test_editor_endpoints_need_a_signed_in_person_and_a_token(as_user: Callable[[str], TeamClient], team: Team,
                                                               anonymous: TeamClient, db: Settings) -> None:
    refused = anonymous.post("/team/richtext/markdown", {"html": "<b>x</b>"}, csrf=False)
    assert refused.status_code in (302, 400, 401, 403)
    client = as_user(team.editor)
    assert client.post("/team/richtext/markdown", {"html": "<b>x</b>"}, csrf=False).status_code in (400, 403)
    too_big = client.post("/team/richtext/markdown", {"html": "<p>" + "x" * 1_100_000 + "</p>"})
    assert too_big.status_code == 413


def test_a_prose_field_carries_its_text_as_the_editor_shows_it(as_user: Callable[[str], TeamClient], team: Team,
                                                               db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    key = _add(client, slug, {"type": "text", "markdown": "Hello [[name]], **welcome**.<script>x</script>"})
    page = client.get(f"/team/issues/{slug}/blocks/{key}").get_data(as_text=True)
    assert ('<template data-richtext-html><p>Hello <span class="name-token" data-token="name" '
            'contenteditable="false">reader\'s name</span>, <strong>welcome</strong>.</p>') in page
    assert "<script>x" not in page.split("<template data-richtext-html>", 1)[1].split("</template>", 1)[0]
    # Without JavaScript the textarea holds the Markdown itself.
    assert "Hello [[name]], **welcome**." in page
