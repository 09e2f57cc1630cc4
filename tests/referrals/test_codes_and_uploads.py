"""ICD-10-CM normalisation and upload checks."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from referrals.codes import (
    DOT_MISPLACED,
    NOT_AN_ICD10_CODE,
    NOT_BILLABLE,
    describe_icd10,
    normalise_icd10,
    parse_icd10_list,
)
from referrals.uploads import sanitised_name, sniff_content_type, validate_upload
from tests.referrals.conftest import PDF_BYTES, PNG_BYTES, TIFF_BYTES


@pytest.mark.parametrize(("raw", "code"), [("M546", "M54.6"), ("m54.6", "M54.6"), (" M80.08XA ", "M80.08XA"),
                                           ("M47814", "M47.814"), ("m5416", "M54.16"), ("G89.29 ", "G89.29"),
                                           ("M54.6 ", "M54.6"), ("M8008xa", "M80.08XA")])  # fmt: skip
def test_codes_are_normalised(raw, code):
    assert normalise_icd10(raw) == code


@pytest.mark.parametrize(("raw", "examples"), [
    ("M54", "M54.2 or M54.6"),  # billable children first
    ("m54", "M54.2 or M54.6"),
    ("M47.81", "M47.811 or M47.812"),  # no billable child: the first billable descendants
    ("M51.2", "M51.24 or M51.25"),
    ("M80.08", "M80.08XA or M80.08XD"),  # needs its 7th character
])  # fmt: skip
def test_categories_are_refused_naming_billable_codes(raw, examples):
    with pytest.raises(ValidationError) as excinfo:
        normalise_icd10(raw)
    assert excinfo.value.messages == [NOT_BILLABLE % {"value": raw, "examples": examples}]
    assert excinfo.value.messages[0].startswith(f"{raw} is a category: choose a code such as")


@pytest.mark.parametrize("raw", ["M5.46", "M546.", ".M546", "M54..6", "M5416.0"])
def test_a_dot_in_the_wrong_place_is_refused_not_moved(raw):
    with pytest.raises(ValidationError) as excinfo:
        normalise_icd10(raw)
    assert excinfo.value.messages == [DOT_MISPLACED % {"value": raw}]


@pytest.mark.parametrize(("raw", "code", "description"), [
    ("U07.1", "U07.1", "COVID-19"), ("u071", "U07.1", "COVID-19"),
    ("U09.9", "U09.9", "Post COVID-19 condition, unspecified"),
])  # fmt: skip
def test_chapter_u_codes_are_recognised(raw, code, description):
    assert normalise_icd10(raw) == code
    assert describe_icd10(code) == description


def test_descriptions_come_from_the_code_set():
    assert describe_icd10("M54.6") == "Pain in thoracic spine"


@pytest.mark.parametrize("raw", ["Z99.999", "HELLO", "M5", "M54.6\x00", "M5\u00b246", "U99.9"])
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
