"""Data retention: erase the evidence and personal fields of sessions past
their business's retention period, keeping an anonymised record.

What stays: the session's and participants' states and timestamps, step
states, the decision's outcome and reason code, evidence metadata (kind,
size, SHA-256: the proof of what was captured, not the capture), terms
version and time, the automated checks' kinds, statuses, scores and
engines (not their details, which quote the document), and the audit trail.
The audit trail holds ids and codes only, so it is never touched and its
hash chain still verifies; the erasure itself is one more audit event.

Files are deleted after the database commit: a rollback must never leave a
row pointing at a deleted file. A crash between commit and deletion leaves
rows marked erased whose file name is still set; every run deletes those
first, so no file outlives its erasure for long.
"""

import logging
from datetime import timedelta

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Business
from kyc.storage import stored_files_delete
from operators.models import (
    Decision,
    FraudFlag,
    IdempotencyKey,
    LinkEmail,
    SessionErasure,
    WebhookEvent,
)
from operators.repeat_applicants import fingerprints_erase
from sessions_app.audit import Actor, audit_record
from sessions_app.models import (
    Evidence,
    OneTimeCode,
    Participant,
    ParticipantLocation,
    RecordingConsent,
    TermsAcceptance,
    VerificationSession,
)
from sessions_app.recordings import recording_chunk_files_delete
from workflows.models import CaptureRequest, CheckResult, StepState

logger = logging.getLogger(__name__)


def retention_sessions_due(*, business: Business, now=None):
    """The business's sessions past retention and not yet erased: ended
    before the cutoff, or never started and every link expired before it."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=business.retention_days)
    never_started = Q(state=VerificationSession.State.CREATED, last_link_expiry__lt=cutoff)
    return (
        VerificationSession.objects.for_business(business)
        .filter(erasure__isnull=True)
        .annotate(last_link_expiry=Max("participants__link_expires_at"))
        .filter(Q(ended_at__lt=cutoff) | never_started)
    )


def session_erase(*, session: VerificationSession, now=None) -> SessionErasure:
    """Erase one session's personal data and evidence. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        session = VerificationSession.objects.select_for_update(of=("self",)).select_related("business").get(pk=session.pk)
        existing = SessionErasure.objects.filter(session=session).first()
        if existing:
            return existing
        participant_count = Participant.objects.filter(session=session).update(
            name="",
            email="",
            phone="",
            business_reference="",
            date_of_birth=None,
            media_state={},
            current_prompt=None,
            erased_at=now,
        )
        VerificationSession.objects.filter(pk=session.pk).update(business_reference="", redirect_url="")
        # Where a one-time code went, masked, is still a fragment of an address;
        # its states and times stay (the audit trail tells the same story).
        OneTimeCode.objects.filter(participant__session=session).update(sent_to="", delivery_problem="")
        TermsAcceptance.objects.filter(participant__session=session).update(ip_address=None, user_agent="")
        RecordingConsent.objects.filter(participant__session=session).update(ip_address=None, user_agent="")
        # Where the customer was: personal data, gone with the rest (the
        # audit trail keeps only the countries and the accuracy).
        ParticipantLocation.objects.filter(participant__session=session).delete()
        # Step data holds answers, notes and challenge details.
        StepState.objects.filter(participant__session=session).update(data={})
        # A challenge's burst never answered keeps the instruction it
        # interrupted (a question's prompt may hold the typed answer).
        CaptureRequest.objects.filter(participant__session=session).update(resume_prompt=None)
        Decision.objects.filter(participant__session=session).update(comment="")
        # A fraud flag's notes are staff's words about the applicant; its
        # reason, who raised and cleared it and when stay (the flag itself is
        # never deleted).
        FraudFlag.objects.filter(session=session).update(note="", clear_note="")
        evidence_count = Evidence.objects.filter(session=session, erased_at__isnull=True).update(erased_at=now)
        # What the checks read (names, document numbers, dates of birth from
        # the MRZ, the OCR's text) and measured goes with the evidence; the
        # kind, status, score and engine stay, like the evidence's metadata.
        CheckResult.objects.filter(participant__session=session).update(details={})
        # The repeat-applicant fingerprints (face descriptors, document
        # numbers, names) go too; the business's negative list keeps its own
        # copies (operators.models.NegativeListEntry).
        fingerprints_erase(session_id=session.pk)
        # Operational copies that may carry references or links.
        LinkEmail.objects.filter(participant__session=session).delete()
        WebhookEvent.objects.filter(session=session).delete()
        IdempotencyKey.objects.filter(session=session).delete()
        # The admin's change history names a participant in its object_repr.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Participant),
            object_id__in=[str(pk) for pk in Participant.objects.filter(session=session).values_list("pk", flat=True)],
        ).update(object_repr="(erased)", change_message="")
        erasure = SessionErasure.objects.create(
            session=session,
            erased_at=now,
            retention_days=session.business.retention_days,
            participants=participant_count,
            evidence_files=evidence_count,
        )
        audit_record(
            business=session.business,
            session=session,
            actor=Actor.system(),
            action="session.erased",
            data={
                "retention_days": session.business.retention_days,
                "participants": participant_count,
                "evidence": evidence_count,
            },
        )
        session_id = session.pk
        transaction.on_commit(lambda: evidence_files_purge(session_id=session_id))
        # Recording chunks never assembled (no composition ran) are not
        # Evidence: they go with the session's evidence.
        transaction.on_commit(lambda: recording_chunk_files_delete(session_id=session_id), robust=True)
    return erasure


def evidence_files_purge(*, session_id: int | None = None) -> int:
    """Delete the files of erased evidence that still have one."""
    pending = Evidence.objects.filter(erased_at__isnull=False).exclude(file="")
    if session_id is not None:
        pending = pending.filter(session_id=session_id)
    return stored_files_delete(pending, logger=logger, failure="could not delete the file of erased evidence %s")


def retention_erase_due(*, now=None) -> int:
    """Erase every session past retention, business by business. Returns how many."""
    now = now or timezone.now()
    evidence_files_purge()
    erased = 0
    for business in Business.objects.all():
        for session_id in retention_sessions_due(business=business, now=now).values_list("pk", flat=True):
            session_erase(session=VerificationSession(pk=session_id), now=now)
            erased += 1
    if erased:
        logger.info("retention: erased %s sessions", erased)
    return erased
