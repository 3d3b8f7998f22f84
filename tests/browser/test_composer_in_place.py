"""Editing in place, driven as an officer drives it: a 16-block issue composed on the issue page with
JavaScript (page loads counted), the same issue through the no-JavaScript forms, identical results;
the keyboard route to the page's main actions (Tab presses counted); an image kept through a form
error; two people saving one block; axe-core at phone and desktop widths in both modes.

The content is modelled on a council's July newsletter for SEND families (co-production week: the
team's contact details, a charter, an inspection, young people's groups, partner quotes), in our own
words. Each block type is filled by one helper below, so a change to a form's fields (a formatting
toolbar, label and address rows for links) changes one helper.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import editing, store
from newsletter.issues.blocks import IssueDocument
from newsletter.issues.media import store_bytes

from tests.browser.conftest import (
    DESKTOP, ROOT, TEAM_PASSWORD, TIMEOUT_MS, LiveServer, assert_accessible, assert_no_horizontal_scroll, sign_in,
    watch,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 800}
DOCS = ROOT / "docs"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

# --- the issue: sixteen blocks, every type, an image and lists of links ------------------------------

JULY: list[dict[str, Any]] = [
    {"type": "heading", "text": "Co-production week is here", "level": "2"},
    {"type": "text", "markdown": "This week families, young people and staff show how they plan services together. "
                                 "Read on to see what has changed this year and how you can take part."},
    {"type": "contact", "heading": "Talk to the Local Offer team", "email": "localoffer@example.org",
     "phone": "01632 960 200", "links": [("Search the Local Offer directory", "https://www.example.org/localoffer"),
                                         ("Local Offer news page", "https://www.example.org/localoffer/news")]},
    {"type": "divider"},
    {"type": "heading", "text": "Our co-production promise", "level": "2"},
    {"type": "story", "title": "A promise written with parents",
     "body": "Parent carers and staff wrote our promise together. It says how we share decisions and keep families "
             "in the loop.", "link_label": "Read the promise", "link_url": "https://www.example.org/promise"},
    {"type": "image", "alt": "Parents and staff around a table writing the promise on large sheets of paper",
     "caption": "Writing the promise in March"},
    {"type": "quote", "text": "We were asked what matters to us, and then we saw it happen.",
     "cite": "A member of the Parent Carer Forum"},
    {"type": "notice", "heading": "Join the steering group by 31 July",
     "body": "The group meets once a month, online or in person. Tell us by 31 July if you would like to join."},
    {"type": "heading", "text": "What the inspectors said", "level": "3"},
    {"type": "text", "markdown": "Inspectors said that working with families is one of our strengths. Two in three "
                                 "parents told them they had a say in the support their child gets."},
    {"type": "button", "label": "Read the inspection report", "url": "https://www.example.org/inspection"},
    {"type": "story", "title": "Young people shaping leisure",
     "body": "A group of young people aged 14 to 25 tested swimming pools and youth clubs and told us what to fix."},
    {"type": "quote", "text": "They listened to us and the changing rooms are better now.", "cite": "Sam, aged 16"},
    {"type": "divider"},
    {"type": "social", "heading": "Follow the Local Offer",
     "links": [("facebook", "https://www.facebook.com/example"), ("youtube", "https://www.youtube.com/@example")]},
]


def _fill_prose(scope: Locator, label: str, text: str) -> None:
    """A prose field: a textarea without JavaScript, the text editor with it; plain sentences either way."""
    box = scope.get_by_label(label, exact=True)
    box.fill(text)


def _fill_links(scope: Locator, links: list[tuple[str, str]], social: bool = False) -> None:
    """A list of links as label (or network) and address rows."""
    for number, (first, address) in enumerate(links, start=1):
        add = scope.get_by_role("button", name="Add another link")
        if number > 1 and scope.get_by_label(f"Address for link {number}").count() == 0 and add.count():
            add.click()
        if social:
            scope.get_by_label(f"Network for link {number}").select_option(value=first)
        else:
            scope.get_by_label(f"Link text for link {number}").fill(first)
        scope.get_by_label(f"Address for link {number}").fill(address)


def _fill_heading(scope: Locator, block: dict[str, Any]) -> None:
    scope.get_by_label("Heading text").fill(block["text"])
    scope.get_by_label("Heading level").select_option(value=block["level"])


def _fill_text(scope: Locator, block: dict[str, Any]) -> None:
    _fill_prose(scope, "Text", block["markdown"])


def _fill_contact(scope: Locator, block: dict[str, Any]) -> None:
    scope.get_by_label("Heading (optional)").fill(block["heading"])
    scope.get_by_label("Email (optional)").fill(block["email"])
    scope.get_by_label("Phone (optional)").fill(block["phone"])
    _fill_links(scope, block["links"])


def _fill_story(scope: Locator, block: dict[str, Any]) -> None:
    scope.get_by_label("Title", exact=True).fill(block["title"])
    _fill_prose(scope, "Story", block["body"])
    if "link_label" in block:
        scope.get_by_label("Link text (optional)").fill(block["link_label"])
        scope.get_by_label("Link address (optional)").fill(block["link_url"])


def _fill_quote(scope: Locator, block: dict[str, Any]) -> None:
    _fill_prose(scope, "Quote", block["text"])
    scope.get_by_label("Who said it (optional)").fill(block["cite"])


def _fill_notice(scope: Locator, block: dict[str, Any]) -> None:
    scope.get_by_label("Heading", exact=True).fill(block["heading"])
    _fill_prose(scope, "Notice", block["body"])


def _fill_button(scope: Locator, block: dict[str, Any]) -> None:
    scope.get_by_label("Button text").fill(block["label"])
    scope.get_by_label("Link address").fill(block["url"])


def _fill_social(scope: Locator, block: dict[str, Any]) -> None:
    scope.get_by_label("Heading (optional)").fill(block["heading"])
    _fill_links(scope, block["links"], social=True)


FILL: dict[str, Callable[[Locator, dict[str, Any]], None]] = {
    "heading": _fill_heading, "text": _fill_text, "contact": _fill_contact, "story": _fill_story,
    "quote": _fill_quote, "notice": _fill_notice, "button": _fill_button, "social": _fill_social,
    "divider": lambda scope, block: None,
}


# --- the two ways of working -----------------------------------------------------------------------


@dataclass
class Loads:
    """Full page loads of the main frame (document navigations), counted as a person would feel them."""

    urls: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("framenavigated", lambda frame: self.urls.append(frame.url) if frame == page.main_frame else None)


def _add_in_place(page: Page, block: dict[str, Any], picture: Path) -> None:
    """With JavaScript: choose the type in "Add a block", fill the form that opens in place, add it."""
    count = page.locator("#block-list > li").count()
    panel = page.locator("#add-block")
    panel.get_by_label("Type of block").select_option(value=block["type"])
    panel.get_by_role("button", name="Add block").click()
    if block["type"] != "divider":
        form = page.locator("#new-block form")
        expect(form).to_be_visible()
        first = form.locator("input:not([type=hidden]), textarea, select, [contenteditable=true]").first
        expect(first).to_be_focused()  # the form opens with the cursor in its first field
        if block["type"] == "image":
            _image_with_a_mistake_first(page, page.locator("#new-block"), block, picture)
        else:
            FILL[block["type"]](form, block)
            form.get_by_role("button", name="Add block").click()
    expect(page.locator("#block-list > li")).to_have_count(count + 1)
    expect(page.locator("#new-block form")).to_have_count(0)
    new_key = page.locator("#block-list > li").last.get_attribute("data-key")
    expect(page.locator(f"#edit-{new_key}")).to_be_focused()  # ready to check it or add the next


def _image_with_a_mistake_first(page: Page, where: Locator, block: dict[str, Any], picture: Path) -> None:
    """An image sent without its alt text comes back with the error and the upload kept; then it is fixed."""
    form = where.locator("form")
    form.get_by_label("Upload an image").set_input_files(str(picture))
    form.get_by_label("Caption (optional)").fill(block["caption"])
    form.get_by_role("button", name="Add block").click()
    summary = where.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_visible()
    expect(where.get_by_text(f"Uploaded: {picture.name}")).to_be_visible()
    # Nothing was lost, so nothing is offered back.
    expect(page.get_by_role("button", name="Put my unsaved text back")).to_have_count(0)
    form = where.locator("form")
    expect(form.get_by_label("Caption (optional)")).to_have_value(block["caption"])
    form.get_by_label("Alternative text", exact=True).fill(block["alt"])
    form.get_by_role("button", name="Add block").click()


def _add_through_forms(page: Page, block: dict[str, Any], picture: Path) -> None:
    """Without JavaScript: the add form opens the block's form page; saving comes back to the issue page."""
    page.locator("#add-block").get_by_label("Type of block").select_option(value=block["type"])
    page.locator("#add-block").get_by_role("button", name="Add block").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(re.compile("^Add "))
    if block["type"] == "image":
        _image_with_a_mistake_first(page, main, block, picture)
    else:
        FILL[block["type"]](main.locator("form").last, block)
        main.get_by_role("button", name="Add block").click()
    expect(page.get_by_role("status").filter(has_text="Added the")).to_be_visible()


def _new_draft(title: str) -> str:
    with session_scope() as session:
        issue = store.create_issue(session, IssueDocument(title=title, subject=f"{title} from the Local Offer"))
        issue.created_by_id = service.find_user(session, "ed@example.org").id
        return issue.slug


def _blocks(slug: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        return list(store.get_issue(session, slug).blocks)


@pytest.fixture
def editor(live_server: LiveServer) -> str:
    with session_scope() as session:
        service.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
    return "ed@example.org"


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "promise.png"
    path.write_bytes(PNG)
    return path


def _context(browser: Browser, javascript: bool) -> BrowserContext:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London",
                                  java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_a_sixteen_block_issue_in_place_and_through_the_fallback_forms(browser: Browser, live_server: LiveServer,
                                                                       editor: str, picture: Path) -> None:
    made: dict[bool, list[dict[str, Any]]] = {}
    loads: dict[bool, int] = {}
    for javascript in (True, False):
        context = _context(browser, javascript)
        page = watch(context.new_page())
        sign_in(page, live_server, editor)
        slug = _new_draft("July news for families" + ("" if javascript else " (forms)"))
        counted = Loads()
        counted.watch(page)
        page.goto(live_server.at(f"/team/issues/{slug}"))
        for block in JULY:
            (_add_in_place if javascript else _add_through_forms)(page, block, picture)
        expect(page.locator("#block-list > li")).to_have_count(len(JULY))
        expect(page.locator("#checks-title")).to_contain_text("0 errors")
        if javascript:
            side = page.frame_locator("#side-preview")
            expect(side.get_by_role("heading", name="Follow the Local Offer")).to_be_visible()
        loads[javascript] = len(counted.urls)
        made[javascript] = _blocks(slug)
        context.close()
    print(f"\nfull page loads for {len(JULY)} blocks: with JavaScript {loads[True]}, without {loads[False]}")
    assert loads[True] <= 5, f"{loads[True]} full page loads with JavaScript"
    assert made[True] == made[False], "both ways of working store the same issue"
    assert [block["type"] for block in made[True]] == [block["type"] for block in JULY]
    image = next(block for block in made[True] if block["type"] == "image")
    assert image["src"].startswith("/media/") and image["alt"].startswith("Parents and staff")


# --- keyboard --------------------------------------------------------------------------------------


@pytest.fixture
def sixteen(live_server: LiveServer, editor: str) -> str:
    """A draft with the July issue's sixteen blocks already in it (the image as an address)."""
    with session_scope() as session:
        issue = store.create_issue(session, IssueDocument(title="July news", subject="July news from the Local Offer"))
        issue.created_by_id = service.find_user(session, editor).id
        for block in JULY:
            raw = {k: v for k, v in block.items()}
            if "level" in raw:
                raw["level"] = int(raw["level"])
            if "links" in raw:
                key = "network" if raw["type"] == "social" else "label"
                raw["links"] = [{key: first, "url": url} for first, url in raw["links"]]
            if raw["type"] == "image":
                raw["src"] = store_bytes(PNG, "promise.png", live_server.settings.media_dir)
            editing.add_block(issue, raw)
        return issue.slug


def _tabs_to(page: Page, selector: str, limit: int = 200) -> int:
    """Tab presses from the top of a freshly loaded page until `selector` has focus."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")


def test_the_main_actions_are_a_few_key_presses_away_and_focus_follows_the_work(page: Page, live_server: LiveServer,
                                                                               editor: str, sixteen: str) -> None:
    sign_in(page, live_server, editor)
    page.goto(live_server.at(f"/team/issues/{sixteen}"))
    add_link = _tabs_to(page, 'nav[aria-label="On this page"] a[href="#add-block-title"]')
    page.keyboard.press("Enter")
    expect(page.locator("#field-type")).to_be_focused()
    page.goto(live_server.at(f"/team/issues/{sixteen}"))
    submit_link = _tabs_to(page, 'nav[aria-label="On this page"] a[href="#next-title"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Submit for approval")).to_be_focused()
    page.goto(live_server.at(f"/team/issues/{sixteen}"))
    preview_link = _tabs_to(page, 'nav[aria-label="On this page"] a[href="#preview-title"]')
    print(f"\nTab presses with 16 blocks: 'Add a block' {add_link} (+ Enter puts the cursor in its first field), "
          f"'Submit for approval' {submit_link} (+ Enter), 'Preview' {preview_link}")
    assert add_link <= 12 and submit_link <= 14 and preview_link <= 14

    # Edit from the keyboard: the form opens with the cursor in its first field; saving puts focus back on Edit.
    card = page.locator("#block-list > li").nth(9)
    key = card.get_attribute("data-key")
    page.locator(f"#edit-{key}").focus()
    page.keyboard.press("Enter")
    heading_field = card.get_by_label("Heading text")
    expect(heading_field).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(" this spring")
    card.get_by_role("button", name="Save block").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#edit-{key}")).to_be_focused()
    expect(card.locator("h3")).to_contain_text("Heading")
    expect(card.locator(".block-summary")).to_have_text("What the inspectors said this spring")
    expect(page.get_by_role("status").filter(has_text="Saved the heading block.")).to_be_visible()

    # Moves keep focus on the button pressed, so Enter again moves it again; no page load for any of it.
    # (After the save the checks, next steps and preview refresh; a person reads the message first.)
    page.wait_for_load_state("networkidle")
    loads = Loads()
    loads.watch(page)
    up = page.locator(f"#move-{key}-up")
    up.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#block-list > li").nth(8)).to_have_attribute("data-key", key)
    expect(page.locator(f"#move-{key}-up")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#block-list > li").nth(7)).to_have_attribute("data-key", key)
    expect(page.locator(f"#move-{key}-up")).to_be_focused()
    # Delete asks first, then focus goes to the next block's Edit button.
    following = page.locator("#block-list > li").nth(8).get_attribute("data-key")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#block-list > li").nth(7).get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.locator("#block-list > li")).to_have_count(15)
    expect(page.locator(f"#edit-{following}")).to_be_focused()
    assert loads.urls == [], f"page loads for moves and delete: {loads.urls}"
    assert [b.get("text") for b in _blocks(sixteen) if b["type"] == "heading"] == [
        "Co-production week is here", "Our co-production promise"]


def test_an_open_form_survives_another_block_moving(page: Page, live_server: LiveServer, editor: str,
                                                   sixteen: str) -> None:
    sign_in(page, live_server, editor)
    page.goto(live_server.at(f"/team/issues/{sixteen}"))
    first = page.locator("#block-list > li").first
    first.get_by_role("link", name=re.compile("^Edit")).click()
    first.get_by_label("Heading text").fill("Typed but not saved yet")
    page.locator("#block-list > li").nth(4).get_by_role("button", name=re.compile("^Move down")).click()
    expect(page.locator("#editor-status")).to_contain_text("Moved the block to position 6")
    expect(page.locator("#block-list > li").first.get_by_label("Heading text")).to_have_value("Typed but not saved yet")


def test_a_second_press_the_moment_the_list_comes_back_still_moves_in_place(page: Page, live_server: LiveServer,
                                                                            editor: str, sixteen: str) -> None:
    """Someone holding Enter on "Move up": htmx gives focus back to the new button the instant the list is swapped.
    A press landing then must be handled in place, not post the plain form and reload the page (it did while
    htmx waited 20 ms to wire up swapped content). The page presses again at the earliest moment script can."""
    sign_in(page, live_server, editor)
    page.goto(live_server.at(f"/team/issues/{sixteen}"))
    key = page.locator("#block-list > li").nth(9).get_attribute("data-key")
    page.evaluate("""(id) => {
        let pressed = false;
        new MutationObserver(() => {
            const again = document.getElementById(id);
            if (!pressed && again && document.activeElement === again) {
                pressed = true;
                again.click();
            }
        }).observe(document.getElementById("block-list").parentNode, { childList: true, subtree: true });
    }""", f"move-{key}-up")
    loads = Loads()
    loads.watch(page)
    page.locator(f"#move-{key}-up").click()
    expect(page.locator("#block-list > li").nth(7)).to_have_attribute("data-key", key)
    expect(page.locator("#editor-status")).to_contain_text("Moved the block to position 8")
    assert loads.urls == [], f"a quick second press loaded the page: {loads.urls}"
    with session_scope() as session:
        assert editing.keys_of(store.get_issue(session, sixteen)).index(key) == 7


def test_two_people_saving_one_block_see_each_other(browser: Browser, live_server: LiveServer, editor: str,
                                                    sixteen: str) -> None:
    with session_scope() as session:
        service.create_user(session, "ann@example.org", "Ann Approver", TEAM_PASSWORD, Role.APPROVER)
    people = []
    for email in (editor, "ann@example.org"):
        context = _context(browser, True)
        person = watch(context.new_page())
        sign_in(person, live_server, email)
        person.goto(live_server.at(f"/team/issues/{sixteen}"))
        card = person.locator("#block-list > li").first
        card.get_by_role("link", name=re.compile("^Edit")).click()
        expect(card.get_by_label("Heading text")).to_be_focused()
        people.append((context, person, card))
    (_, ed, ed_card), (_, ann, ann_card) = people
    ann_card.get_by_label("Heading text").fill("Co-production week: Ann's heading")
    ann_card.get_by_role("button", name="Save block").click()
    expect(ann.locator("#editor-status")).to_contain_text("Saved the heading block.")
    ed_card.get_by_label("Heading text").fill("Co-production week: Ed's heading")
    ed_card.get_by_role("button", name="Save block").click()
    conflict = ed_card.get_by_role("alert").filter(has_text="Someone else saved this block")
    expect(conflict).to_be_focused()
    expect(conflict).to_contain_text("Co-production week: Ann's heading")
    expect(ed_card.get_by_label("Heading text")).to_have_value("Co-production week: Ed's heading")
    assert _blocks(sixteen)[0]["text"] == "Co-production week: Ann's heading"
    assert_accessible(ed, "composer-in-place-conflict", full_page=False)
    ed_card.get_by_role("button", name="Save block").click()  # knowingly, having seen Ann's
    expect(ed.locator("#editor-status")).to_contain_text("Saved the heading block.")
    assert _blocks(sixteen)[0]["text"] == "Co-production week: Ed's heading"
    for context, _, _ in people:
        context.close()


# --- accessibility and screenshots -----------------------------------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_issue_page_passes_axe_at_phone_and_desktop_widths(browser: Browser, live_server: LiveServer, editor: str,
                                                               sixteen: str, javascript: bool) -> None:
    # axe-core runs as script in the page, which a context with JavaScript off cannot do; so "without
    # JavaScript" here is the page with every script of ours answered empty: what a person without
    # JavaScript gets, with the browser still able to run axe.
    context = _context(browser, True)
    if not javascript:
        context.route(re.compile(r".*/static/.*\.js(\?.*)?$"),
                      lambda route: route.fulfill(status=200, content_type="text/javascript", body=""))
    page = watch(context.new_page())
    sign_in(page, live_server, editor)
    mode = "js" if javascript else "nojs"
    for size, width in ((PHONE, "320"), (DESKTOP, "1280")):
        page.set_viewport_size(size)
        page.goto(live_server.at(f"/team/issues/{sixteen}"))
        assert_no_horizontal_scroll(page, f"issue page at {width}px ({mode})")
        assert_accessible(page, f"composer-editor-{mode}-{width}")
        # A block form: in place with JavaScript, its own page without.
        story = page.locator("#block-list > li").nth(5)
        story.get_by_role("link", name=re.compile("^Edit")).click()
        if javascript:
            expect(story.get_by_label("Title", exact=True)).to_be_focused()
        else:
            expect(page.get_by_role("heading", level=1, name="Edit story card")).to_be_visible()
        assert_no_horizontal_scroll(page, f"block form at {width}px ({mode})")
        assert_accessible(page, f"composer-block-open-{mode}-{width}")
        if javascript:
            DOCS.mkdir(exist_ok=True)
            name = "phone" if width == "320" else "desktop"
            if width == "1280":
                page.screenshot(path=str(DOCS / "composer-desktop.png"), full_page=False)
            story.scroll_into_view_if_needed()
            page.screenshot(path=str(DOCS / f"composer-block-open-{name}.png"), full_page=False)
    context.close()
