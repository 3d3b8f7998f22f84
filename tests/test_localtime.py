"""Times are typed and shown on the team's clock (Europe/London by default) and stored in UTC."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from newsletter import localtime
from newsletter.config import Settings, load_settings


@pytest.fixture
def london() -> Settings:
    return load_settings(timezone="Europe/London")


def test_a_summer_time_is_an_hour_ahead_of_utc(london: Settings) -> None:
    stored = localtime.parse("2026-07-07T09:00", london)
    assert stored == datetime(2026, 7, 7, 8, 0, tzinfo=timezone.utc)
    assert localtime.shown(stored, settings=london) == "7 July 2026 at 09:00 BST"


def test_a_winter_time_is_utc(london: Settings) -> None:
    stored = localtime.parse("2026-12-01T09:00", london)
    assert stored == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    assert localtime.shown(stored, settings=london) == "1 December 2026 at 09:00 GMT"
    assert localtime.form_value(stored, london) == "2026-12-01T09:00"


def test_a_time_the_clocks_skip_is_refused_in_plain_words(london: Settings) -> None:
    with pytest.raises(localtime.InvalidTime, match="clocks go forward"):
        localtime.parse("2026-03-29T01:30", london)


def test_a_time_that_happens_twice_means_the_first(london: Settings) -> None:
    assert localtime.parse("2026-10-25T01:30", london) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)


def test_nonsense_and_other_zones(london: Settings) -> None:
    with pytest.raises(localtime.InvalidTime, match="such as 2026-12-01 09:00"):
        localtime.parse("next tuesday", london)
    assert localtime.parse("", london) is None
    assert localtime.parse("2026-07-07T09:00+00:00", london) == datetime(2026, 7, 7, 9, 0, tzinfo=timezone.utc)
    paris = load_settings(timezone="Europe/Paris")
    assert localtime.parse("2026-07-07T09:00", paris) == datetime(2026, 7, 7, 7, 0, tzinfo=timezone.utc)


def test_an_unknown_zone_stops_start_up_naming_the_setting() -> None:
    from newsletter.config import SettingsError

    with pytest.raises(SettingsError, match="NEWSLETTER_TIMEZONE"):
        load_settings(timezone="Mars/Olympus")
