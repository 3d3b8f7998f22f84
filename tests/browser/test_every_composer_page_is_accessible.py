"""axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) on every composer and review page, with JavaScript and without,
at 320 and 1280 pixels wide, with nothing scrolling sideways at 320.

The pages are the list PLACES below, in one place: each says who is signed in and how a person gets there.
With JavaScript a block form opens inside the issue page; without, every form is a page of its own. Each
block type in FORMS gets its add form, its edit form and its form sent back with a mistake, so a new block
type is checked as soon as it has a form (and an example in EXAMPLES: a test says so if it has none).

Without JavaScript the page is reached in a browser context with JavaScript off, so every step is a plain
form posted to the server, as a person without JavaScript takes it. axe-core is itself a script, and a
page with JavaScript off runs no timers, so axe never finishes there: the page as that context shows it
(its DOM) is opened in a second context at the same address, with every script of ours answered empty,
and axe runs there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from newsletter.accounts import service as accounts
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import editing, store
from newsletter.issues.blocks import IssueDocument
from newsletter.issues.media import store_bytes
from newsletter.review import service as review_service
from newsletter.web.blockforms import FORMS
from subscribers import store as lists_store

from tests.browser.conftest import (
    DESKTOP, TEAM_PASSWORD, TIMEOUT_MS, LiveServer, assert_accessible, assert_no_horizontal_scroll,
    assert_no_page_problems, sign_in, watch,
)
from tests.render.test_picture_widths import png

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 720}
APPROVER = "ann@example.org"

# One block of each type, as the team would write it: the issue every block form is opened on.
EXAMPLES: dict[str, dict[str, Any]] = {
    "heading": {"type": "heading", "text": "Short breaks this summer", "level": 2},
    "text": {"type": "text", "markdown": "Families told us **what works**. Read the "
                                         "[guide](https://www.example.org/guide).\n\n- Saturday clubs\n- Play schemes"},
    "image": {"type": "image", "src": "", "alt": "Young people at the summer play scheme", "caption": "July 2026"},
    "button": {"type": "button", "label": "Book a place", "url": "https://www.example.org/book"},
    "story": {"type": "story", "title": "Travel training", "body": "Sam learnt to take the bus to college.",
              "image": "", "alt": "Sam at the bus stop", "link_label": "Read Sam's story",
              "link_url": "https://www.example.org/sam"},
    "quote": {"type": "quote", "text": "We were listened to.", "cite": "A parent carer"},
    "contact": {"type": "contact", "heading": "Talk to us", "email": "localoffer@example.org",
                "phone": "01632 960 200", "links": [{"label": "Local Offer directory",
                                                     "url": "https://www.example.org/directory"}]},
    "divider": {"type": "divider"},
    "social": {"type": "social", "heading": "Follow us",
               "links": [{"network": "facebook", "url": "https://www.facebook.com/example"}]},
    "notice": {"type": "notice", "heading": "Apply for school transport by 31 May",
               "body": "If your child starts a new school in September, **apply by 31 May**."},
    "poll": {"type": "poll", "question": "Which day suits you for coffee mornings?",
             "options": ["Tuesday", "Thursday"], "closes": "2026-07-31"},
    "event": {"type": "event", "title": "Coffee morning for parent carers", "starts": "2026-07-14T10:00",
              "ends": "2026-07-14T12:00", "place": "Central Library, High Street", "access": "Step-free, quiet room",
              "booking_url": "https://www.example.org/coffee"},
}


@dataclass(frozen=True)
class World:
    slug: str
    keys: dict[str, str]  # block type -> the key of its block in the issue
    refused: dict[str, str]  # block type -> why its example was refused (only its edit form then fails)
    review_url: str
    list_slug: str


@pytest.fixture
def world(live_server: LiveServer) -> World:
    """An issue with one block of every type (and a picture), its history, a review link with a parent's
    comment, a list with a subscriber, and the team: Ed wrote the issue, Ann approves and is signed in."""
    picture = store_bytes(png(400, 240), "summer.png", live_server.settings.media_dir)
    with session_scope() as session:
        author = accounts.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
        accounts.create_user(session, APPROVER, "Ann Approver", TEAM_PASSWORD, Role.APPROVER)
        issue = store.create_issue(session, IssueDocument(title="Summer news", subject="Summer news from the Local Offer"))
        issue.created_by_id = author.id
        keys: dict[str, str] = {}
        refused: dict[str, str] = {}
        for block_type in FORMS:
            if block_type in EXAMPLES:
                block = {name: (picture if name in ("src", "image") else value)
                         for name, value in EXAMPLES[block_type].items()}
                try:
                    keys[block_type], _ = editing.add_block(issue, block)
                except editing.BlockInvalid as error:
                    refused[block_type] = str(error.fields or error)
        session.flush()
        review_url = review_service.create_link(session, issue, "Parent Carer Forum", author.id, live_server.settings)
        review_service.add_comment(session, issue, keys.get("heading", ""), "Priya", "Could the heading say July?")
        news = lists_store.create_list(session, "send-news", "SEND newsletter", description="News for SEND families")
        return World(slug=issue.slug, keys=keys, refused=refused, review_url=review_url, list_slug=news.slug)


# --- how a person gets to each page -----------------------------------------------------------------------


@dataclass
class Visit:
    page: Page
    server: LiveServer
    world: World
    javascript: bool

    def go(self, path: str) -> None:
        response = self.page.goto(path if path.startswith("http") else self.server.at(path))
        assert response is not None and response.status < 500, f"{path} answered {response and response.status}"

    @property
    def issue(self) -> str:
        return f"/team/issues/{self.world.slug}"


def _open_add_form(visit: Visit, block_type: str) -> None:
    """"Add a block" on the issue page: the form opens in place with JavaScript, as its own page without."""
    page = visit.page
    visit.go(visit.issue)
    panel = page.locator("#add-block")
    panel.get_by_label("Type of block").select_option(value=block_type)
    panel.get_by_role("button", name="Add block").click()
    if visit.javascript:
        expect(page.locator("#new-block form")).to_be_visible()
    else:
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Add "))


def _add_form(block_type: str) -> Callable[[Visit], None]:
    return lambda visit: _open_add_form(visit, block_type)


def _edit_form(block_type: str) -> Callable[[Visit], None]:
    def reach(visit: Visit) -> None:
        key = visit.world.keys.get(block_type)
        if key is None:
            why = visit.world.refused.get(block_type, "there is none")
            pytest.fail(f"no example of the {block_type} block to edit ({why}): put one right in EXAMPLES in {__name__}")
        visit.go(visit.issue)
        visit.page.locator(f"#edit-{key}").click()
        if visit.javascript:
            expect(visit.page.locator(f"#slot-{key} form, #slot-{key} .panel").first).to_be_visible()
        else:
            expect(visit.page.get_by_role("heading", level=1)).to_have_text(re.compile("^Edit "))
    return reach


def _form_with_a_mistake(block_type: str) -> Callable[[Visit], None]:
    """The add form sent with nothing filled in: it comes back with its error summary."""
    def reach(visit: Visit) -> None:
        _open_add_form(visit, block_type)
        where = visit.page.locator("#new-block") if visit.javascript else visit.page.locator("main")
        where.locator("form").last.get_by_role("button", name="Add block").click()
        expect(where.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()
    return reach


def _new_issue_with_a_mistake(visit: Visit) -> None:
    visit.go("/team/issues/new")
    visit.page.locator("main form").get_by_role("button").last.click()
    expect(visit.page.get_by_role("alert").filter(has_text="There is a problem")).to_be_visible()


def _version(visit: Visit) -> None:
    visit.go(f"{visit.issue}/history")
    visit.page.get_by_role("link", name=re.compile(r"^Version \d+$")).first.click()
    expect(visit.page.get_by_role("heading", level=1)).to_contain_text("Version")


def _submit_with_unresolved_comments(visit: Visit) -> None:
    visit.go(visit.issue)
    visit.page.get_by_role("button", name="Submit for approval").click()
    expect(visit.page.get_by_role("alert").filter(has_text="not resolved")).to_be_visible()


def _sign_in_with_a_mistake(visit: Visit) -> None:
    visit.go("/team/sign-in")
    visit.page.get_by_label("Email address").fill(APPROVER)
    visit.page.get_by_label("Password").fill("not the password")
    visit.page.get_by_role("button", name="Sign in").click()
    expect(visit.page.get_by_role("alert")).to_be_visible()


def _review_whole_issue_box(visit: Visit) -> None:
    visit.go(visit.world.review_url)
    visit.page.locator("#general summary").click()
    expect(visit.page.locator("#body-general")).to_be_visible()


def _review_with_a_mistake(visit: Visit) -> None:
    _review_whole_issue_box(visit)
    visit.page.locator("#general").get_by_role("button", name="Send comment").click()
    expect(visit.page.get_by_role("alert").filter(has_text="Your comment was not sent")).to_be_visible()


def _at(path: str | Callable[[World], str]) -> Callable[[Visit], None]:
    return lambda visit: visit.go(path(visit.world) if callable(path) else path)


@dataclass(frozen=True)
class Place:
    name: str
    reach: Callable[[Visit], None]
    signed_in: bool = True


def _issue(tail: str = "") -> Callable[[World], str]:
    return lambda world: f"/team/issues/{world.slug}{tail}"


PLACES: list[Place] = [
    Place("sign-in", _at("/team/sign-in"), signed_in=False),
    Place("sign-in-mistake", _sign_in_with_a_mistake, signed_in=False),
    Place("issues", _at("/team/issues")),
    Place("new-issue", _at("/team/issues/new")),
    Place("new-issue-mistake", _new_issue_with_a_mistake),
    Place("issue", _at(_issue())),
    *[place for block_type, form in FORMS.items() for place in (
        [Place(f"add-{block_type}", _add_form(block_type)),
         Place(f"mistake-{block_type}", _form_with_a_mistake(block_type))] if form.fields else []
    ) + [Place(f"edit-{block_type}", _edit_form(block_type))]],
    Place("preview", _at(_issue("/preview"))),
    Place("preview-text", _at(_issue("/preview?view=text"))),
    Place("history", _at(_issue("/history"))),
    Place("version", _version),
    Place("submit-with-unresolved-comments", _submit_with_unresolved_comments),
    Place("theme", _at("/team/theme")),
    Place("lists", _at("/team/lists")),
    Place("list", _at(lambda world: f"/team/lists/{world.list_slug}")),
    Place("subscribers", _at("/team/subscribers")),
    Place("users", _at("/team/users")),
    Place("password", _at("/team/account/password")),
    Place("review", _at(lambda world: world.review_url), signed_in=False),
    Place("review-whole-issue-box", _review_whole_issue_box, signed_in=False),
    Place("review-mistake", _review_with_a_mistake, signed_in=False),
]


# --- the check ------------------------------------------------------------------------------------------


def _context(browser: Browser, *, javascript: bool) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London",
                                  java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _check(page: Page, name: str) -> None:
    for size, width in ((DESKTOP, 1280), (PHONE, 320)):
        page.set_viewport_size(size)
        if width == 320:
            assert_no_horizontal_scroll(page, f"{name} at 320px")
        assert_accessible(page, f"every-page-{name}-{width}", full_page=False)


@contextmanager
def _as_shown_without_javascript(browser: Browser, shown: Page) -> Iterator[Page]:
    """A page with scripts that shows exactly the DOM the JavaScript-off page shows, at the same address."""
    html, url = shown.content(), shown.url
    context = _context(browser, javascript=True)
    context.route(re.compile(r".*\.js(\?.*)?$"),
                  lambda route: route.fulfill(status=200, content_type="text/javascript", body=""))
    context.route(lambda address: address == url,
                  lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
    try:
        inspected = watch(context.new_page())
        inspected.goto(url)
        yield inspected
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("place", PLACES, ids=[place.name for place in PLACES])
def test_every_composer_page_is_accessible(browser: Browser, live_server: LiveServer, world: World, place: Place,
                                          javascript: bool) -> None:
    context = _context(browser, javascript=javascript)
    try:
        page = watch(context.new_page())
        if place.signed_in:
            sign_in(page, live_server, APPROVER)
        place.reach(Visit(page, live_server, world, javascript))
        mode = "js" if javascript else "nojs"
        if javascript:
            _check(page, f"{place.name}-{mode}")
        else:
            assert_no_page_problems(page)
            with _as_shown_without_javascript(browser, page) as inspected:
                _check(inspected, f"{place.name}-{mode}")
    finally:
        context.close()


def test_every_block_type_has_an_example() -> None:
    """A new block type's edit form is checked too: it needs one block to open it on."""
    assert set(FORMS) <= set(EXAMPLES), f"add an example of {sorted(set(FORMS) - set(EXAMPLES))} to EXAMPLES"
