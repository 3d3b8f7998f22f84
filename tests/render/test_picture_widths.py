"""A picture is never stretched past its own width, in the email or the web view: a 120-pixel photo shown
550 pixels wide is a blur. The width asked for in an image block is a most, never a stretch; a picture at
another site (not fetched at render time) keeps the width asked for, or none."""

from __future__ import annotations

import re
import struct
import zlib

import pytest

from newsletter.config import Settings
from newsletter.issues.blocks import parse_issue
from newsletter.render.pipeline import render_issue
from newsletter.theme import get_theme


def png(width: int, height: int) -> bytes:
    """A real grey PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# (alt text naming the case, src, width asked for, the width the picture may take: None for the column's)
CASES = [
    ("small, no width asked", "/media/small.png", None, 120),
    ("small, asked wider than it is", "/media/small.png", 400, 120),
    ("large, asked narrower", "/media/large.png", 200, 200),
    ("large, no width asked", "/media/large.png", None, 480),
    ("elsewhere, width asked", "https://images.example.net/park.png", 300, 300),
    ("elsewhere, no width asked", "https://images.example.net/park.png", None, None),
]


@pytest.fixture
def rendered(settings: Settings):  # type: ignore[no-untyped-def]
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    (settings.media_dir / "small.png").write_bytes(png(120, 80))
    (settings.media_dir / "large.png").write_bytes(png(480, 40))
    blocks = []
    for alt, src, width, _ in CASES:
        block = {"type": "image", "src": src, "alt": alt}
        if width:
            block["width"] = width
        blocks.append(block)
    doc = parse_issue({"title": "News", "subject": "News", "blocks": blocks})
    return render_issue(doc, "news", get_theme(), settings)


@pytest.mark.parametrize(("alt", "src", "asked", "allowed"), CASES, ids=[case[0] for case in CASES])
def test_the_email_gives_an_image_no_more_than_its_own_width(rendered, alt: str, src: str, asked: int | None,
                                                             allowed: int | None) -> None:
    html = rendered.html.public
    # MJML puts the picture in a cell as wide as it is given, and the picture fills that cell (width 100%).
    cell = html.split(f'alt="{alt}"', 1)[0].rsplit("<td", 1)[1].split(">", 1)[0]
    column = 552  # the column's width inside the email's padding: what a picture given no width fills
    expected = allowed or column
    assert f'width="{expected}"' in cell and f"width:{expected}px" in cell, cell


@pytest.mark.parametrize(("alt", "src", "asked", "allowed"), CASES, ids=[case[0] for case in CASES])
def test_the_web_view_gives_an_image_no_more_than_its_own_width(rendered, alt: str, src: str, asked: int | None,
                                                                allowed: int | None) -> None:
    tag = next(tag for tag in re.findall(r"<img [^>]*>", rendered.web_html) if f'alt="{alt}"' in tag)
    width = re.search(r'\swidth="(\d+)"', tag)
    assert (int(width.group(1)) if width else None) == allowed, tag
