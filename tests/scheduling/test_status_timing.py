"""Status changes wait for their moment: check-in only on the appointment's clinic day (the
location's calendar day), completed and no-show only after its start; and a booking is never
shorter than its procedure."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from scheduling.forms.booking import StatusForm
from scheduling.models import Appointment, FollowUp
from scheduling.services import booking
from scheduling.services.status import appointment_set_status
from tests.factories import ProcedureOrderFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
BOOKED_AT = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville


def book(world, scheduler, when, **overrides) -> Appointment:
    args = {
        "actor": scheduler, "patient": world.patient, "procedure_type": world.consult, "location": world.location,
        "provider": world.provider, "starts_at": when, "referral": world.referral, "now": BOOKED_AT,
    }  # fmt: skip
    args.update(overrides)
    if args["referral"] is None and args["procedure_type"].kind != "visit" and "order" not in args:
        # Every procedure after the first visit is booked from a provider's order.
        args["order"] = ProcedureOrderFactory(patient=args["patient"], procedure_type=args["procedure_type"])
    return booking.appointment_book(**args)


def set_status(appointment, status, actor, now, **kwargs) -> Appointment:
    return appointment_set_status(appointment=appointment, status=status, actor=actor, now=now, **kwargs)


def test_checking_in_eight_days_ahead_is_refused_and_plans_nothing(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    with pytest.raises(ValidationError) as excinfo:
        set_status(appointment, "checked_in", scheduler, BOOKED_AT)
    assert excinfo.value.messages == [
        "A patient can be checked in only on the appointment's day, Tuesday 1 December 2026."
    ]
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert not appointment.events.filter(action="checked_in").exists()


def test_check_in_is_allowed_early_on_its_day_and_refused_the_day_after(world, scheduler):
    first = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    assert set_status(first, "checked_in", scheduler, local(world.location, 2026, 12, 1, 7)).status == "checked_in"
    second = book(world, scheduler, local(world.location, 2026, 12, 2, 9), procedure_type=world.epidural, referral=None)
    with pytest.raises(ValidationError, match="only on the appointment's day, Wednesday 2 December 2026"):
        set_status(second, "checked_in", scheduler, local(world.location, 2026, 12, 3, 8))


def test_the_clinic_day_is_the_locations_calendar_day_not_utcs(world, scheduler):
    """A Los Angeles afternoon is already the next day in UTC and in Chicago (TIME_ZONE)."""
    world.location.time_zone = "America/Los_Angeles"
    world.location.save(update_fields=["time_zone"])
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 15, 30))
    at_1610_local = local(world.location, 2026, 12, 1, 16, 10)  # 00:10 UTC and 18:10 Chicago: 2 December there
    assert set_status(appointment, "checked_in", scheduler, at_1610_local).status == "checked_in"
    other = book(world, scheduler, local(world.location, 2026, 12, 2, 9), procedure_type=world.epidural, referral=None)
    with pytest.raises(ValidationError, match="only on the appointment's day, Wednesday 2 December 2026"):
        # 2 December in UTC already, still 1 December in Los Angeles.
        set_status(other, "checked_in", scheduler, at_1610_local)


def test_completing_before_the_start_is_refused_and_after_it_plans_follow_ups_from_then(world, scheduler):
    world.epidural.follow_up_checks.create(after=2, unit="days")
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9), procedure_type=world.epidural,
                       referral=world.referral)  # fmt: skip
    appointment = set_status(appointment, "checked_in", scheduler, local(world.location, 2026, 12, 1, 8, 40))
    with pytest.raises(ValidationError) as excinfo:
        set_status(appointment, "completed", scheduler, local(world.location, 2026, 12, 1, 8, 50))
    assert excinfo.value.messages == [
        "An appointment can be marked completed only after it starts, at Tuesday 1 December 2026 at 9:00 AM."
    ]
    assert not FollowUp.objects.exists()
    done_at = local(world.location, 2026, 12, 1, 9, 35)
    set_status(appointment, "completed", scheduler, done_at)
    assert FollowUp.objects.get().due_at == local(world.location, 2026, 12, 3, 9, 35)


def test_a_no_show_only_after_the_start(world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    with pytest.raises(ValidationError, match="marked no-show only after it starts"):
        set_status(appointment, "no_show", scheduler, local(world.location, 2026, 12, 1, 8, 59))
    assert set_status(appointment, "no_show", scheduler, local(world.location, 2026, 12, 1, 9, 20)).status == "no_show"


@pytest.mark.parametrize(
    ("moment", "offered"),
    [
        ((2026, 11, 23, 8), ["confirmed"]),  # eight days ahead
        ((2026, 12, 1, 7), ["confirmed", "checked_in"]),  # its morning, before the start
        ((2026, 12, 1, 9, 15), ["confirmed", "checked_in", "no_show"]),  # after the start
        ((2026, 12, 2, 9), ["confirmed", "no_show"]),  # the day after: too late to check in
    ],
)
def test_the_status_form_offers_only_what_is_allowed_now(world, scheduler, moment, offered):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    with time_machine.travel(local(world.location, *moment), tick=False):
        form = StatusForm(appointment=appointment)
    assert [value for value, _ in form.fields["status"].choices] == offered


def test_the_appointment_page_says_when_check_in_opens_and_a_stale_post_is_told_why(client, world, scheduler):
    appointment = book(world, scheduler, local(world.location, 2026, 12, 1, 9))
    client.force_login(scheduler)
    with time_machine.travel(BOOKED_AT, tick=False):
        set_status(appointment, "confirmed", scheduler, BOOKED_AT)
        page = client.get(appointment.get_absolute_url()).content.decode()
        assert "A patient can be checked in only on the appointment&#x27;s day, Tuesday 1 December 2026." in page
        assert 'name="status"' not in page
        response = client.post(reverse("scheduling:status", args=[appointment.pk]), {"status": "checked_in"},
                               follow=True)  # fmt: skip
    assert response.status_code == 200
    assert "A patient can be checked in only on the appointment&#x27;s day" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"


def test_a_booking_shorter_than_its_procedure_is_refused(world, scheduler):
    start = local(world.location, 2026, 12, 1, 9)
    with pytest.raises(ValidationError) as excinfo:
        book(world, scheduler, start, procedure_type=world.epidural, referral=world.referral,
             ends_at=start + dt.timedelta(minutes=5))  # fmt: skip
    assert excinfo.value.message_dict == {
        "ends_at": ["Epidural steroid injection takes 30 minutes: the end must be at least 30 minutes after the start."]
    }
    assert not Appointment.objects.exists()
    longer = book(world, scheduler, start, procedure_type=world.epidural, referral=world.referral,
                  ends_at=start + dt.timedelta(minutes=45))  # fmt: skip
    assert longer.ends_at - longer.starts_at == dt.timedelta(minutes=45)
