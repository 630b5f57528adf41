"""A session's full record for compliance: the review page's content, the
record every export carries, and the export itself."""

import hashlib
import json
import mimetypes
import tempfile
import zipfile
from datetime import timedelta

from django.utils import timezone

from kyc.evidence_crypto import EvidenceIntegrityError
from kyc.regulations import RuleSet
from operators.repeat_applicants import seen_before_for
from operators.compliance.access import compliance_view_record
from operators.models import WebhookEvent
from sessions_app.audit import audit_event_export, audit_session_proof
from sessions_app.call_conditions import conditions_history
from sessions_app.integrity import integrity_panel_for_participant
from sessions_app.models import AuditEvent, Evidence, VerificationSession
from workflows.check_selectors import participant_checks


def _iso(value):
    return value.isoformat() if value else None


def evidence_file_name(evidence: Evidence) -> str:
    extension = mimetypes.guess_extension(evidence.content_type) or ".bin"
    participant = evidence.participant.public_id if evidence.participant_id else "session"
    return f"evidence/{participant}/{evidence.public_id}{extension}"


def session_for_review(session_pk) -> VerificationSession:
    return (
        VerificationSession.objects.select_related("business", "workflow", "operator__user")
        .prefetch_related(
            "participants__steps",
            "participants__evidence",
            "participants__audit_events",
        )
        .get(pk=session_pk)
    )


def _checks(participant) -> dict:
    """Every automated check result (a retake's superseded ones marked so),
    with all it stored, and the system recommendation."""
    checks = participant_checks(participant, history=True, full_details=True)
    return {"check_results": checks["results"], "recommendation": checks["recommendation"]}


def session_review(session: VerificationSession) -> dict:
    """Everything the review page and the export show, as plain data."""
    participants = []
    ordered = list(session.participants.order_by("position"))
    seen_before = seen_before_for(ordered)
    for participant in ordered:
        decision = getattr(participant, "decision", None)
        terms = getattr(participant, "terms_acceptance", None)
        participants.append(
            {
                "participant": participant,
                "terms": terms,
                # The regulated pre-call records (sessions_app.precall): the
                # consent to recording beside the terms, every position shared.
                "recording_consent": getattr(participant, "recording_consent", None),
                "locations": list(participant.locations.order_by("received_at", "pk")),
                "steps": list(participant.steps.order_by("position")),
                "decision": decision,
                "evidence": list(
                    Evidence.objects.filter(participant=participant).order_by("created_at", "frame_index")
                ),
                **_checks(participant),
                # The warning signs about the camera the operator saw (sessions_app/integrity.py).
                "integrity": integrity_panel_for_participant(participant),
                "seen_before": seen_before.get(participant.pk),
                # The minimum call conditions' changes between met and not met (sessions_app/call_conditions.py).
                "conditions_history": conditions_history(participant),
                # Drawn and ticked in the call (workflows.security_features).
                "security_features": list(
                    participant.security_feature_checks.filter(current=True).select_related(
                        "feature", "evidence", "checked_by__user"
                    )
                ),
            }
        )
    duration = session.call_duration
    return {
        "session": session,
        "call_duration": duration - timedelta(microseconds=duration.microseconds) if duration else None,
        "participants": participants,
        "session_evidence": list(Evidence.objects.filter(session=session, participant__isnull=True)),
        "timeline": list(
            AuditEvent.objects.filter(session=session).select_related("actor_user", "participant").order_by("sequence")
        ),
        "webhook_events": list(WebhookEvent.objects.filter(session=session).order_by("created_at")),
        "fraud_flags": list(session.fraud_flags.select_related("raised_by", "cleared_by").order_by("raised_at")),
        "erasure": getattr(session, "erasure", None),
        "rule_set": RuleSet.of(session).record(),
    }


def session_record(session: VerificationSession) -> dict:
    """The session's full record as JSON-ready data, for an auditor."""
    review = session_review(session)
    operator = session.operator

    def evidence_entry(evidence):
        return {
            "id": str(evidence.public_id),
            "kind": evidence.kind,
            "source": evidence.source,
            "label": evidence.label,
            "frame_index": evidence.frame_index,
            "content_type": evidence.content_type,
            "size": evidence.size,
            "sha256": evidence.sha256,
            "width": evidence.width,
            "height": evidence.height,
            "created_at": _iso(evidence.created_at),
            "erased_at": _iso(evidence.erased_at),
            "file": evidence_file_name(evidence) if evidence.file else None,
        }

    participants = []
    for entry in review["participants"]:
        participant, decision, terms = entry["participant"], entry["decision"], entry["terms"]
        participants.append(
            {
                "id": str(participant.public_id),
                "position": participant.position,
                "name": participant.name,
                "email": participant.email,
                "business_reference": participant.business_reference,
                "language": participant.language,
                "date_of_birth": _iso(participant.date_of_birth),
                "state": participant.state,
                "state_changed_at": _iso(participant.state_changed_at),
                "link_expires_at": _iso(participant.link_expires_at),
                "link_revoked_at": _iso(participant.link_revoked_at),
                "erased_at": _iso(participant.erased_at),
                "terms_acceptance": terms
                and {
                    "terms_version": terms.terms_version,
                    "terms_language": terms.terms_language,
                    "accepted_at": _iso(terms.accepted_at),
                    "ip_address": terms.ip_address,
                    "user_agent": terms.user_agent,
                },
                "recording_consent": entry["recording_consent"]
                and {
                    "accepted": entry["recording_consent"].accepted,
                    "text_version": entry["recording_consent"].text_version,
                    "text_language": entry["recording_consent"].text_language,
                    "decided_at": _iso(entry["recording_consent"].decided_at),
                    "ip_address": entry["recording_consent"].ip_address,
                    "user_agent": entry["recording_consent"].user_agent,
                },
                "locations": [
                    {
                        "latitude": location.latitude,
                        "longitude": location.longitude,
                        "accuracy_m": location.accuracy_m,
                        "located_at": _iso(location.located_at),
                        "received_at": _iso(location.received_at),
                        "ip_address": location.ip_address,
                        "ip_country": location.ip_country,
                        "location_country": location.location_country,
                    }
                    for location in entry["locations"]
                ],
                "steps": [
                    {
                        "position": step.position,
                        "kind": step.kind,
                        "state": step.state,
                        "data": step.data,
                        "started_at": _iso(step.started_at),
                        "finished_at": _iso(step.finished_at),
                    }
                    for step in entry["steps"]
                ],
                "decision": decision
                and {
                    "outcome": decision.outcome,
                    "reason_code": decision.reason_code,
                    "comment": decision.comment,
                    "shared_with_customer": decision.shared_with_customer,
                    "operator": decision.operator.display_name,
                    "operator_username": decision.operator.user.get_username(),
                    "decided_at": _iso(decision.created_at),
                    "provisional": decision.provisional,
                    "review": (four_eyes := decision.review_or_none)
                    and {
                        "outcome": four_eyes.outcome,
                        "final_outcome": four_eyes.final_outcome,
                        "final_reason_code": four_eyes.final_reason_code,
                        "comment": four_eyes.comment,
                        "reviewer_username": four_eyes.reviewer.get_username(),
                        "reviewed_at": _iso(four_eyes.created_at),
                    },
                },
                "evidence": [evidence_entry(evidence) for evidence in entry["evidence"]],
                "check_results": entry["check_results"],
                "recommendation": entry["recommendation"],
                "call_conditions": [
                    {"at": _iso(row["at"]), "met": row["met"], "measured": row["summary"], "below": row["below"]}
                    for row in entry["conditions_history"]
                ],
                "security_features": [
                    {
                        "id": str(check.public_id),
                        "position": check.position,
                        "document_kind": check.document_kind,
                        "category": check.category,
                        "feature": check.feature.name,
                        "chosen_at": _iso(check.chosen_at),
                        "checked_at": _iso(check.checked_at),
                        "checked_by": check.checked_by.display_name if check.checked_by and check.checked_at else None,
                        "offset_seconds": check.offset_seconds,
                        "evidence": str(check.evidence.public_id) if check.evidence else None,
                    }
                    for check in entry["security_features"]
                ],
                "capture_integrity": {
                    "level": entry["integrity"]["level"],
                    "signals": [
                        {key: signal[key] for key in ("code", "phase", "strength", "weight", "count", "params", "first_seen_at")}
                        for signal in entry["integrity"]["signals"]
                    ],
                },
            }
        )
    erasure = review["erasure"]
    return {
        "exported_at": timezone.now().isoformat(),
        "session": {
            "id": str(session.public_id),
            "business": {"id": str(session.business.public_id), "name": session.business.name},
            "kind": session.kind,
            "state": session.state,
            "workflow": {"id": session.workflow_id, "name": session.workflow.name},
            # The rules the call ran under (its own snapshot, not the workflow's today).
            "rule_set": review["rule_set"],
            "business_reference": session.business_reference,
            "redirect_url": session.redirect_url,
            "operator": operator and {"name": operator.display_name, "username": operator.user.get_username()},
            "created_at": _iso(session.created_at),
            "waiting_at": _iso(session.waiting_at),
            "answered_at": _iso(session.answered_at),
            "ended_at": _iso(session.ended_at),
            "call_duration_seconds": (
                int(session.call_duration.total_seconds()) if session.call_duration is not None else None
            ),
            "erasure": erasure
            and {"erased_at": _iso(erasure.erased_at), "retention_days": erasure.retention_days},
        },
        "participants": participants,
        "session_evidence": [evidence_entry(evidence) for evidence in review["session_evidence"]],
        "audit_trail": [
            {
                "sequence": event.sequence,
                "created_at": _iso(event.created_at),
                "action": event.action,
                "actor_kind": event.actor_kind,
                "actor_user": event.actor_user.get_username() if event.actor_user else None,
                "participant": str(event.participant.public_id) if event.participant else None,
                "data": event.data,
                **audit_event_export(event),
            }
            for event in review["timeline"]
        ],
        # The signed checkpoints and the chain's links that anchor these
        # events outside the database: `manage.py audit_verify --export` checks
        # them with the checkpoint public key alone.
        "audit_proof": audit_session_proof(business=session.business, events=review["timeline"]),
        "webhook_events": [
            {
                "id": str(event.public_id),
                "type": event.event_type,
                "state": event.state,
                "attempts": event.attempts,
                "created_at": _iso(event.created_at),
                "delivered_at": _iso(event.delivered_at),
            }
            for event in review["webhook_events"]
        ],
    }


def session_export_zip(*, session: VerificationSession, user):
    """record.json and every evidence file still held, in one zip. Each
    file's SHA-256 is checked against the one recorded at capture; a mismatch,
    or a file that fails its integrity check, is written into the record, not
    hidden. The export is audited.

    Returns the zip as a temporary file (open, at its start; closing deletes
    it): recordings are decrypted and zipped one block at a time, so the
    export never holds a whole recording, let alone all of them, in memory."""
    record = session_record(session)
    archive_file = tempfile.TemporaryFile()
    try:
        with zipfile.ZipFile(archive_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            evidence_by_id = {
                str(evidence.public_id): evidence
                for evidence in Evidence.objects.filter(session=session, erased_at__isnull=True).exclude(file="")
            }
            entries = [entry for p in record["participants"] for entry in p["evidence"]] + record["session_evidence"]
            for entry in entries:
                evidence = evidence_by_id.get(entry["id"])
                if evidence is None:
                    continue
                _export_evidence_file(archive, entry, evidence)
            archive.writestr("record.json", json.dumps(record, indent=2, ensure_ascii=False, default=str))
        archive_file.seek(0)
    except BaseException:
        archive_file.close()
        raise
    compliance_view_record(
        user=user, obj=session, view="session_exported", data={"evidence_files": len(evidence_by_id)}
    )
    return archive_file


def _export_evidence_file(archive: zipfile.ZipFile, entry: dict, evidence: Evidence) -> None:
    # Decrypted into a temporary file first, hashing as it goes: a chunk
    # that fails authentication halfway must not leave half a file in the zip.
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(prefix="verity-export-") as plain:
        try:
            with evidence.file.open("rb") as handle:
                for block in iter(lambda: handle.read(EXPORT_BLOCK_BYTES), b""):
                    digest.update(block)
                    plain.write(block)
        except EvidenceIntegrityError:
            entry["file"] = None
            entry["file_problem"] = "failed its integrity check (changed at rest)"
            entry["sha256_verified"] = False
            return
        except OSError:
            entry["file"] = None
            entry["file_problem"] = "missing from storage"
            return
        plain.flush()
        entry["sha256_verified"] = digest.hexdigest() == evidence.sha256
        # Recordings are compressed already: stored, not deflated again.
        compression = zipfile.ZIP_STORED if evidence.content_type.startswith(("video/", "audio/")) else None
        archive.write(plain.name, entry["file"], compress_type=compression)


EXPORT_BLOCK_BYTES = 1024 * 1024
