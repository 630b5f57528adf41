"""Alice reloads the console mid-call: the state her page loads again
(call_state_for_operator) holds everything done so far, every step's state,
the captures with URLs she can open, the answers, the notes and the decision."""

import pytest

from sessions_app.selectors import call_state_for_operator
from tests.console import images
from tests.console.helpers import (
    customer_capture_url,
    image_file,
    operator_capture_url,
    step_post,
    upload,
)
from workflows.steps import LIVENESS_BURST_FRAMES


@pytest.fixture
def halfway(alice, customer, answered_call):
    """Document front captured from both sides and passed, liveness started
    with its first action captured, a question answered, notes typed."""
    session, participant = answered_call.session, answered_call.participant
    step_post(alice, session, participant, "document", "start")
    front = step_post(alice, session, participant, "document", "capture", kind="document_front").json()["capture"]
    assert upload(customer, customer_capture_url(front), images.jpeg()).status_code == 201
    assert upload(alice, operator_capture_url(session, front), images.jpeg(width=160, height=120)).status_code == 201
    step_post(alice, session, participant, "document", "pass")
    # Questions first: the customer's frame holds one prompt, and a question
    # asked after the liveness capture would take the liveness prompt's place.
    step_post(alice, session, participant, "questions", "start")
    step_post(alice, session, participant, "questions", "answer", question="0", answer="1 January 1990")
    step_post(alice, session, participant, "notes", "notes", text="Calm, good light.")
    step_post(alice, session, participant, "liveness", "start")
    burst = step_post(alice, session, participant, "liveness", "capture", kind="liveness_frame").json()["capture"]
    for frame in range(LIVENESS_BURST_FRAMES):
        customer.post(customer_capture_url(burst), {"image": image_file(images.jpeg()), "frame": str(frame)})
    return {"front": front, "burst": burst}


def _me(state):
    (participant,) = state["participants"]
    return participant


def _step(me, kind):
    return next(step for step in me["steps"] if step["kind"] == kind)


def test_reload_restores_every_step_state(answered_call, halfway):
    me = _me(call_state_for_operator(session_id=answered_call.session.pk))

    assert {step["kind"]: step["state"] for step in me["steps"]} == {
        "terms": "passed",
        "device_check": "passed",
        "document": "passed",
        "liveness": "in_progress",
        "questions": "in_progress",
        "notes": "in_progress",
    }
    assert [step["position"] for step in me["steps"]] == list(range(6))


def test_reload_restores_the_captures_with_urls_that_serve_them(alice, answered_call, halfway):
    me = _me(call_state_for_operator(session_id=answered_call.session.pk))

    front = [e for e in me["evidence"] if e["capture"] == halfway["front"]]
    assert sorted(e["source"] for e in front) == ["customer_device", "operator_view"]
    assert {(e["width"], e["height"]) for e in front} == {(320, 240), (160, 120)}
    burst = [e for e in me["evidence"] if e["capture"] == halfway["burst"]]
    assert sorted(e["frame"] for e in burst) == list(range(LIVENESS_BURST_FRAMES))
    for evidence in me["evidence"]:
        response = alice.get(evidence["url"])
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_reload_restores_the_liveness_progress_and_prompt(answered_call, halfway):
    me = _me(call_state_for_operator(session_id=answered_call.session.pk))

    liveness = _step(me, "liveness")["data"]
    assert liveness["action_index"] == 1
    assert liveness["captured"] == liveness["challenge"][:1]
    assert me["prompt"]["code"] == liveness["challenge"][1]


def test_reload_restores_answers_and_notes(answered_call, halfway):
    me = _me(call_state_for_operator(session_id=answered_call.session.pk))

    assert _step(me, "questions")["data"]["answers"] == {"0": "1 January 1990"}
    assert _step(me, "notes")["data"]["text"] == "Calm, good light."


def test_reload_restores_a_pending_capture_request(alice, answered_call, halfway):
    asked = step_post(
        alice, answered_call.session, answered_call.participant, "document", "capture", kind="document_back"
    ).json()

    me = _me(call_state_for_operator(session_id=answered_call.session.pk))

    assert me["capture"]["id"] == asked["capture"]
    assert me["capture"]["kind"] == "document_back"
    assert me["capture"]["missing"] == [0]


def test_reload_restores_the_decision(alice, answered_call, halfway):
    alice.post(
        f"/console/calls/{answered_call.session.public_id.hex}/decide",
        {
            "participant": answered_call.participant.public_id.hex,
            "outcome": "approve",
            "reason_code": "verified",
            "share": "yes",
            # Halfway through, the checks advise "Review": approving overrides it.
            "comment": "Document and face compared by eye.",
            "override": "yes",
        },
    )

    me = _me(call_state_for_operator(session_id=answered_call.session.pk))

    assert me["decision"] == {"outcome": "approve", "reason_code": "verified", "shared": True, "provisional": False}
    assert me["state"] == "decided"


def test_reloaded_call_page_still_opens_for_the_operator(alice, answered_call, halfway):
    response = alice.get(f"/console/calls/{answered_call.session.public_id.hex}/")

    assert response.status_code == 200
    assert answered_call.session.public_id.hex.encode() in response.content
