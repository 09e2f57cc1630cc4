"""ICD-10-CM normalisation and upload checks."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from referrals.codes import NOT_AN_ICD10_CODE, describe_icd10, normalise_icd10, parse_icd10_list
from referrals.uploads import sanitised_name, sniff_content_type, validate_upload
from tests.referrals.conftest import PDF_BYTES, PNG_BYTES, TIFF_BYTES


@pytest.mark.parametrize(("raw", "code"), [("M546", "M54.6"), ("m54.6", "M54.6"), (" M80.08XA ", "M80.08XA"),
                                           ("M47814", "M47.814")])  # fmt: skip
def test_codes_are_normalised(raw, code):
    assert normalise_icd10(raw) == code


def test_descriptions_come_from_the_code_set():
    assert describe_icd10("M54.6") == "Pain in thoracic spine"


@pytest.mark.parametrize("raw", ["Z99.999", "HELLO", "M5", "12.3"])
def test_non_codes_are_refused_with_the_code_named(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_icd10(raw)
    assert excinfo.value.messages == [NOT_AN_ICD10_CODE % {"value": raw}]


def test_a_list_reports_every_bad_code_and_drops_repeats():
    assert parse_icd10_list("M546; M54.6, M47.814") == ["M54.6", "M47.814"]
    with pytest.raises(ValidationError) as excinfo:
        parse_icd10_list("XX1, M54.6, Q00000")
    assert len(excinfo.value.messages) == 2


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
BIG_ENDIAN_TIFF = b"MM\x00*\x00\x00\x00\x08"


@pytest.mark.parametrize(("content", "mime"), [
    (PDF_BYTES, "application/pdf"), (PNG_BYTES, "image/png"), (JPEG_BYTES, "image/jpeg"),
    (TIFF_BYTES, "image/tiff"), (BIG_ENDIAN_TIFF, "image/tiff"),
])  # fmt: skip
def test_types_are_read_from_the_content(content, mime):
    assert sniff_content_type(SimpleUploadedFile("whatever.bin", content)) == mime


@pytest.mark.parametrize("content", [b"MZ\x90\x00\x03\x00", b"<html><script>", b"PK\x03\x04zipfile"])
def test_other_content_is_refused_whatever_the_name(content):
    with pytest.raises(ValidationError, match="is not a PDF, PNG, JPEG or TIFF file"):
        validate_upload(SimpleUploadedFile("scan.pdf", content))


@pytest.mark.parametrize(("raw", "mime", "name"), [
    ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
    ("C:\\Users\\dr\\Résumé scan.png", "image/png", "Resume_scan.png"),
    ("report.exe", "application/pdf", "report.pdf"),
    ("...", "image/tiff", "document.tif"),
    ("<script>.jpg", "image/jpeg", "script.jpg"),
])  # fmt: skip
def test_names_are_sanitised_and_take_the_real_extension(raw, mime, name):
    assert sanitised_name(raw, mime) == name
