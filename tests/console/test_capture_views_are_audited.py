"""Every look at evidence is in the session's audit trail, a capture as much
as a recording. Reproduces the finding that the console's evidence view
audited a recording's playback but not a look at a capture (a document, a
face)."""

import pytest

from sessions_app.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_operator_viewing_a_capture_writes_an_audit_event(alice, operator_a, stored_evidence):
    response = alice.get(f"/console/evidence/{stored_evidence.public_id.hex}")

    assert response.status_code == 200
    event = AuditEvent.objects.get(session=stored_evidence.session, action="evidence.viewed")
    assert event.data["evidence"] == stored_evidence.public_id.hex
    assert event.data["kind"] == stored_evidence.kind
    assert event.actor_kind == "operator"
    assert event.actor_user == operator_a.user


def test_a_head_request_or_a_refused_one_writes_none(alice, bob, stored_evidence):
    assert alice.head(f"/console/evidence/{stored_evidence.public_id.hex}").status_code == 200
    assert bob.get(f"/console/evidence/{stored_evidence.public_id.hex}").status_code == 404

    assert not AuditEvent.objects.filter(action="evidence.viewed").exists()
