"""The team's clock: times are typed and read in `NEWSLETTER_TIMEZONE` (Europe/London by default),
always shown with their zone ("9:00 BST"), and stored in UTC.

A council officer who schedules an issue for 9:00 in July means 9:00 British Summer Time; reading
the form as UTC sent it at 10:00. Twice a year a local time is missing (the clocks go forward) or
happens twice (they go back): the first is refused with a plain message, the second means the
first of the two, as most calendars do.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from newsletter.config import Settings, get_settings
from newsletter.errors import NewsletterError


class InvalidTime(NewsletterError, ValueError):
    """A time typed into a form that cannot be used; the message says why in plain words."""


def zone(settings: Settings | None = None) -> ZoneInfo:
    return ZoneInfo((settings or get_settings()).timezone)


def local(moment: datetime, settings: Settings | None = None) -> datetime:
    """A stored (UTC) moment on the team's clock."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone(settings))


def shown(moment: datetime | None, pattern: str = "%-d %B %Y at %H:%M", settings: Settings | None = None) -> str:
    """A moment as the team reads it, with its zone: "1 July 2026 at 09:00 BST". Empty for none."""
    if moment is None:
        return ""
    at = local(moment, settings)
    return f"{at.strftime(pattern)} {at.tzname()}"


def form_value(moment: datetime | None, settings: Settings | None = None) -> str:
    """A moment as a `datetime-local` field holds it, on the team's clock."""
    return local(moment, settings).strftime("%Y-%m-%dT%H:%M") if moment else ""


def parse(raw: str, settings: Settings | None = None) -> datetime | None:
    """A time typed as the team's local time (a `datetime-local` value, or ISO with its own offset),
    in UTC. None when empty."""
    text = raw.strip()
    if not text:
        return None
    try:
        typed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise InvalidTime("Give the time as a date and time, such as 2026-12-01 09:00.") from None
    if typed.tzinfo is not None:
        return typed.astimezone(timezone.utc)
    here = zone(settings)
    placed = typed.replace(tzinfo=here, fold=0)
    # A time that does not exist comes back different after a round trip through UTC.
    if placed.astimezone(timezone.utc).astimezone(here).replace(tzinfo=None) != typed:
        raise InvalidTime(f"{typed:%H:%M} does not happen on {typed:%-d %B %Y}: the clocks go forward then. "
                          "Choose a time an hour later.")
    return placed.astimezone(timezone.utc)
