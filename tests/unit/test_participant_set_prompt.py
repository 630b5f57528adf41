"""participant_set_prompt: the operator shows a prompt on one customer's screen."""

import pytest
from django.core.exceptions import ValidationError

from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.services import participant_set_prompt

PROMPT = {"code": "show_document_front", "text": "Hold the front of your document to the camera."}


def _version(call):
    return VerificationSession.objects.get(pk=call.session.pk).state_version


def test_prompt_is_stored_for_a_reload_and_bumps_the_version(answered_call, operator_a):
    version = _version(answered_call)
    participant_set_prompt(participant=answered_call.participant, prompt=PROMPT, actor=Actor.operator(operator_a))
    stored = Participant.objects.get(pk=answered_call.participant.pk).current_prompt
    assert (stored["code"], stored["text"]) == (PROMPT["code"], PROMPT["text"])
    assert _version(answered_call) == version + 1
    # Its id is the version that brought it: ids only grow within a call.
    assert stored["id"] == version + 1
    assert stored["shown_at"] is None


def test_prompt_shown_is_audited_with_its_code_only(answered_call, operator_a):
    participant_set_prompt(participant=answered_call.participant, prompt=PROMPT, actor=Actor.operator(operator_a))
    event = AuditEvent.objects.filter(participant=answered_call.participant).last()
    assert event.action == "prompt.shown"
    assert event.data == {"prompt": "show_document_front"}
    assert event.actor_user_id == operator_a.user_id


def test_clearing_the_prompt_is_audited_as_cleared(answered_call, operator_a):
    participant_set_prompt(participant=answered_call.participant, prompt=PROMPT, actor=Actor.operator(operator_a))
    participant_set_prompt(participant=answered_call.participant, prompt=None, actor=Actor.operator(operator_a))
    assert Participant.objects.get(pk=answered_call.participant.pk).current_prompt is None
    event = AuditEvent.objects.filter(participant=answered_call.participant).last()
    assert (event.action, event.data) == ("prompt.cleared", {"prompt": None})


def test_no_prompt_for_a_customer_who_is_not_in_the_call(waiting_call, operator_a):
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        participant_set_prompt(participant=waiting_call.participant, prompt=PROMPT, actor=Actor.operator(operator_a))
    assert Participant.objects.get(pk=waiting_call.participant.pk).current_prompt is None
    assert AuditEvent.objects.count() == events
