"""Local time at a location: its today, a day's bounds, calendar days on its wall clock, and
the date formats messages use. The one module that does this arithmetic, so every app counts
days the same way.

Times are stored in UTC; a location's day is a calendar day in its zone, which is 23 or 25
hours long across a daylight-saving change, so days are never counted in 24-hour blocks.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

# strftime formats of the dates and times messages show.
DAY_FORMAT = "%A %-d %B %Y"  # Tuesday 2 March 2027
DATE_FORMAT = "%-d %B %Y"  # 2 March 2027
SHORT_DATE_FORMAT = "%-d %b %Y"  # 2 Mar 2027
DAY_MONTH_FORMAT = "%A %-d %B"  # Tuesday 2 March
TIME_FORMAT = "%-I:%M %p"  # 9:30 AM
DAY_TIME_FORMAT = f"{DAY_FORMAT} at {TIME_FORMAT}"


def local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """An aware instant on the wall clock of ``zone``."""
    return moment.astimezone(zone)


def local_date(moment: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The calendar date of an instant in ``zone``: an evening in Chicago is already the
    next day in UTC."""
    return moment.astimezone(zone).date()


def today(zone: ZoneInfo, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date on the wall clock of ``zone`` (a location's today)."""
    return local_date(now or timezone.now(), zone)


def day_start(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Local midnight starting ``day`` in ``zone``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=zone)


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of ``day`` in ``zone``, in UTC: 23 or 25 hours across a DST change."""
    start = day_start(day, zone).astimezone(dt.UTC)
    end = day_start(day + dt.timedelta(days=1), zone).astimezone(dt.UTC)
    return start, end


def days_bounds(first: dt.date, last: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start of ``first``, end of ``last``) in ``zone``, in UTC."""
    return day_bounds(first, zone)[0], day_bounds(last, zone)[1]


def at_wall_time(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """``time`` on ``day`` on the wall clock of ``zone``, in UTC."""
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(dt.UTC)


def local_days_after(moment: dt.datetime, days: int, zone: ZoneInfo) -> dt.datetime:
    """The same wall-clock time ``days`` calendar days later (or earlier, when negative) in
    ``zone``, in UTC; adding ``timedelta(days=...)`` to a UTC instant would be an hour off
    across a DST change."""
    wall = moment.astimezone(zone)
    return at_wall_time(wall.date() + dt.timedelta(days=days), wall.time(), zone)


def calendar_days_between(earlier: dt.datetime, later: dt.datetime, zone: ZoneInfo) -> int:
    """How many calendar days (in ``zone``) lie from ``earlier``'s date to ``later``'s."""
    return (local_date(later, zone) - local_date(earlier, zone)).days


def clinic_today(*, now: dt.datetime | None = None) -> dt.date:
    """Today in the clinic's own zone (``TIME_ZONE``), for dates no one location owns, such
    as clinic-wide holidays."""
    return today(timezone.get_default_timezone(), now=now)


def clinic_date(moment: dt.datetime) -> dt.date:
    """The calendar date of an instant in the clinic's own zone (``TIME_ZONE``)."""
    return local_date(moment, timezone.get_default_timezone())


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (negative: back), clamped to the end of a
    shorter month: 31 March minus one month is 28 (or 29) February."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))
