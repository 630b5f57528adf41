"""The one-time code at the end of a call (TAN_AT_END): sent by the call's
operator, entered by the customer in the frame, attempts counted, expiry,
lock, replacement, audit without the code, and approval held back until it
is confirmed."""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kyc import regulations
from operators.approval_gates import approval_problem, approval_requirements
from operators.compliance.retention import session_erase
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, OneTimeCode, Participant
from sessions_app.one_time_codes import (
    one_time_code_enter,
    one_time_code_send,
    one_time_code_state_for_operator,
)
from sessions_app.selectors import call_state_for_customer, call_state_for_operator, customer_session_bind
from sessions_app.services import ParticipantSpec, participant_accept_terms, participant_join, session_assign_operator, session_create

CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture(autouse=True)
def _sms_to_a_file(settings, tmp_path):
    settings.SMS_BACKEND = "kyc.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _tan_workflow(workflow, channel="email"):
    workflow.rules = [regulations.TAN_AT_END]
    workflow.tan_channel = channel
    workflow.save()
    return workflow


def _call_in_progress(business, workflow, operator, *, phone="", email="max@example.com"):
    created = session_create(
        business=business,
        workflow=workflow,
        kind="one_on_one",
        participants=[ParticipantSpec(name="Max Mustermann", email=email, phone=phone)],
        actor=Actor.api(),
    )
    participant = created.links[0][0]
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    participant_join(participant=participant)
    session_assign_operator(session_id=participant.session_id, operator=operator)
    participant.refresh_from_db()
    return participant


@pytest.fixture
def tan_call(business_a, workflow_a, operator_a) -> Participant:
    return _call_in_progress(business_a, _tan_workflow(workflow_a), operator_a)


def _mailed_code(index=-1) -> str:
    return CODE.search(mail.outbox[index].body).group(1)


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 10**6).zfill(6)


def _send(participant, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return one_time_code_send(participant=participant, operator=operator)


# --- sending ---------------------------------------------------------------------------


def test_the_operator_sends_a_code_by_email_in_the_customers_language(tan_call, operator_a, django_capture_on_commit_callbacks):
    Participant.objects.filter(pk=tan_call.pk).update(language="de")
    row = _send(tan_call, operator_a, django_capture_on_commit_callbacks)

    assert row.sent_to == "m***@example.com"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["max@example.com"]
    assert mail.outbox[0].subject == "Ihr Einmalcode für Alpha Bank"
    assert "Hallo Max Mustermann" in mail.outbox[0].body
    code = _mailed_code()
    row.refresh_from_db()
    assert row.delivered_at is not None
    assert code not in row.code_hash and code not in row.salt
    # The customer's frame asks for it, with where it went.
    prompt = call_state_for_customer(participant_id=tan_call.pk)["me"]["prompt"]
    assert prompt["code"] == "one_time_code" and prompt["sent_to"] == "m***@example.com"


def test_the_code_is_never_in_the_audit_trail(tan_call, operator_a, django_capture_on_commit_callbacks):
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    code = _mailed_code()
    with pytest.raises(ValidationError):
        one_time_code_enter(participant=tan_call, code=_wrong(code))
    one_time_code_enter(participant=tan_call, code=code)
    events = AuditEvent.objects.filter(participant=tan_call, action__startswith="one_time_code.")
    assert [e.action for e in events.order_by("pk")] == [
        "one_time_code.sent", "one_time_code.wrong", "one_time_code.confirmed"
    ]
    assert all(code not in json.dumps(e.data) for e in events)


def test_a_code_by_sms_goes_to_the_phone_through_the_sms_backend(
    business_a, workflow_a, operator_a, settings, django_capture_on_commit_callbacks
):
    participant = _call_in_progress(business_a, _tan_workflow(workflow_a, "sms"), operator_a, phone="+4915112345678")
    row = _send(participant, operator_a, django_capture_on_commit_callbacks)

    assert row.channel == "sms" and row.sent_to == "+49*******5678"
    lines = open(f"{settings.SMS_FILE_PATH}/messages.jsonl").read().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["to"] == "+4915112345678"
    one_time_code_enter(participant=participant, code=CODE.search(json.loads(lines[0])["text"]).group(1))
    assert OneTimeCode.objects.get(pk=row.pk).state == OneTimeCode.State.CONFIRMED


def test_a_failed_sms_is_kept_for_the_operator_and_audited(
    business_a, workflow_a, operator_a, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "kyc.sms.HttpBackend"
    settings.SMS_HTTP_URL = ""
    participant = _call_in_progress(business_a, _tan_workflow(workflow_a, "sms"), operator_a, phone="+4915112345678")
    _send(participant, operator_a, django_capture_on_commit_callbacks)

    state = one_time_code_state_for_operator(participant)["one_time_code"]
    assert state["delivered"] is False and "SMS_HTTP_URL" in state["delivery_problem"]
    assert AuditEvent.objects.filter(participant=participant, action="one_time_code.not_delivered").exists()


def test_a_new_code_replaces_the_one_before(tan_call, operator_a, django_capture_on_commit_callbacks):
    first = _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    first_code = _mailed_code()
    second = _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    second_code = _mailed_code()

    first.refresh_from_db()
    assert first.state == OneTimeCode.State.REPLACED
    if first_code != second_code:
        with pytest.raises(ValidationError) as refused:
            one_time_code_enter(participant=tan_call, code=first_code)
        assert refused.value.code == "wrong_code"
    one_time_code_enter(participant=tan_call, code=second_code)
    second.refresh_from_db()
    assert second.state == OneTimeCode.State.CONFIRMED


def test_sends_are_limited_per_participant(tan_call, operator_a, settings, django_capture_on_commit_callbacks):
    settings.ONE_TIME_CODE_MAX_SENDS = 2
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as refused:
        _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    assert refused.value.code == "too_many_codes"
    assert len(mail.outbox) == 2


def test_only_the_operator_of_the_call_may_send(tan_call, operator_a2, operator_b):
    for other in (operator_a2, operator_b):
        with pytest.raises(ValidationError) as refused:
            one_time_code_send(participant=tan_call, operator=other)
        assert refused.value.code == "not_your_call"
    assert not OneTimeCode.objects.exists()


def test_no_code_when_the_rule_is_off(answered_call, operator_a):
    with pytest.raises(ValidationError) as refused:
        one_time_code_send(participant=answered_call.participant, operator=operator_a)
    assert refused.value.code == "rule_off"
    assert one_time_code_state_for_operator(answered_call.participant) == {}


def test_no_code_for_a_customer_not_in_the_call(business_a, workflow_a, operator_a):
    _tan_workflow(workflow_a)
    created = session_create(
        business=business_a, workflow=workflow_a, kind="one_on_one",
        participants=[ParticipantSpec(name="Max", email="max@example.com")], actor=Actor.api(),
    )
    participant = created.links[0][0]
    created.session.operator = operator_a
    created.session.save(update_fields=["operator"])
    with pytest.raises(ValidationError) as refused:
        one_time_code_send(participant=participant, operator=operator_a)
    assert refused.value.code == "not_in_call"


def test_the_operators_view_of_another_business_call_is_not_found(tan_call, operator_b, client):
    client.force_login(operator_b.user)
    url = reverse("operators:one_time_code_send", args=[tan_call.session.public_id.hex, tan_call.public_id.hex])
    assert client.post(url).status_code == 404
    assert not OneTimeCode.objects.exists()


# --- entering --------------------------------------------------------------------------


def test_wrong_codes_count_down_and_the_last_one_locks(tan_call, operator_a, settings, django_capture_on_commit_callbacks):
    settings.ONE_TIME_CODE_MAX_ATTEMPTS = 3
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    code = _mailed_code()
    messages = []
    for _attempt in range(3):
        with pytest.raises(ValidationError) as refused:
            one_time_code_enter(participant=tan_call, code=_wrong(code))
        messages.append((refused.value.code, refused.value.messages[0]))
    assert messages[0] == ("wrong_code", "That code is not right. 2 attempts left.")
    assert messages[1] == ("wrong_code", "That code is not right. 1 attempt left.")
    assert messages[2][0] == "locked"
    # Locked: even the right code is refused now; the operator sends a new one.
    with pytest.raises(ValidationError) as refused:
        one_time_code_enter(participant=tan_call, code=code)
    assert refused.value.code == "locked"
    row = OneTimeCode.objects.get()
    assert row.state == OneTimeCode.State.LOCKED and row.attempts == 3
    assert AuditEvent.objects.filter(participant=tan_call, action="one_time_code.locked").count() == 1


def test_an_expired_code_is_refused_with_a_clear_message(tan_call, operator_a, django_capture_on_commit_callbacks):
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    code = _mailed_code()
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError) as refused:
        one_time_code_enter(participant=tan_call, code=code)
    assert refused.value.code == "expired"
    assert "expired" in refused.value.messages[0]
    assert OneTimeCode.objects.get().state == OneTimeCode.State.EXPIRED
    assert one_time_code_state_for_operator(tan_call)["one_time_code"]["state"] == "expired"


@pytest.mark.parametrize("entry", ["12a456", "12345", "1234567", "", "１２３４５６", "9" * 500])
def test_malformed_entries_are_refused_and_not_counted(tan_call, operator_a, entry, django_capture_on_commit_callbacks):
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as refused:
        one_time_code_enter(participant=tan_call, code=entry)
    assert refused.value.code == "malformed"
    assert OneTimeCode.objects.get().attempts == 0


def test_entering_before_any_code_was_sent_is_refused(tan_call):
    with pytest.raises(ValidationError) as refused:
        one_time_code_enter(participant=tan_call, code="123456")
    assert refused.value.code == "no_code"


def test_the_customer_enters_the_code_in_the_frame_and_the_operator_sees_it_confirmed(
    tan_call, operator_a, django_capture_on_commit_callbacks
):
    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    code = _mailed_code()
    customer = Client()
    session = customer.session
    customer_session_bind(session, tan_call)  # as opening the link does
    session.save()
    url = reverse("sessions_app:one_time_code_enter")

    wrong = customer.post(url, {"code": _wrong(code)})
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "wrong_code"
    assert "4 attempts left" in wrong.json()["error"]["message"]
    malformed = customer.post(url, {"code": "x" * 100})
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed"

    assert customer.post(url, {"code": code}).status_code == 200
    state = call_state_for_operator(session_id=tan_call.session_id)["participants"][0]["one_time_code"]
    assert state["state"] == "confirmed"
    # The frame's prompt for it is gone.
    assert call_state_for_customer(participant_id=tan_call.pk)["me"]["prompt"] is None


# --- the gate --------------------------------------------------------------------------


def test_approval_is_refused_until_the_code_is_confirmed(tan_call, operator_a, django_capture_on_commit_callbacks):
    requirement = next(r for r in approval_requirements(tan_call) if r.code == "one_time_code")
    assert not requirement.met
    assert approval_problem(tan_call) == "The customer has not confirmed the one-time code yet"
    with pytest.raises(ValidationError) as refused:
        decision_record(participant=tan_call, operator=operator_a, outcome="approve", reason_code="verified")
    assert "one-time code" in " ".join(refused.value.messages)

    _send(tan_call, operator_a, django_capture_on_commit_callbacks)
    one_time_code_enter(participant=tan_call, code=_mailed_code())
    assert approval_problem(tan_call) is None


def test_a_call_without_the_rule_has_no_code_requirement(answered_call):
    assert all(r.code != "one_time_code" for r in approval_requirements(answered_call.participant))


# --- session creation ------------------------------------------------------------------


def test_a_tan_by_sms_workflow_refuses_a_participant_without_a_phone(business_a, workflow_a):
    _tan_workflow(workflow_a, "sms")
    with pytest.raises(ValidationError):
        session_create(
            business=business_a, workflow=workflow_a, kind="one_on_one",
            participants=[ParticipantSpec(name="Max", email="max@example.com")], actor=Actor.api(),
        )


# --- retention -------------------------------------------------------------------------


def test_erasure_takes_the_phone_number_and_where_the_code_went(
    business_a, workflow_a, operator_a, django_capture_on_commit_callbacks
):
    participant = _call_in_progress(business_a, _tan_workflow(workflow_a, "sms"), operator_a, phone="+4915112345678")
    _send(participant, operator_a, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        session_erase(session=participant.session)

    participant.refresh_from_db()
    assert participant.phone == ""
    row = OneTimeCode.objects.get()
    assert row.sent_to == "" and row.state == OneTimeCode.State.SENT  # the record of what happened stays
