"""Availability and appointments.

Times of day in templates are the location's wall-clock times; instants (time off,
appointments) are stored in UTC. Overlaps of active appointments for one provider, room or
patient are impossible on PostgreSQL (exclusion constraints added by migration 0002, which
only runs there); elsewhere the booking service's immediate transaction serialises the
check and the insert.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

from clinic.models import FollowUpCheck, Location, ProcedureType, Provider, Room, User, Weekday
from conditions.models import Pathway, PathwayRule, PathwayStep, SiteFields
from conditions.sites import SITE_FIELDS
from referrals.models import Patient, Referral

END_BEFORE_START = "The end must be after the start."
EFFECTIVE_TO_BEFORE_FROM = "The last day must be on or after the first day."


class AvailabilityTemplate(models.Model):
    """A provider's regular weekly hours at one location, e.g. Tuesdays 08:30-12:00."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="templates")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="provider_templates")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="Leave empty for no end.")

    class Meta:
        ordering = ["provider", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="template_starts_before_ends"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_from__lte=models.F("effective_to")),
                name="template_effective_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.get_weekday_display()} {self.starts:%H:%M}-{self.ends:%H:%M} at {self.location}"

    def clean(self) -> None:
        if self.starts and self.ends and self.starts >= self.ends:
            raise ValidationError({"ends": END_BEFORE_START})
        if self.effective_to and self.effective_from and self.effective_to < self.effective_from:
            raise ValidationError({"effective_to": EFFECTIVE_TO_BEFORE_FROM})

    def applies_on(self, day: dt.date) -> bool:
        return (
            day.weekday() == self.weekday
            and self.effective_from <= day
            and (self.effective_to is None or day <= self.effective_to)
        )


class ExtraAvailability(models.Model):
    """A provider opening a specific date, e.g. a by-appointment Friday."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="extra_availability")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="extra_availability")
    date = models.DateField()
    starts = models.TimeField()
    ends = models.TimeField()
    note = models.CharField(max_length=200, blank=True)
    # Who opened the date and when (a provider, a scheduler or a clinic admin).
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "starts"]
        verbose_name_plural = "extra availability"
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="extra_starts_before_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.date} {self.starts:%H:%M}-{self.ends:%H:%M} at {self.location}"

    def clean(self) -> None:
        if self.starts and self.ends and self.starts >= self.ends:
            raise ValidationError({"ends": END_BEFORE_START})


class TimeOff(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(starts_at__lt=models.F("ends_at")), name="time_off_starts_before_ends"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} off {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValidationError({"ends_at": END_BEFORE_START})


class AppointmentQuerySet(models.QuerySet):
    def active(self):
        from scheduling.lifecycle import INACTIVE_STATUSES  # lifecycle imports this module

        return self.exclude(status__in=INACTIVE_STATUSES)

    def overlapping(self, starts_at: dt.datetime, ends_at: dt.datetime):
        """Appointments whose blocked time (turnover included) meets [starts_at, ends_at)."""
        return self.filter(starts_at__lt=ends_at, blocks_until__gt=starts_at)


class Appointment(SiteFields):
    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled", "Cancelled"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="When the procedure ends.")
    blocks_until = models.DateTimeField(help_text="When provider and room are free again (turnover included).")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    cancel_reason = models.CharField(max_length=300, blank=True)
    repeat_override_reason = models.CharField(
        max_length=300, blank=True, help_text="Why a provider allowed this despite a coverage rule."
    )
    # Every procedure after the first consultation is booked from an order.
    order = models.ForeignKey(
        "ProcedureOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    # What the procedure showed, recorded by the provider at completion.
    block_relief_percent = models.PositiveSmallIntegerField(
        "relief during the block", null=True, blank=True, help_text="Percent relief during the anaesthetic's window."
    )
    baseline_pain = models.PositiveSmallIntegerField("pain before (0-10)", null=True, blank=True)
    outcome_note = models.CharField(max_length=300, blank=True)
    # Bumped on every change of time or place: reminders are keyed on it, so a moved
    # appointment gets fresh reminders and the old ones can be told apart.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["provider", "starts_at"], name="appointment_provider_idx"),
            models.Index(fields=["room", "starts_at"], name="appointment_room_idx"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_idx"),
            models.Index(fields=["location", "starts_at"], name="appointment_location_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")) & Q(ends_at__lte=models.F("blocks_until")),
                name="appointment_times_in_order",
            ),
            models.CheckConstraint(
                condition=Q(block_relief_percent__isnull=True) | Q(block_relief_percent__lte=100),
                name="appointment_block_relief_0_100",
            ),
            models.CheckConstraint(
                condition=Q(baseline_pain__isnull=True) | Q(baseline_pain__lte=10), name="appointment_pain_0_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_type} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:appointment", args=[self.pk])

    @property
    def is_active(self) -> bool:
        from scheduling.lifecycle import is_active  # lifecycle imports this module

        return is_active(self.status)

    @property
    def local_starts_at(self) -> dt.datetime:
        return self.starts_at.astimezone(self.location.zone)


class AppointmentEvent(models.Model):
    """Every change of an appointment: who, when, what, before and after."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["appointment", "at", "id"]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.action} {self.at:%Y-%m-%d %H:%M}"


class PatientRequest(models.Model):
    """A patient's ask, made through a signed link, to move or cancel an appointment; it
    waits in the scheduler's queue until someone handles it."""

    class Kind(models.TextChoices):
        RESCHEDULE = "reschedule", "Reschedule"
        CANCEL = "cancel", "Cancel"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="patient_requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    handled_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A patient clicking twice leaves one open request per appointment.
            models.UniqueConstraint(
                fields=["appointment"], condition=Q(handled_at__isnull=True), name="patient_request_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request for appointment {self.appointment_id}"


class FollowUp(models.Model):
    """One follow-up check of a completed appointment: when it is due, and the patient's
    answer (pain now, percent relief, how long relief lasted), shown to the provider."""

    class ReliefLasted(models.TextChoices):
        NONE = "none", "No relief"
        HOURS = "hours", "A few hours"
        DAYS = "days", "A few days"
        WEEKS = "weeks", "A few weeks"
        MONTHS = "months", "Months"
        ONGOING = "ongoing", "Still going on"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="follow_ups")
    follow_up_check = models.ForeignKey(
        FollowUpCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    pain_now = models.PositiveSmallIntegerField(null=True, blank=True)
    percent_relief = models.PositiveSmallIntegerField(null=True, blank=True)
    relief_lasted = models.CharField(max_length=10, choices=ReliefLasted.choices, blank=True)
    relief_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="About how many weeks the relief lasted, if the patient says."
    )
    comments = models.TextField(blank=True)
    # Staff closing an unanswered check from the "no response" queue (e.g. after a call).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "due_at"], name="follow_up_one_per_moment"),
            models.CheckConstraint(
                condition=Q(pain_now__isnull=True) | Q(pain_now__lte=10), name="follow_up_pain_0_10"
            ),
            models.CheckConstraint(
                condition=Q(percent_relief__isnull=True) | Q(percent_relief__lte=100), name="follow_up_relief_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up of appointment {self.appointment_id} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class RepeatDue(models.Model):
    """A patient due (or eligible) for a repeat of a procedure: the scheduler's "repeat due"
    queue, with the earliest date the repeat policy allows."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        BOOKED = "booked", "Booked"
        DISMISSED = "dismissed", "Dismissed"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="repeats_due")
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.CASCADE, related_name="+")
    last_appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="repeat_due")
    # The course whose rules suggested the repeat, and the step they suggested.
    course = models.ForeignKey("Course", null=True, blank=True, on_delete=models.CASCADE, related_name="repeats_due")
    step = models.ForeignKey(PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    earliest_date = models.DateField()
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["earliest_date", "id"]
        verbose_name_plural = "repeats due"
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "procedure_type"], condition=Q(status="open"), name="repeat_due_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_type} repeat for {self.patient} from {self.earliest_date}"


# --- Courses of care -----------------------------------------------------------------------


class Course(SiteFields):
    """A patient on one pathway for one site, e.g. the facet path for thoracic T6-T8
    bilateral: its sessions are the appointments of its orders, its next step is what the
    pathway's rules suggest from their outcomes (``scheduling.care``)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="courses")
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.SET_NULL, related_name="courses")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    enrolled_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    enrolled_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    closed_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["patient", "-enrolled_at", "id"]
        indexes = [models.Index(fields=["patient", "status"], name="course_patient_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "pathway", *SITE_FIELDS],
                condition=Q(status="active"),
                name="course_one_active_per_site",
            ),
        ]

    def __str__(self) -> str:
        site = f" ({self.site_label})" if self.site_region else ""
        return f"{self.pathway}{site} for {self.patient}"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:course", args=[self.pk])


class ProcedureOrder(SiteFields):
    """A provider's order for the next procedure: waits in the "to schedule" queue until
    booked, is fulfilled when its appointment is completed, or is cancelled with a reason."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        SOON = "soon", "Soon"
        URGENT = "urgent", "Urgent"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="orders")
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT, related_name="orders")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    step = models.ForeignKey(PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    note = models.TextField(blank=True)
    not_before = models.DateField(null=True, blank=True, help_text="Not to be booked before this day.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    from_appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders_made"
    )
    ordered_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    ordered_at = models.DateTimeField()
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["ordered_at", "id"]
        indexes = [
            models.Index(fields=["status", "ordered_at"], name="order_status_idx"),
            models.Index(fields=["patient", "status"], name="order_patient_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancel_reason=""), name="cancelled_order_has_reason"
            ),
        ]

    def __str__(self) -> str:
        site = f" ({self.site_label})" if self.site_region else ""
        return f"{self.procedure_type}{site} for {self.patient}"

    def get_absolute_url(self) -> str:
        return reverse("scheduling:order", args=[self.pk])


class CourseDecision(models.Model):
    """What the provider chose after a step's outcome: the rules' suggestion (and the rule
    and numbers behind it), accepted or replaced by another step with a reason."""

    class Choice(models.TextChoices):
        ACCEPTED = "accepted", "Accepted the suggestion"
        OTHER = "other", "Chose otherwise"

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="decisions")
    # The session (or action) whose outcome was judged; null for the first step at enrolment.
    after_appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="course_decisions"
    )
    # Or the recorded action (itself a decision) whose result was judged.
    after_decision = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="decisions_after"
    )
    after_step = models.ForeignKey(PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rule = models.ForeignKey(PathwayRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suggested_step = models.ForeignKey(PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    suggestion = models.CharField(max_length=300, help_text="The suggestion as shown, with the rule's numbers.")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    chosen_step = models.ForeignKey(PathwayStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="For an action step: what it found.")
    order = models.ForeignKey(
        ProcedureOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    decided_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()
    # Set when the order this decision made is cancelled: the decision no longer stands, so
    # the course offers its suggestion again and the provider decides anew (the row stays).
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["course", "decided_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(choice="other") | ~Q(reason=""), name="other_choice_has_reason"),
            # One decision per session: after an appointment, after a recorded action, or
            # after enrolment (neither).
            models.UniqueConstraint(
                fields=["course", "after_appointment"],
                condition=Q(after_appointment__isnull=False, withdrawn_at__isnull=True),
                name="course_decision_once_per_appointment",
            ),
            models.UniqueConstraint(
                fields=["course", "after_decision"],
                condition=Q(after_decision__isnull=False, withdrawn_at__isnull=True),
                name="course_decision_once_per_action",
            ),
            models.UniqueConstraint(
                fields=["course"],
                condition=Q(after_appointment__isnull=True, after_decision__isnull=True, withdrawn_at__isnull=True),
                name="course_decision_once_at_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course_id}: {self.get_choice_display().lower()} ({self.suggestion[:40]})"


class ReferralOut(models.Model):
    """A patient referred to another specialty (e.g. neurosurgery), recorded with why; the
    referring physician is owed a letter through the ledger."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals_out")
    course = models.ForeignKey(Course, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals_out")
    referral = models.ForeignKey(
        Referral,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals_out",
        help_text="The referral whose physician gets the letter.",
    )
    specialty = models.CharField(max_length=80)
    to_name = models.CharField("to", max_length=120, blank=True, help_text="The practice or surgeon, if known.")
    reason = models.TextField()
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "referrals out"

    def __str__(self) -> str:
        return f"{self.patient} to {self.specialty}"
