"""Shared validators and the clinic models' own checks."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic import models
from clinic.validators import NPI_CHECK_DIGIT, NPI_FORMAT, npi_is_valid, validate_npi, validate_time_zone
from tests.factories import LocationFactory


@pytest.mark.parametrize("npi", ["1234567893", "1245319599"])
def test_valid_npis_pass(npi):
    validate_npi(npi)
    assert npi_is_valid(npi)


@pytest.mark.parametrize(("npi", "message"), [
    ("1234567890", NPI_CHECK_DIGIT), ("123456789", NPI_FORMAT), ("12345678A3", NPI_FORMAT), ("12345678931", NPI_FORMAT),
    ("123456789²", NPI_FORMAT), ("١٢٣٤٥٦٧٨٩٣", NPI_FORMAT),  # digits int() or the Luhn check cannot read
])  # fmt: skip
def test_bad_npis_say_what_is_wrong(npi, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_npi(npi)
    assert excinfo.value.messages == [message]


def test_time_zone_must_be_known():
    validate_time_zone("America/Chicago")
    with pytest.raises(ValidationError, match="Mars/Olympus is not a known IANA time zone"):
        validate_time_zone("Mars/Olympus")


@pytest.mark.django_db
def test_location_slot_grid_must_divide_an_hour():
    location = LocationFactory.build(slot_grid_minutes=25)
    with pytest.raises(ValidationError) as excinfo:
        location.clean()
    assert excinfo.value.message_dict == {"slot_grid_minutes": [models.SLOT_GRID_MUST_DIVIDE_HOUR]}
    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(slot_grid_minutes=25)


@pytest.mark.django_db
def test_ranges_and_closures_must_end_after_they_start():
    location = LocationFactory()
    day = models.WeekdayHours.objects.create(location=location, weekday=0, mode="open")
    bad_range = models.OpeningRange(day=day, opens=dt.time(12), closes=dt.time(9))
    with pytest.raises(ValidationError, match=models.RANGE_END_BEFORE_START):
        bad_range.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        bad_range.save()
    bad_closure = models.Closure(start_date=dt.date(2026, 12, 2), end_date=dt.date(2026, 12, 1), reason="x")
    with pytest.raises(ValidationError, match=models.CLOSURE_END_BEFORE_START):
        bad_closure.clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        bad_closure.save()


def test_holiday_rules_name_a_holiday_the_calendar_knows():
    from clinic.validators import validate_holiday_name

    validate_holiday_name("Thanksgiving Day")
    with pytest.raises(ValidationError, match="Founders Day is not a holiday the calendar knows"):
        validate_holiday_name("Founders Day")
