"""Local calendar months, calendar days and elapsed hours, across the UK clock changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinship.policy.time import (
    LONDON,
    add_calendar_days,
    add_elapsed_hours,
    age_on,
    local_date,
    month_bounds,
    month_key,
    require_aware,
    utc,
)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        require_aware(datetime(2025, 1, 1))  # noqa: DTZ001 - the point of the test


def test_month_is_the_local_calendar_month() -> None:
    # 23:30 UTC on 31 March 2025 is 00:30 on 1 April in London (BST): April's allowance.
    moment = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)
    assert month_key(moment, LONDON) == "2025-04"
    start, end = month_bounds(moment, LONDON)
    assert start == datetime(2025, 4, 1, tzinfo=LONDON)
    assert end == datetime(2025, 5, 1, tzinfo=LONDON)
    # The first instant of April in London is 23:00 UTC on 31 March.
    assert start.astimezone(UTC) == datetime(2025, 3, 31, 23, 0, tzinfo=UTC)


def test_december_rolls_into_next_year() -> None:
    start, end = month_bounds(datetime(2025, 12, 15, tzinfo=LONDON), LONDON)
    assert (start.date(), end.date()) == (date(2025, 12, 1), date(2026, 1, 1))


def test_calendar_days_keep_the_wall_clock_across_the_autumn_change() -> None:
    # Friday 24 October 2025 10:00 BST; the clocks go back on Sunday 26 October.
    start = datetime(2025, 10, 24, 10, 0, tzinfo=LONDON)
    week_later = add_calendar_days(start, 7, LONDON)
    assert week_later.replace(tzinfo=None) == datetime(2025, 10, 31, 10, 0)  # noqa: DTZ001
    assert utc(week_later) - utc(start) == timedelta(days=7, hours=1)


def test_calendar_days_keep_the_wall_clock_across_the_spring_change() -> None:
    # Clocks go forward on Sunday 30 March 2025.
    start = datetime(2025, 3, 27, 10, 0, tzinfo=LONDON)
    week_later = add_calendar_days(start, 7, LONDON)
    assert week_later.replace(tzinfo=None) == datetime(2025, 4, 3, 10, 0)  # noqa: DTZ001
    assert utc(week_later) - utc(start) == timedelta(days=7, hours=-1)


def test_a_wall_time_in_the_spring_gap_moves_to_the_real_instant() -> None:
    start = datetime(2025, 3, 29, 1, 30, tzinfo=LONDON)
    assert add_calendar_days(start, 1, LONDON).replace(tzinfo=None) == datetime(2025, 3, 30, 2, 30)  # noqa: DTZ001


def test_elapsed_hours_are_real_hours_across_the_change() -> None:
    # Saturday 25 October 2025 12:00 BST + 48 real hours = Monday 27 October 11:00 GMT.
    start = datetime(2025, 10, 25, 12, 0, tzinfo=LONDON)
    due = add_elapsed_hours(start, 48, LONDON)
    assert due.replace(tzinfo=None) == datetime(2025, 10, 27, 11, 0)  # noqa: DTZ001
    assert utc(due) - utc(start) == timedelta(hours=48)


def test_local_date_and_other_zones() -> None:
    assert local_date(datetime(2025, 6, 30, 23, 30, tzinfo=UTC), LONDON) == date(2025, 7, 1)
    belfast = ZoneInfo("Europe/Belfast")
    assert month_key(datetime(2025, 6, 30, 23, 30, tzinfo=UTC), belfast) == "2025-07"


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2007, 3, 13), date(2025, 3, 13), 18),
        (date(2007, 3, 14), date(2025, 3, 13), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_on(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))  # noqa: DTZ001
def test_every_instant_falls_in_its_local_month(moment: datetime) -> None:
    start, end = month_bounds(moment, LONDON)
    assert start <= moment < end
    local_start = start.astimezone(LONDON)
    assert (local_start.day, local_start.hour, local_start.minute) == (1, 0, 0)
    assert month_key(moment, LONDON) == f"{local_start.year:04d}-{local_start.month:02d}"


def test_utc_tells_apart_the_repeated_hour() -> None:
    # 01:30 happens twice in London on 26 October 2025; fold=1 is the second (GMT) one.
    first = datetime(2025, 10, 26, 1, 30, tzinfo=LONDON)
    second = first.replace(fold=1)
    assert first == second  # what Python says for a shared tzinfo: wall-clock comparison
    assert utc(second) - utc(first) == timedelta(hours=1)
