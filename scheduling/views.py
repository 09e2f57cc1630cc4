"""Scheduling pages: the scheduler's queues and a provider's day."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.roles import Role, role_required


@role_required(Role.SCHEDULER)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/queue.html")


@role_required(Role.PROVIDER)
def my_day(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/my_day.html")
