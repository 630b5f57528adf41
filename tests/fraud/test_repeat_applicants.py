"""A new participant is compared, within the business, with earlier ones by
document number, name and birth date, and face; the operator's call state
and compliance's review carry what matched."""

import pytest

from operators.compliance.retention import session_erase
from operators.compliance.review_display import seen_before_display
from operators.models import ApplicantFingerprint, Decision, Review
from operators.repeat_applicants import seen_before_for
from sessions_app.selectors import call_state_for_operator
from tests.checks import fakes
from tests.fraud.conftest import applicant, descriptor, mrz, reject
from workflows.models import CheckResult

pytestmark = pytest.mark.django_db


def test_same_document_number_in_a_later_session_is_seen_before(first_applicant, business_a, workflow_a, operator_a):
    first_session, first_participant = first_applicant
    reject(first_participant, operator_a)
    _, second = applicant(business_a, workflow_a, name="Moritz Muster",
                          mrz_outcome=mrz(surname="MUSTER", given_names="MORITZ", birth_date="1990-01-01"))

    seen = seen_before_for([second])[second.pk]
    assert seen["count"] == 1 and seen["rejected"] == 1
    [earlier] = seen["sessions"]
    assert earlier["session"] == first_session.public_id.hex
    assert earlier["matched"] == ["document"]
    assert (earlier["outcome"], earlier["reason"]) == ("reject", "document_suspected_forgery")
    assert earlier["url"] == f"/admin/sessions_app/verificationsession/{first_session.pk}/review/"


def _approve(participant, operator, *, provisional):
    return Decision.objects.create(participant=participant, operator=operator, outcome=Decision.Outcome.APPROVE,
                                   reason_code=Decision.Reason.VERIFIED, provisional=provisional)


def test_an_approval_overturned_on_review_is_seen_as_the_rejection(first_applicant, business_a, workflow_a,
                                                                   operator_a, compliance_user):
    """Under the four-eyes rule the review's outcome stands, not the operator's."""
    decision = _approve(first_applicant[1], operator_a, provisional=True)
    Review.objects.create(decision=decision, reviewer=compliance_user, outcome=Review.Outcome.OVERTURN,
                          final_outcome=Decision.Outcome.REJECT,
                          final_reason_code=Decision.Reason.DOCUMENT_SUSPECTED_FORGERY, comment="Forged.")
    _, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    seen = seen_before_for([second])[second.pk]
    [earlier] = seen["sessions"]
    assert (earlier["outcome"], earlier["reason"], earlier["awaiting_review"]) == (
        "reject", "document_suspected_forgery", False
    )
    assert seen["rejected"] == 1
    assert seen_before_display(seen)["sessions"][0]["outcome_label"] == "Rejected"


def test_an_approval_awaiting_review_is_marked_as_such(first_applicant, business_a, workflow_a, operator_a):
    _approve(first_applicant[1], operator_a, provisional=True)
    _, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    seen = seen_before_for([second])[second.pk]
    [earlier] = seen["sessions"]
    assert (earlier["outcome"], earlier["awaiting_review"]) == ("approve", True)
    assert seen["rejected"] == 0
    assert seen_before_display(seen)["sessions"][0]["outcome_label"] == "Approved, awaiting review"


def test_a_confirmed_and_a_final_approval_are_seen_as_approvals(first_applicant, business_a, workflow_a,
                                                                operator_a, compliance_user):
    decision = _approve(first_applicant[1], operator_a, provisional=True)
    Review.objects.create(decision=decision, reviewer=compliance_user, outcome=Review.Outcome.CONFIRM,
                          final_outcome=Decision.Outcome.APPROVE, final_reason_code=Decision.Reason.VERIFIED)
    _, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    [earlier] = seen_before_for([second])[second.pk]["sessions"]
    assert (earlier["outcome"], earlier["reason"], earlier["awaiting_review"]) == ("approve", "verified", False)


def test_name_and_birth_date_match_another_document(first_applicant, business_a, workflow_a):
    _, second = applicant(business_a, workflow_a, mrz_outcome=mrz(document_number="X12345678"))
    [earlier] = seen_before_for([second])[second.pk]["sessions"]
    assert earlier["matched"] == ["name_birth_date"]
    assert earlier["outcome"] is None


def test_the_same_face_matches_and_another_face_does_not(first_applicant, business_a, workflow_a):
    import numpy as np

    close = descriptor(1) + 0.01  # the same person in other light: distance 0.11 < 0.5
    _, same = applicant(business_a, workflow_a, face=close)
    _, other = applicant(business_a, workflow_a, face=descriptor(2))
    assert np.linalg.norm(descriptor(1) - descriptor(2)) > workflow_a.face_match_threshold

    seen = seen_before_for([same, other])
    assert [s["matched"] for s in seen[same.pk]["sessions"]] == [["face"]]
    # "other" was compared with both earlier ones, the first and "same": neither is her.
    assert seen[other.pk]["count"] == 0


def test_every_field_that_matched_is_named(first_applicant, business_a, workflow_a):
    _, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed(), face=descriptor(1))
    [earlier] = seen_before_for([second])[second.pk]["sessions"]
    assert earlier["matched"] == ["document", "name_birth_date", "face"]


def test_another_business_never_sees_the_applicant(first_applicant, business_b, workflow_b):
    _, elsewhere = applicant(business_b, workflow_b, mrz_outcome=fakes.mrz_passed(), face=descriptor(1))
    assert seen_before_for([elsewhere])[elsewhere.pk]["count"] == 0


def test_a_document_number_whose_check_digit_failed_is_not_matched(first_applicant, business_a, workflow_a):
    """A misread number would accuse somebody else; the name still counts."""
    misread = mrz()
    misread.details["fields"]["check_digits"] = {**misread.details["fields"]["check_digits"], "document_number": False}
    _, second = applicant(business_a, workflow_a, mrz_outcome=misread)
    fingerprint = ApplicantFingerprint.objects.get(participant=second)
    assert fingerprint.document_number == ""
    [earlier] = seen_before_for([second])[second.pk]["sessions"]
    assert earlier["matched"] == ["name_birth_date"]


def test_an_erased_session_is_forgotten(first_applicant, business_a, workflow_a):
    first_session, first_participant = first_applicant
    session_erase(session=first_session)
    assert not ApplicantFingerprint.objects.filter(session=first_session).exists()
    _, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed(), face=descriptor(1))
    assert seen_before_for([second])[second.pk]["count"] == 0


def test_matches_of_an_earlier_session_erased_later_disappear(first_applicant, business_a, workflow_a):
    first_session, _ = first_applicant
    _, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    assert seen_before_for([second])[second.pk]["count"] == 1
    session_erase(session=first_session)
    assert seen_before_for([second])[second.pk]["count"] == 0


def test_an_erased_participant_gets_no_fingerprint(business_a, workflow_a):
    session, participant = applicant(business_a, workflow_a)
    front = fakes.capture(participant)
    session_erase(session=session)
    participant.refresh_from_db()
    fakes.store(front, fakes.mrz_passed())
    assert not ApplicantFingerprint.objects.filter(participant=participant).exists()


def test_the_face_descriptor_is_not_in_the_stored_check_details(business_a, workflow_a):
    _, participant = applicant(business_a, workflow_a, face=descriptor(3))
    result = CheckResult.objects.get(participant=participant, kind="face_match")
    assert "face_descriptor" not in result.details
    assert len(bytes(ApplicantFingerprint.objects.get(participant=participant).face_descriptor)) == 128 * 4


def test_the_query_count_does_not_grow_with_participants(first_applicant, business_a, workflow_a,
                                                         django_assert_num_queries, operator_a):
    reject(first_applicant[1], operator_a)
    participants = [applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed(), face=descriptor(1))[1]
                    for _ in range(4)]
    with django_assert_num_queries(4):
        one = seen_before_for(participants[:1])
    with django_assert_num_queries(4):
        several = seen_before_for(participants)
    assert one[participants[0].pk]["count"] == 1
    assert [several[p.pk]["count"] for p in participants] == [1, 2, 3, 4]


def test_the_operators_call_state_carries_it(first_applicant, business_a, workflow_a):
    session, second = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    state = call_state_for_operator(session_id=session.pk)
    [entry] = state["participants"]
    assert entry["seen_before"]["count"] == 1
    assert entry["seen_before"]["sessions"][0]["session"] == first_applicant[0].public_id.hex


def test_nothing_is_said_before_a_check_read_anything(business_a, workflow_a):
    session, _ = applicant(business_a, workflow_a)
    [entry] = call_state_for_operator(session_id=session.pk)["participants"]
    assert entry["seen_before"] is None


def test_an_erasure_after_the_participant_was_loaded_still_wins(business_a, workflow_a):
    """The check task loaded the participant before the erasure committed:
    the fingerprint is not written back for it."""
    from operators.repeat_applicants import fingerprint_update

    session, participant = applicant(business_a, workflow_a)
    session_erase(session=session)  # ``participant`` still says not erased
    assert fingerprint_update(participant=participant, threshold=0.5, document_number="C01X00T47") is None
    assert not ApplicantFingerprint.objects.filter(participant=participant).exists()


def test_a_fingerprint_that_fails_costs_the_fingerprint_not_the_check(business_a, workflow_a, monkeypatch, caplog):
    from operators import repeat_applicants

    def broken(**kwargs):
        raise ValueError("a descriptor of the wrong length")

    monkeypatch.setattr(repeat_applicants, "fingerprint_update", broken)
    _, participant = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    assert CheckResult.objects.filter(participant=participant, kind="mrz").exists()
    assert "fingerprint of participant" in caplog.text
