"""What can go wrong with lists and subscribers, as types with messages a council officer can act on."""

from __future__ import annotations

# NotAllowed (re-adding someone who left, mailing an erased person) is the service's one refusal type,
# shared with the issue workflow; it is not a SubscribersError.
from newsletter.errors import NewsletterError, NotAllowed


class SubscribersError(NewsletterError):
    """Base for every problem the CLI and web pages report as a sentence rather than a traceback."""


class InvalidEmail(SubscribersError, ValueError):
    """An address that email-validator refuses; the message says what is wrong with it."""


class ListNotFound(SubscribersError):
    def __init__(self, slug: str):
        super().__init__(f"there is no list with the slug {slug!r}; `newsletter lists list` shows them")
        self.slug = slug


class ListSlugTaken(SubscribersError):
    def __init__(self, slug: str):
        super().__init__(f"a list with the slug {slug!r} already exists; choose another slug")


class InvalidList(SubscribersError):
    """A list's slug or name cannot be used as given; `field` says which, so a form can point at it."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class SubscriberNotFound(SubscribersError):
    def __init__(self, email: str):
        super().__init__(f"{email} is not on any list")


class ImportRefused(SubscribersError):
    """The whole file was refused before anything was imported (encoding, no email column, not a CSV)."""
