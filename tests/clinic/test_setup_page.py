"""The clinic admin's setup overview."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import WeekdayHours
from tests.factories import (
    ClosureFactory,
    LocationFactory,
    ProcedureTypeFactory,
    ProviderFactory,
    RoomCapabilityFactory,
    RoomFactory,
    set_weekday_hours,
)

pytestmark = pytest.mark.django_db


def _location_with_everything(n: int):
    location = LocationFactory(name=f"Site {n}", slug=f"site-{n}")
    set_weekday_hours(
        location, 0, WeekdayHours.Mode.OPEN, (dt.time(8, 30), dt.time(12)), (dt.time(13), dt.time(16, 30))
    )
    set_weekday_hours(location, 4, WeekdayHours.Mode.BY_APPOINTMENT)
    fluoro = RoomCapabilityFactory(name="Fluoroscopy", slug="fluoroscopy")
    RoomFactory(location=location, name=f"Fluoro {n}", capabilities=[fluoro])
    ProviderFactory(locations=[location])
    ProcedureTypeFactory(locations=[location], required_capabilities=[fluoro])
    ClosureFactory(location=location, start_date=dt.date(2030, 1, n), reason=f"Training {n}")
    return location


def test_setup_page_shows_hours_rooms_closures_and_procedures(client, clinic_admin):
    _location_with_everything(1)
    client.force_login(clinic_admin)
    response = client.get(reverse("clinic:setup"))
    content = response.content.decode()
    assert "Site 1" in content
    assert "08:30-12:00, 13:00-16:30" in content
    assert "By appointment" in content
    assert "Fluoro 1 (Fluoroscopy)" in content
    assert "Training 1" in content


def test_setup_page_query_count_does_not_grow_with_locations(client, clinic_admin, django_assert_num_queries):
    client.force_login(clinic_admin)
    for n in range(1, 4):
        _location_with_everything(n)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 user and group permissions (role check), 6 closures,
    # 7 locations, 8 weekday hours, 9 opening ranges, 10 rooms, 11 room capabilities,
    # 12 providers, 13 provider locations, 14 procedure types, 15 their capabilities,
    # 16 their locations, 17 follow-up checks, 18-20 savepoint, session update, release
    # (the session is saved on every request for the idle timeout)
    with django_assert_num_queries(20):
        client.get(reverse("clinic:setup"))
    for n in range(4, 8):
        _location_with_everything(n)
    with django_assert_num_queries(20):
        response = client.get(reverse("clinic:setup"))
    assert response.content.decode().count("Fluoro ") == 7
