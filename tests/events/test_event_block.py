"""The event block as the issue format reads it: times on the team's clock, and mistakes in plain words
that name the block and the field."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import yaml

from newsletter.config import Settings, reset_settings
from newsletter.issues.blocks import EventBlock, InvalidIssue, parse_issue
from newsletter.issues.editing import BlockInvalid, validate_block

LONDON = ZoneInfo("Europe/London")
UTC = dt.timezone.utc
BASE = {"type": "event", "title": "Coffee morning", "place": "Anytown Library"}


def _event(**fields: object) -> EventBlock:
    doc = parse_issue({"title": "News", "subject": "News", "blocks": [{"type": "heading", "text": "Events"},
                                                                       {**BASE, **fields}]})
    block = doc.blocks[1]
    assert isinstance(block, EventBlock)
    return block


def _problems(**fields: object) -> list[str]:
    with pytest.raises(InvalidIssue) as caught:
        _event(**fields)
    return caught.value.problems


def test_a_time_without_a_zone_is_on_the_teams_clock_in_summer_and_in_winter(settings: Settings) -> None:
    summer = _event(starts="2027-07-09 10:00", ends="2027-07-09T12:00")
    assert summer.starts.astimezone(UTC) == dt.datetime(2027, 7, 9, 9, 0, tzinfo=UTC)  # BST, UTC+1
    assert summer.ends.astimezone(UTC) == dt.datetime(2027, 7, 9, 11, 0, tzinfo=UTC)
    winter = _event(starts="2027-01-09T10:00")
    assert winter.starts.astimezone(UTC) == dt.datetime(2027, 1, 9, 10, 0, tzinfo=UTC)  # GMT
    # Stored with its offset, so the stored issue says the moment whatever the setting becomes.
    stored = summer.model_dump(mode="json", exclude_none=True)
    assert stored["starts"] == "2027-07-09T10:00:00+01:00"


def test_the_teams_clock_is_the_setting(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_TIMEZONE", "America/New_York")
    reset_settings()
    event = _event(starts="2027-07-09 10:00")
    assert event.starts.astimezone(UTC) == dt.datetime(2027, 7, 9, 14, 0, tzinfo=UTC)


def test_a_time_with_its_own_offset_is_taken_as_written(settings: Settings) -> None:
    event = _event(starts="2027-07-09T10:00:00+00:00")
    assert event.starts.astimezone(UTC) == dt.datetime(2027, 7, 9, 10, 0, tzinfo=UTC)
    assert event.starts.astimezone(LONDON).hour == 11  # shown on the team's clock


def test_yaml_dates_and_times_read_as_the_team_writes_them(settings: Settings) -> None:
    raw = yaml.safe_load("""
title: News
subject: News
blocks:
  - type: event
    title: Fun day
    starts: 2027-08-01
    ends: 2027-08-02
    place: Online
  - type: event
    title: Talk
    starts: 2027-08-01 18:30:00
    place: Online
""")
    fun_day, talk = parse_issue(raw).blocks
    assert fun_day.starts == dt.date(2027, 8, 1) and fun_day.ends == dt.date(2027, 8, 2)
    assert talk.starts.astimezone(UTC) == dt.datetime(2027, 8, 1, 17, 30, tzinfo=UTC)


def test_a_stored_event_reads_back_the_same(settings: Settings) -> None:
    event = _event(starts="2027-01-09 10:00", ends="2027-01-09 12:30", access="Step-free",
                   booking_url="https://example.org/book", description="Bring **snacks**.")
    again = EventBlock.model_validate(event.model_dump(mode="json", exclude_none=True), context={"stored": True})
    assert again == event


@pytest.mark.parametrize(("fields", "expected"), [
    ({"starts": "2027-07-09T12:00", "ends": "2027-07-09T10:00"},
     "block 2 (event), field ends: must be after the start: check the date and time it ends"),
    ({"starts": "2027-07-09T12:00", "ends": "2027-07-09T12:00"},
     "block 2 (event), field ends: must be after the start: check the date and time it ends"),
    ({"starts": "2027-07-09", "ends": "2027-07-08"},
     "block 2 (event), field ends: must be on or after the day it starts"),
    ({"starts": "2027-07-09", "ends": "2027-07-09T12:00"},
     "block 2 (event), field ends: must be a date without a time, like the start, for an event that lasts all day"),
    ({"starts": "2027-07-09T10:00", "ends": "2027-07-10"},
     "block 2 (event), field ends: needs a time as well as a date, like the start"),
    ({"starts": "9th July"},
     "block 2 (event), field starts: must be a date such as 2026-07-09, or a date and time such as 2026-07-09 10:00"),
    ({"starts": "0227-07-09"}, "block 2 (event), field starts: must be a date between 2000 and 2099; check the year"),
    ({"starts": "2027-03-28T01:30"},
     "block 2 (event), field starts: 01:30 does not happen on 28 March 2027: the clocks go forward then. "
     "Choose a time an hour later."),
    ({}, "block 2 (event), field starts: is required"),
    ({"starts": "2027-07-09", "booking_url": "javascript:alert(1)"},
     "block 2 (event), field booking_url: must be a full address starting with https, http, mailto, tel"),
    ({"starts": "2027-07-09", "place": ""}, "block 2 (event), field place: is required"),
    ({"starts": "2027-07-09", "access": "step-free\nquiet room"}, "block 2 (event), field access: must be one line"),
])
def test_mistakes_name_the_block_and_field_in_plain_words(settings: Settings, fields: dict, expected: str) -> None:
    problems = _problems(**fields)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_the_composer_gets_the_same_words_keyed_by_field(settings: Settings) -> None:
    with pytest.raises(BlockInvalid) as caught:
        validate_block({**BASE, "starts": "2027-07-09T12:00", "ends": "2027-07-09T10:00"})
    assert caught.value.fields == {"ends": "must be after the start: check the date and time it ends"}


def test_a_date_only_event_lasting_one_day_may_end_the_day_it_starts(settings: Settings) -> None:
    event = _event(starts="2027-07-09", ends="2027-07-09")
    assert event.starts == event.ends == dt.date(2027, 7, 9)
