"""What a family typed with an answer: checked before it is kept, and never treated as markup.

A comment is shown to the team as text (escaped, never rendered as HTML or Markdown). It is refused,
with what was typed kept in the box, when it is too long or holds invisible control characters
(which PostgreSQL cannot store, and which copying from other programs sometimes brings along).
"""

from __future__ import annotations

import unicodedata

from newsletter.errors import NewsletterError

MAX_COMMENT = 2000
MAX_OTHER = 300
_KEPT_CONTROLS = {"\n", "\t"}


class CommentRefused(NewsletterError):
    """The words cannot be kept as they are. `kept` is what goes back into the box for the person to fix."""

    def __init__(self, message: str, kept: str):
        self.kept = kept
        super().__init__(message)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" and char not in _KEPT_CONTROLS


def clean(text: str, *, limit: int = MAX_COMMENT, what: str = "Your comment") -> str:
    """The words to keep (line ends made plain, spaces at either end dropped), or CommentRefused."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    controls = sum(1 for char in text if _is_control(char))
    if controls:
        kept = "".join(char for char in text if not _is_control(char))
        plural = "character" if controls == 1 else "characters"
        raise CommentRefused(
            f"{what} had {controls} invisible control {plural} we cannot store, often brought in by copying "
            f"and pasting. We have taken {'it' if controls == 1 else 'them'} out: check the words in the box "
            "and send them again.", kept)
    if len(text) > limit:
        raise CommentRefused(
            f"{what} is {len(text):,} characters long; we can take up to {limit:,}. "
            "Shorten it and send it again: your words are still in the box.", text)
    return text
