"""Coverage rules at booking, with the seeded Medicare defaults: counted per patient and
region group (cervical with thoracic, lumbar with sacral) in the location's calendar days
over a rolling 12 months; a refusal names the rule, the counts and the first date it
allows; a provider may override with a reason; the finder offers only what booking takes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from conditions.models import CoverageRule
from conditions.seeding import seed_coverage_rules
from conditions.sites import parse_levels
from scheduling.availability import SlotRules
from scheduling.models import Appointment, FollowUp
from scheduling.selectors import find_slots
from scheduling.services import booking
from tests.factories import PatientFactory, ProcedureOrderFactory, ProcedureTypeFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)  # Monday 08:00 in Russellville
LUMBAR = {"site_region": "lumbar", "site_side": "left", "site_levels": "L4-L5", "site_target": ""}
SACRAL = {"site_region": "sacral", "site_side": "left", "site_levels": "L5-S1", "site_target": ""}
CERVICAL = {"site_region": "cervical", "site_side": "right", "site_levels": "C5-C6", "site_target": ""}
ESI_5TH = (
    "Epidural sessions: 4 in the lumbar/sacral region since 12 Jan 2026 (at most 4 in 12 months, Medicare LCD "
    "L39240); the first date it allows is 12 Jan 2027."
)


@pytest.fixture
def seeded(world) -> dict:
    """The procedure types the seeded rules name, hosted by the world's fluoroscopy suite, and the rules."""
    fluoroscopy = list(world.fluoro.capabilities.all())
    types = {}
    for slug, name in [
        ("epidural-steroid-injection", "Epidural steroid injection (ESI)"),
        ("interlaminar-epidural-steroid-injection", "Interlaminar ESI"),
        ("transforaminal-epidural-steroid-injection", "Transforaminal ESI"),
        ("medial-branch-block", "Medial branch block"),
        ("radiofrequency-ablation", "Radiofrequency ablation"),
        ("spinal-cord-stimulator-trial", "Spinal cord stimulator trial"),
    ]:
        types[slug] = ProcedureTypeFactory(
            name=name, slug=slug, duration_minutes=30, locations=[world.location], required_capabilities=fluoroscopy
        )
    assert seed_coverage_rules() > 0
    return types


def past(world, procedure_type, day: dt.date, site: dict, *, relief: int | None = None, patient=None,
         hour: int = 10) -> Appointment:  # fmt: skip
    starts = local(world.location, day.year, day.month, day.day, hour)
    return Appointment.objects.create(
        patient=patient or world.patient, procedure_type=procedure_type, provider=world.provider, room=world.fluoro,
        location=world.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
        blocks_until=starts + dt.timedelta(minutes=30), status="completed", block_relief_percent=relief, **site,
    )  # fmt: skip


def answer(appointment: Appointment, *, relief: int) -> FollowUp:
    due = appointment.starts_at + dt.timedelta(days=14)
    return FollowUp.objects.create(appointment=appointment, due_at=due, answered_at=due, percent_relief=relief,
                                   pain_now=6, relief_lasted="weeks")  # fmt: skip


def book(world, actor, procedure_type, when: dt.datetime, site: dict, **extra) -> Appointment:
    """Book from a provider's order at ``site``, as every procedure after the first visit is."""
    patient = extra.pop("patient", world.patient)
    order = ProcedureOrderFactory(patient=patient, procedure_type=procedure_type, **_stored(site))
    return booking.appointment_book(
        actor=actor, patient=patient, procedure_type=procedure_type, location=world.location,
        provider=world.provider, starts_at=when, order=order, now=extra.pop("now", NOW), **extra,
    )  # fmt: skip


def _stored(site: dict) -> dict:
    """The site as an order stores it (levels normalised)."""
    if not site.get("site_region"):
        return {}
    levels = parse_levels(site.get("site_levels", ""), site["site_region"])
    return {**site, "site_levels": ", ".join(levels)}


def refused(world, actor, procedure_type, when, site, **extra) -> str:
    before = Appointment.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        book(world, actor, procedure_type, when, site, **extra)
    assert Appointment.objects.count() == before
    return " ".join(excinfo.value.messages)


def four_lumbar_esis(world, esi, patient=None, hour: int = 10) -> None:
    for day in (dt.date(2026, 1, 12), dt.date(2026, 3, 2), dt.date(2026, 5, 4), dt.date(2026, 7, 6)):
        past(world, esi, day, LUMBAR if day.month != 5 else SACRAL, relief=60, patient=patient, hour=hour)


DEC_1 = (2026, 12, 1, 9)


def test_a_fifth_lumbar_esi_in_12_months_is_refused_with_the_rule_and_first_allowed_date(world, seeded, scheduler):
    esi = seeded["epidural-steroid-injection"]
    four_lumbar_esis(world, esi)  # one of them sacral: the LCD counts lumbar with sacral
    # Any ESI type counts: the interlaminar one is refused too.
    interlaminar = seeded["interlaminar-epidural-steroid-injection"]
    assert refused(world, scheduler, interlaminar, local(world.location, *DEC_1), LUMBAR) == ESI_5TH


def test_a_cervical_esi_the_same_week_is_allowed(world, seeded, scheduler):
    esi = seeded["epidural-steroid-injection"]
    four_lumbar_esis(world, esi)
    appointment = book(world, scheduler, esi, local(world.location, *DEC_1), CERVICAL)
    assert (appointment.site_region, appointment.site_levels, appointment.site_side) == ("cervical", "C5-C6", "right")
    assert appointment.repeat_override_reason == ""


def test_a_provider_may_override_a_coverage_rule_with_a_reason_and_it_is_recorded(world, seeded, provider_user):
    esi = seeded["epidural-steroid-injection"]
    four_lumbar_esis(world, esi)
    appointment = book(world, provider_user, esi, local(world.location, *DEC_1), LUMBAR,
                       repeat_override_reason="Severe flare; payer approved by phone")  # fmt: skip
    assert appointment.repeat_override_reason == "Severe flare; payer approved by phone"
    assert appointment.events.get().note == (
        f'Coverage rule "Epidural sessions" ({ESI_5TH}) overridden: Severe flare; payer approved by phone'
    )


def test_a_non_provider_cannot_override(world, seeded, scheduler):
    four_lumbar_esis(world, seeded["epidural-steroid-injection"])
    message = refused(world, scheduler, seeded["epidural-steroid-injection"], local(world.location, *DEC_1), LUMBAR,
                      repeat_override_reason="please")  # fmt: skip
    assert message == booking.OVERRIDE_ONLY_REPEAT


def test_rfa_needs_two_qualifying_mbbs_of_the_region(world, seeded, scheduler, provider_user):
    mbb, rfa = seeded["medial-branch-block"], seeded["radiofrequency-ablation"]
    past(world, mbb, dt.date(2026, 10, 5), LUMBAR, relief=85)
    past(world, mbb, dt.date(2026, 10, 19), LUMBAR, relief=60)  # below 80%: does not qualify
    past(world, mbb, dt.date(2026, 10, 26), CERVICAL, relief=95)  # another region
    message = refused(world, scheduler, rfa, local(world.location, *DEC_1), LUMBAR)
    assert message == (
        "RFA needs two diagnostic blocks: needs 2 earlier Medial branch block in the lumbar/sacral region with at "
        "least 80% relief within 12 months; 1 of 2 so far qualify (Medicare LCD L38773 / L38765, billing article "
        "A57787)."
    )
    overridden = book(world, provider_user, rfa, local(world.location, *DEC_1), LUMBAR,
                      repeat_override_reason="Second block done elsewhere, report on file")  # fmt: skip
    assert '"RFA needs two diagnostic blocks"' in overridden.events.get().note


def test_rfa_with_two_qualifying_mbbs_is_allowed(world, seeded, scheduler):
    mbb, rfa = seeded["medial-branch-block"], seeded["radiofrequency-ablation"]
    past(world, mbb, dt.date(2026, 10, 5), LUMBAR, relief=85)
    past(world, mbb, dt.date(2026, 10, 19), SACRAL, relief=90)
    assert book(world, scheduler, rfa, local(world.location, *DEC_1), LUMBAR).site_region == "lumbar"


def test_a_third_rfa_in_12_months_is_refused_and_a_provider_may_override(world, seeded, scheduler, provider_user):
    mbb, rfa = seeded["medial-branch-block"], seeded["radiofrequency-ablation"]
    past(world, mbb, dt.date(2026, 1, 19), LUMBAR, relief=85)
    past(world, mbb, dt.date(2026, 2, 2), LUMBAR, relief=90)
    past(world, rfa, dt.date(2026, 3, 2), LUMBAR, relief=70)
    past(world, rfa, dt.date(2026, 7, 6), LUMBAR, relief=70)  # sooner than 6 months: an earlier override
    message = refused(world, scheduler, rfa, local(world.location, *DEC_1), LUMBAR)
    assert message == (
        "RFA sessions: 2 in the lumbar/sacral region since 2 Mar 2026 (at most 2 in 12 months, Medicare LCD "
        "L38773 / L38765, billing article A57787); the first date it allows is 2 Mar 2027."
    )
    appointment = book(world, provider_user, rfa, local(world.location, *DEC_1), LUMBAR,
                       repeat_override_reason="Documented 70% relief; payer exception")  # fmt: skip
    assert appointment.repeat_override_reason == "Documented 70% relief; payer exception"
    assert '"RFA sessions"' in appointment.events.get().note


def test_an_esi_repeat_needs_50_percent_from_the_last(world, seeded, scheduler):
    esi = seeded["epidural-steroid-injection"]
    last = past(world, esi, dt.date(2026, 10, 5), LUMBAR)
    answer(last, relief=30)
    message = refused(world, scheduler, esi, local(world.location, *DEC_1), LUMBAR)
    assert message.startswith("Epidural repeat needs improvement: the last in the lumbar/sacral region, on 5 Oct 2026: "
                              "30% relief at follow-up")  # fmt: skip
    assert "(a repeat needs at least 50% relief, Medicare LCD L39240)." in message


def test_a_payer_rule_replaces_the_default_of_its_topic(world, seeded, scheduler):
    esi = seeded["epidural-steroid-injection"]
    narrower = CoverageRule.objects.create(
        topic="esi-max", payer="Acme Health", name="Acme epidural sessions", kind="max_sessions", max_count=6,
        text="At most 6 epidural sessions per region in 12 months. Acme Health policy 12.",
    )  # fmt: skip
    narrower.procedure_types.set([esi])
    acme = PatientFactory(first_name="Ana", insurance_payer="  ACME health ")
    four_lumbar_esis(world, esi, patient=acme, hour=11)
    assert book(world, scheduler, esi, local(world.location, 2026, 12, 1, 8, 30), LUMBAR, patient=acme).patient == acme
    four_lumbar_esis(world, esi)  # the world's patient: Medicare's default applies
    assert refused(world, scheduler, esi, local(world.location, *DEC_1), LUMBAR) == ESI_5TH
    other = PatientFactory(first_name="Olu", insurance_payer="Other Mutual")
    four_lumbar_esis(world, esi, patient=other, hour=13)  # no rule of that payer: the default
    assert refused(world, scheduler, esi, local(world.location, *DEC_1), LUMBAR, patient=other) == ESI_5TH


def test_the_finder_offers_no_slot_booking_refuses_and_starts_from_the_first_allowed_date(world, seeded, scheduler):
    esi = seeded["epidural-steroid-injection"]
    four_lumbar_esis(world, esi)
    start, end = local(world.location, 2026, 12, 1, 0), local(world.location, 2027, 1, 20, 0)
    search = find_slots(procedure_type=esi, patient=world.patient, location=world.location, start=start, end=end,
                        site=LUMBAR, now=NOW)  # fmt: skip
    assert search.coverage_limit.message == ESI_5TH
    assert search.slots
    assert min(slot.local.date() for slot in search.slots) == dt.date(2027, 1, 12)
    refused(world, scheduler, esi, local(world.location, 2027, 1, 11, 15), LUMBAR)  # the day before
    first = search.slots[0]
    assert book(world, scheduler, esi, first.starts_at, LUMBAR).starts_at == first.starts_at
    cervical = find_slots(procedure_type=esi, patient=world.patient, location=world.location, start=start,
                          end=start + dt.timedelta(days=2), site=CERVICAL, now=NOW)  # fmt: skip
    assert cervical.coverage_limit is None
    assert cervical.slots[0].local.date() == dt.date(2026, 12, 1)


def test_slot_rules_load_is_a_fixed_number_of_queries_whatever_the_history(world, seeded, django_assert_num_queries):
    esi = seeded["epidural-steroid-injection"]

    def load():
        return SlotRules.load(procedure_type=esi, range_start=NOW, range_end=NOW + dt.timedelta(days=7), now=NOW,
                              location=world.location, patient=world.patient, site=LUMBAR)  # fmt: skip

    # 1-8 the calendar facts (locations, hours, closures, rooms, templates, extras, time off,
    # colliding appointments); 9 coverage rules, 10-11 their checked and counted types,
    # 12 the patient's counted sessions with locations, 13 their follow-ups
    past(world, esi, dt.date(2026, 3, 2), LUMBAR, relief=60)
    with django_assert_num_queries(13):
        assert len(load().coverage.sessions) == 1
    for month in (4, 5, 6, 7, 8, 9):
        answer(past(world, esi, dt.date(2026, month, 6), LUMBAR, relief=60), relief=60)
    with django_assert_num_queries(13):
        assert len(load().coverage.sessions) == 7


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "repeat_relief", "min_relief": 120}, "min_relief", "A percent is between 0 and 100."),
        ({"kind": "max_sessions"}, "max_count", "Say how many sessions at most."),
        ({"kind": "min_interval"}, "min_days", "Say how many days apart."),
        ({"kind": "prerequisite"}, "required_count", "Say how many earlier sessions are needed."),
        ({"kind": "repeat_relief"}, "min_relief", "Say how much relief the last session must have given."),
    ],
)
def test_coverage_rule_clean_names_the_bad_field(fields, field, message):
    rule = CoverageRule(topic="t", name="A rule", text="Text. Source.", **fields)
    with pytest.raises(ValidationError) as excinfo:
        rule.clean()
    assert excinfo.value.message_dict == {field: [message]}


# (zone, the last ESI's local wall time): its 21st calendar day falls just after the zone's
# 2027 daylight-saving change (Chicago: 14 March, 7 November; Sydney: 4 April, 3 October).
DST_CASES = [
    ("America/Chicago", dt.datetime(2027, 3, 1, 16, 0)),
    ("America/Chicago", dt.datetime(2027, 10, 18, 16, 0)),
    ("Australia/Sydney", dt.datetime(2027, 3, 22, 9, 0)),
    ("Australia/Sydney", dt.datetime(2027, 9, 20, 9, 0)),
]


@pytest.mark.parametrize(("zone_name", "wall"), DST_CASES)
def test_a_repeat_on_the_21st_calendar_day_at_any_time_is_allowed_across_daylight_saving(
    world, seeded, scheduler, zone_name, wall
):
    world.location.time_zone = zone_name
    world.location.save(update_fields=["time_zone"])
    esi = seeded["epidural-steroid-injection"]
    day_21 = wall.date() + dt.timedelta(days=21)
    past(world, esi, wall.date(), LUMBAR, relief=70)
    starts = wall.replace(tzinfo=world.location.zone)
    Appointment.objects.filter(patient=world.patient).update(
        starts_at=starts, ends_at=starts + dt.timedelta(minutes=30), blocks_until=starts + dt.timedelta(minutes=30)
    )
    now = local(world.location, day_21.year, day_21.month, day_21.day - 3, 8)
    rules = SlotRules.load(procedure_type=esi, range_start=now, range_end=now + dt.timedelta(days=5), now=now,
                           location=world.location, patient=world.patient, site=LUMBAR)  # fmt: skip
    limit = rules.coverage_limit(day_21 - dt.timedelta(days=1))
    assert limit.rule.topic == "clinic-epidural-steroid-injection-interval"
    assert limit.first_allowed == day_21
    assert rules.coverage_limit(day_21) is None
    # 08:30 on day 21: earlier on the clock than the last one, fewer than 21 x 24 hours after it.
    when = local(world.location, day_21.year, day_21.month, day_21.day, 8, 30)
    assert when - wall.replace(tzinfo=world.location.zone) < dt.timedelta(days=21)
    assert book(world, scheduler, esi, when, LUMBAR, now=now).starts_at == when


def test_a_stimulator_trial_needs_a_psychology_evaluation_recorded_in_a_course(world, seeded, scheduler):
    from conditions.models import Condition, Pathway, PathwayStep
    from scheduling.models import Course, CourseDecision

    trial = seeded["spinal-cord-stimulator-trial"]
    past(world, world.consult, dt.date(2026, 10, 1), {})  # a returning patient
    message = refused(world, scheduler, trial, local(world.location, *DEC_1), LUMBAR)
    assert message == (
        "Stimulator trial needs a psychology evaluation: needs 1 psychology evaluation recorded in a course within "
        "12 months; 0 so far (Aetna CPB 0194 and the Medicare NCD 160.7)."
    )
    condition = Condition.objects.create(name="Failed back", slug="failed-back", body_region="lower_back")
    pathway = Pathway.objects.create(condition=condition, name="SCS", slug="scs")
    step = PathwayStep.objects.create(pathway=pathway, position=1, code="psych", label="Psychology evaluation",
                                      kind="action", action="psychology_evaluation")  # fmt: skip
    course = Course.objects.create(patient=world.patient, pathway=pathway, enrolled_at=NOW - dt.timedelta(days=30))
    CourseDecision.objects.create(course=course, suggested_step=step, chosen_step=step, choice="accepted",
                                  suggestion="Psychology evaluation", note="Cleared for a trial",
                                  decided_at=NOW - dt.timedelta(days=20))  # fmt: skip
    assert book(world, scheduler, trial, local(world.location, *DEC_1), LUMBAR).procedure_type == trial


def test_the_finder_page_judges_the_orders_site(client, world, seeded, scheduler):
    """Opened from an order, the finder counts at the order's site as booking will: a cervical
    ESI is offered beside four lumbar ones; a lumbar one is offered only from 12 Jan 2027."""
    esi = seeded["epidural-steroid-injection"]
    four_lumbar_esis(world, esi)
    client.force_login(scheduler)
    with time_machine.travel(NOW, tick=False):
        cervical = ProcedureOrderFactory(patient=world.patient, procedure_type=esi, **CERVICAL)
        page = client.get(reverse("scheduling:find"), {"order": cervical.pk, "location": world.location.pk})
        assert ESI_5TH not in page.content.decode()
        assert page.context["search"].slots[0].local.date() == dt.date(2026, 11, 24)  # the notice: tomorrow
        cervical.status = "cancelled"
        cervical.cancel_reason = "changed plan"
        cervical.save()
        lumbar = ProcedureOrderFactory(patient=world.patient, procedure_type=esi, **LUMBAR)
        page = client.get(reverse("scheduling:find"), {"order": lumbar.pk, "location": world.location.pk})
        assert page.context["search"].coverage_limit.message == ESI_5TH
        assert page.context["search"].slots[0].local.date() == dt.date(2027, 1, 12)
