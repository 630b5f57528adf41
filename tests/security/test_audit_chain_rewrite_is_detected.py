"""Issue #14: somebody who can write the database edits an audit event and
recomputes every later hash with the product's own public algorithm
(sessions_app/audit.py). `manage.py audit_verify` used to call that chain
intact; each event's MAC, made with a key outside the database, now shows it.

This file uses only what the starting code had too (audit_record,
_event_hash, _hashed_fields, the command), so it runs there and fails."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sessions_app.audit import Actor, _event_hash, _hashed_fields, audit_record
from sessions_app.models import AuditChain, AuditEvent


def rewrite_from(business, sequence: int, **changes) -> None:
    """The attack: change one row, then recompute its hash and every later
    one's with the public algorithm, link by link, and move the head row."""
    previous_hash = AuditEvent.objects.get(business=business, sequence=sequence).previous_hash
    for event in AuditEvent.objects.filter(business=business, sequence__gte=sequence).order_by("sequence"):
        if event.sequence == sequence:
            for name, value in changes.items():
                setattr(event, name, value)
        event.previous_hash = previous_hash
        event.hash = _event_hash(previous_hash=previous_hash, fields=_hashed_fields(event))
        AuditEvent.objects.filter(pk=event.pk).update(
            previous_hash=event.previous_hash, hash=event.hash, **changes if event.sequence == sequence else {}
        )
        previous_hash = event.hash
    AuditChain.objects.filter(business=business).update(last_hash=previous_hash)


@pytest.fixture
def decisions_a(business_a):
    """Six events of Alpha Bank; #3 records a decline."""
    events = []
    for n in range(1, 7):
        outcome = "decline" if n == 3 else "approve"
        events.append(
            audit_record(business=business_a, action="decision.recorded", actor=Actor.system(), data={"outcome": outcome})
        )
    return events


def test_an_edit_with_every_later_hash_recomputed_is_reported_since_the_edited_event(decisions_a, business_a):
    """Reproduces the attack: #3's decline becomes an approval, #3-#6 are
    rehashed with the public algorithm and the head row moved. The starting
    code's audit_verify printed "alpha-bank: audit chain intact"."""
    rewrite_from(business_a, 3, data={"outcome": "approve"})
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 audit chain"):
        call_command("audit_verify", stdout=out, stderr=err)
    assert "alpha-bank: audit chain intact" not in out.getvalue()
    first_line = f"alpha-bank: TAMPERED since event #3 (written {decisions_a[2].created_at.isoformat()})"
    assert first_line in err.getvalue()
    assert "alpha-bank: event #3: MAC does not match" in err.getvalue()
    # Every rehashed event is named, none before the edit.
    for sequence in (4, 5, 6):
        assert f"alpha-bank: event #{sequence}: MAC does not match" in err.getvalue()
    assert "event #1:" not in err.getvalue() and "event #2:" not in err.getvalue()


def test_a_chain_rebuilt_from_scratch_with_the_public_algorithm_is_reported(decisions_a, business_a):
    """Reproduces a rebuild: every row rewritten from #1 with the public algorithm."""
    rewrite_from(business_a, 1, action="session.created")
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stdout=out, stderr=err)
    assert "alpha-bank: TAMPERED since event #1" in err.getvalue()
