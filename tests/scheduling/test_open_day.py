"""Opening a provider's by-appointment or closed weekday from the calendar: schedulers for
anyone, a provider for their own day only, recorded with who did it."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from scheduling.models import ExtraAvailability
from scheduling.selectors import find_slots
from scheduling.services import booking
from tests.factories import ProviderFactory
from tests.scheduling.conftest import give_template, local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville
FRIDAY, SATURDAY = dt.date(2026, 11, 27), dt.date(2026, 11, 28)  # by appointment; closed


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def open_url(world, day, provider=None) -> str:
    provider = provider or world.provider
    return f"{reverse('scheduling:open_day')}?location={world.location.pk}&provider={provider.pk}&date={day}"


def friday_slots(world) -> list:
    start, end = local(world.location, 2026, 11, 27, 0), local(world.location, 2026, 11, 28, 0)
    return find_slots(procedure_type=world.epidural, location=world.location, start=start, end=end, now=NOW).slots


def post_open(client, world, day, provider=None, **data):
    fields = {"starts": "09:00", "ends": "12:00", "note": "Extra epidural list"} | data
    return client.post(open_url(world, day, provider), fields)


def test_a_scheduler_opens_a_by_appointment_friday_and_the_finder_offers_it(client, world, scheduler):
    client.force_login(scheduler)
    assert friday_slots(world) == []
    response = post_open(client, world, FRIDAY)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('scheduling:day')}?location={world.location.pk}&date=2026-11-27"
    extra = ExtraAvailability.objects.get()
    assert (extra.provider, extra.date, extra.starts, extra.ends) == (world.provider, FRIDAY, dt.time(9), dt.time(12))
    assert (extra.created_by, extra.created_at, extra.note) == (scheduler, NOW, "Extra epidural list")
    slots = friday_slots(world)
    assert slots[0].local.replace(tzinfo=None) == dt.datetime(2026, 11, 27, 9, 0)
    page = client.get(response["Location"]).content.decode()
    assert "Opened by Dr. Priya Patel, 9:00 AM–12:00 PM (Extra epidural list)" in page


def test_an_opened_closed_weekday_can_be_booked(client, world, scheduler):
    client.force_login(scheduler)
    post_open(client, world, SATURDAY)
    appointment = booking.appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=local(world.location, 2026, 11, 28, 9), referral=world.referral, now=NOW,
    )  # fmt: skip
    assert appointment.local_starts_at.date() == SATURDAY


def test_a_closed_weekday_nobody_opened_stays_closed(world, scheduler):
    with pytest.raises(booking.SlotUnavailable, match="Russellville is closed on Saturdays."):
        booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
            provider=world.provider, starts_at=local(world.location, 2026, 11, 28, 9), referral=world.referral,
            now=NOW,
        )  # fmt: skip


def test_a_provider_opens_their_own_day_but_not_a_colleagues(client, world, provider_user):
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    colleague = ProviderFactory(display_name="Dr. Sam Lee", locations=[world.location])
    give_template(colleague, world.location)
    client.force_login(provider_user)
    day_page = client.get(reverse("scheduling:day"), {"location": world.location.pk, "date": FRIDAY}).content.decode()
    assert "Open this day for Dr. Priya Patel" in day_page
    assert "Open this day for Dr. Sam Lee" not in day_page
    assert post_open(client, world, FRIDAY).status_code == 302
    assert ExtraAvailability.objects.get().created_by == provider_user
    assert client.get(open_url(world, FRIDAY, colleague)).status_code == 403
    assert post_open(client, world, FRIDAY, colleague).status_code == 403
    assert ExtraAvailability.objects.count() == 1


def test_the_week_offers_the_action_on_by_appointment_and_closed_days_only(client, world, scheduler):
    client.force_login(scheduler)
    page = client.get(
        reverse("scheduling:week"), {"location": world.location.pk, "date": "2026-11-23"}
    ).content.decode()
    for day in ("2026-11-27", "2026-11-28", "2026-11-29"):
        assert f"provider={world.provider.pk}&amp;date={day}" in page
    assert 'date=2026-11-24">Open this day' not in page
    assert page.count("Open this day for Dr. Priya Patel") == 3


def test_outsiders_get_404_and_a_bad_target_404(client, world, intake, scheduler):
    client.force_login(intake)
    assert client.get(open_url(world, FRIDAY)).status_code == 404
    client.force_login(scheduler)
    bad = f"{reverse('scheduling:open_day')}?location={world.location.pk}&provider={world.provider.pk}&date=27-11"
    assert client.get(bad).status_code == 404
    assert client.get(f"{reverse('scheduling:open_day')}?location=x&provider=1&date=2026-11-27").status_code == 404
    assert not ExtraAvailability.objects.exists()


@pytest.mark.parametrize(
    ("day", "data", "message"),
    [
        (dt.date(2026, 11, 20), {}, "Friday 20 November 2026 has already passed at Russellville"),
        (FRIDAY, {"note": ""}, "Say why the day is opened (for example, an extra procedure list)."),
        (FRIDAY, {"ends": "08:00"}, "The end must be after the start."),
    ],
)
def test_a_refusal_is_specific_and_keeps_what_was_typed(client, world, scheduler, day, data, message):
    client.force_login(scheduler)
    response = post_open(client, world, day, **data)
    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert 'value="09:00"' in content
    assert not ExtraAvailability.objects.exists()
