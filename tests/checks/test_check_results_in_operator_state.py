"""The operator's call state carries each participant's check results (kind,
status, score, a short reason, what was read), retake advice and the system
recommendation, marked as advice. The customer's state carries none of it.

``answered_call`` (tests/conftest.py): Max Mustermann in a call with Alice."""

import json

from sessions_app.models import Evidence
from sessions_app.selectors import call_state_for_customer, call_state_for_operator
from tests.checks import fakes


def operator_checks(call) -> dict:
    [participant] = call_state_for_operator(session_id=call.session.pk)["participants"]
    return participant["checks"]


def test_a_stored_mrz_result_is_in_the_operators_state_with_what_was_read(answered_call):
    front = fakes.capture(answered_call.participant)
    fakes.store(front, fakes.quality_passed())
    fakes.store(front, fakes.mrz_passed())

    checks = operator_checks(answered_call)

    mrz = next(result for result in checks["results"] if result["kind"] == "mrz")
    assert mrz["status"] == "passed" and mrz["score"] == 0.97
    assert mrz["kind_label"] == "Document MRZ"
    assert mrz["evidence"]["kind"] == "document_front"
    assert ["Document number", fakes.DOCUMENT_NUMBER] in mrz["facts"]
    assert ["Name", "MAX MUSTERMANN"] in mrz["facts"]
    assert fakes.DOCUMENT_NUMBER in mrz["summary"]


def test_the_operators_state_never_carries_raw_ocr_text(answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.mrz_passed())
    mrz = operator_checks(answered_call)["results"][0]
    assert "text_seen" not in mrz["details"]
    assert "raw_lines" not in mrz["details"]["fields"]


def test_a_blurred_capture_comes_with_retake_advice(answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.quality_blurred())
    [quality] = operator_checks(answered_call)["results"]
    assert quality["status"] == "needs_review"
    assert quality["summary"].startswith("The capture is blurred")
    assert quality["advice"] == ["Ask the customer to hold still and let the camera focus, then capture again."]


def test_the_recommendation_is_advice_that_fails_closed(answered_call):
    front = fakes.capture(answered_call.participant)
    fakes.store(front, fakes.mrz_passed())
    recommendation = operator_checks(answered_call)["recommendation"]
    assert recommendation["advisory"] is True
    # Face match and liveness never ran: review, however good the document.
    assert recommendation["decision"] == "review"
    assert {reason["code"] for reason in recommendation["reasons"]} >= {"check.missing"}


def test_a_failed_check_is_the_first_reason_of_the_recommendation(answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.mrz_name_mismatch())
    recommendation = operator_checks(answered_call)["recommendation"]
    assert recommendation["decision"] != "approve"
    assert recommendation["reasons"][0]["code"] == "mrz.name_mismatch"
    assert recommendation["statuses"]["mrz"] == "failed"


def test_a_retake_replaces_the_result_it_retakes(answered_call):
    first = fakes.capture(answered_call.participant)
    fakes.store(first, fakes.quality_blurred())
    second = fakes.capture(answered_call.participant)
    fakes.store(second, fakes.quality_passed())
    [quality] = operator_checks(answered_call)["results"]
    assert quality["evidence"]["id"] == second.public_id.hex and quality["status"] == "passed"


def test_a_check_still_running_is_shown_as_pending(answered_call):
    """The quality result of a document front is in, its MRZ is not yet."""
    front = fakes.capture(answered_call.participant)
    fakes.store(front, fakes.quality_passed())
    checks = operator_checks(answered_call)
    assert checks["pending"] == ["mrz"]
    assert checks["recommendation"]["statuses"]["mrz"] == "pending"


def test_the_customer_state_has_no_check_results(answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.mrz_passed())
    state = call_state_for_customer(participant_id=answered_call.participant.pk)
    text = json.dumps(state)
    assert "checks" not in state["me"]
    assert fakes.DOCUMENT_NUMBER not in text and "recommendation" not in text


def test_a_stored_result_moves_the_state_version_on(answered_call):
    before = call_state_for_operator(session_id=answered_call.session.pk)["version"]
    fakes.store(fakes.capture(answered_call.participant, Evidence.Kind.FACE), fakes.quality_passed())
    assert call_state_for_operator(session_id=answered_call.session.pk)["version"] == before + 1


def test_the_frame_the_operator_received_never_holds_back_the_recommendation(answered_call):
    """Its quality is shown (the video is poor), without retake advice, and
    the recommendation reads the customer's full-resolution captures only."""
    seen = fakes.capture(answered_call.participant, source=Evidence.Source.OPERATOR_VIEW)
    fakes.store(seen, fakes.quality_blurred())
    checks = operator_checks(answered_call)
    [quality] = checks["results"]
    assert quality["status"] == "needs_review" and quality["advice"] == []
    assert "quality" not in checks["recommendation"]["statuses"]
    assert "quality.blurred" not in {reason["code"] for reason in checks["recommendation"]["reasons"]}
