"""No library message and no internal field name ever reaches a person.

Every field of every block type, and every team form, is sent wrong in every way we can think of
(empty, huge, with line breaks or control characters, the wrong kind of value) and the page that
comes back is read as a person reads it: its visible words, not its markup. None may hold pydantic's
own wording ("String should have at least 1 character"), a field's name in the code ("link_label")
or the old hints ("A language tag such as en-GB").
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import lxml.html
import pytest

from newsletter.issues import editing
from newsletter.issues.blocks import REGISTRY, InvalidIssue, parse_issue
from newsletter.web.blockforms import FORMS

from tests.web.conftest import Team, TeamClient
from tests.web.test_composer import _add, _new_issue

FORBIDDEN = ("String should", "Input should", "List should", "Field required", "Value error", "value_error",
             "type=", "pydantic", "validation error", "link_label", "link_url", "A language tag such as en-GB",
             "BCP 47", "give both link_label", "Traceback", "_colour", "postal_address", "contact_email")
# A name from the code: lower-case words joined by underscores.
CODE_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")

BAD_TEXT = ("", "   ", "x" * 20_000, "two\r\nlines", "nul\x00here", "bell\x07", "sep\u2028arator")
BAD_LINKS = ("no bar at all", " | https://example.org/x", "Label | ", "Label | ftp://x", "Label | not a url",
             "myspace | https://myspace.com/x")
ODD_VALUES: tuple[Any, ...] = (None, "", "x" * 5000, 12, 3.5, -1, [], {}, [{}], {"a": 1}, "\x00", "not a url", True)


def visible_words(page: str) -> str:
    """What a person reads: the page's text without markup, attribute values, what they typed, or script."""
    root = lxml.html.fromstring(page)
    for element in root.xpath("//textarea|//script|//style|//head"):
        element.drop_tree()
    return " ".join(root.text_content().split())


def assert_plain(words: str, context: str) -> None:
    found = [fragment for fragment in FORBIDDEN if fragment in words]
    found += sorted(set(CODE_NAME.findall(words)))
    assert not found, f"{context}: {found} in: {words[:2000]}"


def _messages_of(raw: dict[str, Any]) -> Iterator[str]:
    try:
        editing.validate_block(raw)
    except editing.BlockInvalid as error:
        yield from error.fields.values()


@pytest.mark.parametrize("block_type", list(REGISTRY))
def test_every_field_of_every_block_type_fails_in_plain_words(block_type: str) -> None:
    """Each model field given every odd value, alone and in a block otherwise empty."""
    model = REGISTRY[block_type]
    seen = 0
    for name in model.model_fields:
        if name == "type":
            continue
        for value in ODD_VALUES:
            for message in _messages_of({"type": block_type, name: value}):
                seen += 1
                assert_plain(message, f"{block_type}.{name}={value!r:.40}")
    if block_type != "divider":
        assert seen, "the probes found no errors at all"


def test_the_issue_file_reader_speaks_plainly_too() -> None:
    raws: list[Any] = [
        {"title": "", "subject": "x" * 400, "language": "en_GB!", "date": "31/12/2026", "slug": "Not A Slug",
         "preheader": "a\nb", "blocks": "none"},
        {"title": 5, "subject": None, "blocks": [{"type": "story", "title": "T", "body": "B", "link_label": "Go"},
                                                 {"type": "heading", "text": "H", "level": 7}, {"no": "type"},
                                                 {"type": "contact", "links": [{"label": "", "url": "x"}]}]},
    ]
    for raw in raws:
        with pytest.raises(InvalidIssue) as raised:
            parse_issue(raw)
        for problem in raised.value.problems:
            _where, _, message = problem.partition(": ")
            assert not [f for f in FORBIDDEN if f in message and f not in ("link_label", "link_url")], problem
    story = [p for p in raised.value.problems if "(story)" in p]
    assert story == ["block 1 (story), field link_label: give both the link's words and its address, or neither"]


def test_every_block_form_comes_back_in_plain_words(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    slug = _new_issue(editor)
    for block_type, form in FORMS.items():
        for item in form.fields:
            values = BAD_LINKS if item.kind == "links" else BAD_TEXT
            for value in values:
                # A link list is rows of boxes: the words before the bar go in the row's first box.
                left, _, right = value.partition("|")
                fields = ({f"{item.name}-2-{item.line_key}": left.strip(), f"{item.name}-2-url": right.strip()}
                          if item.kind == "links" else {item.name: value})
                response = editor.post(f"/team/issues/{slug}/blocks/new",
                                       {"type": block_type, **fields, "level": "9"})
                assert response.status_code in (302, 400), (block_type, item.name, response.status_code)
                if response.status_code == 400:
                    assert_plain(visible_words(response.get_data(as_text=True)), f"{block_type} form, {item.name}")
    # The story's pair, named as the form names its fields.
    page = editor.post(f"/team/issues/{slug}/blocks/new", {"type": "story", "title": "T", "body": "B",
                                                           "link_label": "Read more"}).get_data(as_text=True)
    assert "Give both the link's words and its address, or neither" in visible_words(page).replace(
        "give both", "Give both")


def test_the_issue_details_form_speaks_plainly(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    bad = {"title": "", "subject": "x" * 400, "preheader": "two\nlines", "date": "31/12/2026", "language": "english!"}
    assert_plain(visible_words(editor.post("/team/issues/new", bad).get_data(as_text=True)), "new issue")
    page = editor.post("/team/issues/new", {**bad, "date": "2026-12-01"}).get_data(as_text=True)
    words = visible_words(page)
    assert_plain(words, "new issue")
    assert "Title is required" in words and "Email subject is too long: at most 300 characters" in words, words
    assert "Preview text must be one line" in words and "Preheader" not in words, words
    assert "Language must be a code such as en-GB for English (UK)" in words
    assert 'spellcheck="false"' in page and "&quot;false&quot;" not in page and "&#34;" not in page
    slug = _new_issue(editor)
    response = editor.post(f"/team/issues/{slug}/details", {"title": "T", "subject": "S", "preheader": "a\nb",
                                                            "language": "x!"})
    words = visible_words(editor.get(response.headers["Location"]).get_data(as_text=True))
    assert_plain(words, "issue details")
    assert "Preview text: must be one line" in words and "Preheader" not in words, words


def test_every_team_form_speaks_plainly(as_user: Callable[[str], TeamClient], anonymous: TeamClient,
                                        team: Team) -> None:
    from tests.delivery.conftest import make_list

    approver, editor = as_user(team.approver), as_user(team.editor)
    make_list("send-news", "SEND newsletter")
    slug = _new_issue(editor)
    _add(editor, slug, {"type": "text", "markdown": "Hello."})
    pages: dict[str, str] = {}
    for name, value in (("slug", "Not A Slug!"), ("slug", ""), ("name", ""), ("name", "a\r\nb"), ("name", "x" * 5000)):
        form = {"slug": "news", "name": "News", "description": "", "visibility": "public", "double_opt_in": "on",
                name: value}
        pages[f"list {name}={value[:10]!r}"] = approver.post("/team/lists", form).get_data(as_text=True)
    for form in ({"name": "", "email": "not an address", "role": "king", "password": "short"},
                 {"name": "a\nb", "email": "x" * 400 + "@example.org", "role": "editor", "password": ""}):
        pages[f"users {form['email'][:10]}"] = approver.post("/team/users", form).get_data(as_text=True)
    pages["send"] = approver.post(f"/team/issues/{slug}/send", {"when": "not a time"}).get_data(as_text=True)
    pages["send no list"] = approver.post(f"/team/issues/{slug}/send", {"when": ""}).get_data(as_text=True)
    pages["import"] = approver.post("/team/lists/send-news/import",
                                    {"file": (io.BytesIO(b"\xff\xfe not csv"), "x.csv"), "encoding": "klingon",
                                     "confirmed": "yes"}, content_type="multipart/form-data").get_data(as_text=True)
    pages["theme"] = approver.post("/team/theme", {"organisation": "", "link_colour": "blue",
                                                   "text_colour": "#ffffff"}).get_data(as_text=True)
    pages["sign-in"] = anonymous.post("/team/sign-in", {"email": "x\x00", "password": ""}).get_data(as_text=True)
    pages["password"] = editor.post("/team/account/password", {"current": "", "new": "x"}).get_data(as_text=True)
    link = editor.post(f"/team/issues/{slug}/review-links")
    review_page = editor.get(link.headers.get("Location", f"/team/issues/{slug}")).get_data(as_text=True)
    token = re.search(r"/review/([A-Za-z0-9._-]+)", review_page)
    if token:
        pages["review"] = anonymous.post(f"/review/{token.group(1)}/comments",
                                         {"block": "", "author": "a\x00", "body": ""}).get_data(as_text=True)
    for name, page in pages.items():
        assert_plain(visible_words(page), name)
