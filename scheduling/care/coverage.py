"""The coverage engine: whether a payer's rules (``conditions.CoverageRule``) let a patient
have a procedure on a day, counted per region group in each session's own location's
calendar days over a rolling number of calendar months.

``Coverage.load`` reads the rules and the patient's history in a fixed number of queries;
``Coverage.limit(day, site)`` names the first rule that refuses, with the counts and the
first date it allows (None when waiting will not help).

A session with no site recorded counts in every region group, and a booking with no site is
judged against every group: not knowing where must never let a limit slip.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Q

from clinic import localtime
from clinic.models import ProcedureType
from conditions.models import CoverageRule, PathwayStep
from conditions.sites import region_group
from referrals.models import Patient
from scheduling import lifecycle
from scheduling.care.outcomes import SessionOutcome, session_outcome
from scheduling.models import Appointment, CourseDecision

K = CoverageRule.Kind
NO_SITE = "no site"
# Bounds the search for a first allowed date (each step passes at least one session).
_MAX_STEPS = 60


@dataclass(frozen=True)
class Session:
    procedure_type_id: int
    day: dt.date  # in its own location's zone
    group_site: tuple[str, str]  # (region, target)
    outcome: SessionOutcome


@dataclass(frozen=True)
class CoverageLimit:
    """Why a coverage rule refuses a day, and from when it allows it (None: never by waiting)."""

    rule: CoverageRule
    group: str
    count: int
    first_allowed: dt.date | None
    message: str


def source_of(rule: CoverageRule) -> str:
    """The rule's source as its text's last sentence names it, without the titles in
    parentheses: "Medicare LCD L39240"."""
    last = re.split(r"\.\s+", rule.text.strip().rstrip("."))[-1]
    last = re.sub(r"\s*\([^)]*\)", "", last).strip()
    return last.split(": ")[0]  # "Clinic policy: at least 21 days apart" names "Clinic policy"


def _where(group: str) -> str:
    """ " in the lumbar/sacral region", with its leading space; "" where no site is known."""
    if group == "all regions":
        return " in any region"
    if group == NO_SITE:
        return ""
    if group.startswith("peripheral: "):
        return f" at the {group.removeprefix('peripheral: ')}"
    return f" in the {group} region"


def _fmt(day: dt.date) -> str:
    return f"{day:{localtime.SHORT_DATE_FORMAT}}"


def _payer_key(payer: str) -> str:
    return payer.strip().lower()


@dataclass
class Coverage:
    patient: Patient
    procedure_type: ProcedureType
    rules: list[CoverageRule] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    # action -> local (clinic) dates a course recorded it
    actions: dict[str, list[dt.date]] = field(default_factory=dict)
    _memo: dict = field(default_factory=dict)

    @classmethod
    def load(
        cls, *, patient: Patient, procedure_type: ProcedureType, exclude_appointment_id: int | None = None
    ) -> Coverage:
        """The rules for this procedure and patient, and the sessions they count: at most five
        queries (rules, their checked and counted types, the sessions with their follow-ups,
        the course actions), none when no rule applies."""
        coverage = cls(patient, procedure_type)
        # 1-3. active rules checking this type, with both type lists
        candidates = list(
            CoverageRule.objects.filter(is_active=True, procedure_types=procedure_type)
            .prefetch_related("procedure_types", "counted_types")
            .order_by("topic", "payer", "pk")
        )
        payer = _payer_key(patient.insurance_payer or "")
        by_topic: dict[str, CoverageRule] = {}
        for rule in candidates:
            key = _payer_key(rule.payer)
            if key == "" and rule.topic not in by_topic:
                by_topic[rule.topic] = rule
            elif key and key == payer:
                by_topic[rule.topic] = rule  # the patient's payer replaces the default
        # A payer's rule for another payer never applies; a topic with only such rules has none.
        coverage.rules = [r for r in by_topic.values() if _payer_key(r.payer) in ("", payer)]
        if not coverage.rules:
            return coverage
        type_ids = {pt.pk for rule in coverage.rules for pt in coverage.counted(rule)}
        # 4-5. the patient's sessions of the counted types, with their follow-ups
        history = (
            Appointment.objects.filter(
                patient=patient, procedure_type_id__in=type_ids, status__in=lifecycle.COUNTS_FOR_REPEATS
            )
            .select_related("location")
            .prefetch_related("follow_ups")
        )
        if exclude_appointment_id:
            history = history.exclude(pk=exclude_appointment_id)
        coverage.sessions = sorted(
            (
                Session(
                    a.procedure_type_id,
                    localtime.local_date(a.starts_at, a.location.zone),
                    (a.site_region, a.site_target),
                    session_outcome(a, list(a.follow_ups.all())),
                )
                for a in history
            ),
            key=lambda s: s.day,
        )
        # 6. course actions recorded (a prerequisite such as a psychology evaluation)
        wanted = {rule.required_action for rule in coverage.rules if rule.required_action}
        if wanted:
            accepted = CourseDecision.Choice.ACCEPTED
            for after, chosen, choice, at in CourseDecision.objects.filter(
                Q(after_step__action__in=wanted) | Q(chosen_step__action__in=wanted),
                course__patient=patient,
            ).values_list("after_step__action", "chosen_step__action", "choice", "decided_at"):
                # Done: judged after the action step, or the action step accepted (its finding noted).
                for action in {after, chosen if choice == accepted else None} & wanted:
                    coverage.actions.setdefault(action, []).append(localtime.clinic_date(at))
        return coverage

    @staticmethod
    def counted(rule: CoverageRule) -> list[ProcedureType]:
        return list(rule.counted_types.all()) or list(rule.procedure_types.all())

    # ------------------------------------------------------------------ judging

    def limit(self, day: dt.date, site: dict | None) -> CoverageLimit | None:
        """The rule that refuses ``day`` (a calendar date at the booking's location) for a
        session at ``site``: one never met by waiting first, else the one allowing latest."""
        site = site or {}
        key = (day, site.get("site_region", ""), site.get("site_target", ""))
        if key not in self._memo:
            found = [lim for rule in self.rules if (lim := self._rule_limit(rule, day, site))]
            found.sort(key=lambda lim: (lim.first_allowed is not None, -(lim.first_allowed or day).toordinal()))
            self._memo[key] = found[0] if found else None
        return self._memo[key]

    def _groups(self, rule: CoverageRule, site: dict) -> list[str]:
        """The groups to judge: the site's own, or every group of the history when unknown."""
        group = region_group(site.get("site_region", ""), site.get("site_target", ""), rule.region_grouping)
        if group != NO_SITE:
            return [group]
        groups = {region_group(r, t, rule.region_grouping) for r, t in (s.group_site for s in self.sessions)}
        return sorted(groups) or [NO_SITE]

    def _in_group(self, rule: CoverageRule, group: str, type_ids: set[int]) -> list[Session]:
        result = []
        for s in self.sessions:
            if s.procedure_type_id not in type_ids:
                continue
            own = region_group(*s.group_site, rule.region_grouping)
            if own in (group, NO_SITE) or group == NO_SITE:
                result.append(s)
        return result

    def _rule_limit(self, rule: CoverageRule, day: dt.date, site: dict) -> CoverageLimit | None:
        type_ids = {pt.pk for pt in self.counted(rule)}
        for group in self._groups(rule, site):
            days = [s.day for s in self._in_group(rule, group, type_ids)]
            if rule.kind == K.MAX_SESSIONS and rule.max_count:
                limit = self._max_sessions(rule, group, days, day)
            elif rule.kind == K.MIN_INTERVAL and rule.min_days:
                limit = self._min_interval(rule, group, days, day)
            elif rule.kind == K.PREREQUISITE:
                limit = self._prerequisite(rule, group, self._in_group(rule, group, type_ids), day)
            elif rule.kind == K.REPEAT_RELIEF and rule.min_relief is not None:
                limit = self._repeat_relief(rule, group, self._in_group(rule, group, type_ids), day)
            else:
                limit = None
            if limit is not None:
                return limit
        return None

    def _full_window(self, rule: CoverageRule, days: list[dt.date], day: dt.date) -> list[dt.date] | None:
        """The sessions of a window of ``window_months`` holding ``day`` that is already full."""
        months = rule.window_months
        starts = [d for d in days if d <= day < localtime.add_months(d, months)] + [day]
        for start in starts:
            inside = [d for d in days if start <= d < localtime.add_months(start, months)]
            if len(inside) >= rule.max_count:
                return inside
        return None

    def _max_sessions(self, rule, group, days, day) -> CoverageLimit | None:
        inside = self._full_window(rule, days, day)
        if inside is None:
            return None
        first = day
        for _ in range(_MAX_STEPS):
            full = self._full_window(rule, days, first)
            if full is None:
                break
            first = localtime.add_months(full[0], rule.window_months)
        message = (
            f"{rule.name}: {len(inside)}{_where(group)} since {_fmt(inside[0])} (at most {rule.max_count} in "
            f"{rule.window_months} months, {source_of(rule)}); the first date it allows is {_fmt(first)}."
        )
        return CoverageLimit(rule, group, len(inside), first, message)

    @staticmethod
    def _too_close(rule, days, day) -> dt.date | None:
        gap = dt.timedelta(days=rule.min_days)
        return next((d for d in days if abs(day - d) < gap), None)

    def _min_interval(self, rule, group, days, day) -> CoverageLimit | None:
        other = self._too_close(rule, days, day)
        if other is None:
            return None
        first, last = day, other
        for _ in range(_MAX_STEPS):
            near = self._too_close(rule, days, first)
            if near is None:
                break
            first = near + dt.timedelta(days=rule.min_days)
        message = (
            f"{rule.name}: one{_where(group)} on {_fmt(last)} (at least {rule.min_days} days apart, "
            f"{source_of(rule)}); the first date it allows is {_fmt(first)}."
        )
        return CoverageLimit(rule, group, 1, first, message)

    def _prerequisite(self, rule, group, sessions, day) -> CoverageLimit | None:
        since = localtime.add_months(day, -rule.window_months)
        needed = rule.required_count or 1
        if rule.required_action:
            done = [d for d in self.actions.get(rule.required_action, []) if since <= d <= day]
            if len(done) >= needed:
                return None
            what = PathwayStep.Action(rule.required_action).label.lower()
            message = (
                f"{rule.name}: needs {needed} {what} recorded in a course within {rule.window_months} months; "
                f"{len(done)} so far ({source_of(rule)})."
            )
            return CoverageLimit(rule, group, len(done), None, message)
        earlier = [s for s in sessions if since <= s.day < day]
        qualifying = [
            s
            for s in earlier
            if rule.min_relief is None or (s.outcome.relief or 0) >= rule.min_relief and s.outcome.known
        ]
        if len(qualifying) >= needed:
            return None
        names = ", ".join(pt.name for pt in self.counted(rule))
        relief = f" with at least {rule.min_relief}% relief" if rule.min_relief is not None else ""
        message = (
            f"{rule.name}: needs {needed} earlier {names}{_where(group)}{relief} within {rule.window_months} "
            f"months; {len(qualifying)} of {len(earlier)} so far qualify ({source_of(rule)})."
        )
        return CoverageLimit(rule, group, len(qualifying), None, message)

    def _repeat_relief(self, rule, group, sessions, day) -> CoverageLimit | None:
        earlier = [s for s in sessions if s.day < day]
        if not earlier:
            return None
        last = earlier[-1]
        outcome = last.outcome
        enough = outcome.known and outcome.relief >= rule.min_relief
        weeks_needed = rule.min_relief_weeks
        if enough and weeks_needed:
            enough = outcome.weeks is not None and outcome.weeks >= weeks_needed
        if enough:
            return None
        lasting = f" lasting at least {weeks_needed} weeks" if weeks_needed else ""
        message = (
            f"{rule.name}: the last{_where(group)}, on {_fmt(last.day)}: {outcome.describe()} "
            f"(a repeat needs at least {rule.min_relief}% relief{lasting}, {source_of(rule)})."
        )
        return CoverageLimit(rule, group, len(earlier), None, message)


def coverage_earliest_date(
    *, patient: Patient, procedure_type: ProcedureType, site: dict | None, location, now: dt.datetime
) -> tuple[dt.date | None, CoverageLimit | None]:
    """The first day (today at the location at the soonest) the coverage rules allow the
    procedure at ``site`` again, and the limit that set it; (None, limit) when waiting will
    not help."""
    coverage = Coverage.load(patient=patient, procedure_type=procedure_type)
    day, binding = localtime.today(location.zone, now=now), None
    for _ in range(_MAX_STEPS):
        limit = coverage.limit(day, site)
        if limit is None:
            return day, binding
        if limit.first_allowed is None:
            return None, limit
        day, binding = max(limit.first_allowed, day + dt.timedelta(days=1)), limit
    return day, binding
