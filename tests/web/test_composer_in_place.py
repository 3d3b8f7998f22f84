"""Editing in place: the block views answer htmx (HX-Request) with fragments, the forms without it as before.

Covers what a person would lose or overwrite: an uploaded image kept through a form error, two people
saving the same block, a block deleted under an open form. The browser tests drive the same views in
chromium (tests/browser/test_composer_in_place.py).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable

from newsletter.db import session_scope
from newsletter.issues import store
from newsletter.issues.models import Issue

from tests.web.conftest import Team, TeamClient

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
HX = {"HX-Request": "true"}


def _new_issue(client: TeamClient) -> str:
    response = client.post("/team/issues/new", {"title": "July news", "subject": "July news from the Local Offer",
                                                "preheader": "", "date": "2026-07-06", "language": "en-GB"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def _issue(slug: str) -> Issue:
    with session_scope() as session:
        issue = store.get_issue(session, slug)
        session.expunge(issue)
        return issue


def _heading(client: TeamClient, slug: str, text: str) -> str:
    response = client.post(f"/team/issues/{slug}/blocks/new", {"type": "heading", "text": text, "level": "2"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("#block-", 1)[1]


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return found.group(1)


def test_a_block_form_opens_in_place_with_its_own_field_ids(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    key = _heading(client, slug, "Co-production week")
    fragment = client.get(f"/team/issues/{slug}/blocks/{key}", headers=HX)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in html and "<h1" not in html, "a fragment, not a page"
    assert f'hx-target="#slot-{key}"' in html
    assert f'id="{key}-field-text"' in html and f'for="{key}-field-text"' in html
    assert 'id="field-text"' not in html, "ids are the block's own, so two open forms never share one"
    # Without htmx the same address is still the whole form page.
    page = client.get(f"/team/issues/{slug}/blocks/{key}").get_data(as_text=True)
    assert "<h1>Edit heading</h1>" in page and 'id="field-text"' in page


def test_a_save_in_place_answers_with_the_card_and_the_panels(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    key = _heading(client, slug, "Co-production week")
    form = client.get(f"/team/issues/{slug}/blocks/{key}", headers=HX).get_data(as_text=True)
    saved = client.post(f"/team/issues/{slug}/blocks/{key}", {"text": "National co-production week", "level": "2",
                                                             "block_version": _hidden(form, "block_version")},
                        headers=HX)
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert saved.headers["HX-Retarget"] == f"#block-{key}" and saved.headers["HX-Reswap"] == "outerHTML"
    assert "blockSaved" in saved.headers["HX-Trigger"]
    assert f'id="block-{key}"' in html and f'data-focus-after-swap="edit-{key}"' in html
    assert 'id="checks" hx-swap-oob="true"' in html and 'id="side-preview"' in html and 'id="next-steps"' in html
    assert "#preview-block-1" in html, "the preview opens at the block just saved"
    assert "Saved the heading block." in html
    assert _issue(slug).blocks[0]["text"] == "National co-production week"


def test_form_mistakes_come_back_in_place(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    response = client.post(f"/team/issues/{slug}/blocks/new", {"type": "button", "label": "", "url": ""}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers, "not saved, so no blockSaved"
    assert "There is a problem" in html and 'href="#new-field-label"' in html
    assert _issue(slug).blocks == []


def test_a_divider_is_added_at_once_and_other_types_open_their_form(as_user: Callable[[str], TeamClient],
                                                                   team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    first = _heading(client, slug, "First")
    _heading(client, slug, "Second")
    added = client.post(f"/team/issues/{slug}/blocks/start", {"type": "divider", "at": "1"}, headers=HX)
    assert added.status_code == 200 and added.headers["HX-Retarget"] == "#block-list"
    assert [block["type"] for block in _issue(slug).blocks] == ["heading", "divider", "heading"]
    assert 'id="new-block"' not in added.get_data(as_text=True), "a form opened meanwhile is not closed"
    opened = client.post(f"/team/issues/{slug}/blocks/start", {"type": "quote", "at": "0"}, headers=HX)
    html = opened.get_data(as_text=True)
    assert opened.status_code == 200 and 'name="at" value="0"' in html and 'hx-target="#new-block"' in html
    # Without JavaScript the same form goes to the quote's form page, and a divider is added straight away.
    fallback = client.post(f"/team/issues/{slug}/blocks/start", {"type": "quote", "at": "0"})
    assert fallback.status_code == 302 and "/blocks/new?type=quote&at=0" in fallback.headers["Location"]
    assert first in _issue(slug).block_keys


def test_move_and_delete_in_place_answer_with_the_list(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    keys = [_heading(client, slug, f"Section {n}") for n in range(3)]
    moved = client.post(f"/team/issues/{slug}/blocks/{keys[2]}/move", {"direction": "up"}, headers=HX)
    html = moved.get_data(as_text=True)
    assert moved.status_code == 200 and f'data-focus-after-swap="move-{keys[2]}-up"' in html
    assert 'hx-preserve="true"' in html, "a form open in another block survives the list being redrawn"
    assert _issue(slug).block_keys == [keys[0], keys[2], keys[1]]
    deleted = client.post(f"/team/issues/{slug}/blocks/{keys[0]}/delete", headers=HX)
    assert deleted.status_code == 200 and f'data-focus-after-swap="edit-{keys[2]}"' in deleted.get_data(as_text=True)
    assert _issue(slug).block_keys == [keys[2], keys[1]]


def test_an_uploaded_image_survives_a_form_error_in_both_modes(as_user: Callable[[str], TeamClient], team: Team) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    for headers in ({}, HX):
        first = client.post(f"/team/issues/{slug}/blocks/new",
                            {"type": "image", "alt": "", "src": "", "src_file": (io.BytesIO(PNG), "garden.png")},
                            content_type="multipart/form-data", headers=headers)
        html = first.get_data(as_text=True)
        assert first.status_code == (200 if headers else 400)
        assert "Uploaded: <strong>garden.png</strong>" in html
        kept = _hidden(html, "src_uploaded")
        assert re.fullmatch(r"/media/[0-9a-f]{20}\.png", kept)
        # The second try sends no file: the hidden field names the one already uploaded.
        second = client.post(f"/team/issues/{slug}/blocks/new",
                             {"type": "image", "alt": "Children planting bulbs", "src": "", "src_uploaded": kept,
                              "src_uploaded_name": "garden.png"}, headers=headers)
        assert second.status_code in (200, 302), second.get_data(as_text=True)
    assert [block["src"] for block in _issue(slug).blocks] == [kept, kept]
    # Only an image already in the media folder can be named that way.
    refused = client.post(f"/team/issues/{slug}/blocks/new",
                          {"type": "image", "alt": "A picture", "src": "", "src_uploaded": "/media/../../etc/passwd.png"})
    assert refused.status_code == 400 and len(_issue(slug).blocks) == 2


def test_two_people_saving_one_block_get_a_conflict_not_an_overwrite(as_user: Callable[[str], TeamClient],
                                                                     team: Team) -> None:
    ed, ann = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(ed)
    key = _heading(ed, slug, "Short breaks")
    for headers in ({}, HX):
        ed_form = ed.get(f"/team/issues/{slug}/blocks/{key}", headers=headers).get_data(as_text=True)
        ann_form = ann.get(f"/team/issues/{slug}/blocks/{key}", headers=headers).get_data(as_text=True)
        ann_text = f"Short breaks: Ann's words {bool(headers)}"
        ed_text = f"Short breaks: Ed's words {bool(headers)}"
        saved = ann.post(f"/team/issues/{slug}/blocks/{key}",
                         {"text": ann_text, "level": "2", "block_version": _hidden(ann_form, "block_version")},
                         headers=headers)
        assert saved.status_code in (200, 302)
        late = ed.post(f"/team/issues/{slug}/blocks/{key}",
                       {"text": ed_text, "level": "2", "block_version": _hidden(ed_form, "block_version")},
                       headers=headers)
        html = late.get_data(as_text=True)
        assert late.status_code == (200 if headers else 409) and "HX-Trigger" not in late.headers
        assert "Someone else saved this block while you were editing it" in html
        assert ann_text.replace("'", "&#39;") in html, "their version is shown"
        assert f'value="{ed_text}"'.replace("'", "&#39;") in html, "yours is kept in the form"
        assert _issue(slug).blocks[0]["text"] == ann_text
        # Saving again from that form is a choice made knowingly: it now carries their version.
        again = ed.post(f"/team/issues/{slug}/blocks/{key}",
                        {"text": ed_text, "level": "2", "block_version": _hidden(html, "block_version")},
                        headers=headers)
        assert again.status_code in (200, 302)
        assert _issue(slug).blocks[0]["text"] == ed_text


def test_a_block_deleted_under_an_open_form_keeps_the_text(as_user: Callable[[str], TeamClient], team: Team) -> None:
    ed, ann = as_user(team.editor), as_user(team.approver)
    slug = _new_issue(ed)
    key = _heading(ed, slug, "Short breaks")
    form = ed.get(f"/team/issues/{slug}/blocks/{key}", headers=HX).get_data(as_text=True)
    ann.post(f"/team/issues/{slug}/blocks/{key}/delete")
    late = ed.post(f"/team/issues/{slug}/blocks/{key}", {"type": "heading", "text": "Short breaks in August",
                                                        "level": "2", "block_version": _hidden(form, "block_version")},
                   headers=HX)
    html = late.get_data(as_text=True)
    assert late.status_code == 200 and "Someone else deleted this block" in html
    assert 'value="Short breaks in August"' in html and f"/team/issues/{slug}/blocks/new" in html
