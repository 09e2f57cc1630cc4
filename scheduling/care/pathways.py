"""The pathway rule engine: from a course's sessions and their outcomes, the next step its
pathway's rules suggest, with the rule and the numbers behind it. Pure reading: the writes
(enrolling, deciding, ordering) are in ``scheduling.services.courses``.

1. A course's sessions are the completed appointments of its orders (each with the order's
   step) and the action steps a provider recorded as done (a ``CourseDecision`` on an action
   step, with its note), in time order; the latest is the current step.
2. Before anything is judged: a course with nothing done suggests its first step; an open
   order means waiting for the procedure; a completed procedure whose outcome is not known
   yet means waiting for the outcome; a session already decided shows that decision.
3. Otherwise the rules after the current step are tried by priority; the first whose every
   condition holds decides: go to a step (no sooner than ``wait_days`` after the session's
   local day), wait, or stop. When none holds, the provider decides.

``course_states`` reads any number of courses in a fixed number of queries (prefetch).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from clinic import localtime
from conditions.models import Pathway, PathwayRule, PathwayStep
from referrals.models import Patient
from scheduling import lifecycle
from scheduling.care.outcomes import SessionOutcome, session_outcome
from scheduling.models import Appointment, Course, CourseDecision, FollowUp, ProcedureOrder

THEN = PathwayRule.Then


class State:
    START = "start"  # enrolled, nothing done: the first step
    SUGGEST = "suggest"  # a rule holds: accept or choose otherwise
    NO_RULE = "no_rule"  # no rule holds: the provider decides
    WAIT = "wait"  # a rule says nothing to do yet
    WAITING_PROCEDURE = "waiting_procedure"  # an order is open or booked
    WAITING_OUTCOME = "waiting_outcome"  # the procedure is done, its outcome not known yet
    DECIDED = "decided"  # this session's decision is recorded
    REFERRED = "referred"  # the patient was referred out; nothing more on this path
    CLOSED = "closed"


# States in which a provider has something to decide (the worklist's).
TO_DECIDE = (State.SUGGEST, State.NO_RULE)
# States in which the suggestion can be accepted as it stands.
ACCEPTABLE = (State.START, State.SUGGEST)

NO_RULE_APPLIES = "No rule applies: the provider decides."
WAITING_FOR_PROCEDURE = "Waiting for the procedure: {procedure} {how}."
WAITING_FOR_OUTCOME = "Waiting for the outcome of {label} ({date:%d %b %Y}): no block relief or follow-up answer yet."
ALREADY_DECIDED = "Decided {date:%d %b %Y} by {who}: {what}."
REFERRED_OUT = "Referred out: {label}{specialty}. Close the course when nothing more is planned on this path."
COURSE_CLOSED = "Course closed: {reason}"


@dataclass(frozen=True)
class Session:
    """One step done: a completed appointment of an order, or a recorded action."""

    step: PathwayStep | None
    at: dt.datetime
    date: dt.date  # the local day
    appointment: Appointment | None = None
    decision: CourseDecision | None = None  # the decision that recorded an action
    outcome: SessionOutcome = field(default_factory=SessionOutcome)

    @property
    def label(self) -> str:
        if self.step is not None:
            return self.step.label
        return self.appointment.procedure_type.name if self.appointment else "Step"

    @property
    def procedure_type_id(self) -> int | None:
        if self.appointment is not None:
            return self.appointment.procedure_type_id
        return None

    @property
    def is_action(self) -> bool:
        return self.appointment is None

    def describe(self) -> str:
        if self.is_action:
            note = self.decision.note if self.decision else ""
            return f"done: {note}" if note else "done"
        return self.outcome.describe()


@dataclass(frozen=True)
class Suggestion:
    state: str
    text: str
    step: PathwayStep | None = None
    then: str = ""  # PathwayRule.Then, or "" when no rule decided
    rule: PathwayRule | None = None
    not_before: dt.date | None = None
    after: Session | None = None  # the session judged
    decision: CourseDecision | None = None  # the decision already made

    @property
    def to_decide(self) -> bool:
        return self.state in TO_DECIDE

    @property
    def acceptable(self) -> bool:
        return self.state in ACCEPTABLE


@dataclass
class CourseState:
    course: Course
    sessions: list[Session]
    orders: list[ProcedureOrder]
    decisions: list[CourseDecision]
    suggestion: Suggestion

    @property
    def current(self) -> Session | None:
        return self.sessions[-1] if self.sessions else None

    def done_of(self, procedure_type_id: int) -> list[Session]:
        return [s for s in self.sessions if s.procedure_type_id == procedure_type_id]


# --- Loading ---------------------------------------------------------------------------------


def course_prefetch(queryset: QuerySet[Course]) -> QuerySet[Course]:
    """``queryset`` with everything the engine reads: 7 queries in all, whatever the count.

    courses (with patient, pathway), orders (with procedure, step), their appointments (with
    location, procedure), those appointments' follow-ups, decisions (with steps, order and
    decider), the pathways' steps (with procedure) and rules (with next step).
    """
    appointments = Appointment.objects.select_related("location", "procedure_type", "provider").prefetch_related(
        Prefetch("follow_ups", queryset=FollowUp.objects.order_by("due_at", "pk"))
    )
    return queryset.select_related("patient", "pathway__condition", "referral").prefetch_related(
        Prefetch(
            "orders",
            queryset=ProcedureOrder.objects.select_related("procedure_type", "step").prefetch_related(
                Prefetch("appointments", queryset=appointments.order_by("starts_at", "pk"))
            ),
        ),
        Prefetch(
            "decisions",
            queryset=CourseDecision.objects.select_related(
                "after_step", "suggested_step", "chosen_step", "order", "decided_by"
            ).order_by("decided_at", "pk"),
        ),
        Prefetch(
            "pathway__steps",
            queryset=PathwayStep.objects.select_related("procedure_type").order_by("position"),
        ),
        Prefetch(
            "pathway__rules",
            queryset=PathwayRule.objects.select_related("next_step__procedure_type").order_by("priority", "pk"),
        ),
    )


def course_states(courses: Iterable[Course], *, now: dt.datetime | None = None) -> list[CourseState]:
    """Each course's sessions and suggestion; ``courses`` come from ``course_prefetch``."""
    return [course_state(course) for course in courses]


def course_state(course: Course) -> CourseState:
    orders = list(course.orders.all())
    decisions = list(course.decisions.all())
    sessions = _sessions(orders, decisions)
    state = CourseState(course=course, sessions=sessions, orders=orders, decisions=decisions, suggestion=None)  # type: ignore[arg-type]
    state.suggestion = _suggest(state)
    return state


def taken_step(decision: CourseDecision) -> PathwayStep | None:
    """The step a decision went to: the suggestion accepted, or the one chosen instead."""
    return decision.suggested_step if decision.choice == CourseDecision.Choice.ACCEPTED else decision.chosen_step


def _sessions(orders: list[ProcedureOrder], decisions: list[CourseDecision]) -> list[Session]:
    sessions = []
    for order in orders:
        for appointment in order.appointments.all():
            if appointment.status != Appointment.Status.COMPLETED:
                continue
            sessions.append(
                Session(
                    step=order.step,
                    at=appointment.starts_at,
                    date=localtime.local_date(appointment.starts_at, appointment.location.zone),
                    appointment=appointment,
                    outcome=session_outcome(appointment, list(appointment.follow_ups.all())),
                )
            )
    for decision in decisions:
        step = taken_step(decision)
        if step is not None and not step.is_procedure:
            sessions.append(
                Session(
                    step=step,
                    at=decision.decided_at,
                    date=localtime.clinic_date(decision.decided_at),
                    decision=decision,
                )
            )
    return sorted(sessions, key=lambda s: (s.at, s.appointment is None))


def decision_for(state: CourseState, session: Session | None) -> CourseDecision | None:
    """The decision standing after ``session`` (None: after enrolment); one whose order was
    cancelled is withdrawn and no longer stands."""
    for decision in state.decisions:
        if decision.withdrawn_at is not None:
            continue
        if session is None:
            if decision.after_appointment_id is None and decision.after_decision_id is None:
                return decision
        elif (
            session.appointment is not None
            and decision.after_appointment_id == session.appointment.pk
            or session.decision is not None
            and decision.after_decision_id == session.decision.pk
        ):
            return decision
    return None


# --- Judging ---------------------------------------------------------------------------------


def _suggest(state: CourseState) -> Suggestion:
    course = state.course
    if course.status == Course.Status.CLOSED:
        return Suggestion(State.CLOSED, COURSE_CLOSED.format(reason=course.closed_reason or "no reason given"))
    open_order = next((o for o in state.orders if o.status == ProcedureOrder.Status.OPEN), None)
    if open_order is not None:
        return Suggestion(State.WAITING_PROCEDURE, _waiting_text(open_order))
    current = state.current
    decided = decision_for(state, current)
    if decided is not None:
        return Suggestion(
            State.DECIDED, _decided_text(decided), step=taken_step(decided), decision=decided, after=current
        )
    steps = list(course.pathway.steps.all())
    if current is None:
        if not steps:
            return Suggestion(State.NO_RULE, NO_RULE_APPLIES)
        first = steps[0]
        return Suggestion(State.START, f"Start: {first.label}{_specialty(first)}.", step=first, then=THEN.STEP)
    if not current.is_action and not current.outcome.known:
        return Suggestion(
            State.WAITING_OUTCOME, WAITING_FOR_OUTCOME.format(label=current.label, date=current.date), after=current
        )
    if current.step is not None and current.step.action == PathwayStep.Action.REFER_OUT:
        return Suggestion(
            State.REFERRED,
            REFERRED_OUT.format(label=current.step.label, specialty=_specialty(current.step)),
            after=current,
        )
    rules = [r for r in course.pathway.rules.all() if current.step is not None and r.after_step_id == current.step.pk]
    for rule in rules:
        held = _holds(rule, state, current)
        if held is None:
            continue
        return _from_rule(rule, current, held)
    return Suggestion(State.NO_RULE, NO_RULE_APPLIES, after=current)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def done_in_window(state: CourseState, current: Session, months: int) -> int:
    """Sessions of the current session's procedure in the course within ``months`` of it."""
    if current.procedure_type_id is None:
        return 0
    since = _add_months(current.date, -months)
    return sum(1 for s in state.done_of(current.procedure_type_id) if since < s.date <= current.date)


def _holds(rule: PathwayRule, state: CourseState, current: Session) -> list[str] | None:
    """The facts in words when every condition of ``rule`` holds, else None."""
    outcome = current.outcome
    facts: list[str] = []
    relief = outcome.relief
    if rule.relief_at_least is not None:
        if relief is None or relief < rule.relief_at_least:
            return None
        facts.append(f"at or above {rule.relief_at_least}%")
    if rule.relief_below is not None:
        if relief is None or relief >= rule.relief_below:
            return None
        facts.append(f"below {rule.relief_below}%")
    if rule.relief_weeks_at_least is not None:
        if outcome.weeks is None or outcome.weeks < rule.relief_weeks_at_least:
            return None
        facts.append(f"at least {rule.relief_weeks_at_least} weeks")
    if rule.relief_wore_off is not None:
        if outcome.wore_off is None or outcome.wore_off != rule.relief_wore_off:
            return None
        if outcome.relief_from == "during the block":  # else the outcome's words say it
            facts.append("now worn off" if outcome.wore_off else "still going on")
    if rule.pain_at_least is not None:
        pain = outcome.pain_after if outcome.pain_after is not None else outcome.pain_before
        if pain is None or pain < rule.pain_at_least:
            return None
        facts.append(f"pain {pain}/10, at least {rule.pain_at_least}")
    if rule.done_at_least is not None:
        done = done_in_window(state, current, rule.done_window_months)
        if done < rule.done_at_least:
            return None
        name = current.appointment.procedure_type.name if current.appointment else current.label
        facts.append(f"{done} {name} session{'s' if done != 1 else ''} done")
    return facts


def _has_relief_conditions(rule: PathwayRule) -> bool:
    return any(
        v is not None
        for v in (rule.relief_at_least, rule.relief_below, rule.relief_weeks_at_least, rule.relief_wore_off)
    )


def _from_rule(rule: PathwayRule, current: Session, facts: list[str]) -> Suggestion:
    """The suggestion's text: what the session showed, the rule's thresholds, then what next."""
    if rule.done_at_least is not None and not _has_relief_conditions(rule):
        # "2 Epidural steroid injection sessions done without sustained relief"
        said = facts[-1]
        if current.outcome.known and not (current.outcome.relief >= 50 and current.outcome.wore_off is not False):
            said += " without sustained relief"
        elif rule.done_at_least:
            said += f", the limit of {rule.done_at_least}"
        head = said[:1].upper() + said[1:] if not said[:1].isdigit() else said
    else:
        if current.is_action:
            note = current.decision.note if current.decision else ""
            head = f"{current.label} done" + (f" ({note})" if note else "")
        else:
            head = f"{current.label} gave {current.outcome.describe()}"
        if facts:
            head += ", " + ", ".join(facts)
    if rule.then == THEN.STEP:
        step = rule.next_step
        not_before = current.date + dt.timedelta(days=rule.wait_days) if rule.wait_days else None
        tail = f"next is {step.label}{_specialty(step)}"
        if not_before is not None:
            tail += f", no sooner than {not_before:%d %b %Y}"
        return Suggestion(
            State.SUGGEST, f"{head}: {tail}", step=step, then=THEN.STEP, rule=rule, not_before=not_before, after=current
        )
    what = rule.explanation.split(": ", 1)[-1] if rule.explanation else rule.get_then_display().lower()
    state = State.WAIT if rule.then == THEN.WAIT else State.SUGGEST
    return Suggestion(state, f"{head}: {what}", then=rule.then, rule=rule, after=current)


def _specialty(step: PathwayStep) -> str:
    return f" ({step.specialty})" if step.specialty else ""


def _waiting_text(order: ProcedureOrder) -> str:
    booked = next((a for a in order.appointments.all() if a.status in lifecycle.ACTIVE_STATUSES), None)
    if booked is not None:
        how = f"booked for {booked.local_starts_at:%a %d %b %Y %H:%M}"
    else:
        how = f"ordered {order.ordered_at:%d %b %Y}, not booked yet"
    return WAITING_FOR_PROCEDURE.format(procedure=order.procedure_type.name, how=how)


def _decided_text(decision: CourseDecision) -> str:
    step = taken_step(decision)
    what = f"{step.label}{_specialty(step)}" if step is not None else decision.suggestion
    if decision.choice == CourseDecision.Choice.OTHER:
        what += f" instead of the suggestion ({decision.reason})"
    who = str(decision.decided_by) if decision.decided_by else "someone"
    if decision.order is not None and decision.order.status == ProcedureOrder.Status.CANCELLED:
        what += f"; the order was cancelled ({decision.order.cancel_reason})"
    return ALREADY_DECIDED.format(date=localtime.clinic_date(decision.decided_at), who=who, what=what)


# --- Which pathways fit a patient --------------------------------------------------------------


def suggest_pathways(patient: Patient) -> list[Pathway]:
    """Active pathways suggested by the patient's referrals: the suspected condition's, and
    those whose code beginnings match a diagnosis code; best matches first, then the rest."""
    referrals = list(patient.referrals.select_related("suspected_condition").prefetch_related("diagnoses"))
    conditions = {r.suspected_condition_id for r in referrals if r.suspected_condition_id}
    codes = [d.code.upper() for r in referrals for d in r.diagnoses.all()]
    scored = []
    for pathway in Pathway.objects.filter(is_active=True).select_related("condition").order_by("name"):
        score = 0
        if pathway.condition_id in conditions:
            score += 2
        if any(code.startswith(prefix) for code in codes for prefix in pathway.code_prefixes):
            score += 1
        if score:
            scored.append((-score, pathway.name, pathway))
    return [p for _s, _n, p in sorted(scored, key=lambda t: t[:2])]
