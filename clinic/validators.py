"""Validators shared by every app."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

NPI_FORMAT = "An NPI is exactly 10 digits."
NPI_CHECK_DIGIT = "This NPI's check digit is wrong: please re-check the number."
UNKNOWN_HOLIDAY = "%(value)s is not a holiday the calendar knows; pick one of: %(known)s."
UNKNOWN_TIME_ZONE = "%(value)s is not a known IANA time zone (e.g. America/Chicago)."
CLINIC_DATE_TOO_EARLY = "Choose a date on or after %(earliest)s: the clinic's calendar keeps one year back."
CLINIC_DATE_TOO_LATE = "Choose a date on or before %(latest)s: the clinic plans at most three years ahead."

# How far the clinic's own calendar reaches (closures, time off, provider hours): a recent
# closure or absence may be recorded after the fact, and nothing is planned further ahead
# than the next few years' holidays. Beyond that a date is a typing slip (0001, 9999) that
# would also overflow date arithmetic on the pages that show it.
CLINIC_DATE_YEARS_BACK = 1
CLINIC_DATE_YEARS_AHEAD = 3

# The card-issuer prefix for US health identifiers; the NPI check digit is computed as if
# the 9-digit base were prefixed with it (CMS, "NPI check digit").
_NPI_LUHN_PREFIX = "80840"


def luhn_check_digit(digits: str) -> int:
    """Return the Luhn check digit for a string of digits."""
    total = 0
    # Double every second digit starting from the rightmost digit of the payload.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def _ten_ascii_digits(value: str) -> bool:
    # str.isdigit() also accepts superscripts ("²"), which int() refuses.
    return len(value) == 10 and value.isascii() and value.isdigit()


def npi_is_valid(npi: str) -> bool:
    return _ten_ascii_digits(npi) and luhn_check_digit(_NPI_LUHN_PREFIX + npi[:9]) == int(npi[9])


def validate_npi(value: str) -> None:
    if not _ten_ascii_digits(value):
        raise ValidationError(NPI_FORMAT, code="npi_format")
    if not npi_is_valid(value):
        raise ValidationError(NPI_CHECK_DIGIT, code="npi_check_digit")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(UNKNOWN_TIME_ZONE, code="time_zone", params={"value": value})


def known_holiday_names() -> list[str]:
    """Names of the configured country's public holidays (the same every year)."""
    year = dt.date.today().year
    calendar = holidays.country_holidays(settings.CLINIC_HOLIDAY_COUNTRY, years=year, observed=False)
    return sorted({name for joined in calendar.values() for name in joined.split("; ")})


def validate_holiday_name(value: str) -> None:
    known = known_holiday_names()
    if value not in known:
        raise ValidationError(UNKNOWN_HOLIDAY, code="holiday", params={"value": value, "known": ", ".join(known)})


def _years_from(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def clinic_date_bounds(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day the clinic's calendar accepts."""
    today = today or timezone.localdate()
    return _years_from(today, -CLINIC_DATE_YEARS_BACK), _years_from(today, CLINIC_DATE_YEARS_AHEAD)


def validate_clinic_date(value: dt.date | dt.datetime) -> None:
    """A clinic calendar date (or the wall-clock date of a datetime) within the bounds."""
    day = value.date() if isinstance(value, dt.datetime) else value
    earliest, latest = clinic_date_bounds()
    if day < earliest:
        raise ValidationError(CLINIC_DATE_TOO_EARLY, code="too_early", params={"earliest": f"{earliest:%-d %B %Y}"})
    if day > latest:
        raise ValidationError(CLINIC_DATE_TOO_LATE, code="too_late", params={"latest": f"{latest:%-d %B %Y}"})
