"""Operator challenges (workflows.challenges): the operator asks one customer
to cover half their face, move a hand across it or turn their document
edge-on. The instruction replaces the one in the customer's frame, their page
takes a burst like a liveness action, and once the burst is in the
instruction it interrupted comes back."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Evidence, Participant
from sessions_app.selectors import call_state_for_customer, call_state_for_operator
from sessions_app.services import participant_leave, participant_set_prompt
from tests.console import images
from tests.console.helpers import step_post
from workflows import services
from workflows.challenges import CHALLENGE_BURST_FRAMES, CHALLENGES, challenges_for_signals
from workflows.models import CaptureRequest, StepState


def _prompt(participant):
    return call_state_for_customer(participant_id=participant.pk)["me"]["prompt"]


def _pending(participant):
    return call_state_for_customer(participant_id=participant.pk)["me"]["capture"]


def _burst(capture, frames=CHALLENGE_BURST_FRAMES):
    for frame in range(frames):
        services.evidence_store_image(
            capture=capture, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg(), frame_index=frame
        )


def _liveness_started(alice, call) -> list[str]:
    assert step_post(alice, call.session, call.participant, "liveness", "start").status_code == 200
    return call.participant.steps.get(kind="liveness").data["challenge"]


def _refused(expected, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        services.challenge_request(**kwargs)
    assert refused.value.code == expected
    return refused.value


# --- the registry ---------------------------------------------------------------------


def test_every_challenge_has_an_operator_label_and_a_customer_instruction():
    assert list(CHALLENGES) == ["cover_half_face", "hand_across_face", "document_edge_on"]
    for challenge in CHALLENGES.values():
        assert str(challenge.label).strip() and str(challenge.instruction).strip()


@pytest.mark.parametrize(
    "signals, suggested",
    [
        (["synthetic_track"], ["cover_half_face", "hand_across_face"]),
        (["virtual_camera_name", "api_replaced"], ["cover_half_face", "hand_across_face"]),
        (["repeated_picture"], ["cover_half_face", "hand_across_face", "document_edge_on"]),
        (["still_picture"], ["cover_half_face", "hand_across_face"]),
        (["timing_too_regular"], []),
        (["no_such_signal"], []),
        ([], []),
        (None, []),
    ],
)
def test_signals_suggest_the_challenges_that_answer_them(signals, suggested):
    assert challenges_for_signals(signals) == suggested


# --- asking ---------------------------------------------------------------------------


def test_the_challenge_is_shown_in_the_customers_frame_and_a_burst_is_asked(operator_a, answered_call):
    participant = answered_call.participant

    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")

    prompt = _prompt(participant)
    assert prompt["code"] == "cover_half_face"
    assert prompt["texts"]["en"] == "Cover half of your face with your hand."
    assert prompt["texts"]["de"] and prompt["texts"]["de"] != prompt["texts"]["en"]
    assert _pending(participant) == {
        "id": capture.public_id.hex,
        "kind": "challenge_frame",
        "label": "cover_half_face",
        "frames": CHALLENGE_BURST_FRAMES,
        "missing": list(range(CHALLENGE_BURST_FRAMES)),
    }
    assert capture.step is None


def test_the_request_is_audited_with_the_challenge_and_what_it_interrupted(operator_a, alice, answered_call):
    challenge = _liveness_started(alice, answered_call)

    capture = services.challenge_request(
        participant=answered_call.participant, operator=operator_a, code="hand_across_face"
    )

    event = AuditEvent.objects.get(session=answered_call.session, action="challenge.requested")
    assert event.actor_kind == AuditEvent.ActorKind.OPERATOR
    assert event.actor_user_id == operator_a.user_id
    assert event.data == {"capture": str(capture.public_id), "challenge": "hand_across_face", "interrupted": challenge[0]}


def test_the_burst_is_stored_as_challenge_frames_labelled_with_the_challenge(operator_a, answered_call):
    capture = services.challenge_request(
        participant=answered_call.participant, operator=operator_a, code="document_edge_on"
    )

    _burst(capture)

    frames = Evidence.objects.filter(capture=capture, source=Evidence.Source.CUSTOMER_DEVICE)
    assert sorted(frames.values_list("frame_index", flat=True)) == list(range(CHALLENGE_BURST_FRAMES))
    assert set(frames.values_list("kind", "label")) == {("challenge_frame", "document_edge_on")}
    capture.refresh_from_db()
    assert capture.state == CaptureRequest.State.FULFILLED
    assert _pending(answered_call.participant) is None
    shown = call_state_for_operator(session_id=answered_call.session.pk)["participants"][0]["evidence"]
    assert [e["kind"] for e in shown] == ["challenge_frame"] * CHALLENGE_BURST_FRAMES


# --- the customer keeps their place -----------------------------------------------------


def test_after_the_burst_the_interrupted_liveness_action_is_back(operator_a, alice, answered_call):
    participant = answered_call.participant
    challenge = _liveness_started(alice, answered_call)
    before = _prompt(participant)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")

    _burst(capture, CHALLENGE_BURST_FRAMES - 1)
    assert _prompt(participant)["code"] == "cover_half_face"  # not before the whole burst is in
    _burst(capture)

    after = _prompt(participant)
    assert after["code"] == challenge[0]
    participant.refresh_from_db()
    assert participant.current_prompt["step"] == participant.steps.get(kind="liveness").position
    assert after["id"] > before["id"]  # a new prompt: the customer's page confirms it again
    liveness = participant.steps.get(kind="liveness").data
    assert liveness["action_index"] == 0 and liveness["captured"] == []


def test_after_the_burst_the_interrupted_question_is_back_with_its_texts(operator_a, alice, answered_call):
    participant = answered_call.participant
    assert step_post(alice, answered_call.session, participant, "questions", "start").status_code == 200
    question = _prompt(participant)
    assert question["code"] == "question"
    capture = services.challenge_request(participant=participant, operator=operator_a, code="hand_across_face")

    _burst(capture)

    back = _prompt(participant)
    keys = ("code", "text", "texts", "lang", "question", "answer")
    assert {k: back.get(k) for k in keys} == {k: question.get(k) for k in keys}
    participant.refresh_from_db()
    assert participant.current_prompt["step"] == participant.steps.get(kind="questions").position


def test_a_challenge_without_an_instruction_before_it_clears_after_the_burst(operator_a, answered_call):
    capture = services.challenge_request(
        participant=answered_call.participant, operator=operator_a, code="cover_half_face"
    )

    _burst(capture)

    assert _prompt(answered_call.participant) is None


def test_a_step_passed_during_the_burst_does_not_come_back(operator_a, alice, answered_call):
    participant = answered_call.participant
    _liveness_started(alice, answered_call)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")
    assert step_post(alice, answered_call.session, participant, "liveness", "pass").status_code == 200

    _burst(capture)

    assert participant.steps.get(kind="liveness").state == StepState.State.PASSED
    assert _prompt(participant) is None


def test_an_instruction_the_operator_gave_during_the_burst_stays(operator_a, alice, answered_call):
    participant = answered_call.participant
    _liveness_started(alice, answered_call)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")
    participant_set_prompt(participant=participant, prompt={"code": "hold_still"}, actor=Actor.operator(operator_a))

    _burst(capture)

    assert _prompt(participant)["code"] == "hold_still"


def test_a_capture_asked_during_a_challenge_replaces_it_and_the_instruction_comes_back(
    operator_a, alice, answered_call
):
    participant = answered_call.participant
    challenge = _liveness_started(alice, answered_call)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")

    asked = step_post(alice, answered_call.session, participant, "liveness", "capture", kind="liveness_frame")

    assert asked.status_code == 200, asked.content
    capture.refresh_from_db()
    assert capture.state == CaptureRequest.State.CANCELLED
    assert _prompt(participant)["code"] == challenge[0]
    assert _pending(participant)["kind"] == "liveness_frame"


# --- refusals -------------------------------------------------------------------------


def test_unknown_challenge_is_refused_and_nothing_changes(operator_a, answered_call):
    error = _refused("unknown_challenge", participant=answered_call.participant, operator=operator_a, code="dance")

    assert "Unknown challenge" in " ".join(error.messages)
    assert not CaptureRequest.objects.filter(participant=answered_call.participant).exists()
    assert not AuditEvent.objects.filter(action="challenge.requested").exists()


def test_a_second_challenge_while_the_first_burst_is_under_way_is_refused(operator_a, answered_call):
    participant = answered_call.participant
    first = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")

    error = _refused("challenge_under_way", participant=participant, operator=operator_a, code="hand_across_face")

    assert "still doing the last challenge" in " ".join(error.messages)
    assert _prompt(participant)["code"] == "cover_half_face"
    assert _pending(participant)["id"] == first.public_id.hex
    assert AuditEvent.objects.filter(action="challenge.requested").count() == 1


def test_a_challenge_whose_page_never_answered_is_replaced_after_its_time(operator_a, alice, answered_call):
    """The page that never sent the burst does not lock the operator out, and
    the replacement still gives back the instruction from before the first."""
    participant = answered_call.participant
    challenge = _liveness_started(alice, answered_call)
    first = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")
    CaptureRequest.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(seconds=16))

    second = services.challenge_request(participant=participant, operator=operator_a, code="hand_across_face")
    first.refresh_from_db()
    assert first.state == CaptureRequest.State.CANCELLED
    assert _prompt(participant)["code"] == "hand_across_face"

    _burst(second)
    assert _prompt(participant)["code"] == challenge[0]


def test_a_participant_who_left_gets_no_challenge(operator_a, group_call):
    max_, erika = group_call.participants
    participant_leave(participant=erika, actor=Actor.customer())
    erika.refresh_from_db()
    assert erika.state == Participant.State.LEFT

    error = _refused("not_in_call", participant=erika, operator=operator_a, code="cover_half_face")

    assert "not in the call" in " ".join(error.messages)
    assert not CaptureRequest.objects.filter(participant=erika).exists()
    assert services.challenge_request(participant=max_, operator=operator_a, code="cover_half_face")


def test_another_operator_of_the_same_business_cannot_challenge_alices_customer(operator_a2, answered_call):
    _refused("not_your_call", participant=answered_call.participant, operator=operator_a2, code="cover_half_face")

    assert _prompt(answered_call.participant) is None
    assert not CaptureRequest.objects.filter(participant=answered_call.participant).exists()


def test_another_businesss_operator_cannot_challenge_the_customer(operator_b, answered_call):
    _refused("not_your_call", participant=answered_call.participant, operator=operator_b, code="cover_half_face")

    assert not AuditEvent.objects.filter(action="challenge.requested").exists()


def test_a_german_participants_instruction_is_chosen_in_german(operator_a, answered_call):
    """The page shows its own language's text; ``text`` is the one the server
    chose for the participant, for a page in a language the product lacks."""
    participant = answered_call.participant
    participant.language = "de"
    participant.save(update_fields=["language"])

    services.challenge_request(participant=participant, operator=operator_a, code="document_edge_on")

    prompt = _prompt(participant)
    assert prompt["lang"] == "de"
    assert prompt["text"] == "Bitte drehen Sie Ihr Dokument langsam, bis wir seine Kante sehen."
    assert prompt["texts"]["en"] == "Turn your document slowly until we see its edge."


# --- what is kept -----------------------------------------------------------------------


def test_the_interrupted_prompt_is_kept_only_while_the_burst_is_under_way(operator_a, alice, customer, answered_call):
    """A question's prompt holds the customer's typed answer: once given back
    it is not kept on the capture request too."""
    participant = answered_call.participant
    _liveness_started(alice, answered_call)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")
    capture.refresh_from_db()
    assert capture.resume_prompt["code"] == participant.steps.get(kind="liveness").data["challenge"][0]

    _burst(capture)

    capture.refresh_from_db()
    assert capture.resume_prompt is None


def test_a_challenge_replaced_by_a_capture_keeps_no_prompt(operator_a, alice, answered_call):
    participant = answered_call.participant
    _liveness_started(alice, answered_call)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="cover_half_face")

    step_post(alice, answered_call.session, participant, "document", "capture", kind="document_front")

    capture.refresh_from_db()
    assert (capture.state, capture.resume_prompt) == (CaptureRequest.State.CANCELLED, None)
