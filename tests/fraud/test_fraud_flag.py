"""Fraud flags: raised by an operator with a reason and a note, audited, sent
to the business's webhook signed; cleared only by a second staff member of
the same business, with a note; never deleted."""

import base64
import hashlib
import hmac
import json

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import COMPLIANCE_GROUP, BusinessStaff
from operators.fraud_flags import fraud_flag_clear, session_flag_fraud
from operators.models import FraudFlag
from operators.webhooks import webhook_deliver
from sessions_app.audit import Actor
from operators.models import WebhookEvent
from sessions_app.models import AuditEvent

pytestmark = pytest.mark.django_db


def raise_flag(call, operator, reason=FraudFlag.Reason.SECOND_FACE_OR_VOICE, note="A voice whispered the answers."):
    return session_flag_fraud(session=call.session, user=operator.user, actor=Actor.operator(operator),
                              reason=reason, note=note)


def test_a_flag_is_audited_and_reaches_the_webhook_signed(answered_call, operator_a, hooked_business_a, receiver,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        flag = raise_flag(answered_call, operator_a)
    # The call's earlier events go first (one session's events in order).
    for event in WebhookEvent.objects.order_by("created_at", "pk"):
        webhook_deliver(event_id=event.pk)
    [request] = [r for r in receiver.received if r.json["type"] == "session.flagged"]
    body = request.json
    assert body["data"]["session"]["id"] == str(answered_call.session.public_id)
    assert body["data"]["flag"] == {"id": str(flag.public_id), "reason": "second_face_or_voice",
                                    "raised_at": flag.raised_at.isoformat(), "cleared_at": None}
    assert "whispered" not in request.body.decode(), "the note stays in Verity"
    secret = base64.b64decode(hooked_business_a.webhook_secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"
    event = AuditEvent.objects.get(action="session.flagged")
    assert event.data == {"flag": str(flag.public_id), "reason": "second_face_or_voice"}
    assert event.session_id == answered_call.session.pk


def test_an_unknown_reason_is_refused_and_nothing_is_written(answered_call, operator_a):
    with pytest.raises(ValidationError):
        raise_flag(answered_call, operator_a, reason="bored")
    assert not FraudFlag.objects.exists()
    assert not AuditEvent.objects.filter(action="session.flagged").exists()


def test_other_needs_a_note(answered_call, operator_a):
    with pytest.raises(ValidationError):
        raise_flag(answered_call, operator_a, reason=FraudFlag.Reason.OTHER, note="  ")


def test_the_operator_who_raised_it_cannot_clear_it(answered_call, operator_a):
    flag = raise_flag(answered_call, operator_a)
    with pytest.raises(ValidationError, match="second staff member"):
        fraud_flag_clear(flag=flag, user=operator_a.user, note="It was the TV.")
    flag.refresh_from_db()
    assert flag.cleared_at is None


def test_a_second_staff_member_clears_it_with_a_note(answered_call, operator_a, compliance_user, hooked_business_a,
                                                      receiver, django_capture_on_commit_callbacks):
    flag = raise_flag(answered_call, operator_a)
    with pytest.raises(ValidationError):
        fraud_flag_clear(flag=flag, user=compliance_user, note="")
    with django_capture_on_commit_callbacks(execute=True):
        fraud_flag_clear(flag=flag, user=compliance_user, note="The second voice was the customer's TV.")
    flag.refresh_from_db()
    assert (flag.cleared_by, flag.clear_note) == (compliance_user, "The second voice was the customer's TV.")
    assert AuditEvent.objects.filter(action="session.flag_cleared", session=answered_call.session).count() == 1
    cleared = json.loads(WebhookEvent.objects.get(event_type="session.flag_cleared").body)
    assert cleared["data"]["flag"]["cleared_at"] == flag.cleared_at.isoformat()
    with pytest.raises(ValidationError, match="already"):
        fraud_flag_clear(flag=flag, user=compliance_user, note="Again.")


def test_staff_of_another_business_cannot_clear_it(answered_call, operator_a, operator_b):
    flag = raise_flag(answered_call, operator_a)
    reviewer_b = operator_b.user
    reviewer_b.is_staff = True
    reviewer_b.save()
    reviewer_b.groups.add(Group.objects.get_or_create(name=COMPLIANCE_GROUP)[0])
    BusinessStaff.objects.create(user=reviewer_b, business=operator_b.business)
    with pytest.raises(PermissionDenied):
        fraud_flag_clear(flag=flag, user=reviewer_b, note="Not mine to clear.")
    flag.refresh_from_db()
    assert flag.cleared_at is None


def test_erasing_the_session_blanks_the_flags_notes_and_keeps_the_flag(answered_call, operator_a, compliance_user):
    from operators.compliance.retention import session_erase

    flag = raise_flag(answered_call, operator_a)
    fraud_flag_clear(flag=flag, user=compliance_user, note="Her brother, who was asked to leave.")
    session_erase(session=answered_call.session)
    flag.refresh_from_db()
    assert (flag.note, flag.clear_note) == ("", "")
    assert flag.reason == FraudFlag.Reason.SECOND_FACE_OR_VOICE and flag.cleared_at is not None
