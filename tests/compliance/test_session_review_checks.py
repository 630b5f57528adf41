"""The review page's Automated checks section and the export show every
check result with its details, and the system recommendation as advice.

``reviewed_call`` (tests/compliance/conftest.py): Max Mustermann's document
and face, approved by Alice; Carol (``carol_browser``) reviews."""

import io
import json
import zipfile

from django.urls import reverse

from tests.checks import fakes


def review_html(browser, call) -> str:
    page = browser.get(reverse("admin:sessions_app_verificationsession_review", args=[call.session.pk]))
    assert page.status_code == 200
    return page.content.decode()


def automated_checks_section(html: str) -> str:
    return html[html.index("<h3>Automated checks</h3>"):html.index("<h3>Captures</h3>")]


def test_review_shows_each_result_with_what_was_read_and_the_recommendation(reviewed_call, carol_browser):
    fakes.store(reviewed_call.document, fakes.quality_passed())
    fakes.store(reviewed_call.document, fakes.mrz_name_mismatch())

    section = automated_checks_section(review_html(carol_browser, reviewed_call))

    assert "System recommendation (advice only; the operator decides)" in section
    assert "<strong>Review</strong>" in section or "<strong>Reject</strong>" in section
    assert "Document MRZ" in section and "Image quality" in section
    assert "Failed" in section and "Passed" in section
    assert "rapidocr" in section and "test-mrz" in section
    assert "is not the name the business sent" in section
    assert fakes.DOCUMENT_NUMBER in section
    assert "mrz.name_mismatch" in section
    assert "No automated check results." not in section


def test_review_shows_retake_advice_and_superseded_results(reviewed_call, carol_browser):
    fakes.store(reviewed_call.document, fakes.quality_blurred())
    retake = fakes.capture(reviewed_call.participant)
    fakes.store(retake, fakes.quality_passed())
    section = automated_checks_section(review_html(carol_browser, reviewed_call))
    assert "Retake advice:" in section and "hold still" in section
    assert "superseded" in section


def test_export_holds_every_result_with_its_details_and_the_recommendation(reviewed_call, carol_browser):
    fakes.store(reviewed_call.document, fakes.mrz_passed())
    response = carol_browser.get(
        reverse("admin:sessions_app_verificationsession_export", args=[reviewed_call.session.pk])
    )
    record = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("record.json"))
    [participant] = record["participants"]
    [mrz] = participant["check_results"]
    assert (mrz["kind"], mrz["status"], mrz["engine_version"]) == ("mrz", "passed", "test-mrz")
    # The auditor gets all that was stored, the OCR's raw reading included.
    assert mrz["details"]["fields"]["raw_lines"] == fakes.MRZ_FIELDS["raw_lines"]
    assert participant["recommendation"]["advisory"] is True
    assert participant["recommendation"]["statuses"]["mrz"] == "passed"
