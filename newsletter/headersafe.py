"""One rule for every value that can reach an email header: one line, with no control characters.

A header ends at a line break, so a value holding CR or LF starts a header of its own: a list
named "Evil list\\r\\nBcc: someone@example.org" would copy every issue sent to it to a stranger,
and a blank line would replace the body. Python's email package also raises ValueError on the
other line breaks Unicode and `str.splitlines` know (U+0085, U+2028, U+2029, \\x0b, \\x0c,
\\x1c-\\x1e), which once stopped a campaign and everything queued behind it.

So every one-line field is checked here, where it enters the system (forms, YAML import, the CLI,
CSV import, settings), with a message naming the field; and the header writers check again with
`check_header`, so a value stored before this rule, or a field added later, can never write a
header of its own: it raises HeaderValueError instead.
"""

from __future__ import annotations

import re

from newsletter.errors import NewsletterError

# Line breaks: those str.splitlines() splits on, which is also what the email package refuses.
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile("[" + re.escape(LINE_BREAKS) + "]")
# Everything else a one-line field may not hold: C0 and C1 controls (Unicode category Cc, the tab
# included: it cannot be typed into a form field, only pasted by accident) and lone surrogates,
# which cannot be written as UTF-8 at all.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# A header writer accepts tabs: they are legal folding white space in any header, so refusing
# one already stored would stop a send without making anything safer.
_UNSAFE_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

NOT_ONE_LINE = "must be one line, without line breaks"
HAS_CONTROL = "must not contain tabs or other invisible control characters"


def one_line_problem(value: str) -> str | None:
    """What is wrong with `value` as a one-line field, in words for the person who typed it, or None."""
    if _LINE_BREAK.search(value):
        return NOT_ONE_LINE
    if _CONTROL.search(value):
        return HAS_CONTROL
    return None


def check_one_line(value: str) -> str:
    """`value` unchanged, or ValueError saying what is wrong (pydantic and click add the field's name)."""
    problem = one_line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class HeaderValueError(NewsletterError, ValueError):
    """A value cannot be written into an email header; `field` says which, in words (such as "the list name").

    Raised by the header writers in newsletter/delivery/ (mime.py, message.py) and subscribers/notify.py.
    Input is checked when it enters, so this means a value stored before that check, or a new field
    that skipped it: the message cannot be built, and nothing is sent.
    """

    def __init__(self, field: str, value: str, problem: str | None = None):
        if problem is None:
            found = _UNSAFE_IN_HEADER.search(value)
            where = f" (it holds the character U+{ord(found.group()):04X})" if found else ""
            problem = f"it must be one line, without line breaks or control characters{where}"
        super().__init__(f"{field[:1].upper()}{field[1:]} cannot go in an email header: {problem}")
        self.field = field


def check_header(field: str, value: str) -> str:
    """`value` unchanged if it is safe in a header, else HeaderValueError naming `field`."""
    if _UNSAFE_IN_HEADER.search(value):
        raise HeaderValueError(field, value)
    return value


def header_safe(value: str) -> bool:
    return _UNSAFE_IN_HEADER.search(value) is None


__all__ = [
    "HAS_CONTROL",
    "HeaderValueError",
    "LINE_BREAKS",
    "NOT_ONE_LINE",
    "check_header",
    "check_one_line",
    "header_safe",
    "one_line_problem",
]
