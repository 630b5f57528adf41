"""The system recommendation fails closed: only every required check passing
approves; an error, a timeout, a missing or still-running check reviews."""

from workflows.checks.recommendation import APPROVE, REJECT, REVIEW, recommend
from workflows.checks.results import (
    ERROR,
    FACE_MATCH,
    FAILED,
    LIVENESS,
    MRZ,
    NEEDS_REVIEW,
    PASSED,
    QUALITY,
    CheckOutcome,
    Reason,
)


def outcome(kind, status, *codes):
    return CheckOutcome(kind=kind, status=status, score=None, reasons=[Reason(code, f"{code} happened") for code in codes])


ALL_PASSED = [outcome(MRZ, PASSED), outcome(FACE_MATCH, PASSED), outcome(LIVENESS, PASSED)]


def test_every_required_check_passed_approves():
    result = recommend(ALL_PASSED + [outcome(QUALITY, PASSED)])
    assert result.decision == APPROVE
    assert result.reasons == []


def test_a_failed_check_recommends_reject_with_its_reasons():
    result = recommend([outcome(MRZ, FAILED, "mrz.expired"), *ALL_PASSED[1:]])
    assert result.decision == REJECT
    assert [(r.kind, r.code) for r in result.reasons] == [(MRZ, "mrz.expired")]


def test_needs_review_anywhere_reviews():
    result = recommend([*ALL_PASSED, outcome(QUALITY, NEEDS_REVIEW, "quality.blurred")])
    assert result.decision == REVIEW
    assert result.reasons[0].code == "quality.blurred"


def test_engine_error_reviews_never_approves():
    result = recommend([outcome(MRZ, PASSED), outcome(FACE_MATCH, ERROR, "engine.exception"), outcome(LIVENESS, PASSED)])
    assert result.decision == REVIEW


def test_engine_error_reviews_even_next_to_a_failure():
    result = recommend([outcome(MRZ, FAILED, "mrz.expired"), outcome(FACE_MATCH, ERROR, "engine.timeout"),
                        outcome(LIVENESS, PASSED)])
    assert result.decision == REVIEW
    assert [r.code for r in result.reasons] == ["mrz.expired", "engine.timeout"]


def test_missing_capture_reviews():
    result = recommend([outcome(MRZ, PASSED), outcome(FACE_MATCH, PASSED)])
    assert result.decision == REVIEW
    assert result.statuses[LIVENESS] == "missing"
    assert result.reasons[-1].code == "check.missing"


def test_nothing_at_all_reviews():
    assert recommend([]).decision == REVIEW


def test_check_still_running_reviews():
    result = recommend(ALL_PASSED, pending=[FACE_MATCH])
    assert result.decision == REVIEW
    assert result.statuses[FACE_MATCH] == "pending"


def test_unknown_status_reviews():
    result = recommend([{"kind": MRZ, "status": "maybe"}, *ALL_PASSED[1:]])
    assert result.decision == REVIEW


def test_broken_input_reviews():
    result = recommend([object()])
    assert result.decision == REVIEW


def test_unreadable_front_of_an_id_card_does_not_count_when_the_back_was_read():
    front = outcome(MRZ, NEEDS_REVIEW, "mrz.not_found")
    result = recommend([front, *ALL_PASSED])
    assert result.decision == APPROVE


def test_stored_rows_with_reasons_in_their_details_are_read():
    rows = [
        {"kind": MRZ, "status": FAILED, "details": {"reasons": [{"code": "mrz.under_age", "message": "16"}]}},
        {"kind": FACE_MATCH, "status": PASSED, "details": {}},
        {"kind": LIVENESS, "status": PASSED, "details": {}},
    ]
    result = recommend(rows)
    assert result.decision == REJECT
    assert result.reasons[0].code == "mrz.under_age"


def test_required_kinds_follow_the_workflow():
    assert recommend([outcome(MRZ, PASSED)], required=[MRZ]).decision == APPROVE


def test_engine_timeout_is_an_error_result_that_reviews():
    from workflows.checks.results import guarded

    class SoftTimeLimitExceeded(Exception):
        """Celery's, as the worker raises it inside a running task."""

    @guarded(MRZ, "test", "1")
    def slow_check():
        raise SoftTimeLimitExceeded()

    timed_out = slow_check()
    assert timed_out.status == ERROR
    assert timed_out.reasons[0].code == "engine.timeout"
    assert recommend([timed_out, *ALL_PASSED[1:]]).decision == REVIEW
