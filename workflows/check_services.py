"""Writes of the automated checks: run the engines on stored evidence and keep
what they saw as CheckResult rows.

Kept apart from workflows/services.py (the console's captures, steps and
questions) so the two grow without stepping on each other; the capture
service calls in here only through the Celery task
``workflows.tasks.run_checks_for_evidence``.

What runs on which evidence (customer's camera unless said otherwise):

- document front: quality, MRZ, face match against the latest live face;
- document back: quality, MRZ (an ID card's MRZ is on its back);
- face: quality, face match against the latest document front;
- liveness frames: once the burst of one action is complete, liveness of
  that action and face match of its frames against the latest live face,
  stored on the burst's first frame;
- anything from the operator's view (the frame the operator received):
  quality only, so the operator knows whether the video itself is usable;
  the identity checks read the customer's full-resolution captures;
- every capture of the customer's camera, after its checks: capture
  integrity (the same picture sent again, a movement burst that did not
  move), kept as capture signals for the operator's risk panel.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation

from kyc.evidence_crypto import EvidenceIntegrityError
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.integrity import capture_integrity_record
from sessions_app.models import AuditEvent, Evidence, Participant, VerificationSession
from workflows import check_selectors, events
from workflows import steps as step_kinds
from workflows.checks.results import ERROR, CheckOutcome, reason
from workflows.models import CheckResult

logger = logging.getLogger(__name__)

def _engine_versions() -> dict[str, Callable[[], str]]:
    from workflows.checks import faces, liveness, mrz, quality

    return {
        CheckResult.Kind.MRZ: mrz.engine_version,
        CheckResult.Kind.FACE_MATCH: faces.engine_version,
        CheckResult.Kind.LIVENESS: liveness.engine_version,
        CheckResult.Kind.QUALITY: quality.engine_version,
    }


@dataclass
class PlannedCheck:
    kind: str
    subject: Evidence  # the evidence the result is stored on
    run: Callable[[], CheckOutcome]


def _read(evidence: Evidence) -> bytes:
    with evidence.file.open("rb") as handle:
        return handle.read()


def _picture(data: bytes):
    """A capture decoded once for every check of a task that reads it; bytes
    that do not decode are handed on as they are, for each engine to say so
    in its own result, as it does for any capture."""
    from workflows.checks.images import load_rgb

    try:
        return load_rgb(data)
    except Exception:  # noqa: BLE001 - the engines report it
        return data


def _latest(participant_id: int, kind: str) -> Evidence | None:
    return (
        Evidence.objects.filter(
            participant_id=participant_id, kind=kind, source=Evidence.Source.CUSTOMER_DEVICE, erased_at__isnull=True
        )
        .exclude(file="")
        .order_by("-created_at", "-pk")
        .first()
    )


def _burst(evidence: Evidence) -> list[Evidence]:
    return list(
        Evidence.objects.filter(
            participant_id=evidence.participant_id,
            capture_id=evidence.capture_id,
            label=evidence.label,
            kind=evidence.kind,  # a liveness action's or a challenge's frames
            source=Evidence.Source.CUSTOMER_DEVICE,
            erased_at__isnull=True,
        )
        .exclude(file="")
        .order_by("frame_index")
    )


def checks_planned(evidence: Evidence) -> list[PlannedCheck]:
    """The checks this evidence calls for (see the module docstring)."""
    from workflows.checks import faces, liveness, mrz, quality

    participant = evidence.participant
    workflow = participant.session.workflow
    plan: list[PlannedCheck] = []
    kind = evidence.kind

    # Read and decoded once for every check of this capture.
    @functools.cache
    def picture():
        return _picture(_read(evidence))

    if kind in (Evidence.Kind.DOCUMENT_FRONT, Evidence.Kind.DOCUMENT_BACK, Evidence.Kind.FACE):
        capture_kind = quality.FACE if kind == Evidence.Kind.FACE else quality.DOCUMENT
        plan.append(PlannedCheck(CheckResult.Kind.QUALITY, evidence,
                                 lambda: quality.check_quality(picture(), kind=capture_kind)))
    if evidence.source != Evidence.Source.CUSTOMER_DEVICE:
        return plan

    if kind in (Evidence.Kind.DOCUMENT_FRONT, Evidence.Kind.DOCUMENT_BACK):
        plan.append(PlannedCheck(
            CheckResult.Kind.MRZ,
            evidence,
            lambda: mrz.check_mrz(
                picture(),
                expected_name=participant.name or None,
                expected_birth_date=participant.date_of_birth,
                minimum_age=workflow.minimum_age,
            ),
        ))
    if kind in (Evidence.Kind.DOCUMENT_FRONT, Evidence.Kind.FACE):
        # The face and the document front are compared when the second of
        # them arrives, on whichever that is.
        if kind == Evidence.Kind.FACE:
            face, document = evidence, _latest(participant.pk, Evidence.Kind.DOCUMENT_FRONT)
        else:
            face, document = _latest(participant.pk, Evidence.Kind.FACE), evidence
        if face is not None and document is not None:
            plan.append(PlannedCheck(
                CheckResult.Kind.FACE_MATCH,
                evidence,
                lambda: faces.check_face_match(
                    live_face=picture() if face is evidence else _picture(_read(face)),
                    document=picture() if document is evidence else _picture(_read(document)),
                    threshold=workflow.face_match_threshold,
                ),
            ))
    elif kind == Evidence.Kind.LIVENESS_FRAME:
        burst = _burst(evidence)
        # One result per burst, on its first frame, once every frame is in:
        # whichever frame completes the burst runs it, the others stop here.
        if len(burst) >= step_kinds.LIVENESS_BURST_FRAMES:
            first = burst[0]
            action = evidence.label

            # Read and decoded once for both checks of the burst; the faces
            # found in them are kept by the face engine (faces.detect_faces),
            # so the person-swap check reuses what the liveness check found.
            @functools.cache
            def frames() -> list:
                return [(f"{action} {frame.frame_index + 1}", _picture(_read(frame))) for frame in burst]

            plan.append(PlannedCheck(
                CheckResult.Kind.LIVENESS,
                first,
                lambda: liveness.check_liveness({action: [picture for _, picture in frames()]}),
            ))
            face = _latest(participant.pk, Evidence.Kind.FACE)
            if face is not None:
                # The person-swap check only: the document is compared when
                # the face or the document front arrives.
                plan.append(PlannedCheck(
                    CheckResult.Kind.FACE_MATCH,
                    first,
                    lambda: faces.check_face_match(
                        live_face=_picture(_read(face)),
                        document=None,
                        threshold=workflow.face_match_threshold,
                        liveness_frames=frames(),
                    ),
                ))
    return plan


def _outcome_details(outcome: CheckOutcome) -> dict:
    return {
        **outcome.details,
        # The template and its values let each reader get the sentence in
        # their language (workflows/check_texts.py).
        "reasons": [
            {
                "code": reason.code,
                "message": reason.message,
                "advice": reason.advice,
                "template": reason.template,
                "params": reason.params,
            }
            for reason in outcome.reasons
        ],
    }


def check_result_store(*, subject: Evidence, kind: str, engine_version: str, outcome: CheckOutcome) -> CheckResult:
    """Keep one outcome, once: a second worker that computed the same
    result finds the first one's row and returns it."""
    participant = subject.participant
    session = participant.session
    try:
        with transaction.atomic():
            # The operator's panel shows the result. Marking the session
            # changed first takes its row before the audit chain, the order of
            # sessions_app.locks.
            session_mark_changed(session)
            result = CheckResult.objects.create(
                evidence=subject,
                participant=participant,
                kind=kind,
                status=outcome.status,
                score=outcome.score,
                details=_outcome_details(outcome),
                engine=outcome.engine,
                engine_version=engine_version,
                duration_ms=outcome.duration_ms,
            )
            audit_record(
                business=session.business,
                session=session,
                participant=participant,
                actor=Actor.system(),
                action="check.recorded",
                data={
                    "check": str(result.public_id),
                    "evidence": str(subject.public_id),
                    "kind": kind,
                    "status": outcome.status,
                    "engine": outcome.engine,
                    "engine_version": engine_version,
                },
            )
            events.check_recorded.send(
                sender=CheckResult, session=session, participant=participant, kind=kind, outcome=outcome
            )
    except IntegrityError:
        return CheckResult.objects.get(evidence=subject, kind=kind, engine_version=engine_version)
    return result


def evidence_run_checks(*, evidence_id: int) -> list[CheckResult]:
    """Run every check this evidence calls for and store each result once.

    Idempotent per evidence, kind and engine version: a check already stored
    is not run again. Engine failures are stored as ``error`` results (the
    recommendation turns them into a review); database errors propagate, for
    the task to retry.
    """
    evidence = (
        Evidence.objects.select_related("participant__session__workflow", "participant__session__business")
        .filter(pk=evidence_id)
        .first()
    )
    if evidence is None or evidence.participant is None or evidence.erased_at or not evidence.file:
        logger.info("no checks for evidence %s: gone, erased or not a participant's", evidence_id)
        return []
    versions = _engine_versions()
    results = []
    for planned in checks_planned(evidence):
        version = versions[planned.kind]()
        existing = CheckResult.objects.filter(evidence=planned.subject, kind=planned.kind, engine_version=version).first()
        if existing is not None:
            results.append(existing)
            continue
        try:
            outcome = planned.run()
        except OSError as exc:
            # The stored file could not be read (engines guard their own
            # failures): a result that says so, so the participant is
            # reviewed instead of waiting for a check that never comes.
            outcome = CheckOutcome(
                kind=planned.kind,
                status=ERROR,
                score=None,
                reasons=[reason("evidence.unreadable", "The capture could not be read (%(error)s).", error=type(exc).__name__)],
            )
        except EvidenceIntegrityError:
            # Changed at rest since it was captured: never checked, and said so.
            logger.error("evidence %s failed its integrity check before a check", planned.subject.public_id)
            outcome = CheckOutcome(
                kind=planned.kind,
                status=ERROR,
                score=None,
                reasons=[reason("evidence.integrity", "The capture failed its integrity check (changed at rest).")],
            )
        results.append(
            check_result_store(subject=planned.subject, kind=planned.kind, engine_version=version, outcome=outcome)
        )
    capture_integrity_check(evidence=evidence)
    # The last capture checked after the call ends completes the participant's checks.
    participant_checks_completed_emit(participant_id=evidence.participant_id)
    return results


# --- capture integrity: the server's own view ---------------------------------------

# How many of the participant's other captures a new one is compared with.
INTEGRITY_COMPARE_LIMIT = 12
INTEGRITY_KINDS = (
    Evidence.Kind.DOCUMENT_FRONT,
    Evidence.Kind.DOCUMENT_BACK,
    Evidence.Kind.FACE,
    Evidence.Kind.LIVENESS_FRAME,
    # A challenge answered by a still picture or a replay is the attack it
    # is there to catch: its burst is looked at like a liveness action's.
    Evidence.Kind.CHALLENGE_FRAME,
)
BURST_KINDS = (Evidence.Kind.LIVENESS_FRAME, Evidence.Kind.CHALLENGE_FRAME)


def _fingerprint(evidence: Evidence):
    from workflows.checks.capture_integrity import fingerprint

    return fingerprint(_picture(_read(evidence)))


def capture_integrity_check(*, evidence: Evidence) -> list[str]:
    """Compare a capture of the customer's camera with the participant's
    other captures (the same picture again: ``repeated_picture``) and, for a
    complete liveness burst, its frames with each other (nothing moved:
    ``still_picture``). Kept through sessions_app.integrity; returns the
    codes that fired. A failure is logged, never a failed check run."""
    from workflows.checks import capture_integrity as view

    if evidence.source != Evidence.Source.CUSTOMER_DEVICE or evidence.kind not in INTEGRITY_KINDS:
        return []
    try:
        signals = []
        subject = evidence
        own = [evidence.pk]  # the frames of this capture: never "another" capture
        if evidence.kind in BURST_KINDS:
            burst = _burst(evidence)
            if len(burst) < step_kinds.LIVENESS_BURST_FRAMES:
                return []  # the frame that completes the burst looks at it
            prints = [p for p in (_fingerprint(frame) for frame in burst) if p is not None]
            if view.still_burst(prints):
                signals.append(("still_picture", {"frames": len(prints), "action": evidence.label[:32]}))
            subject = burst[0]
            own = [frame.pk for frame in burst]
        # One picture per other capture request (a burst's first frame).
        others = {}
        for other in (
            Evidence.objects.filter(
                participant_id=evidence.participant_id,
                source=Evidence.Source.CUSTOMER_DEVICE,
                kind__in=INTEGRITY_KINDS,
                erased_at__isnull=True,
            )
            .exclude(file="")
            .exclude(pk__in=own)
            .exclude(capture_id=subject.capture_id if subject.capture_id else -1)
            .order_by("-created_at", "frame_index")
        ):
            others.setdefault(other.capture_id or other.pk, other)
            if len(others) >= INTEGRITY_COMPARE_LIMIT:
                break
        mine = _fingerprint(subject)
        if mine is not None and others:
            matched = [other.kind for other in others.values() if (p := _fingerprint(other)) is not None and mine.same_as(p)]
            if matched:
                signals.append(
                    ("repeated_picture", {"similar_pairs": len(matched), "frames": len(others) + 1, "kinds": sorted(set(matched))})
                )
    except Exception:  # noqa: BLE001 - an unreadable picture or a missing engine loses only this signal
        logger.exception("capture integrity of evidence %s could not be checked", evidence.public_id)
        return []
    if signals:
        capture_integrity_record(participant_id=evidence.participant_id, phase="server", signals=signals)
    return [code for code, _params in signals]


# --- checks.completed -----------------------------------------------------------------

CHECKS_COMPLETED_ACTION = "checks.completed"


def _webhook_result(result: dict) -> dict:
    # Ids, codes and numbers only: reason messages quote names and dates,
    # and a webhook log should hold no personal data (operators.webhooks).
    return {
        "id": result["id"],
        "kind": result["kind"],
        "status": result["status"],
        "score": result["score"],
        "engine": result["engine"],
        "engine_version": result["engine_version"],
        "created_at": result["created_at"],
        "evidence": {"id": result["evidence"]["id"], "kind": result["evidence"]["kind"],
                     "source": result["evidence"]["source"]},
        "reasons": [reason["code"] for reason in result["details"]["reasons"]],
    }


def _results_digest(results: list[dict]) -> str:
    return hashlib.sha256(",".join(sorted(result["id"] for result in results)).encode()).hexdigest()


def participant_checks_completed_emit(*, participant_id: int) -> bool:
    """Say once that a participant's checks are complete: an audit event
    and the ``checks.completed`` webhook with the results and the
    recommendation. True when this call said it.

    Complete means: the call is over (the session ended, so no capture can
    come), the participant has at least one result, and no check due on any
    of their captures is still without a result
    (check_selectors.participant_checks_awaited). Called after each
    capture's checks and once after the call ends (workflows.receivers), so
    whichever comes last says it. Said again only for another set of
    current results (a new engine version re-checked the captures); never
    twice for the same set, whoever calls and however often.
    """
    with transaction.atomic():
        # The lock makes the two callers (the last check, the end of the
        # call) take turns: the second sees the first one's audit event.
        try:
            participant = locks.participant_lock(participant_id)
        except Participant.DoesNotExist:
            return False
        if participant.erased_at is not None:
            return False
        session = participant.session
        if session.state not in VerificationSession.ENDED_STATES:
            return False
        if check_selectors.participant_checks_awaited(participant, customer_only=False):
            return False
        # The webhook's sentences in the default language, whoever's request
        # ran this (embedded mode runs it inline).
        with translation.override(settings.LANGUAGE_CODE):
            checks = check_selectors.participant_checks(participant)
        if not checks["results"]:
            return False
        digest = _results_digest(checks["results"])
        said = AuditEvent.objects.filter(participant=participant, action=CHECKS_COMPLETED_ACTION).values_list(
            "data", flat=True
        )
        if any(data.get("results_digest") == digest for data in said):
            return False
        recommendation = checks["recommendation"]
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=Actor.system(),
            action=CHECKS_COMPLETED_ACTION,
            data={
                "results_digest": digest,
                "results": [result["id"] for result in checks["results"]],
                "recommendation": recommendation["decision"],
            },
        )
        events.checks_completed.send(
            sender=Participant,
            session=session,
            participant=participant,
            results=[_webhook_result(result) for result in checks["results"]],
            recommendation={
                "decision": recommendation["decision"],
                "advisory": True,
                "reasons": [
                    {"kind": reason["kind"], "status": reason["status"], "code": reason["code"]}
                    for reason in recommendation["reasons"]
                ],
                "statuses": recommendation["statuses"],
            },
        )
    return True


def session_checks_completed_emit(*, session_id: int) -> int:
    """After the call: say it for every participant whose checks are all in
    already. Returns for how many it was said."""
    return sum(
        participant_checks_completed_emit(participant_id=participant_id)
        for participant_id in Participant.objects.filter(session_id=session_id).values_list("pk", flat=True)
    )
