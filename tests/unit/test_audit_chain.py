"""The audit trail's hash chain: events link, and any later change is found."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sessions_app.audit import (
    GENESIS_HASH,
    Actor,
    _event_hash,
    _hashed_fields,
    audit_record,
    audit_verify_chain,
)
from sessions_app.models import AuditChain, AuditEvent


@pytest.fixture
def chain_a(business_a):
    """Five events in Alpha Bank's chain, oldest first."""
    return [
        audit_record(
            business=business_a, action=f"test.event_{n}", actor=Actor.system(), data={"n": n, "tags": ("a", "b")}
        )
        for n in range(1, 6)
    ]


def _problems(business):
    return [problem.problem for problem in audit_verify_chain(business=business)]


def _verify_command():
    """Run manage.py audit_verify; returns (stdout, stderr), raises CommandError when broken."""
    out, err = StringIO(), StringIO()
    call_command("audit_verify", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- writing ----------------------------------------------------------------------


def test_first_event_links_to_the_genesis_hash(chain_a):
    assert chain_a[0].sequence == 1
    assert chain_a[0].previous_hash == GENESIS_HASH


def test_each_event_links_to_the_one_before(chain_a):
    stored = list(AuditEvent.objects.order_by("sequence"))
    assert [event.sequence for event in stored] == [1, 2, 3, 4, 5]
    for previous, event in zip(stored, stored[1:]):
        assert event.previous_hash == previous.hash
    assert len({event.hash for event in stored}) == 5


def test_chain_head_points_at_the_newest_event(chain_a, business_a):
    head = AuditChain.objects.get(business=business_a)
    assert (head.last_sequence, head.last_hash) == (5, chain_a[-1].hash)


def test_stored_data_is_exactly_what_was_hashed(chain_a):
    """Tuples become lists before hashing, so a re-read row verifies."""
    assert AuditEvent.objects.get(pk=chain_a[0].pk).data == {"n": 1, "tags": ["a", "b"]}


def test_intact_chain_verifies(chain_a, business_a):
    assert audit_verify_chain(business=business_a) == []


def test_chain_written_by_real_services_verifies(answered_call, business_a):
    assert AuditEvent.objects.filter(business=business_a).count() > 5
    assert audit_verify_chain(business=business_a) == []


def test_events_cannot_be_edited_or_deleted_through_the_model(chain_a):
    event = AuditEvent.objects.get(pk=chain_a[0].pk)
    event.action = "forged"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert AuditEvent.objects.get(pk=chain_a[0].pk).action == "test.event_1"


# --- tampering --------------------------------------------------------------------
# Each of these goes around the model's append-only guard the way somebody with
# database access would.


def test_changed_data_is_found(chain_a, business_a):
    AuditEvent.objects.filter(pk=chain_a[2].pk).update(data={"n": 999})
    assert audit_verify_chain(business=business_a)[0].sequence == 3
    assert "content was changed after it was written" in _problems(business_a)


def test_changed_action_is_found(chain_a, business_a):
    AuditEvent.objects.filter(pk=chain_a[1].pk).update(action="decision.recorded")
    assert [(p.sequence, p.problem) for p in audit_verify_chain(business=business_a)] == [
        (2, "content was changed after it was written")
    ]


def test_changed_row_with_recomputed_own_hash_is_caught_by_its_mac_and_the_next_row(chain_a, business_a):
    """A forger who rewrites the row's hash too is caught by the row's MAC
    (made with a key outside the database) and by the next row's link."""
    forged = AuditEvent.objects.get(pk=chain_a[1].pk)
    forged.data = {"n": 999}
    new_hash = _event_hash(previous_hash=forged.previous_hash, fields=_hashed_fields(forged))
    AuditEvent.objects.filter(pk=forged.pk).update(data=forged.data, hash=new_hash)
    assert [(p.sequence, p.problem) for p in audit_verify_chain(business=business_a)] == [
        (2, "MAC does not match: rewritten by somebody without the audit key"),
        (3, "does not link to the event before it"),
    ]


def test_deleted_row_in_the_middle_is_found(chain_a, business_a):
    AuditEvent.objects.filter(pk=chain_a[2].pk).delete()  # a queryset delete skips Model.delete
    problems = _problems(business_a)
    assert "missing events before #4" in problems
    assert "does not link to the event before it" in problems


def test_removed_newest_rows_are_found(chain_a, business_a):
    AuditEvent.objects.filter(sequence__gte=4).delete()
    assert _problems(business_a) == ["the newest events were removed"]


def test_removing_every_row_is_found(chain_a, business_a):
    AuditEvent.objects.all().delete()
    assert _problems(business_a) == ["the newest events were removed"]


# --- two businesses ---------------------------------------------------------------


def test_each_business_has_its_own_chain(chain_a, business_b):
    first_b = audit_record(business=business_b, action="test.event_1", actor=Actor.system())
    assert first_b.sequence == 1
    assert first_b.previous_hash == GENESIS_HASH
    assert audit_record(business=chain_a[0].business, action="x", actor=Actor.system()).sequence == 6


def test_tampering_with_one_business_chain_leaves_the_other_intact(chain_a, business_a, business_b):
    audit_record(business=business_b, action="test.event_1", actor=Actor.system())
    audit_record(business=business_b, action="test.event_2", actor=Actor.system())
    AuditEvent.objects.filter(pk=chain_a[0].pk).update(data={})
    assert audit_verify_chain(business=business_a) != []
    assert audit_verify_chain(business=business_b) == []


# --- manage.py audit_verify -------------------------------------------------------


def test_command_reports_every_intact_chain(chain_a, business_b):
    audit_record(business=business_b, action="test.event_1", actor=Actor.system())
    out, err = _verify_command()
    assert "alpha-bank: audit chain intact" in out
    assert "beta-bank: audit chain intact" in out
    assert err == ""


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda events: AuditEvent.objects.filter(pk=events[1].pk).update(data={"n": 0}), id="data"),
        pytest.param(lambda events: AuditEvent.objects.filter(pk=events[1].pk).update(action="x"), id="action"),
        pytest.param(lambda events: AuditEvent.objects.filter(pk=events[1].pk).delete(), id="deleted"),
        pytest.param(lambda events: AuditEvent.objects.filter(sequence=5).delete(), id="newest_removed"),
    ],
)
def test_command_fails_on_a_tampered_chain_and_names_it(chain_a, business_b, tamper):
    audit_record(business=business_b, action="test.event_1", actor=Actor.system())
    tamper(chain_a)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 audit chain"):
        call_command("audit_verify", stdout=out, stderr=err)
    assert "alpha-bank: event #" in err.getvalue()
    assert "beta-bank: audit chain intact" in out.getvalue()
    assert "alpha-bank" not in out.getvalue()
