"""Reading ids, dates and search text from a query string a client may have tampered with."""

import datetime as dt

import pytest
from django.test import RequestFactory

from clinic.query_params import MAX_ID, date_param, int_param, parse_id, search_param

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(("value", "expected"), [
    ("42", 42), (str(MAX_ID), MAX_ID), ("", None), ("-1", None), ("4.2", None), ("²³", None), ("٤٢", None),
    ("a\x00b", None), (str(MAX_ID + 1), None), ("99999999999999999999", None),
])  # fmt: skip
def test_an_id_is_ascii_digits_within_what_a_primary_key_holds(value, expected):
    assert parse_id(value) == expected
    assert int_param(RequestFactory().get("/", {"pk": value}), "pk") == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-12-01", dt.date(2026, 12, 1)), ("2016-11-23", dt.date(2016, 11, 23)), ("0001-01-01", None),
    ("9999-12-31", None), ("2037-01-01", None), ("2026-02-30", None), ("²", None), ("", None),
])  # fmt: skip
def test_a_date_is_iso_and_within_ten_years_of_today(value, expected):
    assert date_param(RequestFactory().get("/", {"date": value}), "date", today=TODAY) == expected


def test_search_text_is_trimmed_and_loses_nul_characters():
    assert search_param(RequestFactory().get("/", {"q": "  Rey\x00es "})) == "Reyes"
