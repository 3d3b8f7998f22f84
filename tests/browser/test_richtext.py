"""The text editor and link rows, driven as an officer drives them: by keyboard, with a screen reader's view.

What is checked is what a person meets: the toolbar is one tab stop with arrow keys between its
buttons and says which styles are on (aria-pressed); Ctrl+B, Ctrl+I and Ctrl+K work; the link dialog
is a labelled dialog whose mistakes are said and focused; a paste of Word's clipboard HTML arrives
clean; "Insert the reader's name" shows a readable label and previews as "there"; rows of links are
added and removed from the keyboard with focus put where the next key press is wanted. What is saved
is read back from the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from newsletter.accounts import service
from newsletter.accounts.models import Role
from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.blocks import IssueDocument

from tests.browser.conftest import TEAM_PASSWORD, LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser

PASTE = Path(__file__).resolve().parents[1] / "data" / "paste"
PHONE = {"width": 320, "height": 720}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def draft(live_server: LiveServer) -> str:
    with session_scope() as session:
        author = service.create_user(session, "ed@example.org", "Ed Editor", TEAM_PASSWORD, Role.EDITOR)
        issue = store.create_issue(session, IssueDocument(title="Winter news", subject="Winter news"))
        issue.created_by_id = author.id
        return issue.slug


def _blocks(slug: str) -> list[dict]:
    with session_scope() as session:
        issue = store.find_issue(session, slug)
        assert issue is not None
        return list(issue.blocks)


def _open_form(page: Page, live_server: LiveServer, slug: str, block_type: str) -> None:
    sign_in(page, live_server, "ed@example.org")
    page.goto(live_server.at(f"/team/issues/{slug}/blocks/new?type={block_type}"))


def _editor(page: Page, name: str) -> Locator:
    editor = page.get_by_role("textbox", name=name, exact=True)
    expect(editor).to_have_attribute("contenteditable", "true")
    return editor


def _markdown_becomes(page: Page, field: str, expected: str) -> None:
    """The hidden textarea (what the preview and the unsaved-text copy read) follows the editor."""
    try:
        page.wait_for_function(
            "([name, text]) => document.querySelector(`textarea[name='${name}']`).value === text",
            arg=[field, expected])
    except Exception:
        actual = page.evaluate("(name) => document.querySelector(`textarea[name='${name}']`).value", field)
        shown = page.evaluate("() => document.querySelector('.richtext-editor').innerHTML")
        raise AssertionError(f"the Markdown is {actual!r}, not {expected!r}; the editor holds {shown!r}") from None


def _focused_name(page: Page) -> str:
    return page.evaluate("() => document.activeElement.textContent.trim()")


def test_the_toolbar_by_keyboard_alone(page: Page, live_server: LiveServer, draft: str) -> None:
    _open_form(page, live_server, draft, "text")
    editor = _editor(page, "Text")
    toolbar = page.get_by_role("toolbar", name="Formatting: Text")
    expect(toolbar).to_be_visible()
    # The Markdown hint is for the form without JavaScript; the editor's own hint replaces it.
    expect(page.get_by_text("Use **bold**")).to_be_hidden()
    expect(editor).to_have_accessible_description(
        "Use the buttons above the text, or Ctrl+B for bold, Ctrl+I for italic and Ctrl+K for a link. "
        "Text pasted from Word, Google Docs or a web page keeps its bold, italic, links and lists. "
        "\u201cReader's name\u201d becomes each reader's name in the email, or \u201cthere\u201d when we do not "
        "know it.".replace("\u201cReader's name\u201d", '"Reader\'s name"').replace("\u201cthere\u201d", '"there"'))

    editor.focus()
    page.keyboard.press("Shift+Tab")  # the toolbar is one tab stop, just before the text
    bold = toolbar.get_by_role("button", name="Bold")
    expect(bold).to_be_focused()
    expect(bold).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="Italic")).to_be_focused()
    page.keyboard.press("End")
    expect(toolbar.get_by_role("button", name="Insert the reader's name")).to_be_focused()
    page.keyboard.press("Home")
    expect(bold).to_be_focused()
    page.keyboard.press("ArrowLeft")  # wraps round
    expect(toolbar.get_by_role("button", name="Insert the reader's name")).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")  # out of the toolbar in one press, into the text
    expect(editor).to_be_focused()

    page.keyboard.type("Families told us ")
    page.keyboard.press("Control+b")
    page.keyboard.type("what works")
    page.keyboard.press("Shift+Tab")
    expect(bold).to_be_focused()
    expect(bold).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")  # Bold off again, and back to the text
    expect(editor).to_be_focused()
    expect(bold).to_have_attribute("aria-pressed", "false")
    page.keyboard.type(" and what is ")
    page.keyboard.press("Control+i")
    page.keyboard.type("hard")
    page.keyboard.press("Control+i")
    page.keyboard.type(".")
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="Bulleted list")).to_be_focused()
    page.keyboard.press("Space")
    expect(editor).to_be_focused()
    page.keyboard.type("Saturday clubs")
    page.keyboard.press("Enter")
    page.keyboard.type("Holiday play schemes")
    _markdown_becomes(page, "markdown",
                      "Families told us **what works** and what is *hard*.\n\n- Saturday clubs\n- Holiday play schemes")
    expect(page.locator(".markdown-preview-body strong")).to_have_text("what works")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_text("Added the text block.")).to_be_visible()
    assert _blocks(draft)[0]["markdown"] == (
        "Families told us **what works** and what is *hard*.\n\n- Saturday clubs\n- Holiday play schemes")


def test_the_link_dialog(page: Page, live_server: LiveServer, draft: str) -> None:
    _open_form(page, live_server, draft, "notice")
    page.get_by_label("Heading", exact=True).fill("Apply for school transport by 31 May")
    editor = _editor(page, "Notice")
    editor.focus()
    page.keyboard.type("Read the guide")
    for _ in range(5):
        page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Add a link")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Link text")).to_have_value("guide")
    address = dialog.get_by_label("Address")
    expect(address).to_be_focused()
    assert_accessible(page, "richtext-link-dialog-desktop")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "richtext-link-dialog-phone")
    page.set_viewport_size(DESKTOP)

    address.fill("the council website")
    page.keyboard.press("Enter")  # adds the link; never sends the block's form behind the dialog
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(address).to_have_accessible_description(
        "A web address such as www.example.org, an email address or a phone number. "
        "Error: An address cannot have spaces in it; give one such as www.example.org.")
    expect(address).to_be_focused()
    address.fill("www.example.org/transport")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(editor).to_be_focused()
    expect(editor.get_by_role("link", name="guide")).to_have_attribute("href", "https://www.example.org/transport")
    _markdown_becomes(page, "body", "Read the [guide](https://www.example.org/transport)")

    # A phone number typed in the dialog becomes a tel: link; Escape leaves without a change.
    page.keyboard.press("End")
    page.keyboard.type(" or ring us")
    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(editor).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("button", name="Link", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Link text").fill("01632 960 123")
    address.fill("01632 960 123")
    dialog.get_by_role("button", name="Add link").click()
    _markdown_becomes(page, "body", "Read the [guide](https://www.example.org/transport) or ring us"
                                    "[01632 960 123](tel:+441632960123)")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_text("Added the notice block.")).to_be_visible()
    assert _blocks(draft)[0]["body"] == (
        "Read the [guide](https://www.example.org/transport) or ring us[01632 960 123](tel:+441632960123)")


def _paste(page: Page, target: str, html: str) -> None:
    """What the browser does on Ctrl+V: a paste event carrying the clipboard's text/html."""
    page.eval_on_selector(target, """(node, html) => {
        node.focus();
        const data = new DataTransfer();
        data.setData('text/html', html);
        data.setData('text/plain', 'plain words');
        node.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }""", html)


def test_paste_from_word_arrives_clean(page: Page, live_server: LiveServer, draft: str) -> None:
    _open_form(page, live_server, draft, "text")
    editor = _editor(page, "Text")
    _paste(page, ".richtext-editor", (PASTE / "word365-chrome.html").read_text(encoding="utf-8"))
    expect(editor.locator("strong").first).to_have_text("Short breaks this winter")
    expect(editor.locator("ul > li")).to_have_count(2)
    expect(editor.get_by_role("link", name="short breaks guide")).to_have_attribute(
        "href", "https://www.example.org/short-breaks")
    expect(page.get_by_role("status").filter(has_text="Pasted")).to_have_text(
        "Pasted, keeping bold, italic, links and lists. "
        "Headings were kept as bold text. For a section heading, add a Heading block.")
    inner = editor.inner_html()
    for noise in ("mso", "Mso", "o:p", "style=", "class=\"Mso", "Check the age range", "color"):
        assert noise not in inner
    expected = (PASTE / "word365-chrome.md").read_text(encoding="utf-8").rstrip("\n")
    _markdown_becomes(page, "markdown", expected)
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_text("Added the text block.")).to_be_visible()
    assert _blocks(draft)[0]["markdown"] == expected


def test_paste_from_google_docs_and_older_word_lists(page: Page, live_server: LiveServer, draft: str) -> None:
    _open_form(page, live_server, draft, "text")
    _editor(page, "Text")
    _paste(page, ".richtext-editor", (PASTE / "google-docs.html").read_text(encoding="utf-8"))
    _markdown_becomes(page, "markdown", (PASTE / "google-docs.md").read_text(encoding="utf-8").rstrip("\n"))
    page.evaluate("() => { const e = document.querySelector('.richtext-editor'); e.innerHTML = ''; "
                  "e.dispatchEvent(new InputEvent('input', { bubbles: true })); }")
    _paste(page, ".richtext-editor", (PASTE / "word2016-edge-mso-lists.html").read_text(encoding="utf-8"))
    _markdown_becomes(page, "markdown", (PASTE / "word2016-edge-mso-lists.md").read_text(encoding="utf-8").rstrip("\n"))
    # A selection from a web page dragged in is cleaned the same way.
    page.evaluate("() => { const e = document.querySelector('.richtext-editor'); e.innerHTML = ''; "
                  "e.dispatchEvent(new InputEvent('input', { bubbles: true })); }")
    page.eval_on_selector(".richtext-editor", """(node, html) => {
        const data = new DataTransfer();
        data.setData('text/html', html);
        const box = node.getBoundingClientRect();
        node.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true,
                                                   clientX: box.left + 10, clientY: box.top + 10 }));
    }""", (PASTE / "web-page.html").read_text(encoding="utf-8"))
    _markdown_becomes(page, "markdown", (PASTE / "web-page.md").read_text(encoding="utf-8").rstrip("\n"))


def test_insert_the_readers_name(page: Page, live_server: LiveServer, draft: str) -> None:
    _open_form(page, live_server, draft, "text")
    editor = _editor(page, "Text")
    editor.focus()
    page.keyboard.type("Hello ")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("End")
    expect(page.get_by_role("button", name="Insert the reader's name")).to_be_focused()
    page.keyboard.press("Enter")
    expect(editor).to_be_focused()
    expect(editor.locator(".name-token")).to_have_text("reader's name")
    expect(page.get_by_role("status").filter(has_text="Reader's name added")).to_be_visible()
    page.keyboard.type(", welcome.")
    _markdown_becomes(page, "markdown", "Hello [[name]], welcome.")
    # The preview says what the email says when we do not know a reader's name.
    expect(page.locator(".markdown-preview-body")).to_have_text("Hello there, welcome.")
    assert_accessible(page, "richtext-editor-desktop")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "richtext-editor-phone")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_text("Added the text block.")).to_be_visible()
    assert _blocks(draft)[0]["markdown"] == "Hello [[name]], welcome."


def test_ctrl_z_undoes_a_paste_and_a_link(page: Page, live_server: LiveServer, draft: str) -> None:
    """A paste and a link are put in with the browser's own editing command, so Ctrl+Z takes each back out,
    the cursor goes back where it was (not the whole text selected, for the next key to replace), and
    Ctrl+Shift+Z puts it back."""
    _open_form(page, live_server, draft, "text")
    editor = _editor(page, "Text")
    editor.focus()
    page.keyboard.type("Short breaks for the summer.")
    page.keyboard.press("Enter")
    page.keyboard.type("Book by Friday")
    typed = "<p>Short breaks for the summer.</p><p>Book by Friday</p>"
    expect(editor).to_have_js_property("innerHTML", typed)
    _markdown_becomes(page, "markdown", "Short breaks for the summer.\n\nBook by Friday")

    _paste(page, ".richtext-editor", (PASTE / "word365-chrome.html").read_text(encoding="utf-8"))
    expect(editor.locator("ul > li")).to_have_count(2)
    expect(editor.locator("strong").first).to_have_text("Short breaks this winter")
    # The cursor is at the end of what was pasted, inside its last paragraph.
    assert page.evaluate("""() => {
        const caret = getSelection().getRangeAt(0);
        const last = document.querySelector('.richtext-editor').lastElementChild;
        const rest = document.createRange();
        rest.setStart(caret.endContainer, caret.endOffset);
        rest.setEndAfter(last);
        return caret.collapsed && last.contains(caret.startContainer) && rest.toString() === '';
    }""")
    expect(editor.locator("p").last).to_have_text("Apply by 31 May.")
    page.keyboard.press("Control+z")
    expect(editor).to_have_js_property("innerHTML", typed)
    _markdown_becomes(page, "markdown", "Short breaks for the summer.\n\nBook by Friday")
    page.keyboard.type("!")  # the cursor is where it was before the paste
    expect(editor).to_have_js_property("innerHTML", "<p>Short breaks for the summer.</p><p>Book by Friday!</p>")
    page.keyboard.press("Control+z")
    expect(editor).to_have_js_property("innerHTML", typed)

    # A link on the word "Friday", chosen with the keyboard, then undone and redone.
    for _ in range(6):
        page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Add a link")
    expect(dialog.get_by_label("Link text")).to_have_value("Friday")
    dialog.get_by_label("Address").fill("www.example.org/book")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    linked = '<p>Short breaks for the summer.</p><p>Book by <a href="https://www.example.org/book">Friday</a></p>'
    expect(editor).to_have_js_property("innerHTML", linked)
    expect(editor).to_be_focused()
    page.keyboard.press("Control+z")
    expect(editor).to_have_js_property("innerHTML", typed)
    _markdown_becomes(page, "markdown", "Short breaks for the summer.\n\nBook by Friday")
    expect(page.get_by_role("link", name="Friday")).to_have_count(0)
    assert page.evaluate("() => getSelection().toString()") == "Friday"  # the words chosen, as before the link
    page.keyboard.press("Control+Shift+z")
    expect(editor).to_have_js_property("innerHTML", linked)
    _markdown_becomes(page, "markdown", "Short breaks for the summer.\n\nBook by [Friday](https://www.example.org/book)")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_text("Added the text block.")).to_be_visible()
    assert _blocks(draft)[0]["markdown"] == (
        "Short breaks for the summer.\n\nBook by [Friday](https://www.example.org/book)")


def test_link_rows_added_and_removed_with_the_keyboard(page: Page, live_server: LiveServer, draft: str) -> None:
    _open_form(page, live_server, draft, "contact")
    links = page.get_by_role("group", name="Links (optional)")
    rows = links.get_by_role("group", name="Link", exact=False)
    expect(links.get_by_role("group", name="Link 3", exact=True)).to_be_visible()
    row1 = links.get_by_role("group", name="Link 1", exact=True)
    row1.get_by_label("Link text for link 1").fill("Local Offer directory")
    row1.get_by_label("Address for link 1").fill("www.example.org/directory")
    page.keyboard.press("Tab")
    expect(row1.get_by_role("button", name="Remove link 1")).to_be_focused()
    add = links.get_by_role("button", name="Add another link")
    add.focus()
    page.keyboard.press("Enter")
    expect(links.get_by_label("Link text for link 4")).to_be_focused()
    expect(links.get_by_role("status")).to_have_text("Link 4 added.")
    page.keyboard.type("Email the team")
    page.keyboard.press("Tab")
    page.keyboard.type("localoffer@example.org")
    # Row 2 is empty: remove it; the rows after it move up and keep their words.
    links.get_by_role("button", name="Remove link 2").focus()
    page.keyboard.press("Enter")
    expect(links.get_by_role("status")).to_have_text("Link 2 removed.")
    expect(links.get_by_label("Link text for link 2")).to_be_focused()
    expect(links.get_by_label("Link text for link 3")).to_have_value("Email the team")
    expect(rows).to_have_count(3)
    assert_accessible(page, "richtext-link-rows-desktop")
    page.set_viewport_size(PHONE)
    assert_accessible(page, "richtext-link-rows-phone")
    page.set_viewport_size(DESKTOP)

    # A row with words but no address comes back named by its row.
    links.get_by_label("Link text for link 2").fill("Search the directory")
    page.get_by_role("button", name="Add block").click()
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Link 2: give the address, such as www.example.org").click()
    expect(page.get_by_label("Address for link 2")).to_be_focused()
    page.keyboard.type("01632 960 123")
    page.get_by_role("button", name="Add block").click()
    expect(page.get_by_text("Added the contact details block.")).to_be_visible()
    assert _blocks(draft)[0]["links"] == [
        {"label": "Local Offer directory", "url": "https://www.example.org/directory"},
        {"label": "Search the directory", "url": "tel:+441632960123"},
        {"label": "Email the team", "url": "mailto:localoffer@example.org"},
    ]


def test_without_javascript_the_fields_are_plain_and_still_work(browser, live_server: LiveServer, draft: str) -> None:
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        _open_form(page, live_server, draft, "social")
        expect(page.get_by_role("button", name="Add another link")).to_be_hidden()
        page.get_by_label("Address for link 1").fill("www.facebook.com/ourteam")
        page.get_by_label("Network for link 2").select_option("youtube")
        page.get_by_label("Address for link 2").fill("youtube.com/@ourteam")
        page.get_by_role("button", name="Add block").click()
        expect(page.get_by_text("Added the social links block.")).to_be_visible()
        assert _blocks(draft)[0]["links"] == [{"network": "facebook", "url": "https://www.facebook.com/ourteam"},
                                              {"network": "youtube", "url": "https://youtube.com/@ourteam"}]
        page.goto(live_server.at(f"/team/issues/{draft}/blocks/new?type=text"))
        expect(page.get_by_text("[[name]] puts in the reader's name")).to_be_visible()
        page.get_by_label("Text", exact=True).fill("Hello [[name]], **welcome**.")
        page.get_by_role("button", name="Add block").click()
        expect(page.get_by_text("Added the text block.")).to_be_visible()
        assert _blocks(draft)[1]["markdown"] == "Hello [[name]], **welcome**."
    finally:
        context.close()
