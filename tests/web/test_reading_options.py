"""The reading options and the accessibility statement, through the Flask app (the browser tests use them).

What is checked here is what a page must carry before any script runs: the buttons in the page, hidden
until reader.js shows them; exactly one first-party script, added only to the reading pages as the app
serves them (the rendered web view stays script-free); and the statement, linked from every footer.
"""

from __future__ import annotations

import lxml.html
import pytest
from flask.testing import FlaskClient

from newsletter.config import Settings
from newsletter.db import session_scope
from newsletter.issues import service, store
from newsletter.issues.models import IssueStatus
from newsletter.theme import get_theme
from newsletter.tokens import sign
from newsletter.web import create_app
from newsletter.render.statement import STATEMENT_PREPARED
from newsletter.web.public import PREVIEW_PURPOSE

from tests.conftest import EXAMPLE

SLUG = "co-production-week-2026"
TOGGLES = {"Bigger text": "text", "More space": "spacing", "High contrast": "contrast", "Dark mode": "dark"}


@pytest.fixture
def client(db: Settings) -> FlaskClient:
    with session_scope() as session:
        issue, _ = service.import_issue(session, EXAMPLE, db)
        for state in (IssueStatus.IN_REVIEW, IssueStatus.APPROVED, IssueStatus.SENDING, IssueStatus.SENT):
            store.move(issue, state)
    return create_app(db).test_client()


def _tree(client: FlaskClient, url: str, status: int = 200) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == status, url
    return lxml.html.fromstring(response.get_data(as_text=True))


READING_PAGES = [f"/issues/{SLUG}", "/issues/", "/issues/?q=zebras", "/accessibility"]


@pytest.mark.parametrize("url", READING_PAGES)
def test_reading_pages_carry_hidden_buttons_and_one_deferred_script(
    client: FlaskClient, db: Settings, url: str
) -> None:
    tree = _tree(client, url)
    assert "reader-page" in tree.getroottree().getroot().get("class", "")
    scripts = tree.xpath("//script")
    assert [(s.get("src"), s.get("defer") is not None, (s.text or "").strip()) for s in scripts] == [
        (f"{db.base_url}/static/reader.js", True, "")
    ]
    (controls,) = tree.xpath("//section[@class='reader-controls']")
    assert controls.get("hidden") is not None, "without script the buttons must not show"
    label = tree.get_element_by_id(controls.get("aria-labelledby")).text_content()
    assert label == "Change how this page looks"
    buttons = controls.xpath(".//button")
    assert all(b.get("type") == "button" for b in buttons)
    assert {b.text_content(): b.get("data-reader-toggle") for b in buttons if b.get("aria-pressed")} == TOGGLES
    assert [b.text_content() for b in buttons if b.get("aria-pressed") is None] == ["Print"]
    assert not tree.xpath("//@style"), "the CSP forbids style attributes"


def test_preview_of_a_draft_has_the_reading_options_too(client: FlaskClient) -> None:
    tree = _tree(client, f"/preview/{sign(PREVIEW_PURPOSE, SLUG)}")
    assert len(tree.xpath("//script[contains(@src, '/static/reader.js')]")) == 1
    assert tree.xpath("//section[@class='reader-controls']")


def test_rendered_web_view_stays_script_free(db: Settings) -> None:
    # The copy `render` and `publish` write, and the one the pipeline caches: the app adds reader.js on the way out.
    with session_scope() as session:
        service.import_issue(session, EXAMPLE, db)
        issue = store.get_issue(session, SLUG)
        html = service.rendered(issue, get_theme(), db).web_html
    assert "<script" not in html
    assert 'class="reader-controls"' in html


@pytest.mark.parametrize("url", ["/issues/nothing-here", "/subscribe"])
def test_other_pages_have_no_reading_options(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    tree = lxml.html.fromstring(response.get_data(as_text=True))
    assert not tree.xpath("//section[@class='reader-controls'] | //script[contains(@src, 'reader.js')]")
    assert "reader-page" not in tree.getroottree().getroot().get("class", "")


@pytest.mark.parametrize("url", [f"/issues/{SLUG}", "/issues/", "/accessibility", "/issues/nothing-here", "/subscribe"])
def test_every_public_footer_links_to_the_accessibility_statement(client: FlaskClient, db: Settings, url: str) -> None:
    tree = _tree(client, url, status=404 if "nothing" in url else 200)
    links = tree.xpath("//footer//a[normalize-space(.)='Accessibility statement']/@href")
    assert links == [f"{db.base_url}/accessibility"]


def test_accessibility_statement_follows_the_model_and_uses_the_theme(client: FlaskClient) -> None:
    theme = get_theme()
    response = client.get("/accessibility")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert client.get("/accessibility/").status_code == 200
    tree = lxml.html.fromstring(response.get_data(as_text=True))
    assert tree.findtext(".//title") == f"Accessibility statement - {theme.masthead}"
    assert [h.text_content() for h in tree.xpath("//main//h1")] == [f"Accessibility statement for {theme.masthead}"]
    headings = [h.text_content() for h in tree.xpath("//main//h2 | //main//h3")]
    assert headings == [
        "How accessible this website is",
        "What to do if you cannot use part of this website",
        "Tell us about a problem with this website",
        "Enforcement procedure",
        "Technical information about this website’s accessibility",
        "Compliance status",
        "Content that is not covered by the accessibility regulations",
        "What we do to make this website accessible",
        "Preparation of this accessibility statement",
    ]
    words = " ".join(tree.xpath("//main")[0].text_content().split())
    assert theme.organisation in words and theme.postal_address in words
    assert f"mailto:{theme.contact_email}" in tree.xpath("//main//a/@href")
    for needed in ("Equality and Human Rights Commission", "Equality Advisory and Support Service",
                   "WCAG) version 2.2", "level AA", "axe-core", "partially compliant"):
        assert needed in words, needed
    assert STATEMENT_PREPARED.isoformat() in tree.xpath("//main//time/@datetime")


def test_statement_shows_the_phone_number_when_the_theme_has_one(db: Settings) -> None:
    themed = get_theme().model_copy(update={"contact_phone": "01632 960 123", "organisation": "Anytown Council"})
    app = create_app(db)
    app.config["NEWSLETTER_THEME"] = themed  # the app's own theme, as create_app read it from the theme file
    page = app.test_client().get("/accessibility").get_data(as_text=True)
    assert 'href="tel:01632960123"' in page and "Anytown Council runs this website" in page
