"""Repeat injections: the daily sweep queues the repeats a course's pathway rules suggest
(here: relief that wore off), no sooner than the rule and the repeat policy allow, invites
the patient to call, never twice; booking the repeat takes them off the queue. A session
the rules stop at, or one outside any course, is never a repeat."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from clinic import outbox
from clinic.celery import app
from clinic.models import FollowUpCheck, OutgoingMessage
from conditions.models import Condition, Pathway, PathwayRule, PathwayStep
from scheduling import selectors, tasks
from scheduling.models import Appointment, Course, FollowUp, RepeatDue
from scheduling.services import booking, orders, repeats
from scheduling.services.status import appointment_set_status
from tests.factories import PatientFactory, ProcedureOrderFactory, ReferralFactory

pytestmark = pytest.mark.django_db
CHICAGO = ZoneInfo("America/Chicago")
BOOKED_AT = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville
STARTS = dt.datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)  # Tuesday; the epidural's 14-day check is due 15 December
SWEEP = dt.datetime(2026, 12, 16, 6, 0, tzinfo=CHICAGO)


@pytest.fixture
def esi(world, provider_user):
    """The epidural of the calendar world: at least 21 days apart, at most 4 in any 365 days;
    one follow-up check 14 days after; a pathway that stops below 20% relief, repeats when
    relief wore off (no sooner than 21 days) and waits while it lasts."""
    FollowUpCheck.objects.create(procedure_type=world.epidural, after=14, unit="days")
    condition = Condition.objects.create(name="Radicular pain", slug="radicular-pain", body_region="lower_back")
    pathway = Pathway.objects.create(condition=condition, name="Radicular pain", slug="radicular-pain")
    step = PathwayStep.objects.create(
        pathway=pathway, position=1, code="esi", label="ESI", kind="procedure", procedure_type=world.epidural
    )
    rules = [
        {"then": "stop", "relief_below": 20, "explanation": "too little relief: re-evaluate"},
        {"then": "step", "next_step": step, "relief_wore_off": True, "wait_days": 21},
        {"then": "wait", "relief_wore_off": False, "explanation": "relief still going on: nothing to do yet"},
    ]
    for priority, fields in enumerate(rules, start=1):
        PathwayRule.objects.create(pathway=pathway, after_step=step, priority=priority, **fields)
    world.pathway, world.esi_step, world.provider_user = pathway, step, provider_user
    return world.epidural


def complete_with_answer(world, actor, *, relief: int | None, lasted: str, patient=None, course=True) -> Appointment:
    """Order (in the patient's course), book, check in and complete the epidural on
    1 December, then store the patient's answer."""
    patient = patient or world.patient
    with time_machine.travel(BOOKED_AT, tick=False):
        order = None
        if course:
            on = Course.objects.filter(patient=patient, status="active").first() or Course.objects.create(
                patient=patient, pathway=world.pathway, enrolled_at=BOOKED_AT
            )
            order = orders.order_create(
                actor=world.provider_user, patient=patient, procedure_type=world.epidural, site={}, course=on,
                step=world.esi_step, now=BOOKED_AT,
            )  # fmt: skip
        appointment = booking.appointment_book(
            actor=actor, patient=patient, procedure_type=world.epidural, location=world.location,
            provider=world.provider, starts_at=STARTS, referral=patient.referrals.get(),
        )  # fmt: skip
        Appointment.objects.filter(pk=appointment.pk).update(order=order)
        appointment.refresh_from_db()
    with time_machine.travel(STARTS, tick=False):
        appointment_set_status(appointment=appointment, status="checked_in", actor=actor)
    with time_machine.travel(STARTS + dt.timedelta(hours=1), tick=False):
        appointment_set_status(appointment=appointment, status="completed", actor=actor)
    if relief is not None:
        FollowUp.objects.filter(appointment=appointment).update(
            answered_at=dt.datetime(2026, 12, 15, 12, 0, tzinfo=CHICAGO), pain_now=6, percent_relief=relief,
            relief_lasted=lasted,
        )  # fmt: skip
    return appointment


def sweep(at: dt.datetime = SWEEP) -> list[RepeatDue]:
    with time_machine.travel(at, tick=False):
        return repeats.repeats_find_due(now=at)


def test_worn_off_relief_queues_one_item_with_the_policys_earliest_date_and_invites_the_patient(world, scheduler, esi):
    appointment = complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    [item] = sweep()
    assert (item.patient, item.procedure_type, item.last_appointment, item.status) == (
        world.patient, esi, appointment, RepeatDue.Status.OPEN,
    )  # fmt: skip
    assert (item.course, item.step) == (appointment.order.course, world.esi_step)
    assert item.earliest_date == dt.date(2026, 12, 22)  # 1 December + 21 days
    assert item.reason == (
        "ESI gave 30% relief at follow-up, lasted 2 weeks, worn off: next is ESI, no sooner than 22 Dec 2026. "
        "Coverage: Epidural steroid injection spacing."
    )
    with time_machine.travel(SWEEP, tick=False):
        outbox.messages_deliver_due(now=SWEEP)
    [invitation] = [m for m in mail.outbox if m.extra_headers["X-Clinic-Message"] == f"repeat-due:{item.pk}:invitation"]
    assert invitation.to == [world.patient.email]
    assert invitation.subject == "Please call Russellville to plan your next appointment"
    html = invitation.alternatives[0][0]
    for part in (invitation.body, html):
        assert "479-967-7770" in part
        assert "Tuesday 22 December 2026" in part
        assert "pidural" not in part  # no procedure, no diagnosis
        assert "M54" not in part


def test_running_the_sweep_twice_creates_nothing_more(world, scheduler, esi):
    complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    assert len(sweep()) == 1
    assert sweep(SWEEP + dt.timedelta(days=1)) == []
    assert RepeatDue.objects.count() == 1
    assert OutgoingMessage.objects.filter(kind=repeats.INVITATION).count() == 1


def test_the_beat_task_runs_the_sweep_daily(world, scheduler, esi):
    entry = app.conf.beat_schedule["find-repeats-due"]
    assert entry["task"] == "scheduling.tasks.find_repeats_due"
    assert entry["schedule"].hour == {6}
    complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    with time_machine.travel(SWEEP, tick=False):
        assert tasks.find_repeats_due.apply().get() == 1
        assert tasks.find_repeats_due.apply().get() == 0


@pytest.mark.parametrize(
    ("relief", "lasted", "due"),
    [
        (80, "ongoing", False),  # still good: the rules wait
        (49, "ongoing", False),  # modest relief still going on: the rules wait
        (50, "", False),  # no word on how long: no rule applies, the provider decides
        (80, "months", True),  # good relief that has ended
        (90, "none", True),  # no lasting relief
        (10, "none", False),  # too little relief: the rules stop this path, never a repeat
        (None, "", False),  # no answer: nothing known
    ],
)
def test_only_a_repeat_the_course_rules_suggest_is_due(world, scheduler, esi, relief, lasted, due):
    complete_with_answer(world, scheduler, relief=relief, lasted=lasted)
    assert len(sweep()) == (1 if due else 0)


def test_a_session_outside_any_course_is_never_due(world, scheduler, esi):
    complete_with_answer(world, scheduler, relief=30, lasted="weeks", course=False)
    assert sweep() == []


def test_an_appointment_already_booked_for_the_repeat_means_nothing_is_due(world, scheduler, esi):
    complete_with_answer(world, scheduler, relief=10, lasted="days")
    with time_machine.travel(SWEEP - dt.timedelta(days=1), tick=False):
        booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=esi, location=world.location,
            provider=world.provider, starts_at=dt.datetime(2026, 12, 22, 9, 0, tzinfo=CHICAGO),
            order=ProcedureOrderFactory(patient=world.patient, procedure_type=esi),
        )  # fmt: skip
    assert sweep() == []


def test_the_yearly_maximum_pushes_the_earliest_date_out(world, scheduler, esi):
    # Three earlier epidurals this year (completed), then the one of 1 December: four in 365 days.
    for day in (dt.date(2026, 3, 2), dt.date(2026, 6, 1), dt.date(2026, 9, 1)):
        starts = dt.datetime.combine(day, dt.time(9), tzinfo=CHICAGO)
        Appointment.objects.create(
            patient=world.patient, procedure_type=esi, provider=world.provider, room=world.fluoro,
            location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
            blocks_until=starts + dt.timedelta(minutes=45), status=Appointment.Status.COMPLETED,
        )  # fmt: skip
    complete_with_answer(world, scheduler, relief=20, lasted="days")
    [item] = sweep()
    assert item.earliest_date == dt.date(2027, 3, 2)  # 365 days after 2 March 2026
    assert item.reason.endswith("Coverage: Epidural steroid injection yearly maximum.")


def test_booking_the_repeat_clears_the_item_and_a_cancelled_repeat_brings_it_back(world, scheduler, esi):
    complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    [item] = sweep()
    with time_machine.travel(SWEEP, tick=False):
        repeat = booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=esi, location=world.location,
            provider=world.provider, starts_at=dt.datetime(2026, 12, 22, 9, 0, tzinfo=CHICAGO),
            order=ProcedureOrderFactory(patient=world.patient, procedure_type=esi),
        )  # fmt: skip
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.closed_note) == (
        RepeatDue.Status.BOOKED, scheduler, "Booked for 22 December 2026.",
    )  # fmt: skip
    assert list(selectors.repeats_due_open()) == []
    assert sweep(SWEEP + dt.timedelta(days=1)) == []
    assert RepeatDue.objects.get().status == RepeatDue.Status.BOOKED

    with time_machine.travel(SWEEP + dt.timedelta(days=2), tick=False):
        booking.appointment_cancel(appointment=repeat, actor=scheduler, reason="Patient has the flu")
    assert sweep(SWEEP + dt.timedelta(days=3)) == []  # reopened, not created anew
    item.refresh_from_db()
    assert (item.status, item.closed_at) == (RepeatDue.Status.OPEN, None)
    assert OutgoingMessage.objects.filter(kind=repeats.INVITATION).count() == 1


def test_booking_a_different_procedure_leaves_the_item_open(world, scheduler, esi):
    complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    [item] = sweep()
    with time_machine.travel(SWEEP, tick=False):
        booking.appointment_book(
            actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
            provider=world.provider, starts_at=dt.datetime(2026, 12, 22, 9, 0, tzinfo=CHICAGO),
        )  # fmt: skip
    item.refresh_from_db()
    assert item.status == RepeatDue.Status.OPEN


def test_the_queue_page_lists_the_item_with_a_finder_link_for_the_patient(client, world, scheduler, esi):
    appointment = complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    [item] = sweep()
    with time_machine.travel(SWEEP, tick=False):
        client.force_login(scheduler)
        page = client.get(reverse("scheduling:repeat_due")).content.decode()
        assert "Tue 22 Dec 2026" in page
        assert "Reyes, Jordan" in page
        assert "Epidural steroid injection" in page
        assert appointment.get_absolute_url() in page
        assert "30% relief at follow-up, lasted 2 weeks, worn off: next is ESI" in page
        finder = f"{reverse('scheduling:find')}?procedure_type={esi.pk}&patient={world.patient.pk}&from_date=2026-12-22"
        assert finder.replace("&", "&amp;") in page
        found = client.get(finder).content.decode()
        # A repeat is a procedure: it is booked from the provider's order, so the finder says so.
        assert "Find a slot for Jordan Reyes" in found
        assert "Procedures are booked from a provider&#x27;s order" in found
        assert "Needs the provider's order" in page
        # Once the provider has ordered the repeat, the queue's link books from that order.
        order = ProcedureOrderFactory(patient=world.patient, procedure_type=esi)
        page = client.get(reverse("scheduling:repeat_due")).content.decode()
        assert "Needs the provider's order" not in page
        finder = f"{reverse('scheduling:find')}?order={order.pk}&from_date=2026-12-22"
        assert finder.replace("&", "&amp;") in page
        found = client.get(finder).content.decode()
    assert "Tuesday 22 December 2026" in found
    assert "Monday 21 December 2026" not in found
    assert reverse("scheduling:repeat_due_dismiss", args=[item.pk]) in page


def test_dismissing_needs_a_note_and_a_dismissed_item_is_not_queued_again(client, world, scheduler, esi):
    complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    [item] = sweep()
    url = reverse("scheduling:repeat_due_dismiss", args=[item.pk])
    with time_machine.travel(SWEEP, tick=False):
        client.force_login(scheduler)
        refused = client.post(url, {"note": ""}, follow=True).content.decode()
        assert repeats.DISMISS_NEEDS_NOTE in refused
        assert "Reyes, Jordan" in refused
        done = client.post(url, {"note": "Patient prefers to wait until spring."}, follow=True).content.decode()
        assert "Removed from the repeat-due queue: Jordan Reyes." in done
        assert "Nobody is due for a repeat." in done
    item.refresh_from_db()
    assert (item.status, item.closed_by, item.closed_note) == (
        RepeatDue.Status.DISMISSED, scheduler, "Patient prefers to wait until spring.",
    )  # fmt: skip
    assert sweep(SWEEP + dt.timedelta(days=1)) == []


def test_a_patient_who_cannot_be_emailed_is_queued_without_an_invitation(client, world, scheduler, esi):
    world.patient.email_consent = False
    world.patient.save()
    complete_with_answer(world, scheduler, relief=30, lasted="weeks")
    assert len(sweep()) == 1
    assert not OutgoingMessage.objects.filter(kind=repeats.INVITATION).exists()
    with time_machine.travel(SWEEP, tick=False):
        client.force_login(scheduler)
        assert "Call the patient" in client.get(reverse("scheduling:repeat_due")).content.decode()


def test_only_schedulers_reach_the_repeat_due_queue(client, referrer, provider_user):
    url = reverse("scheduling:repeat_due")
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user in (referrer, provider_user):
        client.force_login(user)
        assert client.get(url).status_code == 404


def _items(world, count: int, *, first: int = 0) -> None:
    """Open queue items for new patients, each with a referral and a completed epidural."""
    for n in range(first, first + count):
        patient = PatientFactory(first_name=f"Pat{n}")
        ReferralFactory(patient=patient, status="completed")
        starts = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC) + dt.timedelta(hours=n)
        appointment = Appointment.objects.create(
            patient=patient, procedure_type=world.epidural, provider=world.provider, room=world.fluoro,
            location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
            blocks_until=starts + dt.timedelta(minutes=45), status=Appointment.Status.COMPLETED,
        )  # fmt: skip
        RepeatDue.objects.create(
            patient=patient, procedure_type=world.epidural, last_appointment=appointment,
            earliest_date=dt.date(2026, 11, 23), reason="30% relief", created_at=starts,
        )  # fmt: skip


def test_repeat_due_queue_query_count_is_constant(client, world, scheduler, django_assert_num_queries):
    _items(world, 2)
    url = reverse("scheduling:repeat_due")
    with time_machine.travel(SWEEP, tick=False):
        client.force_login(scheduler)
        # 1 session, 2 user, 3 the session's second-factor device (django-otp),
        # 4-5 permissions (user, groups), 6 open items with patient,
        # procedure, last appointment, its location and provider joined and the finder's
        # referral as a subquery, 7-9 savepoint, session save, release
        # and one more: the audit rows of the records shown (one insert)
        with django_assert_num_queries(10):
            assert client.get(url).content.decode().count("Dismiss<span") == 2
        _items(world, 8, first=2)
        with django_assert_num_queries(10):
            assert client.get(url).content.decode().count("Dismiss<span") == 10
