"""The scheduler's call queues: follow-up checks nobody answered ("no response: call the
patient") and patients whose relief has worn off ("repeat due")."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from clinic.roles import Role, role_required
from scheduling import follow_ups, repeats
from scheduling.follow_up_forms import QueueNoteForm

FOLLOW_UP_CLOSED = "Follow-up closed: %(patient)s."
REPEAT_DISMISSED = "Removed from the repeat-due queue: %(patient)s."


@never_cache
@role_required(Role.SCHEDULER)
def no_response(request: HttpRequest) -> HttpResponse:
    rows = follow_ups.follow_ups_no_response()
    return render(request, "scheduling/no_response.html", {"follow_ups": rows})


@require_POST
@role_required(Role.SCHEDULER)
def follow_up_close(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = follow_ups.get_follow_up(pk)
    _close_with_note(
        request,
        close=lambda note: follow_ups.follow_up_close(follow_up=follow_up, actor=request.user, note=note),
        needs_note=follow_ups.CLOSE_NEEDS_NOTE,
        done=FOLLOW_UP_CLOSED % {"patient": follow_up.appointment.patient.full_name},
    )
    return redirect("scheduling:no_response")


def _close_with_note(request: HttpRequest, *, close, needs_note: str, done: str) -> None:
    """Take a queue item off with the staff member's note; say what happened either way."""
    form = QueueNoteForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(needs_note)
        close(form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)


@never_cache
@role_required(Role.SCHEDULER)
def repeat_due(request: HttpRequest) -> HttpResponse:
    context = {"items": repeats.repeats_due_open(), "today": timezone.localdate()}
    return render(request, "scheduling/repeat_due.html", context)


@require_POST
@role_required(Role.SCHEDULER)
def repeat_due_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    item = repeats.get_repeat_due(pk)
    _close_with_note(
        request,
        close=lambda note: repeats.repeat_due_dismiss(item=item, actor=request.user, note=note),
        needs_note=repeats.DISMISS_NEEDS_NOTE,
        done=REPEAT_DISMISSED % {"patient": item.patient.full_name},
    )
    return redirect("scheduling:repeat_due")
