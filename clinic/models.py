"""What the whole clinic shares: users, locations and their hours, closures, providers,
rooms and procedure types. Every other app builds on these."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from clinic.contrast import css_color, readable_text_color
from clinic.login_identity import login_identity
from clinic.validators import validate_holiday_name, validate_npi, validate_time_zone

RANGE_END_BEFORE_START = "The end must be after the start."
CLOSURE_END_BEFORE_START = "The last day must be on or after the first day."
SLOT_GRID_MUST_DIVIDE_HOUR = "The slot grid must divide an hour evenly (5, 10, 15, 20, 30 or 60 minutes)."


class UserManager(BaseUserManager):
    """Users log in with their e-mail address; there is no user name."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=login_identity(self.normalize_email(email)), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Addresses are stored as their login identity; iexact still finds a row saved in
        # another case before that rule (e.g. through the admin).
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": login_identity(username)})


class User(AbstractUser):
    """A person who logs in: clinic staff or a referring physician. Patients never do."""

    username = None
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        # Role access is granted through these; each role's group carries its own.
        permissions = [
            ("use_referral_portal", "Can use the referring physicians' portal"),
            ("triage_referrals", "Can enter and triage referrals"),
            ("schedule_appointments", "Can book, move and cancel appointments"),
            ("see_provider_day", "Can see a provider's day and record outcomes"),
            ("manage_clinic", "Can manage locations, hours, providers, rooms and users"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def password_changed_unsaved(self) -> bool:
        """Whether a new password waits to be saved; once it is, every session of the old one
        ends (clinic.user_sessions). Django keeps the new raw password until the save, and
        not for the rehash of an unchanged password at login, which is no change."""
        return self._password is not None or self.__dict__.get("_password_unusable", False)

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_unusable = True


class UserSession(models.Model):
    """One login of a user, so clinic admins can see and end a person's sessions: the session
    store is keyed by session, not by user. Recorded at login (``clinic.user_sessions``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} since {self.started_at:%Y-%m-%d %H:%M}"


class Location(models.Model):
    """A place where patients are seen: an office, a surgery centre, a hospital suite."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    street = models.CharField(max_length=200)
    suite = models.CharField(max_length=60, blank=True)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, help_text="Two-letter state code, e.g. AR.")
    postal_code = models.CharField(max_length=10)
    phone = models.CharField(max_length=30)
    fax = models.CharField(max_length=30, blank=True)
    time_zone = models.CharField(max_length=64, default="America/Chicago", validators=[validate_time_zone])
    slot_grid_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
        help_text="Appointments start on this grid of wall-clock minutes (08:30, 08:45, ...).",
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        default=24, help_text="The slot finder offers nothing sooner than this."
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        default=120, validators=[MinValueValidator(1)], help_text="The slot finder offers nothing later than this."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(slot_grid_minutes__in=[5, 10, 15, 20, 30, 60]), name="location_slot_grid_divides_hour"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.slot_grid_minutes and 60 % self.slot_grid_minutes:
            raise ValidationError({"slot_grid_minutes": SLOT_GRID_MUST_DIVIDE_HOUR})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def address_lines(self) -> list[str]:
        first = f"{self.street}, {self.suite}" if self.suite else self.street
        return [first, f"{self.city}, {self.state} {self.postal_code}"]


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeekdayHours(models.Model):
    """How one location works on one weekday: open in ranges, by appointment, or closed."""

    class Mode(models.TextChoices):
        OPEN = "open", "Open"
        BY_APPOINTMENT = "by_appointment", "By appointment"
        CLOSED = "closed", "Closed"

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="weekday_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.CLOSED)

    class Meta:
        ordering = ["location", "weekday"]
        verbose_name = "weekday hours"
        verbose_name_plural = "weekday hours"
        constraints = [
            models.UniqueConstraint(fields=["location", "weekday"], name="one_hours_row_per_location_weekday"),
        ]

    def __str__(self) -> str:
        return f"{self.location} {self.get_weekday_display()}: {self.summary}"

    @property
    def summary(self) -> str:
        if self.mode != self.Mode.OPEN:
            return self.get_mode_display()
        ranges = ", ".join(str(r) for r in self.ranges.all())
        return ranges or "Open (no hours set)"


class OpeningRange(models.Model):
    """One continuous stretch of an open weekday, in the location's wall-clock time."""

    day = models.ForeignKey(WeekdayHours, on_delete=models.CASCADE, related_name="ranges")
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["day", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")), name="opening_range_opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}-{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens and self.closes and self.opens >= self.closes:
            raise ValidationError({"closes": RANGE_END_BEFORE_START})


class HolidayRule(models.Model):
    """A public holiday the clinic observes every year, by its name in the holidays library.

    The yearly roll-forward turns active rules into Closure rows on their observed dates.
    """

    name = models.CharField(
        max_length=100, unique=True, validators=[validate_holiday_name], help_text="As the holidays library names it."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClosureQuerySet(models.QuerySet):
    def in_force(self):
        return self.filter(is_active=True)

    def affecting(self, location: Location):
        """Closures of this location plus those of every location."""
        return self.filter(Q(location=location) | Q(location__isnull=True))

    def overlapping(self, first_day: dt.date, last_day: dt.date):
        return self.filter(start_date__lte=last_day, end_date__gte=first_day)


class Closure(models.Model):
    """Days one location (or all of them) is shut: a holiday, weather, training."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "Holiday"
        CLOSURE = "closure", "Closure"

    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="closures",
        help_text="Leave empty to close every location.",
    )
    start_date = models.DateField()
    end_date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLOSURE)
    reason = models.CharField(max_length=200)
    # A removed holiday stays as an inactive row so that the yearly roll-forward does not
    # bring it back, and so that it can be restored.
    is_active = models.BooleanField(default=True, help_text="Untick to reopen on these days.")
    holiday_rule = models.ForeignKey(HolidayRule, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClosureQuerySet.as_manager()

    class Meta:
        ordering = ["start_date", "location"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__lte=models.F("end_date")), name="closure_start_on_or_before_end"
            ),
            # One generated row per observed holiday and date, whatever admins do with it.
            models.UniqueConstraint(
                fields=["holiday_rule", "start_date"],
                condition=Q(holiday_rule__isnull=False),
                name="one_closure_per_holiday_date",
            ),
        ]

    def __str__(self) -> str:
        where = self.location or "All locations"
        if self.start_date == self.end_date:
            return f"{self.reason} ({where}, {self.start_date:%Y-%m-%d})"
        return f"{self.reason} ({where}, {self.start_date:%Y-%m-%d} to {self.end_date:%Y-%m-%d})"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValidationError({"end_date": CLOSURE_END_BEFORE_START})


class Provider(models.Model):
    """A pain physician (or other clinician) who sees patients."""

    user = models.OneToOneField(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="provider_profile")
    display_name = models.CharField(max_length=120)
    credentials = models.CharField(max_length=40, blank=True, help_text="e.g. MD, DO, FIPP")
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    locations = models.ManyToManyField(Location, related_name="providers", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name}, {self.credentials}" if self.credentials else self.display_name


class RoomCapability(models.Model):
    """Something a room has that a procedure may need: fluoroscopy, a sedation suite."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "room capabilities"

    def __str__(self) -> str:
        return self.name


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=60)
    capabilities = models.ManyToManyField(RoomCapability, related_name="rooms", blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="room_name_unique_per_location")]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class ProcedureType(models.Model):
    """A visit or procedure the clinic books, with its timing, needs and spacing rules."""

    class Kind(models.TextChoices):
        VISIT = "visit", "Visit"
        DIAGNOSTIC = "diagnostic", "Diagnostic"
        DIAGNOSTIC_THERAPEUTIC = "diagnostic_therapeutic", "Diagnostic / therapeutic"
        THERAPEUTIC = "therapeutic", "Therapeutic"
        SURGICAL = "surgical", "Surgical"

    class Sedation(models.TextChoices):
        NONE = "none", "No sedation"
        OPTIONAL = "optional", "Optional"
        REQUIRED = "required", "Sedation"

    class Driver(models.TextChoices):
        NOT_NEEDED = "not_needed", "Not needed"
        IF_SEDATED = "if_sedated", "If sedated"
        REQUIRED = "required", "Required"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    duration_minutes = models.PositiveSmallIntegerField(validators=[MinValueValidator(5), MaxValueValidator(480)])
    turnover_minutes = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(120)], help_text="Room cleaning and setup after it."
    )
    required_capabilities = models.ManyToManyField(
        RoomCapability, related_name="procedure_types", blank=True, help_text="The room must have all of these."
    )
    sedation = models.CharField(max_length=10, choices=Sedation.choices, default=Sedation.NONE)
    driver = models.CharField(max_length=12, choices=Driver.choices, default=Driver.NOT_NEEDED)
    fasting_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Nothing by mouth for this many hours before, if any."
    )
    preparation = models.TextField(blank=True, help_text="Patient preparation, sent with the reminder e-mail.")
    locations = models.ManyToManyField(
        Location, related_name="procedure_types", blank=True, help_text="Locations that may host it."
    )
    site_required = models.BooleanField(
        default=False, help_text="Orders and bookings record where: region, side and levels (or a joint or nerve)."
    )
    max_levels = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="At most this many spinal levels in one session (e.g. 2 for a transforaminal ESI).",
    )
    requires_imaging = models.BooleanField(default=False, help_text="Imaging must be on file before booking.")
    requires_prior_authorization = models.BooleanField(default=False)
    color = models.CharField(max_length=7, default="#0d6efd", help_text="Calendar colour, e.g. #0d6efd.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:clinic_proceduretype_change", args=[self.pk])

    @property
    def text_color(self) -> str:
        """Black or white, whichever reads better on :attr:`color` (calendar tiles)."""
        return readable_text_color(self.color)

    @property
    def css_color(self) -> str:
        """:attr:`color` if it is a ``#rrggbb`` colour, else "": safe to write into a stylesheet."""
        return css_color(self.color)

    @property
    def records_block_relief(self) -> bool:
        """A diagnostic block's outcome is the relief during the anaesthetic's window."""
        return self.kind in (self.Kind.DIAGNOSTIC, self.Kind.DIAGNOSTIC_THERAPEUTIC)

    @property
    def records_baseline_pain(self) -> bool:
        """Procedures (not visits) record the pain score before, the start of the chart."""
        return self.kind != self.Kind.VISIT

    @property
    def occupied_minutes(self) -> int:
        """How long provider and room are taken: the procedure plus turnover."""
        return self.duration_minutes + self.turnover_minutes


class FollowUpCheck(models.Model):
    """When, after a completed procedure, the patient is asked how it went."""

    class Unit(models.TextChoices):
        HOURS = "hours", "hours"
        DAYS = "days", "days"

    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.CASCADE, related_name="follow_up_checks")
    after = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    unit = models.CharField(max_length=5, choices=Unit.choices, default=Unit.DAYS)
    purpose = models.CharField(max_length=120, blank=True, help_text="e.g. pain diary, trial end")

    class Meta:
        ordering = ["procedure_type", "unit", "after"]
        constraints = [
            models.UniqueConstraint(fields=["procedure_type", "after", "unit"], name="follow_up_check_unique_offset"),
        ]

    def __str__(self) -> str:
        return f"{self.after} {self.get_unit_display()} after"

    @property
    def offset(self) -> dt.timedelta:
        return dt.timedelta(hours=self.after) if self.unit == self.Unit.HOURS else dt.timedelta(days=self.after)


class ReminderOffset(models.Model):
    """When, before an appointment of this type, the patient gets a reminder e-mail.

    Planned on the location's wall clock: "3 days before" an 08:30 appointment is 08:30
    local time three calendar days earlier, whatever daylight saving does in between.
    """

    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.CASCADE, related_name="reminder_offsets")
    days_before = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(60)])
    include_preparation = models.BooleanField(
        default=False, help_text="Carry the preparation text (driver, fasting, blood thinners, what to bring)."
    )

    class Meta:
        ordering = ["procedure_type", "-days_before"]
        constraints = [
            models.UniqueConstraint(fields=["procedure_type", "days_before"], name="reminder_offset_unique_days"),
        ]

    def __str__(self) -> str:
        return f"{self.days_before} days before"


class AuditEvent(models.Model):
    """Who looked at or changed which PHI record, when, and from where (HIPAA access log)."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        CREATE = "create", "Created"
        UPDATE = "update", "Changed"
        DOWNLOAD = "download", "Downloaded"
        DELETE = "delete", "Deleted"
        REFUSED = "refused", "Refused"
        LOGIN_FAILED = "login_failed", "Failed login"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_label = models.CharField(max_length=254, help_text="Who, kept even if the user is deleted.")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    # The patient the record concerns (a referral's, an appointment's), filled by the
    # recorder so "who saw this patient" is one indexed query. Not a foreign key: the clinic
    # app sits below referrals, and the log must outlive a merged or deleted patient.
    patient_pk = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["patient_pk", "-at"], name="audit_patient_idx"),
        ]

    def __str__(self) -> str:
        action = self.get_action_display()
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {action} {self.object_type} {self.object_id}"


class OutgoingMessage(models.Model):
    """One e-mail the clinic owes someone: the ledger is the truth, the broker only a nudge.

    A row is written in the same transaction as the change that causes it, with a unique
    key, so a retried request or a re-run sweep cannot owe the same message twice; a send
    first claims the row with a conditional update, so two workers cannot both send it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=60, db_index=True)
    # What the message is about, e.g. "appointment:42", so every message owed for one
    # appointment can be found (and withdrawn) together.
    topic = models.CharField(max_length=100, blank=True, db_index=True)
    to_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    due_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Files sent with it, e.g. an .ics: [{"filename", "mimetype", "content"}] (text content).
    attachments = models.JSONField(default=list, blank=True)
    # When a sweep last handed it to the broker: a row is not handed over again until
    # that hand-off had time to be lost, so a backlog is not queued over and over.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="outgoing_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.get_status_display()})"


class PasswordResetRequest(models.Model):
    """An address typed into "Forgotten your password?", waiting for the sweep that mails the
    account behind it, if there is one (``clinic.password_reset``).

    Writing this row is all the request does, whoever the address belongs to, so neither the
    answer nor its timing tells a stranger whether an account exists. The sweep deletes it.
    """

    email = models.CharField(max_length=254)  # as typed (its login identity); may match no one
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"password reset for {self.email}"


class ThrottleHit(models.Model):
    """One counted attempt under a limit (``clinic.throttle``): a scope such as
    ``access-request:ip`` and a hashed key, so the table is not a log of addresses typed."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"], name="throttle_hit_idx")]

    def __str__(self) -> str:
        return f"{self.scope} at {self.at:%Y-%m-%d %H:%M}"
