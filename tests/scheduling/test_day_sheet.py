"""The provider's printable day sheet: their own appointments still on, everything the room
needs, each patient's view audited, in a fixed number of queries."""

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import AuditEvent
from scheduling.models import Appointment
from tests.factories import PatientFactory, RoomFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
SHEET = reverse("scheduling:day_sheet")


def place(world, n, first=0, provider=None, status="booked"):
    """n appointments on 1 December, each with its own room and patient."""
    for i in range(first, first + n):
        room = RoomFactory(location=world.location, name=f"Room {i}")
        start = local(world.location, 2026, 12, 1, 8, 30) + dt.timedelta(minutes=30 * i)
        end = start + dt.timedelta(minutes=30)
        Appointment.objects.create(
            patient=PatientFactory(), procedure_type=world.epidural, provider=provider or world.provider, room=room,
            location=world.location, starts_at=start, ends_at=end, blocks_until=end, status=status,
        )  # fmt: skip


@pytest.fixture
def linked(world, provider_user):
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    world.epidural.preparation = "Bring your medication list."
    world.epidural.fasting_hours = 6
    world.epidural.save(update_fields=["preparation", "fasting_hours"])
    return provider_user


def test_the_sheet_lists_own_active_appointments_with_identity_and_preparation(client, world, linked, scheduler):
    place(world, 1)
    place(world, 1, first=1, status="cancelled")
    other = world.provider.__class__.objects.create(display_name="Dr. Sam Lee")
    place(world, 1, first=2, provider=other)
    client.force_login(linked)
    content = client.get(SHEET, {"date": "2026-12-01"}).content.decode()
    shown = Appointment.objects.get(room__name="Room 0")
    assert "Day sheet: Dr. Priya Patel, Tuesday 1 December 2026" in content
    for text in (shown.patient.full_name, f"{shown.patient.date_of_birth:%-d %b %Y}", shown.patient.record_number,
                 "Epidural steroid injection", "Room 0, Russellville", "8:30 AM", "Bring your medication list.",
                 "Nothing to eat or drink after 2:30 AM", "Booked"):  # fmt: skip
        assert text in content, text
    assert "Room 1" not in content  # cancelled
    assert "Room 2" not in content  # another provider's
    assert list(AuditEvent.objects.values_list("action", "object_id", "summary", "actor")) == [
        ("view", str(shown.patient.pk), "day sheet", linked.pk)
    ]


def test_only_providers_reach_the_sheet(client, world, scheduler, provider_user):
    client.force_login(scheduler)
    assert client.get(SHEET).status_code == 404
    client.force_login(provider_user)  # not linked to a provider yet
    assert "Your account is not linked to a provider." in client.get(SHEET).content.decode()


def test_my_day_links_to_the_sheet_of_the_same_day(client, world, linked):
    client.force_login(linked)
    content = client.get(reverse("scheduling:my_day"), {"date": "2026-12-01"}).content.decode()
    assert f'href="{SHEET}?date=2026-12-01">Print day sheet</a>' in content


def test_day_sheet_query_count_is_constant(client, world, linked, django_assert_num_queries):
    client.force_login(linked)
    params = {"date": "2026-12-01"}
    place(world, 2)
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 the user's provider, 7 its locations (prefetch),
    # 8 active appointments with patient, procedure, provider, room, location and referral
    # joined, 9 the audit rows in one insert, 10-12 savepoint, session save, release
    with django_assert_num_queries(12):
        client.get(SHEET, params)
    place(world, 8, first=2)
    with django_assert_num_queries(12):
        response = client.get(SHEET, params)
    assert response.content.decode().count("Russellville</td>") == 10
