"""A provider enrols a patient in the facet pathway from the chart (a wrong level first),
records the imaging, accepts the first block and sees the order: in a real Chromium, with
production's DEBUG, CSRF and secure-cookie settings."""

import pytest
from playwright.sync_api import expect

from conditions.models import Condition
from scheduling.models import Course, ProcedureOrder
from tests.scheduling.test_courses import Clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_provider_enrols_a_patient_and_accepts_the_suggestions(page, page_watch, production_like, live_server, login,
                                                               provider_user):  # fmt: skip
    clinic = Clinic(provider_user)
    clinic.referral.suspected_condition = Condition.objects.get(slug="facet-joint-pain")
    clinic.referral.save()
    login(provider_user.email)
    page.goto(f"{live_server.url}/scheduling/patients/{clinic.patient.pk}/")
    expect(page.get_by_role("region", name="Courses of care")).to_contain_text("No courses of care.")
    page.get_by_role("link", name="Enrol in a course of care").click()

    page.get_by_label("Pathway").select_option(label="Facet-mediated neck or back pain (suggested)")
    page.get_by_label("Region").select_option("thoracic")
    page.get_by_label("Side").select_option("bilateral")
    levels = page.get_by_label("Levels")
    levels.fill("L4-L5")
    with page_watch.expect(400):
        page.get_by_role("button", name="Enrol").click()
        expect(page.get_by_text("L4-L5 is not in the thoracic spine")).to_be_visible()
    expect(levels).to_have_value("L4-L5")
    assert not Course.objects.exists()
    levels.fill("T6-T8")
    page.get_by_role("button", name="Enrol").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Thoracic T6-T7, T7-T8, bilateral")
    expect(page.get_by_test_id("suggestion")).to_have_text("Start: Imaging of the spine.")
    page.get_by_label("Note").fill("facet arthropathy T6-T8")
    page.get_by_role("button", name="Accept: Imaging of the spine").click()
    expect(page.get_by_role("alert")).to_contain_text("Decision recorded: Imaging of the spine.")
    expect(page.get_by_test_id("suggestion")).to_have_text(
        "Imaging of the spine done (facet arthropathy T6-T8): next is MBB #1"
    )
    page.get_by_role("button", name="Accept: MBB #1").click()
    expect(page.get_by_test_id("suggestion")).to_contain_text("Waiting for the procedure: Medial branch block")
    order = ProcedureOrder.objects.get()
    assert (order.step.code, order.site_levels, order.site_side) == ("mbb-1", "T6-T7, T7-T8", "bilateral")
    expect(page.get_by_role("region", name="Orders")).to_contain_text("MBB #1")
