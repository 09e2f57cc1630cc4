"""Finding a patient by what staff have at hand, and correcting demographics with every
change recorded (before, after, who) and no silent overwrite by a second editor."""

import datetime as dt

import pytest

from clinic.models import AuditEvent
from referrals.models import Patient, PatientChange
from referrals.selectors import patients_search
from referrals.services import PatientChangedMeanwhile, patient_update
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def reyes():
    return PatientFactory(first_name="Jordan", last_name="Reyes", date_of_birth=dt.date(1961, 4, 12),
                          phone="+14795550123", record_number="P0000042")  # fmt: skip


@pytest.fixture
def others():
    return [
        PatientFactory(first_name="Reyna", last_name="Smith", date_of_birth=dt.date(1970, 1, 2), phone="+14795550999"),
        PatientFactory(first_name="Alex", last_name="Jordanson", date_of_birth=dt.date(1980, 5, 6), phone=""),
    ]


@pytest.mark.parametrize(
    "query",
    ["Reyes", "reyes", "Reyes, Jordan", "reyes,jor", "Jordan Reyes", "Reyes Jordan", "  jordan   reyes ",
     "1961-04-12", "04/12/1961", "4/12/1961", "P0000042", "p0000042",
     "4795550123", "(479) 555-0123", "479-555-0123", "479.555.0123", "+1 479 555 0123", "1-479-555-0123"],
)  # fmt: skip
def test_patient_is_found_by_name_birth_date_record_number_or_phone(reyes, others, query):
    assert list(patients_search(query)) == [reyes]


def test_one_word_matches_first_or_last_name_prefixes(reyes, others):
    assert set(patients_search("Rey")) == {reyes, others[0]}
    assert set(patients_search("Jordan")) == {reyes, others[1]}


@pytest.mark.parametrize(
    "query",
    ["", "   ", "Rey\x00es", "\x00", "2026-02-30", "13/01/1961", "0000-01-01", "²⁴⁷⁹⁵⁵⁵⁰¹²³", "4795550",
     "' OR 1=1 --", "%", "_", "x" * 10_000, "שלום", "🙂", "99999999999999999999"],
)  # fmt: skip
def test_odd_input_matches_nobody_and_never_raises(reyes, others, query):
    assert list(patients_search(query)) == []


def test_search_results_are_in_name_order(others, reyes):
    PatientFactory(first_name="Ana", last_name="Reyes")
    names = [(p.last_name, p.first_name) for p in patients_search("Reyes")]
    assert names == [("Reyes", "Ana"), ("Reyes", "Jordan")]


def test_patient_update_records_before_and_after_and_who(reyes, scheduler):
    change = patient_update(
        patient=reyes, actor=scheduler, now=NOW,
        changes={"phone": "+14795550199", "city": "Clarksville", "first_name": "Jordan"},
    )  # fmt: skip
    reyes.refresh_from_db()
    assert str(reyes.phone) == "(479) 555-0199"
    assert reyes.city == "Clarksville"
    assert reyes.version == 2
    assert change.changes == {
        "phone": {"before": "+14795550123", "after": "+14795550199"},
        "city": {"before": "", "after": "Clarksville"},
    }
    assert (change.actor, change.actor_label, change.at) == (scheduler, scheduler.email, NOW)
    assert list(PatientChange.objects.filter(patient=reyes)) == [change]
    audit = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert (audit.actor, audit.object_type, audit.object_id) == (scheduler, "referrals.Patient", str(reyes.pk))
    assert audit.summary == "Changed: phone, city"


def test_patient_update_with_nothing_changed_writes_nothing(reyes, scheduler):
    assert patient_update(patient=reyes, actor=scheduler, changes={"last_name": "Reyes"}) is None
    reyes.refresh_from_db()
    assert reyes.version == 1
    assert not PatientChange.objects.exists()
    assert not AuditEvent.objects.exists()


def test_birth_dates_are_recorded_as_iso_text(reyes, scheduler):
    change = patient_update(patient=reyes, actor=scheduler, changes={"date_of_birth": dt.date(1961, 4, 21)})
    assert change.changes == {"date_of_birth": {"before": "1961-04-12", "after": "1961-04-21"}}


def test_second_editor_of_an_old_version_is_refused_and_nothing_is_overwritten(reyes, scheduler, intake):
    opened_at = reyes.version
    patient_update(patient=reyes, actor=intake, changes={"phone": "+14795550111"}, expected_version=opened_at)
    stale = Patient.objects.get(pk=reyes.pk)
    stale.version = opened_at  # what the second editor's form still carries
    with pytest.raises(PatientChangedMeanwhile, match="intake@clinic.example changed this patient's details"):
        patient_update(patient=stale, actor=scheduler, changes={"phone": "+14795550222"}, expected_version=opened_at)
    reyes.refresh_from_db()
    assert str(reyes.phone.as_e164) == "+14795550111"
    assert PatientChange.objects.count() == 1


def test_fields_staff_may_not_edit_are_refused(reyes, scheduler):
    with pytest.raises(ValueError, match="record_number"):
        patient_update(patient=reyes, actor=scheduler, changes={"record_number": "P9"})
