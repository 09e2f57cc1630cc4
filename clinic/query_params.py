"""Reading what a client typed into a URL: ids, dates and search text from ``request.GET``.

Anything can arrive in a query string (a hand-edited bookmark, a scanner), so a value these
helpers cannot use reads as absent, and the page shows its default: never an exception, never
a query the database refuses. Every view reads its int, date and search parameters here."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest

# The largest primary key a BigAutoField holds; a bigger number is no row, and SQLite and
# PostgreSQL both refuse to compare a column with it.
MAX_ID = 2**63 - 1
# Calendars and searches by date look at most this many years either side of today: further
# out there is nothing to show, and date arithmetic near year 1 or 9999 overflows.
DATE_RANGE_YEARS = 10


def parse_id(value: str) -> int | None:
    """The id written in ``value`` (ASCII digits only), or None."""
    # str.isdigit() also accepts superscripts and other scripts' digits, which int() refuses.
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def int_param(request: HttpRequest, name: str) -> int | None:
    """The id in ``?name=``, or None when it is missing or not an id."""
    return parse_id(request.GET.get(name, ""))


def date_in_range(value: dt.date, *, today: dt.date) -> bool:
    """Whether ``value`` lies within ``DATE_RANGE_YEARS`` of ``today``."""
    return abs(value.year - today.year) <= DATE_RANGE_YEARS


def date_param(request: HttpRequest, name: str, *, today: dt.date) -> dt.date | None:
    """The ISO date in ``?name=`` if it is within ``DATE_RANGE_YEARS`` of ``today``, else None."""
    try:
        value = dt.date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return None
    return value if date_in_range(value, today=today) else None


def search_param(request: HttpRequest, name: str = "q") -> str:
    """The search text in ``?name=``, trimmed, without NUL characters (PostgreSQL cannot
    hold them, so no stored text contains one, and a query with one is refused)."""
    return request.GET.get(name, "").replace("\x00", "").strip()
