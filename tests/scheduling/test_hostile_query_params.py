"""Hostile values in the scheduling pages' query strings and hidden fields, found by the
bad-input sweep (tests/test_bad_input_sweep.py): each gets the page's default or a message,
never a 500."""

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse

from clinic.query_params import DATE_RANGE_YEARS
from clinic.validators import CLINIC_DATE_TOO_EARLY, CLINIC_DATE_TOO_LATE, clinic_date_bounds
from scheduling.forms.admin import EACH_WEEKDAY_ONCE
from scheduling.forms.booking import FROM_DATE_TOO_FAR
from scheduling.models import Appointment, TimeOff
from tests.scheduling.test_admin_pages import WEEK, hours_post

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)
SUPERSCRIPT, HUGE = "²³", "99999999999999999999"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize("value", [SUPERSCRIPT, HUGE, "a\x00b"])
@pytest.mark.parametrize(("url_name", "param"), [("admin_closures", "closure"), ("admin_provider", "time_off")])
def test_an_id_that_is_not_an_id_shows_the_page_without_it(client, clinic_admin, world, url_name, param, value):
    client.force_login(clinic_admin)
    args = [world.provider.pk] if url_name == "admin_provider" else []
    response = client.get(reverse(f"scheduling:{url_name}", args=args), {param: value})
    assert response.status_code == 200
    assert response.context["checked"] is None


@pytest.mark.parametrize("value", [SUPERSCRIPT, HUGE])
def test_the_finder_ignores_a_referral_that_is_not_an_id(client, scheduler, world, value):
    client.force_login(scheduler)
    response = client.get(reverse("scheduling:find"), {"referral": value})
    assert response.status_code == 200
    assert response.context.get("search") is None


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize("url_name", ["day", "week", "my_day"])
def test_a_calendar_date_at_the_ends_of_time_shows_today(client, provider_user, world, url_name, value):
    world.provider.user = provider_user
    world.provider.save(update_fields=["user"])
    client.force_login(provider_user)
    response = client.get(reverse(f"scheduling:{url_name}"), {"date": value})
    assert response.status_code == 200
    assert response.context["day"] == dt.date(2026, 11, 23)


def test_the_finder_refuses_a_start_date_years_away(client, scheduler, world):
    client.force_login(scheduler)
    response = client.get(reverse("scheduling:find"), {"procedure_type": world.epidural.pk, "from_date": "9999-12-31"})
    assert response.status_code == 200
    assert FROM_DATE_TOO_FAR % {"years": DATE_RANGE_YEARS} in response.content.decode()


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00", "9999-12-31T23:59"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_booking_at_the_ends_of_time_is_refused_with_a_message(client, scheduler, world, starts_at, method):
    client.force_login(scheduler)
    data = {"procedure_type": world.epidural.pk, "location": world.location.pk, "provider": world.provider.pk,
            "starts_at": starts_at, "referral": world.referral.pk}  # fmt: skip
    response = getattr(client, method)(reverse("scheduling:book"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("scheduling:find")
    assert "That slot could not be read" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("total", "message"), [
    ("1000", "Please submit at most 7 forms."), ("1", "Please submit at least 7 forms."),
    ("abc", "(Hidden field TOTAL_FORMS) Enter a whole number."),
])  # fmt: skip
def test_a_tampered_hours_form_count_is_refused_and_nothing_changes(client, clinic_admin, world, total, message):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("scheduling:admin_hours", args=[world.location.pk]), {**hours_post(WEEK), "form-TOTAL_FORMS": total}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert world.location.weekday_hours.get(weekday=0).summary == "08:30-16:30"


def test_hours_with_a_weekday_twice_are_refused(client, clinic_admin, world):
    client.force_login(clinic_admin)
    data = {**hours_post(WEEK), "form-6-weekday": "0"}  # Sunday's row claims to be Monday
    response = client.post(reverse("scheduling:admin_hours", args=[world.location.pk]), data)
    assert response.status_code == 200
    assert EACH_WEEKDAY_ONCE in response.content.decode()
    assert world.location.weekday_hours.get(weekday=0).summary == "08:30-16:30"


@pytest.mark.parametrize("field", ["referral", "appointment"])
def test_a_hidden_id_beyond_any_row_is_refused_with_a_message(client, scheduler, world, field):
    client.force_login(scheduler)
    data = {"procedure_type": world.epidural.pk, "location": world.location.pk, "provider": world.provider.pk,
            "starts_at": "2026-12-01T09:00", field: HUGE}  # fmt: skip
    response = client.post(reverse("scheduling:book"), data, follow=True)
    assert "That slot could not be read" in response.content.decode()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_time_off_at_the_ends_of_time_is_refused_next_to_the_field(client, clinic_admin, world, field, value):
    client.force_login(clinic_admin)
    data = {"time_off": "1", "starts_at": "2026-12-01T08:00", "ends_at": "2026-12-01T17:00", "reason": "Course",
            field: value}  # fmt: skip
    response = client.post(reverse("scheduling:admin_provider", args=[world.provider.pk]), data)
    assert response.status_code == 200
    earliest, latest = clinic_date_bounds()
    expected = (
        CLINIC_DATE_TOO_EARLY % {"earliest": f"{earliest:%-d %B %Y}"}
        if value.startswith("0001")
        else (CLINIC_DATE_TOO_LATE % {"latest": f"{latest:%-d %B %Y}"})
    )
    assert html.escape(expected) in response.content.decode()
    assert not TimeOff.objects.exists()
