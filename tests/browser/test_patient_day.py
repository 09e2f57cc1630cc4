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
from dataclasses import dataclass

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import FollowUpCheck, OutgoingMessage
from scheduling.services.booking import appointment_book, appointment_reschedule
from scheduling.services.status import appointment_set_status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}  # patients open their e-mails on a phone
LINK_IN_HTML = r'href="({site}/p/{purpose}/[^"/]+/)"'


@pytest.fixture
def production_like(production_like, live_server):
    """Production's cookie and CSRF settings (tests/browser/conftest.py), with the e-mails'
    links pointing at the live server.

    Secure cookies over the live server's plain http work only because Chromium counts
    http://localhost as a secure context; over http to any other host name the CSRF cookie
    would not come back and every POST would fail, so keep the live server on localhost.
    """
    production_like.SITE_URL = live_server.url
    return production_like


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
def phone(browser, page_watch):
    """A fresh context per link, as when the patient taps it in their mail app: no session,
    no cookies; ``page_watch`` watches its page."""
    contexts = []

    def open_link(url: str) -> Page:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        contexts.append(context)
        page = context.new_page()
        page_watch.watch(page)
        page.goto(url)
        # The page fits the phone: nothing to scroll sideways to reach a button.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        return page

    yield open_link
    for context in contexts:
        context.close()


# --- The journey ---------------------------------------------------------------------------


def test_patient_confirms_from_the_confirmation_email(phone, patient_mail, page_watch):
    page = phone(patient_mail.confirm_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Jordan,")
    expect(page.get_by_text("Please confirm you will come")).to_be_visible()
    page_watch.check()
    assert [c["secure"] for c in page.context.cookies() if c["name"] == "csrftoken"] == [True]

    page.get_by_role("button", name="Confirm I will come").click()
    expect(page.get_by_role("status")).to_have_text("Thank you: you have confirmed you will come.")
    expect(page.get_by_role("button", name="Confirm I will come")).to_have_count(0)
    page_watch.check()
    patient_mail.upcoming.refresh_from_db()
    assert patient_mail.upcoming.status == "confirmed"


def test_patient_asks_to_reschedule_and_a_mistake_keeps_the_reason(phone, patient_mail, page_watch):
    page = phone(patient_mail.change_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Jordan,")
    reason = page.get_by_label("Reason (required to cancel)")
    reason.fill("My daughter's wedding is that day.")

    with page_watch.expect(400):  # the missing choice, answered 400 with the form
        page.get_by_role("button", name="Send my request").click()
        expect(page.get_by_text("Choose whether you would like to reschedule or cancel.")).to_be_visible()
    expect(reason).to_have_value("My daughter's wedding is that day.")

    page.get_by_label("Reschedule").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("status")).to_contain_text("We have your request to reschedule this appointment.")
    expect(page.get_by_role("button", name="Update my request")).to_be_visible()
    page_watch.check()
    request = patient_mail.upcoming.patient_requests.get()
    assert (request.kind, request.reason) == ("reschedule", "My daughter's wedding is that day.")


def test_patient_answers_the_follow_up_after_a_missing_answer(phone, patient_mail, page_watch):
    page = phone(patient_mail.follow_up_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Jordan,")
    page.get_by_label(re.compile("Your pain right now")).fill("3")
    comments = page.get_by_label(re.compile("Anything else you would like your doctor to know"))
    comments.fill("Sleeping through the night again.")

    with page_watch.expect(400):  # no relief percentage: the form comes back, 400
        page.get_by_role("button", name="Send my answers").click()
        expect(page.get_by_role("alert")).to_have_text("Please check the answers marked below.")
    expect(page.get_by_text("Enter how much relief you had as a whole number")).to_be_visible()
    expect(comments).to_have_value("Sleeping through the night again.")
    expect(page.get_by_label(re.compile("Your pain right now"))).to_have_value("3")

    page.get_by_label(re.compile("How much relief")).fill("60")
    page.get_by_label("A few weeks").check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you: we have your answers")
    page_watch.check()
    answer = patient_mail.treated.follow_ups.get()
    assert (answer.pain_now, answer.percent_relief, answer.comments) == (3, 60, "Sleeping through the night again.")


def test_a_link_from_before_a_reschedule_shows_the_new_time_and_confirms_nothing(
    phone, patient_mail, world, scheduler, page_watch, production_like
):
    zone = world.location.zone
    old_day = patient_mail.upcoming.starts_at.astimezone(zone).date()
    new_day = next(clinic_days(old_day + dt.timedelta(days=1), 1))
    moved = appointment_reschedule(
        appointment=patient_mail.upcoming, actor=scheduler,
        starts_at=dt.datetime.combine(new_day, dt.time(10, 0), tzinfo=zone), now=timezone.now(),
    )  # fmt: skip

    with page_watch.expect(410):  # the confirmation e-mail's link, from before the move
        page = phone(patient_mail.confirm_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link was for an earlier time.")
    expect(page.get_by_text(f"{new_day:%A} {new_day.day} {new_day:%B %Y}")).to_be_visible()
    expect(page.get_by_text("10:00 AM")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm I will come")).to_have_count(0)
    expect(page.get_by_role("link", name=world.location.phone).first).to_be_visible()
    moved.refresh_from_db()
    assert moved.status == "booked"

    notice = OutgoingMessage.objects.get(topic=f"appointment:{moved.pk}", kind="appointment_rescheduled")
    page = phone(link_in(notice, "confirm", production_like.SITE_URL))  # the reschedule notice's link
    page.get_by_role("button", name="Confirm I will come").click()
    expect(page.get_by_role("status")).to_have_text("Thank you: you have confirmed you will come.")
    page_watch.check()
    moved.refresh_from_db()
    assert moved.status == "confirmed"
