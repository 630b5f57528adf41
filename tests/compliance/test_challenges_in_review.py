"""Compliance sees each operator challenge in the session review: the burst's
frames among the captures, named by the challenge, with their time, and the
request in the timeline with the instruction it interrupted."""

import re
from datetime import timedelta

from django.utils import timezone

from operators.compliance.retention import retention_erase_due
from sessions_app.audit import Actor
from sessions_app.models import Evidence, VerificationSession
from sessions_app.services import session_end
from tests.compliance.test_session_review_readable import review, section
from tests.console import images
from workflows import services
from workflows.challenges import CHALLENGE_BURST_FRAMES
from workflows.models import CaptureRequest


def _challenged(call, operator):
    step = call.participant.steps.get(kind="liveness")
    services.step_start(step=step, operator=operator)
    capture = services.challenge_request(participant=call.participant, operator=operator, code="cover_half_face")
    for frame in range(CHALLENGE_BURST_FRAMES):
        services.evidence_store_image(
            capture=capture, source=Evidence.Source.CUSTOMER_DEVICE, data=images.jpeg(), frame_index=frame
        )
    return capture


def test_the_bursts_frames_are_named_by_the_challenge_with_their_time(answered_call, operator_a, carol_browser):
    _challenged(answered_call, operator_a)

    html, text = review(carol_browser, answered_call)

    captures = section(text, "Captures", "Timeline (audit trail)")
    named = re.findall(r"Challenge frame · Cover half your face", captures)
    assert len(named) == CHALLENGE_BURST_FRAMES
    assert "cover_half_face" not in captures
    first = Evidence.objects.filter(kind="challenge_frame").order_by("frame_index").first()
    assert first.created_at.strftime("%Y-%m-%d %H:%M:%S") in captures
    assert 'alt="Challenge frame Cover half your face, Customer' in html


def test_the_timeline_says_which_challenge_was_asked_and_what_it_interrupted(
    answered_call, operator_a, carol_browser
):
    _challenged(answered_call, operator_a)
    action = answered_call.participant.steps.get(kind="liveness").data["challenge"][0]
    action_words = {
        "turn_left": "Turn head left", "turn_right": "Turn head right", "look_up": "Look up",
        "blink": "Blink", "move_closer": "Move closer",
    }[action]

    html, text = review(carol_browser, answered_call)

    timeline = text[text.index("Timeline (audit trail)"):]
    assert "Challenge asked of the customer" in timeline
    assert re.search(r"Challenge\s+Cover half your face", timeline)
    assert re.search(rf"Instruction it interrupted\s+{action_words}", timeline)
    assert re.search(r"Prompt\s+Cover half your face", timeline)


def test_retention_erases_the_instruction_a_challenge_never_answered_kept(answered_call, operator_a, business_a):
    """The call ended mid-burst: the interrupted question (with what the
    customer typed) is erased with the session's other personal data."""
    participant = answered_call.participant
    services.step_start(step=participant.steps.get(kind="questions"), operator=operator_a)
    capture = services.challenge_request(participant=participant, operator=operator_a, code="hand_across_face")
    assert CaptureRequest.objects.get(pk=capture.pk).resume_prompt["code"] == "question"
    session_end(session=answered_call.session, actor=Actor.system())
    VerificationSession.objects.filter(pk=answered_call.session.pk).update(ended_at=timezone.now() - timedelta(days=400))

    retention_erase_due()

    assert CaptureRequest.objects.get(pk=capture.pk).resume_prompt is None
