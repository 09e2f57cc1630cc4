"""A scheduler opens a patient's chart; later a clinic admin sees that view in the chart's
"Who saw this patient" panel, follows it to the audit page filtered by the patient, narrows it
by action and downloads the rows as CSV: in a real Chromium, with production's settings."""

import csv
import io

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_sees_who_saw_a_patient_filters_the_audit_log_and_downloads_it(
    page, page_watch, production_like, live_server, login, scheduler, clinic_admin, world
):
    chart = f"{live_server.url}/scheduling/patients/{world.patient.pk}/"
    login(scheduler.email)
    page.goto(chart)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jordan Reyes")
    expect(page.get_by_role("region", name="Who saw this patient")).to_have_count(0)  # admins only
    page.get_by_role("button", name="Log out").click()

    login(clinic_admin.email)
    page.goto(chart)
    panel = page.get_by_role("region", name="Who saw this patient")
    expect(panel.get_by_role("row").filter(has_text=scheduler.email)).to_contain_text("Viewed referrals.Patient")

    panel.get_by_role("link", name="Every access to this patient in the audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_label("Patient (record number)")).to_have_value(str(world.patient.pk))
    page.get_by_label("Action").select_option(label="Viewed")
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows.filter(has_text=scheduler.email)).to_have_count(1)
    expect(rows.filter(has_text=clinic_admin.email)).to_have_count(1)  # the admin's own chart view

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-")
    with open(download.path(), encoding="utf-8") as exported:
        lines = list(csv.DictReader(io.StringIO(exported.read())))
    assert {(line["who"], line["action"], line["patient id"]) for line in lines} == {
        (scheduler.email, "Viewed", str(world.patient.pk)),
        (clinic_admin.email, "Viewed", str(world.patient.pk)),
    }
    assert all(line["path"] == f"/scheduling/patients/{world.patient.pk}/" for line in lines)
