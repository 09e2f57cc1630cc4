"""The referring physicians' portal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.roles import Role, role_required


@role_required(Role.REFERRER)
def portal(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/portal.html")


@role_required(Role.REFERRER)
def portal_new(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def request_access(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@role_required(Role.REFERRER)
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError
