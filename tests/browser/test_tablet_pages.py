"""Staff work on a 1024x768 tablet: every main page of each staff role fits without sideways
scrolling, on a busy day of four providers; and pages print as black on white without the
navigation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clinic.models import OutgoingMessage
from clinic.roles import Role
from scheduling.services.booking import appointment_book
from tests.factories import PatientFactory, ProviderFactory, ReferralFactory
from tests.scheduling.conftest import give_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 768}
LONG_NAMES = ("Maximiliana Featherstonehaugh-Wolfeschlegel", "Christopherson-Vanderbilt")


def next_clinic_day(today: dt.date) -> dt.date:
    """The first Monday to Thursday (the world's open days) at least two days ahead."""
    day = today + dt.timedelta(days=2)
    while day.weekday() > 3:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def busy_day(world, scheduler, provider_user):
    """Four providers with long names, a tile in every column, a referral waiting for triage,
    one waiting to be booked and an e-mail that failed to a long address."""
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    providers = [world.provider] + [
        ProviderFactory(display_name=f"Dr. {name}", locations=[world.location])
        for name in ("Alexandrina Montgomery-Whitfield", "Bartholomew Okonkwo-Lindqvist", "Cassiopeia Vasquez")
    ]
    for provider in providers[1:]:
        give_template(provider, world.location)
    day = next_clinic_day(timezone.now().astimezone(world.location.zone).date())
    world.patient.first_name, world.patient.last_name = LONG_NAMES
    world.patient.save(update_fields=["first_name", "last_name"])
    appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, referral=world.referral,
        starts_at=dt.datetime.combine(day, dt.time(8, 30), tzinfo=world.location.zone),
    )  # fmt: skip
    for index, provider in enumerate(providers[1:], start=1):
        referral = ReferralFactory(patient=PatientFactory(last_name=LONG_NAMES[1]), status="accepted")
        appointment_book(
            actor=scheduler, patient=referral.patient, procedure_type=world.epidural, location=world.location,
            provider=provider, referral=referral,
            starts_at=dt.datetime.combine(day, dt.time(9 + index, 0), tzinfo=world.location.zone),
        )  # fmt: skip
    ReferralFactory(status="submitted")
    OutgoingMessage.objects.create(
        key="tablet:failed", kind="appointment_reminder", to_email=f"{'very.long.address' * 4}@mail.example",
        subject="Your appointment", body_text="-", due_at=timezone.now(), status=OutgoingMessage.Status.FAILED,
        last_error="SMTPRecipientsRefused: " + "550 5.1.1 mailbox unavailable; " * 8,
    )  # fmt: skip
    world.waiting = ReferralFactory(status="accepted", first_visit=world.consult)  # for the finder
    return world, day


def pages_of(role: Role, world, day: dt.date) -> list[str]:
    """The main pages of a role's work, as paths with the query strings they are opened with."""
    on_day = f"?location={world.location.pk}&date={day.isoformat()}"
    appointment = world.referral.appointments.get()
    calendars = [f"/scheduling/{view}/{on_day}{by}" for view in ("day", "week") for by in ("", "&view=rooms")]
    return {
        Role.INTAKE: ["/referrals/triage/", f"/referrals/{world.referral.pk}/", "/referrals/intake/new/",
                      "/clinic/messages/"],
        Role.SCHEDULER: ["/scheduling/queue/", f"/scheduling/find/?referral={world.waiting.pk}", *calendars,
                         f"/scheduling/appointments/{appointment.pk}/", "/scheduling/patient-requests/",
                         "/scheduling/no-response/", "/scheduling/repeat-due/", "/clinic/messages/"],
        Role.PROVIDER: [f"/scheduling/my-day/?date={day.isoformat()}", *calendars,
                        f"/scheduling/appointments/{appointment.pk}/", "/scheduling/courses/to-decide/"],
        Role.CLINIC_ADMIN: ["/clinic/setup/", "/clinic/audit/", "/scheduling/admin/closures/",
                            f"/scheduling/admin/hours/{world.location.pk}/",
                            f"/scheduling/admin/providers/{world.provider.pk}/", *calendars,
                            "/scheduling/patient-requests/", "/clinic/messages/"],
    }[role]  # fmt: skip


STAFF = [Role.INTAKE, Role.SCHEDULER, Role.PROVIDER, Role.CLINIC_ADMIN]


@pytest.mark.parametrize("role", STAFF, ids=lambda r: r.name.lower())
def test_staff_pages_fit_a_tablet_without_sideways_scrolling(
    page, page_watch, live_server, login, users_by_role, busy_day, role
):
    world, day = busy_day
    page.set_viewport_size(TABLET)
    login(users_by_role[role].email)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    too_wide = {}
    for path in pages_of(role, world, day):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, f"{path} answered {response.status}"
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > TABLET["width"]:
            too_wide[path] = width
    assert too_wide == {}


def test_a_calendar_prints_black_on_white_without_navigation(page, live_server, login, scheduler, busy_day):
    world, day = busy_day
    login(scheduler.email)
    page.goto(f"{live_server.url}/scheduling/day/?location={world.location.pk}&date={day.isoformat()}")
    tile = page.get_by_role("link", name="New-patient consultation")
    expect(tile).to_have_css("color", "rgb(255, 255, 255)")  # on screen: white on the tile colour

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(tile).to_have_css("color", "rgb(0, 0, 0)")
    expect(tile).to_have_css("background-color", "rgba(0, 0, 0, 0)")
