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
    # Under a loaded machine the first page (static files, templates) can take longer than
    # Playwright's default 30 s; what is tested is what the pages show, not their speed.
    page.set_default_navigation_timeout(120_000)
    chart = f"{live_server.url}/scheduling/patients/{world.patient.pk}/"
    login(scheduler.email)
    page.goto(chart)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jordan Reyes")
    expect(page.get_by_role("region", name="Who saw this patient")).to_have_count(0)  # admins only
    page.get_by_role("button", name="Log out").click()

    login(clinic_admin.email)
    page.goto(chart)
    panel = page.get_by_role("region", name="Who saw this patient")
    # The scheduler's landing queue listed the patient's referral too: that is its own row.
    expect(
        panel.get_by_role("row").filter(has_text=scheduler.email).filter(has_text="Viewed referrals.Patient")
    ).to_have_count(1)

    panel.get_by_role("link", name="Every access to this patient in the audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.get_by_label("Patient (record number)")).to_have_value(str(world.patient.pk))
    page.get_by_label("Action").select_option(label="Viewed")
    page.get_by_role("button", name="Search").click()
    chart_path = f"/scheduling/patients/{world.patient.pk}/"
    rows = page.get_by_role("table").get_by_role("row").filter(has_text=chart_path)
    expect(rows.filter(has_text=scheduler.email)).to_have_count(1)
    expect(rows.filter(has_text=clinic_admin.email)).to_have_count(1)  # the admin's own chart view

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download these rows (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("audit-log-")
    with open(download.path(), encoding="utf-8") as exported:
        lines = list(csv.DictReader(io.StringIO(exported.read())))
    chart_views = {(line["who"], line["action"]) for line in lines if line["path"] == chart_path}
    assert chart_views == {(scheduler.email, "Viewed"), (clinic_admin.email, "Viewed")}
    assert {(line["action"], line["patient id"]) for line in lines} == {("Viewed", str(world.patient.pk))}
