"""A patient's day on a phone: the links in the clinic's real e-mails (confirm, ask to
reschedule, answer the follow-up) opened in a fresh browser with no session, each form
submitted, a mistake corrected without losing what was typed, the result shown.

This is the journey the test client could not see: it never sends an Origin header, so a
``no-referrer`` policy that makes Chromium post ``Origin: null`` (and Django's CSRF check
refuse every form) passed the suite while no patient could act on an e-mail.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import FollowUpCheck, OutgoingMessage
from scheduling.services.booking import appointment_book
from scheduling.services.status import appointment_set_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}  # patients open their e-mails on a phone
LINK_IN_HTML = r'href="({site}/p/{purpose}/[^"/]+/)"'


@pytest.fixture
def production_like(settings, live_server):
    """The CSRF and cookie settings a deployment runs with (DEBUG off, Secure cookies), and
    e-mail links that point at the live server.

    Secure cookies over the live server's plain http work only because Chromium counts
    http://localhost as a secure context; over http to any other host name the CSRF cookie
    would not come back and every POST would fail, so keep the live server on localhost.
    SECURE_SSL_REDIRECT stays off: there is no https listener to redirect to.
    """
    settings.DEBUG = False
    settings.CSRF_COOKIE_SECURE = True
    settings.SESSION_COOKIE_SECURE = True
    settings.SECURE_REFERRER_POLICY = "same-origin"
    settings.SITE_URL = live_server.url
    return settings


# --- Per-page watch (a small local helper; the shared one in tests/browser/conftest.py may
# replace it) ---------------------------------------------------------------------------------


@dataclass
class PageWatch:
    """Every response that is a 4xx/5xx the journey did not expect, and every console error."""

    expected: set[tuple[str, int]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def allow(self, url: str, status: int) -> None:
        self.expected.add((urlsplit(url).path, status))

    def assert_clean(self, where: str) -> None:
        assert self.problems == [], f"{where}: {self.problems}"


def watch(page: Page) -> PageWatch:
    """Record, from now on, the problems a user would not see but a page should not have."""
    seen = PageWatch()
    expected_paths = lambda url: any(urlsplit(url).path == path for path, _ in seen.expected)  # noqa: E731

    def on_response(response) -> None:
        if response.status >= 400 and (urlsplit(response.url).path, response.status) not in seen.expected:
            seen.problems.append(f"{response.status} {response.request.method} {response.url}")

    def on_console(message) -> None:
        # Chromium logs every 4xx document as "Failed to load resource": expected ones are fine.
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and expected_paths(message.location.get("url", "")):
            return
        seen.problems.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    return seen


# --- The e-mails, as the services write them ---------------------------------------------------


def clinic_days(start: dt.date, step: int):
    """Mon-Thu dates from ``start`` onwards (``step`` 1) or backwards (-1): the world's open days."""
    day = start
    while True:
        if day.weekday() < 4:
            yield day
        day += dt.timedelta(days=step)


@dataclass
class Mail:
    upcoming: object  # the appointment the confirm and change links are for
    treated: object  # the completed procedure the follow-up asks about
    confirm_url: str
    change_url: str
    follow_up_url: str


def link_in(message: OutgoingMessage, purpose: str, site: str) -> str:
    """The link a patient would tap: taken from the e-mail's rendered HTML, checked against
    its text part."""
    match = re.search(LINK_IN_HTML.format(site=re.escape(site), purpose=purpose), message.body_html)
    assert match, f"no {purpose} link in {message.kind}: {message.body_html}"
    assert match.group(1) in message.body_text
    return match.group(1)


@pytest.fixture
def patient_mail(world, scheduler, provider_user, production_like) -> Mail:
    """An epidural done two clinic days ago (its follow-up now due) and a consultation two
    clinic days ahead: booked, checked in and completed through the services."""
    zone = world.location.zone
    now = timezone.now()
    world.patient.email = "jordan.reyes@mail.example"
    world.patient.save(update_fields=["email"])
    FollowUpCheck.objects.create(procedure_type=world.epidural, after=6, unit="hours", purpose="pain diary")

    past_day = next(clinic_days(now.astimezone(zone).date() - dt.timedelta(days=2), -1))
    done_at = dt.datetime.combine(past_day, dt.time(9, 0), tzinfo=zone)
    treated = appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.epidural, location=world.location,
        provider=world.provider, starts_at=done_at, referral=world.referral, now=done_at - dt.timedelta(days=5),
    )  # fmt: skip
    appointment_set_status(appointment=treated, status="checked_in", actor=provider_user, now=done_at)
    appointment_set_status(
        appointment=treated, status="completed", actor=provider_user, now=done_at + dt.timedelta(hours=1)
    )

    next_day = next(clinic_days(now.astimezone(zone).date() + dt.timedelta(days=2), 1))
    upcoming = appointment_book(
        actor=scheduler, patient=world.patient, procedure_type=world.consult, location=world.location,
        provider=world.provider, starts_at=dt.datetime.combine(next_day, dt.time(9, 0), tzinfo=zone), now=now,
    )  # fmt: skip

    site = production_like.SITE_URL
    confirmation = OutgoingMessage.objects.get(topic=f"appointment:{upcoming.pk}", kind="appointment_confirmation")
    follow_up = OutgoingMessage.objects.get(kind="follow_up", to_email="jordan.reyes@mail.example")
    return Mail(
        upcoming=upcoming,
        treated=treated,
        confirm_url=link_in(confirmation, "confirm", site),
        change_url=link_in(confirmation, "change", site),
        follow_up_url=link_in(follow_up, "follow-up", site),
    )


@pytest.fixture
def phone(browser):
    """A fresh context per link, as when the patient taps it in their mail app: no session,
    no cookies."""
    contexts = []

    def open_link(url: str) -> tuple[Page, PageWatch]:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        contexts.append(context)
        page = context.new_page()
        seen = watch(page)
        page.goto(url)
        # The page fits the phone: nothing to scroll sideways to reach a button.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        return page, seen

    yield open_link
    for context in contexts:
        context.close()


# --- The journey ---------------------------------------------------------------------------


def test_patient_confirms_from_the_confirmation_email(phone, patient_mail):
    page, seen = phone(patient_mail.confirm_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Jordan,")
    expect(page.get_by_text("Please confirm you will come")).to_be_visible()
    seen.assert_clean("confirm page")
    assert [c["secure"] for c in page.context.cookies() if c["name"] == "csrftoken"] == [True]

    page.get_by_role("button", name="Confirm I will come").click()
    expect(page.get_by_role("status")).to_have_text("Thank you: you have confirmed you will come.")
    expect(page.get_by_role("button", name="Confirm I will come")).to_have_count(0)
    seen.assert_clean("after confirming")
    patient_mail.upcoming.refresh_from_db()
    assert patient_mail.upcoming.status == "confirmed"


def test_patient_asks_to_reschedule_and_a_mistake_keeps_the_reason(phone, patient_mail):
    page, seen = phone(patient_mail.change_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Jordan,")
    reason = page.get_by_label("Reason (required to cancel)")
    reason.fill("My daughter's wedding is that day.")

    seen.allow(patient_mail.change_url, 400)  # the missing choice, answered 400 with the form
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_text("Choose whether you would like to reschedule or cancel.")).to_be_visible()
    expect(reason).to_have_value("My daughter's wedding is that day.")

    page.get_by_label("Reschedule").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("status")).to_contain_text("We have your request to reschedule this appointment.")
    expect(page.get_by_role("button", name="Update my request")).to_be_visible()
    seen.assert_clean("change request")
    request = patient_mail.upcoming.patient_requests.get()
    assert (request.kind, request.reason) == ("reschedule", "My daughter's wedding is that day.")


def test_patient_answers_the_follow_up_after_a_missing_answer(phone, patient_mail):
    page, seen = phone(patient_mail.follow_up_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Jordan,")
    page.get_by_label(re.compile("Your pain right now")).fill("3")
    comments = page.get_by_label(re.compile("Anything else you would like your doctor to know"))
    comments.fill("Sleeping through the night again.")

    seen.allow(patient_mail.follow_up_url, 400)  # no relief percentage: the form comes back, 400
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("alert")).to_have_text("Please check the answers marked below.")
    expect(page.get_by_text("Enter how much relief you had as a whole number")).to_be_visible()
    expect(comments).to_have_value("Sleeping through the night again.")
    expect(page.get_by_label(re.compile("Your pain right now"))).to_have_value("3")

    page.get_by_label(re.compile("How much relief")).fill("60")
    page.get_by_label("A few weeks").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you: we have your answers")
    seen.assert_clean("follow-up")
    answer = patient_mail.treated.follow_ups.get()
    assert (answer.pain_now, answer.percent_relief, answer.comments) == (3, 60, "Sleeping through the night again.")
