"""Signed checkpoints of the audit chains' heads, kept outside the database
(a log file and the "verity.audit.checkpoint" logger): a removed tail, a
chain rebuilt without MACs and a forged checkpoint are each found; keys
rotate without losing old events; events from before MACs still verify."""

import base64
import json
import logging
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError

from sessions_app.audit import Actor, _event_hash, _hashed_fields, audit_record
from sessions_app.audit_checkpoints import checkpoints_read
from sessions_app.models import AuditChain, AuditEvent
from tests.unit.settings_subprocess import run_python


def record(business, count, start=1):
    return [
        audit_record(business=business, action="test.event", actor=Actor.system(), data={"n": n})
        for n in range(start, start + count)
    ]


def checkpoint() -> str:
    out = StringIO()
    call_command("audit_checkpoint", stdout=out, stderr=StringIO())
    return out.getvalue()


def verify() -> tuple[str, str]:
    """(stdout, stderr) of audit_verify; raises CommandError when it finds tampering."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", stdout=out, stderr=err)
    except CommandError as exc:
        exc.out, exc.err = out.getvalue(), err.getvalue()
        raise
    return out.getvalue(), err.getvalue()


def verify_fails() -> str:
    with pytest.raises(CommandError) as failure:
        verify()
    return failure.value.err


def log_lines(settings) -> list[dict]:
    return [json.loads(line) for line in settings.AUDIT_CHECKPOINT_LOG.read_text().splitlines()]


# --- writing checkpoints -----------------------------------------------------------


def test_a_checkpoint_is_appended_to_the_file_and_logged(business_a, business_b, settings, caplog):
    events = record(business_a, 3)
    with caplog.at_level(logging.INFO, logger="verity.audit.checkpoint"):
        assert "alpha-bank: checkpoint #3" in checkpoint()
    [line] = log_lines(settings)
    assert (line["business"], line["sequence"], line["head_hash"]) == (str(business_a.public_id), 3, events[-1].hash)
    assert line["signature"] and line["key_id"]
    # The same line goes to the log shipper; the business without events has no checkpoint.
    assert [json.loads(r.getMessage()) for r in caplog.records if r.name == "verity.audit.checkpoint"] == [line]


def test_checkpointing_twice_without_new_events_adds_nothing(business_a, settings):
    record(business_a, 2)
    checkpoint()
    assert "alpha-bank: nothing new to checkpoint" in checkpoint()
    record(business_a, 1, start=3)
    checkpoint()
    assert [line["sequence"] for line in log_lines(settings)] == [2, 3]


def test_the_periodic_task_is_scheduled_and_run_by_run_periodic_tasks(business_a, settings):
    assert django_settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["task"] == "sessions_app.tasks.audit_checkpoint"
    record(business_a, 2)
    out = StringIO()
    call_command("run_periodic_tasks", "--only", "checkpoint", stdout=out)
    assert "audit checkpoint: {'written': 1, 'refused': 0}" in out.getvalue()
    assert log_lines(settings)[0]["sequence"] == 2


def test_a_chain_that_no_longer_verifies_is_not_checkpointed(business_a, settings):
    """Signing the head of a forged chain would vouch for the forgery."""
    record(business_a, 3)
    checkpoint()
    record(business_a, 2, start=4)
    AuditEvent.objects.filter(business=business_a, sequence=4).update(action="forged")
    with pytest.raises(CommandError, match="not checkpointed"):
        call_command("audit_checkpoint", stdout=StringIO(), stderr=StringIO())
    assert [line["sequence"] for line in log_lines(settings)] == [3]


# --- what the checkpoints catch ----------------------------------------------------


def test_a_tail_deleted_behind_a_checkpoint_is_found(business_a):
    """Reproduces: the newest events deleted and the head row moved back with
    them, so the database alone is consistent. The checkpoint is not."""
    events = record(business_a, 3)
    checkpoint()
    record(business_a, 2, start=4)
    checkpoint()
    AuditEvent.objects.filter(business=business_a, sequence__gte=4).delete()
    AuditChain.objects.filter(business=business_a).update(last_sequence=3, last_hash=events[-1].hash)
    err = verify_fails()
    assert "alpha-bank: event #4: the chain ends at #3 but the signed checkpoint of" in err
    assert "covers #5: the newest events were removed" in err
    assert "alpha-bank: TAMPERED since event #4" in err
    assert "last checkpoint that still matches: #3 signed" in err


def test_a_chain_rebuilt_without_macs_no_longer_matches_its_checkpoint(business_a):
    """Reproduces: every row deleted and written again unkeyed (as if from
    before MACs) with the public algorithm, one event changed."""
    record(business_a, 4)
    checkpoint()
    previous = "0" * 64
    for event in AuditEvent.objects.filter(business=business_a).order_by("sequence"):
        event.data = {"n": 99} if event.sequence == 2 else event.data
        event.previous_hash = previous
        event.hash = _event_hash(previous_hash=previous, fields=_hashed_fields(event), keyed=False)
        AuditEvent.objects.filter(pk=event.pk).update(
            data=event.data, previous_hash=previous, hash=event.hash, mac="", key_id=""
        )
        previous = event.hash
    AuditChain.objects.filter(business=business_a).update(last_hash=previous)
    err = verify_fails()
    assert "alpha-bank: event #4: differs from the signed checkpoint of" in err
    assert "no checkpoint matches" in err


def test_a_forged_checkpoint_is_rejected_and_not_trusted(business_a, settings):
    """Reproduces: the tail removed, then a checkpoint of the shortened chain
    appended to the log, signed with a key that is not the installation's."""
    events = record(business_a, 5)
    checkpoint()
    AuditEvent.objects.filter(business=business_a, sequence__gte=4).delete()
    AuditChain.objects.filter(business=business_a).update(last_sequence=3, last_hash=events[2].hash)
    forged = {**log_lines(settings)[0], "sequence": 3, "head_hash": events[2].hash, "at": "2099-01-01T00:00:00+00:00"}
    unsigned = {key: value for key, value in forged.items() if key != "signature"}
    payload = json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()
    forged["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(payload)).decode()
    with open(settings.AUDIT_CHECKPOINT_LOG, "a") as log_file:
        log_file.write(json.dumps(forged) + "\n")

    accepted, rejected = checkpoints_read()
    assert [c.sequence for c in accepted[str(business_a.public_id)]] == [5]
    assert [(r.line, r.reason) for r in rejected] == [(2, "signature does not verify (forged or damaged)")]
    err = verify_fails()
    assert "checkpoint log line 2: rejected, signature does not verify (forged or damaged)" in err
    assert "covers #5: the newest events were removed" in err


def test_a_checkpoint_with_a_changed_head_hash_is_rejected(business_a, settings):
    record(business_a, 2)
    checkpoint()
    line = log_lines(settings)[0]
    settings.AUDIT_CHECKPOINT_LOG.write_text(json.dumps({**line, "head_hash": "f" * 64}) + "\n")
    err = verify_fails()
    assert "checkpoint log line 1: rejected, signature does not verify" in err


def test_an_intact_chain_names_its_matching_checkpoint(business_a):
    record(business_a, 3)
    checkpoint()
    out, err = verify()
    assert "alpha-bank: audit chain intact (3 events; last checkpoint that still matches: #3 signed" in out
    assert err == ""


# --- keys ---------------------------------------------------------------------------


def test_after_key_rotation_old_and_new_events_verify(business_a, settings):
    old_kid = settings.AUDIT_CHAIN_KEY_ID
    record(business_a, 2)
    settings.AUDIT_CHAIN_KEYS = {**settings.AUDIT_CHAIN_KEYS, "k2026": b"n" * 32}
    settings.AUDIT_CHAIN_KEY_ID = "k2026"
    record(business_a, 2, start=3)
    stored = list(AuditEvent.objects.filter(business=business_a).order_by("sequence"))
    assert [event.key_id for event in stored] == [old_kid, old_kid, "k2026", "k2026"]
    out, _err = verify()
    assert "alpha-bank: audit chain intact" in out
    # The old key must stay configured: without it, its events cannot be vouched for.
    settings.AUDIT_CHAIN_KEYS = {"k2026": b"n" * 32}
    assert f"MAC made with a key id not configured ('{old_kid}')" in verify_fails()


def test_a_mac_made_with_another_key_is_refused(business_a, settings):
    record(business_a, 2)
    settings.AUDIT_CHAIN_KEYS = {settings.AUDIT_CHAIN_KEY_ID: b"x" * 32}
    assert "alpha-bank: event #1: MAC does not match" in verify_fails()


def test_events_from_before_macs_verify_and_are_reported_unkeyed(business_a):
    """Rows written by the code before this change have no MAC and hash their
    fields themselves; the first keyed event's MAC covers them from then on."""
    record(business_a, 2)
    previous = "0" * 64
    for event in AuditEvent.objects.filter(business=business_a).order_by("sequence"):
        event.hash = _event_hash(previous_hash=previous, fields=_hashed_fields(event), keyed=False)
        AuditEvent.objects.filter(pk=event.pk).update(previous_hash=previous, hash=event.hash, mac="", key_id="")
        previous = event.hash
    AuditChain.objects.filter(business=business_a).update(last_hash=previous)
    first_keyed, newest = record(business_a, 2, start=3)
    out, _err = verify()
    assert f"#1-#2 unkeyed before {first_keyed.created_at.isoformat()} (plain hash chain only)" in out
    # An unkeyed event after a keyed one was written without the key.
    AuditEvent.objects.filter(pk=newest.pk).update(mac="", key_id="")
    assert "event #4: has no MAC although it comes after keyed events" in verify_fails()


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"AUDIT_CHAIN_KEYS": "k1:not base64!"}, "AUDIT_CHAIN_KEYS[k1] is not base64"),
        ({"AUDIT_CHAIN_KEYS": "k1:" + base64.b64encode(b"short").decode()}, "a key of 5 bytes, at least 32 needed"),
        (
            {"AUDIT_CHAIN_KEYS": f"k1:{base64.b64encode(b'a' * 32).decode()},k2:{base64.b64encode(b'b' * 32).decode()}"},
            "AUDIT_CHAIN_KEY_ID=None names none of AUDIT_CHAIN_KEYS",
        ),
    ],
)
def test_a_bad_key_configuration_stops_start_up(tmp_path, variables, message):
    result = run_python(tmp_path / "var", "import django; django.setup()", **variables)
    assert result.returncode != 0
    assert message in result.stderr


def test_without_configuration_keys_are_made_once_and_kept_apart_from_the_secret_key(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AUDIT_CHAIN_KEY_ID, len(s.AUDIT_CHAIN_KEYS[s.AUDIT_CHAIN_KEY_ID]), len(s.AUDIT_CHECKPOINT_SIGNING_KEY))"
    )
    first = run_python(tmp_path / "var", code)
    assert first.returncode == 0, first.stderr
    assert run_python(tmp_path / "var", code).stdout == first.stdout
    kid, mac_key_length, signing_key_length = first.stdout.split()
    assert kid.startswith("local-") and (mac_key_length, signing_key_length) == ("32", "32")
    for name in ("audit_chain_key", "audit_checkpoint_key"):
        assert oct((tmp_path / "var" / name).stat().st_mode & 0o777) == "0o600"
