"""Export of a session's full record for an auditor: record.json and the
evidence files in one zip, each file checked against its SHA-256."""

import hashlib
import io
import json
import zipfile

from django.urls import reverse

from sessions_app.audit import audit_verify_chain
from sessions_app.models import AuditEvent


def export(browser, call) -> zipfile.ZipFile:
    response = browser.get(reverse("admin:sessions_app_verificationsession_export", args=[call.session.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"session-{call.session.public_id}.zip" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(response.content))


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
