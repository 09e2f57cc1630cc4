"""The database's guarantee against double booking, on PostgreSQL.

Exclusion constraints over the blocked time range ``[starts_at, blocks_until)`` (turnover
included, half-open so back-to-back bookings are fine) for one provider, one room and one
patient, among active appointments. They live outside ``Meta.constraints`` because SQLite
cannot hold them; migration 0002 adds them on PostgreSQL only.
"""

from __future__ import annotations

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import Q

from scheduling.lifecycle import INACTIVE_STATUSES

ACTIVE = ~Q(status__in=INACTIVE_STATUSES)

PROVIDER_CONSTRAINT = "appointment_no_provider_overlap"
ROOM_CONSTRAINT = "appointment_no_room_overlap"
PATIENT_CONSTRAINT = "appointment_no_patient_overlap"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def _blocked_range() -> TsTzRange:
    return TsTzRange("starts_at", "blocks_until", RangeBoundary())


def overlap_constraints() -> list[ExclusionConstraint]:
    return [
        ExclusionConstraint(
            name=name,
            expressions=[(column, RangeOperators.EQUAL), (_blocked_range(), RangeOperators.OVERLAPS)],
            condition=ACTIVE,
        )
        for name, column in (
            (PROVIDER_CONSTRAINT, "provider"),
            (ROOM_CONSTRAINT, "room"),
            (PATIENT_CONSTRAINT, "patient"),
        )
    ]


def add_overlap_constraints(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    appointment = apps.get_model("scheduling", "Appointment")
    for constraint in overlap_constraints():
        schema_editor.add_constraint(appointment, constraint)


def remove_overlap_constraints(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    appointment = apps.get_model("scheduling", "Appointment")
    for constraint in overlap_constraints():
        schema_editor.remove_constraint(appointment, constraint)
