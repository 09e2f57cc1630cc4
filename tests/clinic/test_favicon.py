"""A favicon from the clinic's own static files: linked by every page, /favicon.ico not a 404."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db
ICON_LINK = '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">'


def test_favicon_ico_redirects_to_the_svg_in_static_files(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response.url) == (301, "/static/img/favicon.svg")
    assert finders.find("img/favicon.svg")


def test_staff_pages_and_patient_pages_link_the_icon(client):
    assert ICON_LINK in client.get(reverse("login")).content.decode()
    assert ICON_LINK in client.get("/p/confirm/not-a-token/").content.decode()  # the patient base
