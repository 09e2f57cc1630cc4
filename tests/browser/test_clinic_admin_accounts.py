"""A clinic admin manages accounts in a real Chromium: invites a user, gives them a role,
deactivates them (their open session ends); and approves portal access requests into an
existing practice and into a new one."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinic.models import User
from clinic.roles import Role, roles_of
from referrals.models import PortalAccessRequest, ReferringPhysician
from tests.factories import ReferringPhysicianFactory, ReferringPracticeFactory, make_npi

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clinic_admin_invites_a_user_assigns_a_role_and_deactivates_them(
    page, page_watch, production_like, live_server, login, clinic_admin
):
    login(clinic_admin.email)
    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    page.get_by_role("link", name="Invite a user").click()

    # A missing role is refused beside the field, the rest kept.
    page.get_by_label("E-mail address").fill("nia.nurse@clinic.example")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Nurse")
    with page_watch.expect(400):
        page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Choose at least one role.")).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Nia")
    page.get_by_label("Intake").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Invited nia.nurse@clinic.example")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nia Nurse")

    # A second role.
    page.get_by_label("Scheduler").check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.get_by_role("alert")).to_have_text("Roles saved.")
    expect(page.get_by_label("Scheduler")).to_be_checked()
    nia = User.objects.get(email="nia.nurse@clinic.example")
    assert roles_of(nia) == [Role.INTAKE, Role.SCHEDULER]

    # Deactivated: the list says so.
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("alert")).to_contain_text("nia.nurse@clinic.example is deactivated")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    page.get_by_role("link", name="All users").click()
    page.get_by_label("Name or e-mail").fill("nia")
    page.get_by_role("button", name="Search").click()
    row = page.get_by_role("row").filter(has_text="nia.nurse@clinic.example")
    expect(row).to_contain_text("Deactivated")
    expect(row).to_contain_text("Intake, Scheduler")
    nia.refresh_from_db()
    assert not nia.is_active


def test_clinic_admin_approves_access_requests_into_an_existing_and_a_new_practice(
    page, page_watch, production_like, live_server, login, clinic_admin
):
    riverbend = ReferringPracticeFactory(name="Riverbend Family Medicine", street="12 River Road", city="Dardanelle")
    ReferringPhysicianFactory(practice=riverbend, first_name="Lan", last_name="Nguyen")
    joining = PortalAccessRequest.objects.create(
        first_name="Ana", last_name="Joiner", email="ana@riverbend.example", npi=make_npi(501),
        practice_name="riverbend family med", practice_phone="479-555-0101",
    )  # fmt: skip
    PortalAccessRequest.objects.create(
        first_name="Ned", last_name="Newcomer", email="ned@lakeside.example", npi=make_npi(502),
        practice_name="Riverbend Lakeside Clinic", practice_phone="479-555-0102",
    )  # fmt: skip
    login(clinic_admin.email)
    page.get_by_role("link", name="Access requests").click()

    # 1. Into the existing practice, seen with its address and physicians; the choice is required.
    page.get_by_role("link", name="Ana Joiner").click()
    similar = page.get_by_role("region", name="Existing practices with a similar name or the same phone")
    expect(similar).to_contain_text("Riverbend Family Medicine")
    expect(similar).to_contain_text("12 River Road")
    expect(similar).to_contain_text("Dr. Lan Nguyen")
    with page_watch.expect(400):
        page.get_by_role("button", name="Approve and invite").click()
    expect(page.get_by_text("Choose whether the physician joins an existing practice or a new one.")).to_be_visible()
    page.get_by_label("Join an existing practice").check()
    page.get_by_label("Existing practice", exact=True).select_option(
        label="Riverbend Family Medicine (12 River Road, Dardanelle, AR)"
    )
    page.get_by_role("button", name="Approve and invite").click()
    expect(page.get_by_role("alert")).to_contain_text("Dr. Ana Joiner joined Riverbend Family Medicine")
    assert ReferringPhysician.objects.get(email="ana@riverbend.example").practice == riverbend
    joining.refresh_from_db()
    assert joining.status == PortalAccessRequest.Status.APPROVED

    # 2. A similar name, but a new practice under the name the admin gives.
    page.get_by_role("link", name="Ned Newcomer").click()
    page.get_by_label("Create a new practice").check()
    page.get_by_label("New practice's name").fill("Lakeside Clinic")
    page.get_by_role("button", name="Approve and invite").click()
    expect(page.get_by_role("alert")).to_contain_text("in the new practice Lakeside Clinic")
    ned = ReferringPhysician.objects.get(email="ned@lakeside.example")
    assert ned.practice != riverbend
    assert ned.practice.name == "Lakeside Clinic"
    expect(page.get_by_role("row").filter(has_text="Ned Newcomer")).to_contain_text("Approved · Lakeside Clinic")
