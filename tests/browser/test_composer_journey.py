"""The whole journey in chromium: compose, check, test, review with a parent carer, approve, send, unsubscribe.

One long test on purpose: each step needs the one before it, as it does for the team. Messages go to
a real SMTP server on loopback (aiosmtpd) through the embedded sender thread, as `newsletter serve`
runs it. Every composer page on the way is checked with axe-core (WCAG 2.2 A and AA).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.config import Settings, get_settings, reset_settings
from newsletter.db import session_scope
from newsletter.delivery.embedded import start_background
from newsletter.web import create_app

from tests.browser.conftest import TEAM_PASSWORD, sign_in, TIMEOUT_MS, LiveServer, _Serving, assert_accessible, screenshot, watch
from tests.delivery.conftest import make_list, make_readers
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser

PASSWORD = TEAM_PASSWORD
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 800}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def sending_app(live_server: LiveServer, _serving: _Serving, smtp: SmtpServer,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The live app with mail going to the loopback SMTP server, and the embedded sender running beside it."""
    monkeypatch.setenv("NEWSLETTER_SMTP_URL", smtp.url)
    monkeypatch.setenv("NEWSLETTER_SEND_RATE", "200")
    reset_settings()
    settings = get_settings()
    _serving.current.app = create_app(settings)
    thread, stop = start_background(settings)
    yield settings
    stop.set()
    thread.join(timeout=30)


def _open_new_block(page: Page, block_type: str) -> None:
    """"Add a block" on the issue page: the block's form opens in place, below the list."""
    page.locator("#add-block").get_by_label("Type of block").select_option(value=block_type)
    page.locator("#add-block").get_by_role("button", name="Add block").click()


def _add_block(page: Page, block_type: str, fill: dict[str, str]) -> None:
    _open_new_block(page, block_type)
    _add_block_filled(page, fill)


def _add_block_filled(page: Page, fill: dict[str, str]) -> None:
    form = page.locator("#new-block")
    for label, value in fill.items():
        # A prose field is the text editor (a textbox) with JavaScript; anything else is a plain field.
        field = form.get_by_label(label, exact=True)
        if field.get_attribute("data-markdown-preview") is not None:
            field = form.get_by_role("textbox", name=label, exact=True).and_(form.locator("[contenteditable]"))
        field.fill(value)
    if fill:
        count = page.locator("ol.blocks li.block-card").count()
        form.get_by_role("button", name="Add block").click()
        expect(page.locator("ol.blocks li.block-card")).to_have_count(count + 1)
    expect(page.get_by_role("status").filter(has_text="Added the")).to_be_visible()


def _block_texts(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("ol.blocks li.block-card h3").all_inner_texts()]


def test_compose_review_approve_send_and_unsubscribe(browser: Browser, page: Page, live_server: LiveServer,
                                                     sending_app: Settings, smtp: SmtpServer, tmp_path: Path) -> None:
    with session_scope() as session:
        service.create_user(session, "ed@example.org", "Ed Editor", PASSWORD, Role.EDITOR)
        service.create_user(session, "ann@example.org", "Ann Approver", PASSWORD, Role.APPROVER)
    news = make_list("send-news", "SEND newsletter")
    make_readers(news, 3, prefix="family")

    # --- the editor composes ---------------------------------------------------------------------
    page.goto(live_server.at("/team/issues"))
    expect(page).to_have_url(re.compile(r"/team/sign-in\?next="))
    assert_accessible(page, "composer-sign-in")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_server, "ed@example.org")
    assert_accessible(page, "composer-issues-empty")
    page.get_by_role("link", name="Start a new issue").click()
    assert_accessible(page, "composer-new-issue")
    page.get_by_label("Title").fill("Winter news for families")
    page.get_by_label("Email subject").fill("Winter news from the Local Offer")
    page.get_by_label("Issue date (optional)").fill("2026-12-01")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.get_by_role("heading", level=1, name="Winter news for families")).to_be_visible()

    _add_block(page, "heading", {"Heading text": "Short breaks this winter"})
    # The live preview shows the Markdown as the email will, before saving.
    _open_new_block(page, "text")
    assert_accessible(page, "composer-block-form")
    # Script typed into a Markdown field must never run: not in the live preview, the previews or the email.
    # With JavaScript the field is the text editor: bold by the keyboard, as an officer would, no Markdown.
    text = page.get_by_role("textbox", name="Text", exact=True)
    text.click()
    text.press_sequentially("Families told us ")
    page.keyboard.press("Control+b")
    text.press_sequentially("what helps")
    page.keyboard.press("Control+b")
    text.press_sequentially(". Read the guide.<script>alert('script')</script><img src=x onerror=\"alert('img')\">")
    expect(text.locator("b, strong")).to_have_text("what helps", timeout=TIMEOUT_MS)
    page.locator("#new-block").get_by_role("button", name="Add block").click()
    expect(page.get_by_role("status").filter(has_text="Added the text block")).to_be_visible()
    _add_block(page, "story", {"Title": "Travel training", "Story": "Sam learnt to take the bus to college.",
                                    "Link text (optional)": "Read Sam's story",
                                    "Link address (optional)": "https://example.org/sam"})
    _add_block(page, "quote", {"Quote": "We were listened to.", "Who said it (optional)": "A parent carer"})
    _add_block(page, "contact", {"Email (optional)": "localoffer@example.org",
                                         "Phone (optional)": "0161 496 0000"})
    _add_block(page, "divider", {})
    _open_new_block(page, "social")
    page.locator("#new-block").get_by_label("Network for link 1").select_option(value="facebook")
    _add_block_filled(page, {"Address for link 1": "https://facebook.com/example"})
    # An image, uploaded with its alt text.
    picture = tmp_path / "garden.png"
    picture.write_bytes(PNG)
    _open_new_block(page, "image")
    page.get_by_label("Upload an image").set_input_files(str(picture))
    page.get_by_label("Alternative text", exact=True).fill("Children planting bulbs in the sensory garden")
    page.locator("#new-block").get_by_role("button", name="Add block").click()
    expect(page.locator("img.block-thumb[alt='Children planting bulbs in the sensory garden']")).to_be_visible()
    # A button whose words mean nothing out of context: the checks find it and name the block.
    _add_block(page, "button", {"Button text": "Click here", "Link address": "https://example.org/book"})
    checks = page.locator("#checks")
    expect(checks.get_by_role("heading")).to_contain_text("1 error")
    assert_accessible(page, "composer-editor-with-error")
    checks.get_by_role("link", name=re.compile(r"block 9 \(button\)")).click()
    button_card = page.locator("li.block-card").nth(8)
    button_card.get_by_role("link", name=re.compile("^Edit")).click()
    page.get_by_label("Button text").fill("Book a short break")
    page.get_by_role("button", name="Save block").click()
    expect(page.locator("#checks").get_by_role("heading")).to_contain_text("0 errors")

    # Reorder from the keyboard: the button moves up twice, focus staying on "Move up".
    assert _block_texts(page)[-1].endswith("Button")
    move_up = page.locator("li.block-card").nth(8).get_by_role("button", name=re.compile("^Move up"))
    move_up.focus()
    page.keyboard.press("Enter")
    expect(page.locator("li.block-card").nth(7).locator("h3")).to_contain_text("Button")
    focused = page.evaluate("() => document.activeElement.textContent")
    assert focused.startswith("Move up"), focused
    page.keyboard.press("Enter")
    expect(page.locator("li.block-card").nth(6).locator("h3")).to_contain_text("Button")
    assert [t.split(". ", 1)[1] for t in _block_texts(page)] == [
        "Heading", "Text", "Story card", "Quote", "Contact details", "Divider", "Button", "Social links", "Image"]
    # A notice: its body is Markdown, so the form previews it; every preview below is checked with it in.
    _open_new_block(page, "notice")
    page.get_by_label("Heading", exact=True).fill("Apply for school transport by 31 May")
    notice = page.get_by_role("textbox", name="Notice", exact=True)
    notice.click()
    notice.press_sequentially("If your child starts a new school in September, ")
    page.keyboard.press("Control+b")
    notice.press_sequentially("apply by 31 May")
    page.keyboard.press("Control+b")
    expect(notice.locator("b, strong")).to_have_text("apply by 31 May", timeout=TIMEOUT_MS)
    page.locator("#new-block").get_by_role("button", name="Add block").click()
    expect(page.get_by_role("status").filter(has_text="Added the notice block")).to_be_visible()
    assert _block_texts(page)[-1].endswith("Notice")
    side = page.frame_locator("iframe.side-preview")
    expect(side.get_by_role("heading", level=1, name="Winter news for families")).to_be_visible()
    page.set_viewport_size(PHONE)
    screenshot(page, "composer-editor-phone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "composer-editor-desktop")

    # Previews, each checked.
    for view, name in (("desktop", "Email, desktop"), ("phone", "Email, phone"), ("dark", "Email, dark mode"),
                       ("forced-dark", "Email, dark mode forced by the app"), ("text", "Plain text"),
                       ("web", "Web page")):
        page.goto(live_server.at(f"/team/issues/winter-news-for-families-2026-12-01/preview?view={view}"))
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("aria-current", "page")
        assert_accessible(page, f"composer-preview-{view}")
    page.get_by_role("link", name="Back to Winter news for families").click()

    # A test send reaches the SMTP server.
    page.get_by_label("Email addresses").fill("ed@example.org")
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("status").filter(has_text="Sent a test")).to_be_visible()
    assert smtp.handler.wait_for(1, timeout=30)
    assert any(m.message["Subject"].startswith("[Test]") for m in smtp.messages)

    # --- a parent carer reviews, without an account ---------------------------------------------
    page.get_by_label("Who is the link for?").fill("Parent Carer Forum")
    page.get_by_role("button", name="Create review link").click()
    review_url = page.get_by_label("New review link (copy and send it)").input_value()
    reviewer_context = browser.new_context(viewport=DESKTOP)
    reviewer = watch(reviewer_context.new_page())
    reviewer.goto(review_url)
    expect(reviewer.get_by_role("heading", level=1, name="Winter news for families")).to_be_visible()
    assert_accessible(reviewer, "review-page")
    reviewer.get_by_text("Comment on part 3 (story card)").click()
    reviewer.locator("#author-" + reviewer.locator(".review-block").nth(2).get_attribute("id").removeprefix("block-")).fill("Priya")  # type: ignore[union-attr]
    story = reviewer.locator(".review-block").nth(2)
    story.get_by_label("Your comment").fill("Could you say how families book travel training?")
    story.get_by_role("button", name="Send comment").click()
    expect(reviewer.get_by_role("status").filter(has_text="Thank you")).to_be_visible()
    assert_accessible(reviewer, "review-page-after-comment")
    reviewer_context.close()

    page.reload()
    story_card = page.locator("li.block-card").nth(2)
    expect(story_card.locator(".comment-body")).to_have_text("Could you say how families book travel training?")
    story_card.get_by_role("button", name=re.compile("Mark as resolved")).click()
    expect(page.locator(".comment-body")).to_have_count(0)
    # The page came back scrolled to the resolved block (#block-...): bring the side panel into view
    # first, as a person scrolling up to it would.
    submit = page.get_by_role("button", name="Submit for approval")
    submit.scroll_into_view_if_needed()
    submit.click()
    expect(page.locator(".caption .tag")).to_have_text("In review")
    page.get_by_role("button", name="Sign out").click()

    # --- a second person approves and sends -------------------------------------------------------
    sign_in(page, live_server, "ann@example.org")
    page.get_by_role("link", name="Winter news for families").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".caption .tag")).to_have_text("Approved")
    expect(page.get_by_text("Approved by Ann Approver")).to_be_visible()
    page.get_by_role("link", name="Send or schedule").click()
    assert_accessible(page, "composer-send")
    page.get_by_label(re.compile("^SEND newsletter")).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".big-number")).to_contain_text("3 people will get this issue")
    page.get_by_role("button", name="Send now to 3 people").click()
    expect(page.locator("[data-field='state-words']")).to_have_text("Finished", timeout=60_000)
    expect(page.locator("[data-field='sent']")).to_have_text("3")
    # Only what still makes sense is offered once it has finished.
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel sending")).to_be_hidden()
    # Nothing failed, so there is nothing to retry; and it is no longer "sending".
    expect(page.get_by_role("button", name="Retry failed")).to_be_hidden()
    expect(page.get_by_text("Sending has started.")).to_have_count(0)
    assert_accessible(page, "composer-campaign-finished")
    page.get_by_role("link", name="Sending").click()
    expect(page.get_by_role("row", name=re.compile("Winter news for families"))).to_contain_text("3 of 3")
    assert_accessible(page, "composer-campaigns")
    page.get_by_role("link", name="Issues").click()
    assert_accessible(page, "composer-issues")
    assert dialogs == [], f"script from a block ran: {dialogs}"

    assert smtp.handler.wait_for(4, timeout=30)
    received = smtp.handler.by_recipient()
    families = {f"family{n}@example.org" for n in range(3)}
    assert families <= set(received) and all(received[address] == 1 for address in families)

    # --- a family reads the web copy and unsubscribes from the message ---------------------------
    family = next(m for m in smtp.messages if "family1@example.org" in m.recipients).message
    html = family.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    web_link = re.search(r'href="([^"]+/issues/winter-news[^"]*)"', html).group(1)  # type: ignore[union-attr]
    page.goto(web_link)
    expect(page.get_by_role("heading", level=1, name="Winter news for families")).to_be_visible()
    page.set_viewport_size(PHONE)
    screenshot(page, "journey-web-view-phone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "journey-web-view-desktop")
    unsubscribe = re.search(r"<(https?://[^>]+/u/[^>]+)>", family["List-Unsubscribe"]).group(1)  # type: ignore[union-attr]
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    from subscribers.models import Subscriber, Subscription, SubscriptionStatus

    with session_scope() as session:
        status = session.scalar(select(Subscription.status).join(Subscriber).where(Subscriber.email == "family1@example.org"))
    assert status is SubscriptionStatus.UNSUBSCRIBED
