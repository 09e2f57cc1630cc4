"""Who may open each referral, patient and attachment URL: the same practice and clinic
staff; a referrer of another practice and anonymous visitors may not (404 / login)."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from clinic.models import AuditEvent
from referrals.models import Attachment
from tests.factories import ReferralFactory
from tests.referrals.conftest import PDF_BYTES

pytestmark = pytest.mark.django_db

OK, LOGIN, HIDDEN = 200, 302, 404
CHART = "chart"  # staff are sent on to the full patient chart (scheduling:patient)
# (who) -> expected for: detail, attachment, patient, respond
MATRIX = {
    "same_practice": {"detail": OK, "attachment": OK, "patient": OK, "respond": OK},
    "other_practice": {"detail": HIDDEN, "attachment": HIDDEN, "patient": HIDDEN, "respond": HIDDEN},
    "intake": {"detail": OK, "attachment": OK, "patient": CHART, "respond": HIDDEN},
    "scheduler": {"detail": OK, "attachment": OK, "patient": CHART, "respond": HIDDEN},
    "provider_user": {"detail": OK, "attachment": OK, "patient": CHART, "respond": HIDDEN},
    "clinic_admin": {"detail": OK, "attachment": OK, "patient": CHART, "respond": HIDDEN},
    "anonymous": {"detail": LOGIN, "attachment": LOGIN, "patient": LOGIN, "respond": LOGIN},
}


@pytest.fixture
def record(physician):
    referral = ReferralFactory(referring_physician=physician, status="needs_information")
    attachment = Attachment(referral=referral, original_name="mri-report.pdf", content_type="application/pdf",
                            size=len(PDF_BYTES), kind="imaging_report")  # fmt: skip
    attachment.file.save("ignored.pdf", ContentFile(PDF_BYTES), save=True)
    return referral, attachment


def urls(referral, attachment) -> dict[str, str]:
    return {
        "detail": reverse("referrals:detail", args=[referral.pk]),
        "attachment": reverse("referrals:attachment", args=[referral.pk, attachment.pk]),
        "patient": reverse("referrals:patient", args=[referral.patient_id]),
        "respond": reverse("referrals:respond", args=[referral.pk]),
    }


@pytest.mark.parametrize("who", list(MATRIX))
def test_access_matrix(client, request, record, other_physician, who):
    referral, attachment = record
    if who != "anonymous":
        user = request.getfixturevalue("referrer" if who == "same_practice" else
                                       "other_referrer" if who == "other_practice" else who)  # fmt: skip
        client.force_login(user)
    for page, url in urls(referral, attachment).items():
        response = client.get(url)
        if MATRIX[who][page] == CHART:
            assert (response.status_code, response.url) == (
                302,
                reverse("scheduling:patient", args=[referral.patient_id]),
            )
            continue
        assert response.status_code == MATRIX[who][page], f"{who} {page}"
        if response.status_code == LOGIN:
            assert response.url.startswith(reverse("login"))


def test_no_patient_data_in_any_url(record):
    referral, attachment = record
    for url in urls(referral, attachment).values():
        assert referral.patient.last_name not in url
        assert "1961" not in url
    assert referral.patient.last_name not in attachment.file.name
    assert "mri-report" not in attachment.file.name


def test_download_is_an_attachment_with_the_sanitised_name_and_is_audited(client, record, intake):
    referral, attachment = record
    client.force_login(intake)
    response = client.get(urls(referral, attachment)["attachment"], REMOTE_ADDR="10.1.2.3")
    assert response["Content-Disposition"] == 'attachment; filename="mri-report.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF_BYTES
    event = AuditEvent.objects.get(action="download")
    assert (event.actor, event.object_type, event.object_id, event.ip_address) == (
        intake, "referrals.Attachment", str(attachment.pk), "10.1.2.3",
    )  # fmt: skip


def test_every_view_of_a_referral_or_patient_is_audited(client, record, scheduler):
    referral, attachment = record
    client.force_login(scheduler)
    client.get(urls(referral, attachment)["detail"])
    client.get(urls(referral, attachment)["patient"], follow=True)  # staff: on to the chart, which audits
    seen = set(AuditEvent.objects.filter(actor=scheduler, action="view").values_list("object_type", "object_id"))
    assert seen == {("referrals.Referral", str(referral.pk)), ("referrals.Patient", str(referral.patient_id))}


def test_a_refused_request_is_audited_as_refused_not_as_a_view(client, record, other_referrer, other_physician):
    referral, attachment = record
    client.force_login(other_referrer)
    client.get(urls(referral, attachment)["detail"])
    assert list(AuditEvent.objects.values_list("action", "actor", "object_id")) == [
        ("refused", other_referrer.pk, str(referral.pk))
    ]
