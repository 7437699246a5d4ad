"""Time as the policies count it: local calendar months, local calendar days, elapsed hours, ages.

The engine never reads a clock: callers pass ``now`` (timezone-aware) and the establishment's ``ZoneInfo``.
Two ways of counting are used on purpose, and every deadline in the engine says which:

* **calendar periods** (months, days, weeks) are counted on the establishment's wall clock, so "every 7
  days from Friday 10:00" stays at 10:00 local time when the clocks change;
* **hour periods** ("within 48 hours", "24 hours' notice") are elapsed time, so a detainee waiting for an
  appeal decision waits exactly 48 real hours even across the clock change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def require_aware(moment: datetime) -> datetime:
    """Refuse naive datetimes: a time without a zone is ambiguous in a service that spans the clock change."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {moment!r}")
    return moment


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC: the form to compare or subtract in.

    Python compares and subtracts two datetimes that share a ``tzinfo`` by their wall-clock fields, ignoring the
    offset, so "Sunday 01:30" before and after the autumn change would compare equal. Converting to UTC first
    gives real instants and real durations.
    """
    return require_aware(moment).astimezone(UTC)


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` on the establishment's wall clock."""
    return require_aware(moment).astimezone(tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return local(moment, tz).date()


def _at_local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def month_bounds(moment: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local calendar month holding ``moment``: [local midnight on the 1st, local midnight on the next
    1st)."""
    day = local_date(moment, tz)
    start = date(day.year, day.month, 1)
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return _at_local_midnight(start, tz), _at_local_midnight(following, tz)


def month_key(moment: datetime, tz: ZoneInfo) -> str:
    """The local calendar month as ``YYYY-MM``, e.g. for an allowance ledger."""
    day = local_date(moment, tz)
    return f"{day.year:04d}-{day.month:02d}"


def add_calendar_days(moment: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same wall-clock time ``days`` later in ``tz``.

    Aware arithmetic within one ``tzinfo`` is wall-clock arithmetic in Python; the round trip through UTC
    normalises the offset (and moves a time that falls in the spring-forward gap to the real instant after
    it).
    """
    wall = local(moment, tz) + timedelta(days=days)
    return wall.astimezone(UTC).astimezone(tz)


def add_elapsed_hours(moment: datetime, hours: int, tz: ZoneInfo) -> datetime:
    """``hours`` real hours after ``moment``, shown in ``tz``."""
    return (utc(moment) + timedelta(hours=hours)).astimezone(tz)


def age_on(date_of_birth: date, day: date) -> int:
    """Age in whole years on ``day``. Someone born on 29 February turns a year older on 1 March in other
    years."""
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)
