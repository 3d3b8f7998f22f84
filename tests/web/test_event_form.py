"""The composer's event form, posted as a browser without JavaScript posts it: a date box and a time box
for the start and the end, typed the way an officer writes them, mistakes named in plain words."""

from __future__ import annotations

from collections.abc import Callable

import lxml.html

from newsletter.config import Settings

from tests.web.conftest import Team, TeamClient
from tests.web.test_composer import _add, _issue, _new_issue
from tests.web.test_plain_words import assert_plain, visible_words

EVENT = {"type": "event", "title": "Coffee morning", "place": "Anytown Library", "access": "Step-free",
         "booking_url": "www.example.org/book", "description": "Meet **other parents**."}


def test_an_event_made_with_the_date_and_time_boxes(as_user: Callable[[str], TeamClient], team: Team,
                                                    db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    form = client.get(f"/team/issues/{slug}/blocks/new?type=event").get_data(as_text=True)
    for name, kind in (("starts_date", "date"), ("starts_time", "time"), ("ends_date", "date"), ("ends_time", "time")):
        assert f'name="{name}" type="{kind}"' in form
    page = lxml.html.fromstring(form)
    assert page.xpath("//fieldset[@id='field-starts']/legend/text()") == ["Start"]
    assert page.xpath("//label[@for='field-starts_date']/text()") == ["Date"]
    _add(client, slug, {**EVENT, "starts_date": "2027-07-09", "starts_time": "10:00", "ends_date": "",
                        "ends_time": "12:30"})
    (stored,) = _issue(slug).blocks
    # BST: the boxes are the team's clock; the end given as a time alone is on the start's day.
    assert stored == {"type": "event", "title": "Coffee morning", "starts": "2027-07-09T10:00:00+01:00",
                      "ends": "2027-07-09T12:30:00+01:00", "place": "Anytown Library", "access": "Step-free",
                      "booking_url": "https://www.example.org/book", "description": "Meet **other parents**."}
    # Editing shows the boxes filled in again, on the team's clock.
    key = _issue(slug).block_keys[0]
    edit = client.get(f"/team/issues/{slug}/blocks/{key}").get_data(as_text=True)
    for name, value in (("starts_date", "2027-07-09"), ("starts_time", "10:00"), ("ends_date", "2027-07-09"),
                        ("ends_time", "12:30")):
        assert f'name="{name}" type="{name.split("_")[1]}" value="{value}"' in edit


def test_dates_and_times_typed_in_plain_text_boxes_are_read(as_user: Callable[[str], TeamClient], team: Team,
                                                            db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, {**EVENT, "starts_date": "Saturday 9 January 2027", "starts_time": "6.30pm",
                        "ends_time": "8pm"})
    _add(client, slug, {**EVENT, "title": "Fun day", "starts_date": "31/7/2027", "ends_date": "1 Aug 2027"})
    talk, fun_day = _issue(slug).blocks
    assert (talk["starts"], talk["ends"]) == ("2027-01-09T18:30:00Z", "2027-01-09T20:00:00Z")  # GMT
    assert (fun_day["starts"], fun_day["ends"]) == ("2027-07-31", "2027-08-01")


def test_mistakes_come_back_named_with_what_was_typed(as_user: Callable[[str], TeamClient], team: Team,
                                                      db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    cases = [
        ({"starts_date": "", "starts_time": ""}, "Start is required"),
        ({"starts_date": "", "starts_time": "10am"}, "Start needs a date, such as 9 July 2026 or 9/7/2026"),
        ({"starts_date": "next Tuesday"}, "Start has a date we cannot read: write it like 9 July 2026 or 9/7/2026"),
        ({"starts_date": "31/2/2027"}, "Start has a date that does not exist"),
        ({"starts_date": "2027-07-09", "starts_time": "10"}, "Start has a time without am or pm"),
        ({"starts_date": "2027-07-09", "starts_time": "10am", "ends_time": "9am"},
         "End (optional) must be after the start: check the date and time it ends"),
        ({"starts_date": "2027-03-28", "starts_time": "1:30am"},
         "Start is at 01:30 on 28 March 2027, a time that does not happen: the clocks go forward then."),
        ({"starts_date": "2027-07-09", "ends_date": "2027-07-10", "starts_time": "10am"},
         "End (optional) needs a time as well as a date, like the start"),
    ]
    for fields, expected in cases:
        response = client.post(f"/team/issues/{slug}/blocks/new", {**EVENT, **fields})
        assert response.status_code == 400, fields
        page = response.get_data(as_text=True)
        words = visible_words(page)
        assert expected in words, (fields, words[:1500])
        assert_plain(words, f"event form {fields}")
        assert 'value="Coffee morning"' in page, "what was typed is kept"
        for name, value in fields.items():
            assert f'name="{name}"' in page and (not value or f'value="{value}"' in page), name
    assert _issue(slug).blocks == []


def test_an_empty_optional_end_and_an_all_day_event(as_user: Callable[[str], TeamClient], team: Team,
                                                    db: Settings) -> None:
    client = as_user(team.editor)
    slug = _new_issue(client)
    _add(client, slug, {"type": "event", "title": "Fun day", "place": "Online", "starts_date": "2027-07-11",
                        "starts_time": "", "ends_date": "", "ends_time": ""})
    assert _issue(slug).blocks == [{"type": "event", "title": "Fun day", "starts": "2027-07-11", "place": "Online"}]
    page = client.get(f"/team/issues/{slug}").get_data(as_text=True)
    assert "Fun day" in page  # the block list's reminder of the block
