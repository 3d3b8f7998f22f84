"""Importing an issue file reads images only from its own folder (or below it), or takes http(s) addresses.

Whatever an import reads is copied into the media folder and served publicly, so a path that leaves the
folder (`..`, an absolute path, a symlink pointing out) would publish any image on the server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from newsletter.issues.blocks import InvalidIssue
from newsletter.issues.yamlio import read_issue_file
from tests.conftest import EXAMPLE

PNG = (EXAMPLE.parent / "media" / "dots.png").read_bytes()
SECRET = PNG + b"private"  # still a PNG to the signature check, and told apart from the allowed one


def _issue_file(folder: Path, *blocks: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "issue.yaml"
    path.write_text(yaml.safe_dump({"title": "Summer news", "subject": "Summer news from the Local Offer",
                                    "blocks": list(blocks)}))
    return path


def _image(src: str) -> dict:
    return {"type": "image", "src": src, "alt": "Dots"}


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    """tmp/private/secret.png beside tmp/issues/, the folder the issue file is in."""
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.png").write_bytes(SECRET)
    (tmp_path / "issues" / "media").mkdir(parents=True)
    (tmp_path / "issues" / "media" / "ok.png").write_bytes(PNG)
    return tmp_path


def _refused(path: Path, media: Path) -> list[str]:
    with pytest.raises(InvalidIssue) as caught:
        read_issue_file(path, media)
    copied = [path.read_bytes() for path in media.iterdir()] if media.exists() else []
    assert SECRET not in copied, "the image from outside the folder was copied into the public media folder"
    return caught.value.problems


@pytest.mark.parametrize("src", ["../private/secret.png", "media/../../private/secret.png"])
def test_a_path_leaving_the_issue_folder_is_refused(layout: Path, src: str) -> None:
    path = _issue_file(layout / "issues", _image(src))
    [problem] = _refused(path, layout / "media")
    assert problem.startswith("block 1 (image), field src: ")
    assert "must be inside the issue file's folder" in problem


def test_an_absolute_path_is_refused(layout: Path) -> None:
    path = _issue_file(layout / "issues", _image(str(layout / "private" / "secret.png")))
    [problem] = _refused(path, layout / "media")
    assert problem.startswith("block 1 (image), field src: ") and "not an absolute path" in problem


def test_a_symlink_pointing_out_of_the_folder_is_refused(layout: Path) -> None:
    (layout / "issues" / "media" / "link.png").symlink_to(layout / "private" / "secret.png")
    path = _issue_file(layout / "issues", _image("media/ok.png"),
                       {"type": "story", "title": "Clubs", "body": "Holiday clubs.", "image": "media/link.png",
                        "alt": "Dots"})
    [problem] = _refused(path, layout / "media")
    assert problem.startswith("block 2 (story), field image: ")


@pytest.mark.parametrize("src", ["file:///etc/hosts", "ftp://example.org/a.png"])
def test_other_kinds_of_address_are_refused(layout: Path, src: str) -> None:
    [problem] = _refused(_issue_file(layout / "issues", _image(src)), layout / "media")
    assert problem.startswith("block 1 (image), field src: ") and "http(s)://" in problem


def test_paths_inside_the_folder_and_web_addresses_still_work(layout: Path) -> None:
    (layout / "issues" / "media" / "inner.png").symlink_to("ok.png")  # a link that stays inside is fine
    path = _issue_file(layout / "issues", _image("media/ok.png"), _image("./media/../media/inner.png"),
                       _image("https://www.example.org/map.png"))
    doc = read_issue_file(path, layout / "media")
    stored, same, remote = (block.src for block in doc.blocks)
    assert stored.startswith("/media/") and same == stored
    assert (layout / "media" / stored.removeprefix("/media/")).read_bytes() == PNG
    assert remote == "https://www.example.org/map.png"
