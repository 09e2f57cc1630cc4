"""Each role lands on its own work after login, and is refused the others' pages."""

import pytest
from django.urls import reverse

from clinic.roles import Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name.lower())
def test_home_sends_each_role_to_its_own_work(client, users_by_role, role):
    client.force_login(users_by_role[role])
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == reverse(role.spec.landing_url)
    assert client.get(response.url).status_code == 200


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.name.lower())
def test_each_role_is_refused_every_other_roles_landing_page(client, users_by_role, role):
    client.force_login(users_by_role[role])
    for other in Role:
        if other is role:
            continue
        response = client.get(reverse(other.spec.landing_url))
        assert response.status_code == 404, f"{role.name} reached {other.name}'s page"


def test_anonymous_visitor_is_sent_to_login_from_every_landing_page(client):
    for role in Role:
        url = reverse(role.spec.landing_url)
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


def test_user_without_a_role_sees_an_explanation(client, django_user_model):
    user = django_user_model.objects.create_user("nobody@clinic.example", "correct-horse-battery")
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert b"no role yet" in response.content
