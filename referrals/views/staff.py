"""Intake and triage pages for clinic staff."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.roles import Role, role_required


def action_forms(referral) -> dict:
    """The unbound action forms the detail page shows staff for this referral."""
    return {}


@role_required(Role.INTAKE)
def triage(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/triage.html")


@role_required(Role.INTAKE)
def intake_new(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


@role_required(Role.INTAKE)
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    raise NotImplementedError
