"""Hostile GET parameters on the referral lists: a clear message (400) or the page, never a
500. NUL in a filter fails only on PostgreSQL: run this file there too."""

import pytest
from django.urls import reverse

from referrals.views.params import NOT_A_LISTED_CHOICE, SEARCH_TEXT_REFUSED, SEARCH_TOO_LONG
from tests.factories import ReferralFactory
from tests.referrals.test_intake import intake_post

pytestmark = pytest.mark.django_db

NUL = "Reyes\x00"
SUPERSCRIPT = "\u00b2"  # "²": str.isdigit() is true, int() refuses it


@pytest.fixture
def listed(physician):
    return ReferralFactory(referring_physician=physician, patient__last_name="Reyes")


def _content(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("q", NUL, SEARCH_TEXT_REFUSED),
    ("q", "x" * 10_000, SEARCH_TOO_LONG % {"max": 100}),
    ("status", NUL, NOT_A_LISTED_CHOICE % {"label": "status"}),
    ("urgency", "urgent\x00", NOT_A_LISTED_CHOICE % {"label": "urgency"}),
    ("practice", SUPERSCRIPT, NOT_A_LISTED_CHOICE % {"label": "practice"}),
    ("practice", "1\x00", NOT_A_LISTED_CHOICE % {"label": "practice"}),
    ("practice", "9" * 30, NOT_A_LISTED_CHOICE % {"label": "practice"}),
    ("practice", "-1", NOT_A_LISTED_CHOICE % {"label": "practice"}),
])  # fmt: skip
def test_triage_refuses_a_bad_filter_with_a_message(client, intake, listed, name, value, message):
    client.force_login(intake)
    response = client.get(reverse("referrals:triage"), {name: value})
    assert response.status_code == 400
    assert message in _content(response)
    assert listed.reference not in _content(response)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("q", NUL, SEARCH_TEXT_REFUSED),
    ("q", "x" * 10_000, SEARCH_TOO_LONG % {"max": 100}),
    ("status", "accepted\x00", NOT_A_LISTED_CHOICE % {"label": "status"}),
])  # fmt: skip
def test_portal_refuses_a_bad_filter_with_a_message(client, referrer, listed, name, value, message):
    client.force_login(referrer)
    response = client.get(reverse("referrals:portal"), {name: value})
    assert response.status_code == 400
    assert message in _content(response)


@pytest.mark.parametrize("url_name", ["referrals:triage", "referrals:portal"])
@pytest.mark.parametrize("text", [f"R{SUPERSCRIPT}", "R" + "9" * 30, "r\u0662"])
def test_a_reference_like_search_that_is_no_id_finds_nothing_and_does_not_fail(
    client, intake, referrer, listed, url_name, text
):
    client.force_login(intake if url_name == "referrals:triage" else referrer)
    response = client.get(reverse(url_name), {"q": text})
    assert response.status_code == 200
    assert listed.reference not in _content(response)


@pytest.mark.parametrize("url_name", ["referrals:triage", "referrals:portal"])
@pytest.mark.parametrize("page", [SUPERSCRIPT, "\x00", "9" * 30, "-1"])
def test_a_bad_page_number_shows_a_page(client, intake, referrer, listed, url_name, page):
    client.force_login(intake if url_name == "referrals:triage" else referrer)
    response = client.get(reverse(url_name), {"page": page})
    assert response.status_code == 200
    assert listed.reference in _content(response)


def test_the_practice_filter_still_filters(client, intake, listed, other_physician):
    other = ReferralFactory(referring_physician=other_physician)
    client.force_login(intake)
    content = _content(
        client.get(reverse("referrals:triage"), {"practice": str(listed.referring_physician.practice_id)})
    )
    assert listed.reference in content
    assert other.reference not in content


def test_a_superscript_patient_choice_on_intake_entry_creates_a_new_patient(client, intake, physician):
    client.force_login(intake)
    response = client.post(reverse("referrals:intake_new"), {**intake_post(physician), "patient_choice": SUPERSCRIPT})
    assert response.status_code == 302
