"""Every service that changes what a page of the call shows marks the session
changed (sessions_app.changes.session_mark_changed): the version goes up and
the pages are nudged after commit. A service that forgot would leave a page
that never resyncs; each case below fails on such a service."""

import ast
import pathlib
import uuid

import pytest
from django.db import transaction

from operators.services import decision_record
from sessions_app import recordings
from sessions_app.audit import Actor
from sessions_app.models import Evidence, VerificationSession
from sessions_app.services import (
    participant_accept_terms,
    participant_join,
    participant_leave,
    participant_link_reissue,
    participant_link_revoke,
    participant_set_prompt,
    session_assign_operator,
    session_cancel,
    session_end,
)
from tests.console.images import jpeg
from workflows import services as workflow_services
from workflows.check_services import check_result_store
from workflows.checks.results import PASSED, CheckOutcome
from workflows.models import CaptureRequest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PRODUCT = ("accounts", "sessions_app", "workflows", "operators", "kyc")


def _version(call) -> int:
    return VerificationSession.objects.values_list("state_version", flat=True).get(pk=call.session.pk)


def _step(call, kind):
    return call.participant.steps.get(kind=kind)


def _capture(call, operator) -> CaptureRequest:
    return workflow_services.capture_request_create(
        step=_step(call, "document"), operator=operator, kind=Evidence.Kind.DOCUMENT_FRONT
    )


def _checked_evidence(call, operator) -> Evidence:
    return workflow_services.evidence_store_image(
        capture=_capture(call, operator), source=Evidence.Source.CUSTOMER_DEVICE, data=jpeg()
    )


IN_CALL = {
    "prompt shown": lambda call, op: participant_set_prompt(
        participant=call.participant, prompt={"code": "look_at_camera"}, actor=Actor.operator(op)
    ),
    "step started": lambda call, op: workflow_services.step_start(step=_step(call, "questions"), operator=op),
    "step passed": lambda call, op: workflow_services.step_finish(
        step=workflow_services.step_start(step=_step(call, "questions"), operator=op), operator=op, outcome="pass"
    ),
    "capture requested": lambda call, op: _capture(call, op),
    "notes saved": lambda call, op: workflow_services.notes_save(step=_step(call, "notes"), operator=op, text="ok"),
    "decision recorded": lambda call, op: decision_record(
        participant=call.participant, operator=op, outcome="reject", reason_code="document_unreadable"
    ),
    "recording started": lambda call, op: recordings.recording_start(
        session=call.session, operator=op, recording_id=str(uuid.uuid4()), stream="operator", mime_type="video/webm"
    ),
    "call ended": lambda call, op: session_end(session=call.session, actor=Actor.operator(op)),
    "session cancelled": lambda call, op: session_cancel(session=call.session, actor=Actor.api()),
    "customer left": lambda call, op: participant_leave(participant=call.participant, actor=Actor.customer()),
    "link revoked": lambda call, op: participant_link_revoke(participant=call.participant, actor=Actor.api()),
    "link reissued": lambda call, op: participant_link_reissue(participant=call.participant, actor=Actor.api()),
}


@pytest.mark.parametrize("change", sorted(IN_CALL))
def test_a_change_in_the_call_marks_the_session_changed(answered_call, operator_a, change, django_capture_on_commit_callbacks):
    before = _version(answered_call)
    with django_capture_on_commit_callbacks() as callbacks:
        IN_CALL[change](answered_call, operator_a)
    assert _version(answered_call) > before
    assert callbacks, "the pages are nudged after commit"


def test_a_stored_evidence_and_a_check_result_mark_the_session_changed(answered_call, operator_a):
    before = _version(answered_call)
    evidence = _checked_evidence(answered_call, operator_a)
    after_evidence = _version(answered_call)
    assert after_evidence > before
    check_result_store(
        subject=evidence, kind="quality", engine_version="test.1", outcome=CheckOutcome(kind="quality", status=PASSED, score=1.0)
    )
    assert _version(answered_call) > after_evidence


def test_the_customers_own_moves_mark_the_session_changed(live_call):
    before = _version(live_call)
    participant_accept_terms(participant=live_call.participant, ip_address=None, user_agent="pytest")
    accepted = _version(live_call)
    participant_join(participant=live_call.participant)
    assert before < accepted < _version(live_call)


def test_an_answer_marks_the_session_changed(waiting_call, operator_a):
    before = _version(waiting_call)
    session_assign_operator(session_id=waiting_call.session.pk, operator=operator_a)
    assert _version(waiting_call) > before


def test_a_version_bumped_twice_in_one_transaction_never_goes_back(answered_call, operator_a):
    """A session saved after a participant's move must not write back the
    version it read before (sessions_app.services._session_move)."""
    before = _version(answered_call)
    with transaction.atomic():
        participant_set_prompt(
            participant=answered_call.participant, prompt={"code": "hold_still"}, actor=Actor.operator(operator_a)
        )
        session_end(session=VerificationSession.objects.get(pk=answered_call.session.pk), actor=Actor.operator(operator_a))
    assert _version(answered_call) >= before + 2


def _product_files():
    for app in PRODUCT:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def test_only_session_mark_changed_bumps_the_version_or_nudges_the_call():
    """Bumping state_version or nudging a call's pages by hand anywhere else
    is the bug this function exists to prevent."""
    offenders = []
    for path in _product_files():
        if path.relative_to(ROOT).as_posix() == "sessions_app/changes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if name == "session_changed_on_commit":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}")
                for keyword in node.keywords:
                    if keyword.arg == "state_version":
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} writes state_version")
            if isinstance(node, ast.BinOp) and "state_version" in ast.unparse(node.left):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} computes a new state_version")
    assert offenders == []
