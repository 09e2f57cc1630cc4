"""The top navigation comes from the role table: each role sees a link to exactly the pages of
the table it may open (role_required is the judge), a user with several roles the union."""

import re

import pytest
from django.urls import reverse

from clinic.roles import Role
from clinic.services import user_grant_role

pytestmark = pytest.mark.django_db

# Every page some role's navigation lists: each must be linked for exactly the roles it admits.
NAV_PAGES = sorted({entry.url_name for role in Role for entry in role.spec.nav})
MAIN_NAV = re.compile(r'<ul class="navbar-nav me-auto">(.*?)</ul>', re.S)


def nav_links(client, url_name: str) -> list[str]:
    html = client.get(reverse(url_name)).content.decode()
    (nav,) = MAIN_NAV.findall(html)
    return re.findall(r'href="([^"]+)"', nav)


def pages_open_to(client) -> set[str]:
    opened = set()
    for name in NAV_PAGES:
        status = client.get(reverse(name)).status_code
        assert status in (200, 404), f"{name} answered {status}"
        if status == 200:
            opened.add(reverse(name))
    return opened


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name.lower())
def test_each_role_sees_links_to_exactly_the_pages_it_may_open(client, users_by_role, role):
    client.force_login(users_by_role[role])
    shown = nav_links(client, role.spec.landing_url)
    assert len(shown) == len(set(shown)), shown
    assert set(shown) == pages_open_to(client)


def test_clinic_admin_has_a_link_to_patient_requests(client, clinic_admin):
    client.force_login(clinic_admin)
    assert reverse("scheduling:patient_requests") in nav_links(client, "clinic:setup")


def test_a_user_with_two_roles_sees_both_roles_links_once_each(client, intake):
    user_grant_role(user=intake, role=Role.SCHEDULER)
    client.force_login(intake)
    shown = nav_links(client, "referrals:triage")
    assert shown == [
        reverse("referrals:triage"),
        reverse("scheduling:patients"),
        reverse("clinic:messages"),
        reverse("clinic:sent_emails"),  # mail goes to files in the tests
        reverse("scheduling:queue"),
        reverse("scheduling:day"),
        reverse("scheduling:patient_requests"),
        reverse("scheduling:no_response"),
        reverse("scheduling:repeat_due"),
    ]
    assert set(shown) == pages_open_to(client)
