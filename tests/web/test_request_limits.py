"""Request size limits: small for the public, larger only where a file is uploaded, refused unread.

A body is counted as the app reads it, so a test can tell "answered 413 at once" from "read 70 MB,
then complained".
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask

from newsletter.config import Settings
from newsletter.web.limits import MB, PUBLIC_BYTES

from tests.web.conftest import Team, TeamClient
from tests.web.test_composer import PNG, _new_issue


class CountedBody(io.RawIOBase):
    """A request body of `size` bytes that counts how many of them anyone reads (it is never built in memory)."""

    def __init__(self, size: int, prefix: bytes = b"List-Unsubscribe=One-Click&x="):
        self.size, self.prefix, self.position, self.taken = size, prefix, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:  # the test client measures the body by seeking to its end
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = {0: offset, 1: self.position + offset, 2: self.size + offset}[whence]
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        count = min(len(buffer), self.size - self.position)
        start = self.position
        head = self.prefix[start:start + count]
        buffer[:count] = head + b"a" * (count - len(head))
        self.position += count
        self.taken += count
        return count


def test_a_70_mb_one_click_post_is_refused_unread(app: Flask) -> None:
    body = CountedBody(70 * MB)
    response = app.test_client().post("/u/any-token", input_stream=body, content_length=body.size,
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert body.taken == 0, "nothing of the body was read"
    page = response.get_data(as_text=True)
    assert "That was too large to send" in page and "64 KB at most" in page
    assert 'lang="' in page and "<h1>" in page  # the site's own page, not a bare server message


def test_a_body_without_its_length_is_cut_off_at_the_limit(app: Flask) -> None:
    body = CountedBody(10 * MB)
    # As a server passes a chunked body on: no length, and a stream that ends by itself.
    response = app.test_client().post("/u/any-token", input_stream=body, content_type="application/x-www-form-urlencoded",
                                      environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked",
                                                         "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.taken <= PUBLIC_BYTES + 1, body.taken
    small = CountedBody(200)
    answered = app.test_client().post("/u/any-token", input_stream=small, content_type="application/x-www-form-urlencoded",
                                      environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked",
                                                         "wsgi.input_terminated": True})
    # Read whole and parsed: the one-click field was found, and then the made-up token refused.
    assert answered.status_code == 400 and "must contain List-Unsubscribe" not in answered.get_data(as_text=True)


def test_public_and_team_forms_have_small_limits(app: Flask, as_user: Callable[[str], TeamClient], team: Team) -> None:
    anonymous = app.test_client()
    big_form = {"email": "reader@example.org", "name": "x" * (100 * 1024)}
    assert anonymous.post("/subscribe", data=big_form).status_code == 413
    assert anonymous.post("/team/sign-in", data={"email": "a" * (80 * 1024), "password": "x"}).status_code == 413
    editor = as_user(team.editor)
    slug = _new_issue(editor)
    assert editor.post("/team/markdown-preview", {"markdown": "word " * (150 * 1024)}).status_code == 200  # 750 KB
    huge = editor.post(f"/team/issues/{slug}/details", {"title": "t" * (2 * MB)})
    assert huge.status_code == 413 and "1 MB at most" in huge.get_data(as_text=True)


def test_an_image_too_big_for_the_form_gets_a_clear_413(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    slug = _new_issue(editor)
    picture = PNG + b"\0" * (7 * MB)
    response = editor.post(f"/team/issues/{slug}/blocks/new", {"type": "image", "alt": "A garden",
                                                               "src_file": (io.BytesIO(picture), "garden.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "images must be under 5 MB" in response.get_data(as_text=True)
    body = CountedBody(40 * MB, prefix=b"")
    unread = editor.client.post(f"/team/issues/{slug}/blocks/new", input_stream=body, content_length=body.size,
                                content_type="multipart/form-data; boundary=x")
    assert unread.status_code == 413 and body.taken == 0


def test_an_image_just_over_5_mb_is_named_in_the_form(as_user: Callable[[str], TeamClient], team: Team) -> None:
    editor = as_user(team.editor)
    slug = _new_issue(editor)
    picture = PNG + b"\0" * (5 * MB)
    response = editor.post(f"/team/issues/{slug}/blocks/new", {"type": "image", "alt": "A garden",
                                                               "src_file": (io.BytesIO(picture), "garden.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "images must be under 5 MB" in response.get_data(as_text=True)


def test_csv_import_takes_large_files_up_to_its_own_setting(app: Flask, db: Settings, as_user: Callable[[str], TeamClient],
                                                            team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    from subscribers import store
    from newsletter.db import session_scope

    with session_scope() as session:
        store.create_list(session, "send-news", "SEND newsletter", description="News for families")
    approver = as_user(team.approver)
    # 3 MB of addresses is well past the public and team-form limits but fine for an import.
    rows = "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(100_000)).encode()
    csv = b"email,name\n" + rows
    assert len(csv) > 3 * MB
    imported = approver.post("/team/lists/send-news/import", {"file": (io.BytesIO(csv), "families.csv"),
                                                              "encoding": "utf-8"}, content_type="multipart/form-data")
    assert imported.status_code == 302, imported.get_data(as_text=True)[:2000]
    body = CountedBody(51 * MB, prefix=b"")
    refused = approver.client.post("/team/lists/send-news/import", input_stream=body, content_length=body.size,
                                   content_type="multipart/form-data; boundary=x")
    assert refused.status_code == 413 and body.taken == 0
    assert "50 MB a CSV import can take" in refused.get_data(as_text=True)
    app.config["NEWSLETTER_SETTINGS"] = db.model_copy(update={"max_import_mb": 2})
    smaller = approver.post("/team/lists/send-news/import", {"file": (io.BytesIO(csv), "families.csv"),
                                                             "encoding": "utf-8"}, content_type="multipart/form-data")
    assert smaller.status_code == 413 and "2 MB a CSV import can take" in smaller.get_data(as_text=True)
