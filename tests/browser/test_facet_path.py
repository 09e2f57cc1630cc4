"""The facet path at its decision points, in a real Chromium with production's DEBUG, CSRF
and secure-cookie settings: the provider completes MBB #1 recording the relief during the
block (an impossible percent first), the course suggests MBB #2 with the rule's numbers and
accepting it orders MBB #2 at the same site; after MBB #2 at 90% the course suggests the
ablation of that site. With 40% at MBB #1 the course says to stop and re-evaluate."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from scheduling.models import Appointment, Course, ProcedureOrder
from scheduling.services import courses
from tests.scheduling.test_courses import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITE = {"site_region": "thoracic", "site_side": "bilateral", "site_levels": "T6-T8", "site_target": ""}


def checked_in_block(clinic: Clinic, order: ProcedureOrder, *, minutes_ago: int = 40) -> Appointment:
    """The order's block, checked in and started ``minutes_ago`` (so it may be completed);
    two blocks must not overlap (PostgreSQL's exclusion constraints refuse it)."""
    starts = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return Appointment.objects.create(
        patient=clinic.patient, procedure_type=order.procedure_type, provider=clinic.provider, room=clinic.room,
        location=clinic.location, starts_at=starts, ends_at=starts + dt.timedelta(minutes=30),
        blocks_until=starts + dt.timedelta(minutes=45), status=Appointment.Status.CHECKED_IN, order=order,
        **order.site_values(),
    )  # fmt: skip


def enrolled_with_first_block(clinic: Clinic) -> tuple[Course, ProcedureOrder]:
    """Enrolled for thoracic T6-T8 bilateral, the imaging recorded and MBB #1 ordered."""
    earlier = timezone.now() - dt.timedelta(hours=3)  # before the block, as in the clinic
    course = courses.course_enrol(
        actor=clinic.actor, patient=clinic.patient, pathway=clinic.facet, site=SITE, now=earlier
    )
    courses.course_decide(
        actor=clinic.actor, course=course, accept=True, note="facet arthropathy on X-ray", now=earlier
    )
    courses.course_decide(actor=clinic.actor, course=course, accept=True, now=earlier)
    return course, course.orders.get()


def complete_in_the_browser(page, live_server, appointment: Appointment, relief: str, page_watch) -> None:
    page.goto(f"{live_server.url}/scheduling/appointments/{appointment.pk}/")
    page.get_by_label("Status").select_option("completed")
    relief_field = page.get_by_label("Relief during the block (%)")
    relief_field.fill("185")
    page.get_by_label("Pain before (0-10)").fill("7")
    with page_watch.expect(400):
        page.get_by_role("button", name="Save status").click()
        expect(page.get_by_text("Relief is a percent between 0 and 100.")).to_be_visible()
    expect(relief_field).to_have_value("185")
    expect(page.get_by_label("Pain before (0-10)")).to_have_value("7")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CHECKED_IN
    page.get_by_label("Status").select_option("completed")
    relief_field.fill(relief)
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_role("alert")).to_contain_text("Appointment is now completed.")


def test_a_positive_block_leads_to_the_second_then_to_the_ablation(
    page, page_watch, production_like, live_server, login, provider_user
):
    clinic = Clinic(provider_user)
    course, first_order = enrolled_with_first_block(clinic)
    first = checked_in_block(clinic, first_order, minutes_ago=120)
    login(provider_user.email)

    complete_in_the_browser(page, live_server, first, "85", page_watch)
    first_order.refresh_from_db()
    assert first_order.status == ProcedureOrder.Status.FULFILLED
    page.goto(f"{live_server.url}/scheduling/courses/{course.pk}/")
    expect(page.get_by_test_id("suggestion")).to_have_text(
        "MBB #1 gave 85% relief during the block, at or above 80%: next is MBB #2"
    )
    page.get_by_role("button", name="Accept: MBB #2").click()
    expect(page.get_by_test_id("suggestion")).to_contain_text("Waiting for the procedure: Medial branch block")
    second_order = course.orders.get(step__code="mbb-2")
    assert second_order.site_values() == {**SITE, "site_levels": "T6-T7, T7-T8"}

    second = checked_in_block(clinic, second_order)
    complete_in_the_browser(page, live_server, second, "90", page_watch)
    page.goto(f"{live_server.url}/scheduling/courses/{course.pk}/")
    expect(page.get_by_test_id("suggestion")).to_have_text(
        "MBB #2 gave 90% relief during the block, at or above 80%: next is Radiofrequency ablation"
    )
    page.get_by_role("button", name="Accept: Radiofrequency ablation").click()
    ablation = course.orders.get(step__code="rfa")
    assert (ablation.procedure_type.slug, ablation.site_levels, ablation.site_side) == (
        "radiofrequency-ablation", "T6-T7, T7-T8", "bilateral",
    )  # fmt: skip
    # The scheduler's queue now holds the ablation, at the course's site.
    assert list(orders_to_schedule_pks()) == [ablation.pk]


def orders_to_schedule_pks():
    from scheduling.selectors import orders_to_schedule

    return orders_to_schedule().values_list("pk", flat=True)


def test_a_negative_block_stops_the_path(page, page_watch, production_like, live_server, login, provider_user):
    clinic = Clinic(provider_user)
    course, first_order = enrolled_with_first_block(clinic)
    first = checked_in_block(clinic, first_order)
    login(provider_user.email)
    complete_in_the_browser(page, live_server, first, "40", page_watch)
    page.goto(f"{live_server.url}/scheduling/courses/{course.pk}/")
    expect(page.get_by_test_id("suggestion")).to_have_text(
        "MBB #1 gave 40% relief during the block, below 80%: stop the facet path and re-evaluate"
    )
    expect(page.get_by_role("button", name="Accept: MBB #2")).to_have_count(0)
    assert not course.orders.filter(step__code="mbb-2").exists()
