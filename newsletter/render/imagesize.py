"""The natural width of an image in the media folder, read from its header (no imaging library needed).

Mail apps stretch an image to the width MJML gives it, and MJML gives an image without a width the
whole column: a 200-pixel photo in a story card became a blurred 550-pixel one. Knowing the natural
width lets the template ask for no more than that. Images at other sites are not fetched (an email
render makes no network request), so they keep the column's width as before.
"""

from __future__ import annotations

import struct
from pathlib import Path

from newsletter.issues.media import MEDIA_PREFIX

_HEADER_BYTES = 64 * 1024  # a JPEG's size marker can follow a long EXIF block


def width_of(data: bytes) -> int | None:
    """The width in pixels of a PNG, GIF, JPEG or WebP image from its first bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return struct.unpack(">I", data[16:20])[0]
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<H", data[6:8])[0]
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        chunk = data[12:16]
        if chunk == b"VP8 " and len(data) >= 30:
            return struct.unpack("<H", data[26:28])[0] & 0x3FFF
        if chunk == b"VP8L" and len(data) >= 25:
            return (struct.unpack("<I", data[21:25])[0] & 0x3FFF) + 1
        if chunk == b"VP8X" and len(data) >= 30:
            return int.from_bytes(data[24:27], "little") + 1
        return None
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            length = struct.unpack(">H", data[index + 2:index + 4])[0]
            # Start-of-frame markers (baseline, progressive...) hold the size; 0xC4, 0xC8 and 0xCC do not.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                return struct.unpack(">H", data[index + 7:index + 9])[0]
            index += 2 + length
    return None


def natural_width(src: str, media_dir: Path) -> int | None:
    """The width of an image kept in the media folder (`/media/<name>`), or None for any other address."""
    if not src.startswith(MEDIA_PREFIX):
        return None
    name = src[len(MEDIA_PREFIX):]
    if not name or "/" in name or name.startswith("."):
        return None
    try:
        with open(media_dir / name, "rb") as image:
            return width_of(image.read(_HEADER_BYTES)) or None
    except OSError:
        return None
