"""Referral pages: the referring physicians' portal and the clinic's triage queue."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.roles import Role, role_required


@role_required(Role.REFERRER)
def portal(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/portal.html")


@role_required(Role.INTAKE)
def triage(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/triage.html")
