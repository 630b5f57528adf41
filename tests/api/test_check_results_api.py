"""GET /api/v1/sessions/{id} serves each participant's automated check
results (kind, status, score, engine and version, time, a safe part of the
details) and the system recommendation, as advice."""

from tests.checks import fakes


def url(session):
    return f"/api/v1/sessions/{session.public_id}"


def test_read_serves_the_check_results_and_the_recommendation(api_a, answered_call):
    front = fakes.capture(answered_call.participant)
    fakes.store(front, fakes.quality_passed())
    fakes.store(front, fakes.mrz_passed())

    [participant] = api_a.get(url(answered_call.session)).json()["participants"]

    results = {result["kind"]: result for result in participant["check_results"]}
    assert set(results) == {"quality", "mrz"}
    mrz = results["mrz"]
    assert mrz["status"] == "passed" and mrz["score"] == 0.97
    assert (mrz["engine"], mrz["engine_version"]) == ("rapidocr", "test-mrz")
    assert mrz["created_at"] and mrz["current"] is True
    assert mrz["evidence"] == {"id": front.public_id.hex, "kind": "document_front", "source": "customer_device",
                               "label": ""}
    assert mrz["details"]["fields"]["document_number"] == fakes.DOCUMENT_NUMBER
    assert mrz["details"]["name_match"] == "match"
    recommendation = participant["recommendation"]
    assert recommendation["advisory"] is True
    assert recommendation["decision"] == "review"  # no face match nor liveness yet
    assert recommendation["statuses"]["mrz"] == "passed"


def test_details_leave_out_raw_ocr_text_and_exception_messages(api_a, answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.mrz_passed())
    [participant] = api_a.get(url(answered_call.session)).json()["participants"]
    details = participant["check_results"][0]["details"]
    assert "text_seen" not in details
    assert not {"lines", "raw_lines", "repairs", "ambiguous"} & set(details["fields"])


def test_a_retaken_capture_keeps_its_old_result_marked_not_current(api_a, answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.quality_blurred())
    fakes.store(fakes.capture(answered_call.participant), fakes.quality_passed())
    [participant] = api_a.get(url(answered_call.session)).json()["participants"]
    assert [(r["status"], r["current"]) for r in participant["check_results"]] == [
        ("needs_review", False),
        ("passed", True),
    ]
    assert participant["check_results"][0]["details"]["reasons"][0]["code"] == "quality.blurred"


def test_another_business_never_sees_the_results(api_b, answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.mrz_passed())
    response = api_b.get(url(answered_call.session))
    assert response.status_code == 404
    assert fakes.DOCUMENT_NUMBER not in response.content.decode()


def test_schema_describes_the_results_and_the_recommendation(db):
    from django.test import Client

    schema = Client().get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    participant = schema["Participant"]["properties"]
    assert {"check_results", "recommendation"} <= set(participant)
    result = schema["CheckResult"]["properties"]
    assert {"kind", "status", "score", "engine", "engine_version", "created_at", "details", "evidence"} <= set(result)
    assert "Recommendation" in schema
