"""Images referenced by path in an issue file are copied into the media folder under a content hash.

The hash name means the same picture imported twice is stored once, and an image can never be
replaced under an issue that was already sent (its address would change instead).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from newsletter.errors import NewsletterError

ALLOWED_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
MAX_BYTES = 5 * 1024 * 1024
MEDIA_PREFIX = "/media/"


class MediaError(NewsletterError):
    pass


def is_remote(src: str) -> bool:
    return src.startswith(("http://", "https://"))


# The first bytes of each format we accept: an upload is refused if its content is not what its name says,
# so nothing but an image is ever served from /media/.
_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
    ".webp": (b"RIFF",),
}


def store_bytes(data: bytes, filename: str, media_dir: Path) -> str:
    """Keep an image under a name made from its content; returns the site-relative address (`/media/<hash>.png`)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise MediaError(f"{filename}: images must be PNG, JPEG, GIF or WebP")
    if len(data) > MAX_BYTES:
        raise MediaError(f"{filename}: images must be under 5 MB (this is {len(data) // 1024} KB)")
    if not data.startswith(_SIGNATURES.get(suffix, (b"",))) or (suffix == ".webp" and data[8:12] != b"WEBP"):
        raise MediaError(f"{filename}: this file is not a {suffix.lstrip('.').upper()} image")
    name = hashlib.sha256(data).hexdigest()[:20] + (".jpg" if suffix == ".jpeg" else suffix)
    media_dir.mkdir(parents=True, exist_ok=True)
    target = media_dir / name
    if not target.exists():
        tmp = target.with_suffix(target.suffix + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
    return MEDIA_PREFIX + name


def local_image(folder: Path, src: str) -> Path:
    """The file an issue names by a relative path, which must stay inside the issue file's own folder.

    An issue file is written by the team, but importing it copies the file into the public media folder:
    without this, `src: ../../private/letter.jpg` (or an absolute path, or a symlink pointing out) would
    publish any readable image on the server.
    """
    if "://" in src or src.startswith(("data:", "file:")):
        raise MediaError(f"{src}: an image is a path inside the issue file's folder or an http(s):// address")
    if Path(src).is_absolute() or src.startswith(("\\", "~")) or (len(src) > 1 and src[1] == ":"):
        raise MediaError(f"{src}: give the image's path from the issue file's folder (such as media/photo.png), "
                         "not an absolute path")
    root = folder.resolve()
    source = (root / src).resolve()  # follows symlinks, so a link pointing out of the folder is caught too
    if not source.is_relative_to(root):
        raise MediaError(f"{src}: the image must be inside the issue file's folder ({root}) or below it; "
                         "copy it there or use an http(s):// address")
    return source


def store_file(source: Path, media_dir: Path) -> str:
    """Copy an image named in an issue file into `media_dir`."""
    if not source.is_file():
        raise MediaError(f"{source}: no such file")
    return store_bytes(source.read_bytes(), source.name, media_dir)


def resolve_media_path(name: str, media_dir: Path) -> Path | None:
    """The file behind a `/media/<name>` address, refusing anything that would leave the folder."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    path = media_dir / name
    return path if path.is_file() else None
