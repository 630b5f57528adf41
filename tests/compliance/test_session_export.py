"""Export of a session's full record for an auditor: record.json and the
evidence files in one zip, each file checked against its SHA-256."""

import base64
import hashlib
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from sessions_app.audit import audit_proof_problems, audit_verify_chain
from sessions_app.audit_checkpoints import checkpoint_public_keys
from sessions_app.models import AuditEvent


def export(browser, call) -> zipfile.ZipFile:
    response = browser.get(reverse("admin:sessions_app_verificationsession_export", args=[call.session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"session-{call.session.public_id}.zip" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_holds_the_record_and_every_evidence_file(reviewed_call, carol_browser):
    archive = export(carol_browser, reviewed_call)
    record = json.loads(archive.read("record.json"))
    assert record["session"]["id"] == str(reviewed_call.session.public_id)
    assert record["session"]["operator"]["username"] == "alice"
    [participant] = record["participants"]
    assert participant["name"] == "Max Mustermann"
    assert participant["decision"]["outcome"] == "approve"
    assert participant["decision"]["operator_username"] == "alice"
    assert participant["terms_acceptance"]["terms_version"] == "v1"
    assert participant["check_results"] == []
    assert [step["kind"] for step in participant["steps"]][0] == "terms"
    assert len(participant["evidence"]) == 2
    for entry in participant["evidence"]:
        content = archive.read(entry["file"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        assert entry["sha256_verified"] is True
    actions = [event["action"] for event in record["audit_trail"]]
    assert actions[0] == "session.created" and "decision.recorded" in actions
    assert all(len(event["hash"]) == 64 for event in record["audit_trail"])


def test_export_is_audited(reviewed_call, carol_browser, compliance_user, business_a):
    export(carol_browser, reviewed_call)
    event = AuditEvent.objects.get(action="compliance.session_exported")
    assert event.actor_user == compliance_user
    assert event.data["evidence_files"] == 2
    assert audit_verify_chain(business=business_a) == []


def test_a_tampered_file_is_flagged_not_hidden(reviewed_call, carol_browser, settings):
    from pathlib import Path

    (Path(settings.EVIDENCE_ROOT) / reviewed_call.face.file.name).write_bytes(b"not the captured image")
    record = json.loads(export(carol_browser, reviewed_call).read("record.json"))
    verified = {entry["id"]: entry["sha256_verified"] for entry in record["participants"][0]["evidence"]}
    assert verified[str(reviewed_call.face.public_id)] is False
    assert verified[str(reviewed_call.document.public_id)] is True


# --- the audit trail's proof: verifiable offline ---------------------------------------


def _checkpoint():
    call_command("audit_checkpoint", stdout=io.StringIO(), stderr=io.StringIO())


def _verify_export(path, *public_keys) -> tuple[bool, str, str]:
    """audit_verify --export: (passed, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    args = [arg for key in public_keys for arg in ("--public-key", key)]
    try:
        call_command("audit_verify", "--export", str(path), *args, stdout=out, stderr=err)
    except CommandError:
        return False, out.getvalue(), err.getvalue()
    return True, out.getvalue(), err.getvalue()


def test_export_carries_the_events_macs_and_the_checkpoint_covering_them(
    reviewed_call, carol_browser, settings, tmp_path
):
    """An auditor checks the exported trail with the checkpoint public key
    alone: each event's hash from its fields, the links to a signed checkpoint."""
    _checkpoint()
    content = b"".join(
        carol_browser.get(
            reverse("admin:sessions_app_verificationsession_export", args=[reviewed_call.session.pk])
        ).streaming_content
    )
    record = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("record.json"))
    trail, proof = record["audit_trail"], record["audit_proof"]
    assert all(len(event["mac"]) == 64 and event["key_id"] == settings.AUDIT_CHAIN_KEY_ID for event in trail)
    [logged] = [json.loads(line) for line in settings.AUDIT_CHECKPOINT_LOG.read_text().splitlines()]
    assert proof["checkpoints"][-1] == logged
    assert logged["sequence"] >= max(event["sequence"] for event in trail)
    assert proof["not_yet_checkpointed"] == []
    assert audit_proof_problems(trail=trail, proof=proof, public_keys=checkpoint_public_keys()) == []
    # The keys themselves never leave the server.
    for key in [*settings.AUDIT_CHAIN_KEYS.values(), settings.AUDIT_CHECKPOINT_SIGNING_KEY]:
        assert base64.b64encode(key) not in content and key.hex().encode() not in content

    (tmp_path / "export.zip").write_bytes(content)
    [public_key] = [base64.b64encode(key).decode() for key in checkpoint_public_keys().values()]
    passed, out, _err = _verify_export(tmp_path / "export.zip", public_key)
    assert passed and f"{len(trail)} event(s) anchored to signed checkpoints" in out


def test_an_export_changed_after_the_fact_fails_offline_verification(reviewed_call, carol_browser, tmp_path):
    _checkpoint()
    record = json.loads(export(carol_browser, reviewed_call).read("record.json"))
    [decision] = [event for event in record["audit_trail"] if event["action"] == "decision.recorded"]
    decision["hashed_fields"]["data"]["outcome"] = "decline"
    (tmp_path / "record.json").write_text(json.dumps(record))
    passed, _out, err = _verify_export(tmp_path / "record.json")
    assert not passed
    assert f"event #{decision['sequence']}: its fields do not give its hash" in err


def test_an_export_checked_against_another_public_key_fails(reviewed_call, carol_browser, tmp_path):
    _checkpoint()
    (tmp_path / "record.json").write_bytes(export(carol_browser, reviewed_call).read("record.json"))
    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    passed, _out, err = _verify_export(tmp_path / "record.json", base64.b64encode(other).decode())
    assert not passed
    assert "signed with an unknown key" in err


def test_events_after_the_newest_checkpoint_are_listed_as_not_anchored_yet(reviewed_call, carol_browser):
    record = json.loads(export(carol_browser, reviewed_call).read("record.json"))
    assert record["audit_proof"]["checkpoints"] == []
    assert record["audit_proof"]["not_yet_checkpointed"] == [event["sequence"] for event in record["audit_trail"]]


def test_a_file_that_is_not_an_export_is_a_clear_error(tmp_path, db):
    (tmp_path / "record.json").write_text(json.dumps({"session": {}}))
    with pytest.raises(CommandError, match="not a session export with an audit proof"):
        call_command("audit_verify", "--export", str(tmp_path / "record.json"), stdout=io.StringIO())
