"""Conditions the clinic treats, the treatment pathways for them and the payers' coverage
rules, all as data staff can read and edit (``shared/DOMAIN.md``, "Treatment pathways" and
"Coverage rules"). The rule engines that read them live in ``scheduling.care``."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from clinic.models import ProcedureType
from conditions.sites import SITE_FIELDS, Region, RegionGrouping, Side, site_label

PERCENT = [MaxValueValidator(100)]
PAIN = [MaxValueValidator(10)]
PERCENT_RANGE = "A percent is between 0 and 100."


class BodyRegion(models.TextChoices):
    HEAD = "head", "Head"
    FACE = "face", "Face"
    NECK = "neck", "Neck"
    SHOULDER = "shoulder", "Shoulder"
    HAND = "hand", "Arm and hand"
    CHEST_UPPER_BACK = "chest_upper_back", "Chest / upper and mid back"
    LOWER_BACK = "lower_back", "Lower back"
    ABDOMEN = "abdomen", "Abdomen"
    PELVIS = "pelvis", "Pelvis"
    LOWER_EXTREMITY = "lower_extremity", "Lower extremity"
    JOINTS = "joints", "Joints"
    WIDESPREAD = "widespread", "Pain all over"


class Condition(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    summary = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SiteFields(models.Model):
    """Where on the body: shared by orders, appointments and courses. ``site_levels`` holds
    the normalised text of ``conditions.sites.parse_levels`` ("T6-T7, T7-T8")."""

    site_region = models.CharField("region", max_length=12, choices=Region.choices, blank=True)
    site_side = models.CharField("side", max_length=10, choices=Side.choices, blank=True)
    site_levels = models.CharField("levels", max_length=120, blank=True, help_text="e.g. T6-T7, T7-T8 or L5-S1")
    site_target = models.CharField(
        "joint or nerve", max_length=120, blank=True, help_text="For peripheral procedures, e.g. left knee."
    )

    class Meta:
        abstract = True

    @property
    def site_label(self) -> str:
        return site_label(self.site_region, self.site_side, self.site_levels, self.site_target)

    def site_values(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SITE_FIELDS}


class Pathway(models.Model):
    """A condition's course of care: ordered steps and the rules choosing the next one."""

    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="pathways")
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    summary = models.TextField(blank=True)
    suggested_for_codes = models.CharField(
        max_length=200,
        blank=True,
        help_text="ICD-10-CM codes or code beginnings that suggest this pathway, comma separated (e.g. M47.81, M54.5).",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def code_prefixes(self) -> list[str]:
        return [c.strip().upper() for c in self.suggested_for_codes.split(",") if c.strip()]


class PathwayStep(models.Model):
    """One step: a procedure type to order, or an action (imaging, therapy, refer out)."""

    class Kind(models.TextChoices):
        PROCEDURE = "procedure", "Procedure"
        ACTION = "action", "Action"

    class Action(models.TextChoices):
        IMAGING = "imaging", "Imaging"
        PHYSICAL_THERAPY = "physical_therapy", "Physical therapy"
        PSYCHOLOGY_EVALUATION = "psychology_evaluation", "Psychology evaluation"
        REFER_OUT = "refer_out", "Refer out"
        RE_EVALUATION = "re_evaluation", "Re-evaluation"

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Order in the pathway: 1 is first.")
    code = models.SlugField(max_length=30, help_text="Short name rules use, e.g. mbb-1.")
    label = models.CharField(max_length=120, help_text='As staff read it, e.g. "MBB #1".')
    kind = models.CharField(max_length=10, choices=Kind.choices)
    procedure_type = models.ForeignKey(
        ProcedureType, null=True, blank=True, on_delete=models.PROTECT, related_name="pathway_steps"
    )
    action = models.CharField(max_length=24, choices=Action.choices, blank=True)
    specialty = models.CharField(max_length=80, blank=True, help_text="For a referral out, e.g. Neurosurgery.")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["pathway", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "position"], name="pathway_step_position_unique"),
            models.UniqueConstraint(fields=["pathway", "code"], name="pathway_step_code_unique"),
            models.CheckConstraint(
                condition=(Q(kind="procedure") & Q(procedure_type__isnull=False)) | (Q(kind="action") & ~Q(action="")),
                name="pathway_step_is_procedure_or_action",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        if self.kind == self.Kind.PROCEDURE and not self.procedure_type_id:
            raise ValidationError({"procedure_type": "A procedure step names its procedure type."})
        if self.kind == self.Kind.ACTION and not self.action:
            raise ValidationError({"action": "An action step says which action."})
        if self.action == self.Action.REFER_OUT and not self.specialty.strip():
            raise ValidationError({"specialty": "A referral out names the specialty, e.g. Neurosurgery."})

    @property
    def is_procedure(self) -> bool:
        return self.kind == self.Kind.PROCEDURE


class PathwayRule(models.Model):
    """After ``after_step``'s outcome: if every condition set here holds, ``then``.

    Conditions left empty are not checked; rules of a step are tried by ``priority`` (lowest
    first) and the first that holds decides. "Relief" is the block's relief during the
    anaesthetic's window for a diagnostic block, else the best relief a follow-up reported.
    """

    class Then(models.TextChoices):
        STEP = "step", "Go to a step"
        WAIT = "wait", "Wait: nothing to do yet"
        STOP = "stop", "Stop this path and re-evaluate"

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="rules")
    after_step = models.ForeignKey(PathwayStep, on_delete=models.CASCADE, related_name="rules_after")
    priority = models.PositiveSmallIntegerField(default=1)
    relief_at_least = models.PositiveSmallIntegerField(null=True, blank=True, validators=PERCENT)
    relief_below = models.PositiveSmallIntegerField(null=True, blank=True, validators=PERCENT)
    relief_weeks_at_least = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Relief lasted at least this many weeks."
    )
    relief_wore_off = models.BooleanField(
        null=True, blank=True, help_text="Yes: relief has worn off. No: relief still going on. Empty: either."
    )
    pain_at_least = models.PositiveSmallIntegerField(null=True, blank=True, validators=PAIN)
    done_at_least = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Sessions of this step's procedure done in the course within the window."
    )
    done_window_months = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1)])
    then = models.CharField(max_length=6, choices=Then.choices)
    next_step = models.ForeignKey(
        PathwayStep, null=True, blank=True, on_delete=models.CASCADE, related_name="rules_into"
    )
    wait_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="No sooner than this many days after the last session."
    )
    explanation = models.CharField(max_length=200, blank=True, help_text="Said with the suggestion.")

    class Meta:
        ordering = ["pathway", "after_step__position", "priority", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(relief_at_least__isnull=True) | Q(relief_at_least__lte=100), name="rule_relief_0_100"
            ),
            models.CheckConstraint(
                condition=Q(relief_below__isnull=True) | Q(relief_below__lte=100), name="rule_relief_below_0_100"
            ),
            models.CheckConstraint(condition=~Q(then="step") | Q(next_step__isnull=False), name="rule_step_named"),
        ]

    def __str__(self) -> str:
        return f"After {self.after_step}: {self.get_then_display().lower()}"

    def clean(self) -> None:
        errors = {}
        for name in ("relief_at_least", "relief_below"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                errors[name] = PERCENT_RANGE
        if self.pain_at_least is not None and self.pain_at_least > 10:
            errors["pain_at_least"] = "A pain score is between 0 and 10."
        if self.then == self.Then.STEP and not self.next_step_id:
            errors["next_step"] = "Choose the step this rule leads to."
        for name in ("after_step", "next_step"):
            step = getattr(self, name, None) if getattr(self, f"{name}_id") else None
            if step is not None and self.pathway_id and step.pathway_id != self.pathway_id:
                errors[name] = f'"{step.label}" is a step of {step.pathway}, not of this pathway.'
        if errors:
            raise ValidationError(errors)


class CoverageRule(models.Model):
    """A payer's limit on a procedure, counted per patient and region over a rolling window
    of the location's calendar days. Seeded from Medicare's LCDs (``text`` cites each);
    a rule with a ``payer`` replaces the default of the same ``topic`` for that payer's
    patients."""

    class Kind(models.TextChoices):
        MAX_SESSIONS = "max_sessions", "At most N sessions in the window"
        MIN_INTERVAL = "min_interval", "At least N days apart"
        PREREQUISITE = "prerequisite", "Needs earlier sessions with enough relief"
        REPEAT_RELIEF = "repeat_relief", "A repeat needs enough relief from the last"

    topic = models.SlugField(max_length=60, help_text="Rules of one topic replace each other by payer.")
    name = models.CharField(max_length=120)
    text = models.TextField(help_text="The rule in words with its source, e.g. LCD L39240.")
    payer = models.CharField(
        max_length=120, blank=True, help_text="The insurance payer it applies to; empty: the default (Medicare)."
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    procedure_types = models.ManyToManyField(
        ProcedureType, related_name="coverage_rules", help_text="Booking one of these is checked."
    )
    counted_types = models.ManyToManyField(
        ProcedureType,
        related_name="coverage_rules_counting",
        blank=True,
        help_text="Sessions that count (the prerequisite's, for a prerequisite). Empty: the checked types.",
    )
    region_grouping = models.CharField(max_length=5, choices=RegionGrouping.choices, default=RegionGrouping.LCD)
    max_count = models.PositiveSmallIntegerField(null=True, blank=True, help_text="At most this many sessions.")
    required_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A prerequisite: at least this many earlier sessions."
    )
    required_action = models.CharField(
        max_length=24,
        choices=PathwayStep.Action.choices,
        blank=True,
        help_text="A prerequisite met by a recorded course action instead (e.g. a psychology evaluation).",
    )
    min_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Calendar days apart.")
    window_months = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1)])
    min_relief = models.PositiveSmallIntegerField(null=True, blank=True, validators=PERCENT)
    min_relief_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["topic", "payer"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "payer"], name="coverage_rule_one_per_topic_payer"),
            models.CheckConstraint(
                condition=Q(min_relief__isnull=True) | Q(min_relief__lte=100), name="coverage_relief_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.payer or 'default'})"

    def clean(self) -> None:
        needs = {
            self.Kind.MAX_SESSIONS: ("max_count", "Say how many sessions at most."),
            self.Kind.MIN_INTERVAL: ("min_days", "Say how many days apart."),
            self.Kind.PREREQUISITE: ("required_count", "Say how many earlier sessions are needed."),
            self.Kind.REPEAT_RELIEF: ("min_relief", "Say how much relief the last session must have given."),
        }
        if self.kind == self.Kind.PREREQUISITE and self.required_action and not self.required_count:
            self.required_count = 1
        if self.kind in needs:
            name, message = needs[self.kind]
            if getattr(self, name) in (None, 0):
                raise ValidationError({name: message})
        if self.min_relief is not None and self.min_relief > 100:
            raise ValidationError({"min_relief": PERCENT_RANGE})
