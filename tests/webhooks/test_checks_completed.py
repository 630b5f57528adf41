"""checks.completed: said once per participant, when the call is over and
every check due on their captures has a result; whichever comes last (the
last result or the end of the call) says it. Never twice for the same set
of results; ids and codes only, no personal data.

``answered_call`` (tests/conftest.py): Max Mustermann in a call with Alice;
business A's webhook points at ``receiver``."""

import json

import pytest

from operators.models import WebhookEvent
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Evidence
from sessions_app.services import session_end
from tests.checks import fakes
from workflows.check_services import participant_checks_completed_emit

pytestmark = pytest.mark.usefixtures("hooked_business_a")


def checked_front(participant):
    """A document front with both its checks (quality, MRZ) stored."""
    front = fakes.capture(participant)
    fakes.store(front, fakes.quality_passed())
    fakes.store(front, fakes.mrz_passed())
    return front


def checks_events(receiver):
    """The checks.completed events written to the outbox, oldest first. (Read
    from the outbox: the call's earlier events, written before the test
    delivers anything, hold the session's later ones back in order.)"""
    return [
        json.loads(event.body)
        for event in WebhookEvent.objects.filter(event_type="checks.completed").order_by("created_at", "pk")
    ]


def test_said_when_the_call_ends_with_every_result_in(answered_call, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        checked_front(answered_call.participant)
    assert checks_events(receiver) == [], "not during the call: more captures may come"

    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=answered_call.session, actor=Actor.system())

    [event] = checks_events(receiver)
    data = event["data"]
    assert data["participant"]["id"] == str(answered_call.participant.public_id)
    assert sorted(check["kind"] for check in data["checks"]) == ["mrz", "quality"]
    mrz = next(check for check in data["checks"] if check["kind"] == "mrz")
    assert (mrz["status"], mrz["score"], mrz["engine_version"]) == ("passed", 0.97, "test-mrz")
    assert data["recommendation"]["advisory"] is True
    assert data["recommendation"]["decision"] == "review"  # face match and liveness are missing
    assert {"kind": "liveness", "status": "missing", "code": "check.missing"} in data["recommendation"]["reasons"]


def test_said_by_the_last_result_when_it_comes_after_the_call(
    answered_call, receiver, django_capture_on_commit_callbacks
):
    front = fakes.capture(answered_call.participant)
    with django_capture_on_commit_callbacks(execute=True):
        fakes.store(front, fakes.quality_passed())
        session_end(session=answered_call.session, actor=Actor.system())
    assert checks_events(receiver) == [], "the MRZ of the front is still being read"

    with django_capture_on_commit_callbacks(execute=True):
        fakes.store(front, fakes.mrz_passed())
        assert participant_checks_completed_emit(participant_id=answered_call.participant.pk)

    [event] = checks_events(receiver)
    assert sorted(check["kind"] for check in event["data"]["checks"]) == ["mrz", "quality"]


def test_never_said_twice_for_the_same_results(answered_call, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        checked_front(answered_call.participant)
        session_end(session=answered_call.session, actor=Actor.system())
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert participant_checks_completed_emit(participant_id=answered_call.participant.pk) is False
    assert len(checks_events(receiver)) == 1
    assert WebhookEvent.objects.filter(event_type="checks.completed").count() == 1
    assert AuditEvent.objects.filter(action="checks.completed", participant=answered_call.participant).count() == 1


def test_said_again_for_a_new_set_of_results(answered_call, receiver, django_capture_on_commit_callbacks):
    """A new engine version checked the captures again after the call."""
    with django_capture_on_commit_callbacks(execute=True):
        front = checked_front(answered_call.participant)
        session_end(session=answered_call.session, actor=Actor.system())
    with django_capture_on_commit_callbacks(execute=True):
        fakes.store(front, fakes.mrz_passed(), version="test-mrz.2")
        assert participant_checks_completed_emit(participant_id=answered_call.participant.pk)
    first, second = checks_events(receiver)
    assert {c["engine_version"] for c in second["data"]["checks"]} == {"test-quality", "test-mrz.2"}
    assert first["id"] != second["id"]


def test_a_capture_never_checked_holds_it_back(answered_call, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        checked_front(answered_call.participant)
        fakes.capture(answered_call.participant, Evidence.Kind.FACE)  # its checks have not run yet
        session_end(session=answered_call.session, actor=Actor.system())
    assert checks_events(receiver) == []


def test_a_participant_without_any_result_gets_none(answered_call, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=answered_call.session, actor=Actor.system())
    assert checks_events(receiver) == []


def test_the_event_holds_no_personal_data(answered_call, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        front = fakes.capture(answered_call.participant)
        fakes.store(front, fakes.quality_passed())
        fakes.store(front, fakes.mrz_name_mismatch())
        session_end(session=answered_call.session, actor=Actor.system())
    [event] = WebhookEvent.objects.filter(event_type="checks.completed")
    for personal in ("MUSTERMANN", "Mustermann", fakes.DOCUMENT_NUMBER, "1980-05-17", "Erika"):
        assert personal not in event.body
    mrz = next(check for check in json.loads(event.body)["data"]["checks"] if check["kind"] == "mrz")
    assert mrz["reasons"] == ["mrz.name_mismatch"]


@pytest.mark.checks("inline")
def test_the_last_capture_checked_after_the_call_says_it(answered_call, receiver, django_capture_on_commit_callbacks):
    """Through the task, as in production: the call ends while a capture's
    checks are queued; when they run, the participant's checks are complete."""
    from workflows.tasks import run_checks_for_evidence

    face = fakes.capture(answered_call.participant, Evidence.Kind.FACE)
    with django_capture_on_commit_callbacks(execute=True):
        session_end(session=answered_call.session, actor=Actor.system())
    assert checks_events(receiver) == []
    with django_capture_on_commit_callbacks(execute=True):
        run_checks_for_evidence(face.pk)
    [event] = checks_events(receiver)
    assert [check["kind"] for check in event["data"]["checks"]] == ["quality"]
