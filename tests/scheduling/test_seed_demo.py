"""seed_demo: the documented logins work, each in its role; a second run adds nothing."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from clinic.models import Location, Provider, Room
from clinic.roles import roles_of
from referrals.models import Referral, ReferringPhysician
from scheduling.management.commands.seed_demo import DEMO_LOGINS
from scheduling.models import AvailabilityTemplate

pytestmark = pytest.mark.django_db


def run() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_every_demo_login_authenticates_into_its_role():
    output = run()
    for role, email, password, *_ in DEMO_LOGINS:
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=email, password=password)
        assert user is not None, email
        assert roles_of(user) == [role]
        assert email in output
        assert password in output


def test_demo_world_has_locations_rooms_providers_and_referrals():
    run()
    assert Location.objects.count() == 3
    assert Room.objects.filter(
        location__slug="river-valley-surgery-center", capabilities__slug="sedation-suite"
    ).exists()
    assert Provider.objects.count() == 3
    assert AvailabilityTemplate.objects.filter(provider__user__email="dr.patel@clinic.example").count() == 4
    assert ReferringPhysician.objects.get(user__email="dr.nguyen@riverbend.example").practice.name == (
        "Riverbend Family Medicine"
    )
    assert sorted(Referral.objects.values_list("status", flat=True)) == ["accepted", "needs_information", "submitted"]


def test_a_second_run_adds_nothing():
    run()
    counts = [model.objects.count() for model in (Location, Room, Provider, AvailabilityTemplate, Referral)]
    run()
    assert [model.objects.count() for model in (Location, Room, Provider, AvailabilityTemplate, Referral)] == counts
