"""The week calendar: one location's Monday to Sunday, a column per provider (or room),
closures and by-appointment days marked, week navigation, links to days and appointments."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from scheduling.models import Appointment, ExtraAvailability
from tests.factories import ClosureFactory, PatientFactory, ProviderFactory, RoomFactory
from tests.scheduling.conftest import local

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.UTC)
WEEK_OF_1_DECEMBER = {"date": "2026-12-01"}  # a Tuesday: the week is Mon 30 Nov to Sun 6 Dec


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def book(world, start: dt.datetime, *, minutes: int = 30, provider=None, room=None, status="booked") -> Appointment:
    end = start + dt.timedelta(minutes=minutes)
    return Appointment.objects.create(
        patient=PatientFactory(), procedure_type=world.epidural, provider=provider or world.provider,
        room=room or world.fluoro, location=world.location, starts_at=start, ends_at=end, blocks_until=end,
        status=status,
    )  # fmt: skip


def week_page(client, world, **params) -> str:
    response = client.get(reverse("scheduling:week"), {"location": world.location.pk, **params})
    assert response.status_code == 200
    return response.content.decode()


def row_of(content: str, label: str) -> str:
    """The table row whose day heading reads `label`, e.g. "Fri 4 Dec"."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", content, flags=re.S)
    return next(row for row in rows if f">{label}</a>" in row)


def test_week_runs_monday_to_sunday_with_a_column_per_provider(client, scheduler, world):
    other = ProviderFactory(display_name="Dr. Omar Haddad", credentials="DO", locations=[world.location])
    tuesday = book(world, local(world.location, 2026, 12, 1, 9))
    book(world, local(world.location, 2026, 12, 3, 10), provider=other)
    book(world, local(world.location, 2026, 12, 7, 9))  # next Monday: not this week
    client.force_login(scheduler)
    content = week_page(client, world, **WEEK_OF_1_DECEMBER)
    assert "Russellville: week of 30 November to 6 December 2026" in content
    assert re.findall(r">(\w{3} \d+ \w{3})</a>", content) == [
        "Mon 30 Nov", "Tue 1 Dec", "Wed 2 Dec", "Thu 3 Dec", "Fri 4 Dec", "Sat 5 Dec", "Sun 6 Dec",
    ]  # fmt: skip
    assert '<th scope="col">Dr. Priya Patel, MD</th>' in content
    assert '<th scope="col">Dr. Omar Haddad, DO</th>' in content
    assert content.count('href="/scheduling/appointments/') == 2
    tuesday_row = row_of(content, "Tue 1 Dec")
    assert f'href="{tuesday.get_absolute_url()}"' in tuesday_row
    assert "9:00 AM" in tuesday_row
    assert "Booked" in tuesday_row
    assert f"procedure-tile procedure-{tuesday.procedure_type_id} " in tuesday_row  # coloured by procedure type


def test_an_appointment_falls_on_its_local_day(client, scheduler, world):
    # 11:30 PM on Sunday in Chicago is already Monday in UTC: it belongs to Sunday's row.
    late = book(world, local(world.location, 2026, 12, 6, 23, 30))
    client.force_login(scheduler)
    content = week_page(client, world, **WEEK_OF_1_DECEMBER)
    assert f'href="{late.get_absolute_url()}"' in row_of(content, "Sun 6 Dec")
    assert "11:30 PM" in content
    next_week = week_page(client, world, date="2026-12-07")
    assert late.get_absolute_url() not in next_week


def test_closures_holidays_and_by_appointment_days_are_marked(client, scheduler, world):
    ClosureFactory(location=world.location, start_date=dt.date(2026, 12, 2), reason="Ice storm")
    ClosureFactory(location=None, start_date=dt.date(2026, 12, 3), reason="Founders Day", kind="holiday")
    ClosureFactory(location=world.location, start_date=dt.date(2026, 12, 1), reason="Removed", is_active=False)
    ExtraAvailability.objects.create(provider=world.provider, location=world.location, date=dt.date(2026, 12, 4),
                                     starts=dt.time(9), ends=dt.time(12))  # fmt: skip
    client.force_login(scheduler)
    content = week_page(client, world, **WEEK_OF_1_DECEMBER)
    assert "Closed: Ice storm" in row_of(content, "Wed 2 Dec")
    assert "Holiday: Founders Day" in row_of(content, "Thu 3 Dec")
    assert "Removed" not in content
    friday = row_of(content, "Fri 4 Dec")
    assert "By appointment" in friday
    assert "Opened by Dr. Priya Patel, 9:00 AM–12:00 PM" in friday
    assert "Closed" in row_of(content, "Sat 5 Dec")
    assert "Closed" not in row_of(content, "Mon 30 Nov")


def test_week_navigation_and_links_to_each_day(client, scheduler, world):
    client.force_login(scheduler)
    content = week_page(client, world, **WEEK_OF_1_DECEMBER)
    loc = world.location.pk
    assert f'href="?location={loc}&amp;date=2026-11-23">Previous week</a>' in content
    assert f'href="?location={loc}&amp;date=2026-12-07">Next week</a>' in content
    assert f'href="/scheduling/day/?location={loc}&amp;date=2026-12-04">Fri 4 Dec</a>' in content
    assert f'href="/scheduling/day/?location={loc}&amp;date=2026-12-01">Day view</a>' in content
    day = client.get(reverse("scheduling:day"), {"location": loc, **WEEK_OF_1_DECEMBER}).content.decode()
    assert f'href="/scheduling/week/?location={loc}&amp;date=2026-12-01">Week view</a>' in day


def test_without_a_date_the_week_is_this_week_and_today_is_marked(client, scheduler, world):
    client.force_login(scheduler)
    for params in ({}, {"date": "not-a-date"}):
        content = week_page(client, world, **params)
        assert "week of 23 November to 29 November 2026" in content
        assert 'aria-current="date">Mon 23 Nov</a>' in content


def test_room_view_has_a_column_per_room(client, scheduler, world):
    RoomFactory(location=world.location, name="Retired room", is_active=False)
    in_exam = book(world, local(world.location, 2026, 12, 2, 9), room=world.exam)
    client.force_login(scheduler)
    content = week_page(client, world, view="rooms", **WEEK_OF_1_DECEMBER)
    assert '<th scope="col">Exam 1</th>' in content
    assert '<th scope="col">Fluoro suite</th>' in content
    assert "Retired room" not in content
    cells = re.findall(r"<td>(.*?)</td>", row_of(content, "Wed 2 Dec"), flags=re.S)
    assert [in_exam.get_absolute_url() in cell for cell in cells] == [True, False]  # Exam 1, then Fluoro suite
    assert "Dr. Priya Patel" in cells[0]
    assert f'href="?location={world.location.pk}&amp;date=2026-12-07&amp;view=rooms">Next week</a>' in content


def test_a_cancelled_appointment_stays_visible_struck_through(client, scheduler, world):
    cancelled = book(world, local(world.location, 2026, 12, 1, 9), status="cancelled")
    client.force_login(scheduler)
    row = row_of(week_page(client, world, **WEEK_OF_1_DECEMBER), "Tue 1 Dec")
    assert cancelled.get_absolute_url() in row
    assert "text-decoration-line-through" in row
    assert "Cancelled" in row


def test_providers_may_see_the_week_and_referrers_may_not(client, provider_user, referrer, world):
    client.force_login(provider_user)
    assert client.get(reverse("scheduling:week")).status_code == 200
    client.force_login(referrer)
    assert client.get(reverse("scheduling:week")).status_code == 404


def test_week_calendar_query_count_is_constant(client, scheduler, world, django_assert_num_queries):
    other = ProviderFactory(display_name="Dr. Omar Haddad", locations=[world.location])
    ClosureFactory(location=world.location, start_date=dt.date(2026, 12, 2), reason="Ice storm")
    ExtraAvailability.objects.create(provider=other, location=world.location, date=dt.date(2026, 12, 4),
                                     starts=dt.time(9), ends=dt.time(12))  # fmt: skip
    client.force_login(scheduler)
    params = {"location": world.location.pk, **WEEK_OF_1_DECEMBER}
    book(world, local(world.location, 2026, 11, 30, 9))
    # 1 session, 2 user, 3 the session's second-factor device (django-otp),
    # 4-5 permissions, 6 locations, 7 the week's appointments with patient,
    # procedure, provider, room, location and referral joined, 8 providers of the location,
    # 9 closures, 10 weekday modes with opening ranges, 11 extra availability with providers,
    # 12-14 savepoint, session save, release
    # and one more: the audit rows of the records shown (one insert)
    with django_assert_num_queries(15):
        client.get(reverse("scheduling:week"), params)
    for day in range(30, 37):  # every day of the week, both providers, fresh patients and rooms
        for hour in (11, 12):
            start = local(world.location, 2026, 11, 30, hour) + dt.timedelta(days=day - 30)
            book(world, start, provider=other if hour == 12 else None, room=RoomFactory(location=world.location))
    with django_assert_num_queries(15):
        response = client.get(reverse("scheduling:week"), params)
    assert response.content.decode().count('href="/scheduling/appointments/') == 15
    with django_assert_num_queries(15):
        client.get(reverse("scheduling:week"), {**params, "view": "rooms"})
