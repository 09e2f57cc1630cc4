"""clinic.localtime: a location's day and calendar days on its wall clock, in two zones."""

import datetime as dt
from zoneinfo import ZoneInfo

from clinic import localtime

CHICAGO, SYDNEY = ZoneInfo("America/Chicago"), ZoneInfo("Australia/Sydney")
# Saturday 13 March 2027, 22:00 UTC: 16:00 in Chicago, already Sunday 09:00 in Sydney.
MOMENT = dt.datetime(2027, 3, 13, 22, 0, tzinfo=dt.UTC)


def test_today_is_the_zones_calendar_day():
    assert localtime.today(CHICAGO, now=MOMENT) == dt.date(2027, 3, 13)
    assert localtime.today(SYDNEY, now=MOMENT) == dt.date(2027, 3, 14)


def test_a_day_across_spring_forward_is_23_hours_and_across_fall_back_25():
    start, end = localtime.day_bounds(dt.date(2027, 3, 14), CHICAGO)
    assert (start, end - start) == (dt.datetime(2027, 3, 14, 6, 0, tzinfo=dt.UTC), dt.timedelta(hours=23))
    start, end = localtime.day_bounds(dt.date(2027, 4, 4), SYDNEY)  # clocks go back
    assert end - start == dt.timedelta(hours=25)


def test_calendar_days_later_keep_the_wall_time_across_a_change():
    later = localtime.local_days_after(MOMENT, 2, CHICAGO)  # 16:00 CST -> 16:00 CDT
    assert later == dt.datetime(2027, 3, 15, 21, 0, tzinfo=dt.UTC)
    earlier = localtime.local_days_after(dt.datetime(2027, 4, 5, 23, 0, tzinfo=dt.UTC), -3, SYDNEY)
    assert earlier.astimezone(SYDNEY).replace(tzinfo=None) == dt.datetime(2027, 4, 3, 9, 0)


def test_message_formats():
    assert f"{dt.date(2027, 3, 2):{localtime.DAY_FORMAT}}" == "Tuesday 2 March 2027"
    assert f"{dt.datetime(2027, 3, 2, 9, 30):{localtime.DAY_TIME_FORMAT}}" == "Tuesday 2 March 2027 at 9:30 AM"
