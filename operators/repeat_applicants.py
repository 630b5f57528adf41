"""Repeat applicants and the business's negative list.

A participant's fingerprint (operators.models.ApplicantFingerprint) is
written as their checks' results are stored (workflows.events.check_recorded,
in the transaction that stores the result): the MRZ's document number, name
and birth date, and the face-match check's descriptor of the live face. At
that moment it is compared with the business's earlier fingerprints, and the
matches are kept on it, so the call's state (pushed on every change of the
call) reads them with a few queries instead of scanning faces each time.

Only ever within one business: another business's customers are not this
business's to see. Fingerprints go with the session's personal data
(operators.compliance.retention.session_erase); negative-list entries are the
business's own list and stay.
"""

import logging
from collections.abc import Iterable

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from operators.applicant_keys import (
    descriptor_from_bytes,
    descriptor_to_bytes,
    document_number_key,
    name_key,
)
from operators.models import ApplicantFingerprint, Decision, FraudFlag, NegativeListEntry
from sessions_app.audit import Actor, audit_record
from sessions_app.models import Participant
from workflows import events as workflow_events
from workflows.models import CheckResult

DOCUMENT = "document"
NAME_BIRTH_DATE = "name_birth_date"
FACE = "face"
MATCH_FIELDS = (DOCUMENT, NAME_BIRTH_DATE, FACE)

# The face scan reads the business's latest fingerprints with a descriptor,
# at most this many (512 bytes each: 2.5 MB, a few milliseconds of numpy).
# Bounded so a business with a long history does not make every stored check
# slower without limit; older repeat applicants are still found by document
# number and name, which are indexed lookups.
FACE_SCAN_LIMIT = 5000

logger = logging.getLogger(__name__)


# --- writing fingerprints ---------------------------------------------------------


def _mrz_keys(outcome) -> dict:
    fields = outcome.details.get("fields") if outcome.status != CheckResult.Status.ERROR else None
    if not fields:
        return {}
    keys = {}
    # A document number whose check digit failed is more likely a misread
    # than a second document: matching on it would accuse the wrong person.
    if fields.get("check_digits", {}).get("document_number") and document_number_key(fields.get("document_number", "")):
        keys.update(
            document_number=document_number_key(fields["document_number"]),
            document_country=(fields.get("issuing_state") or "")[:3],
            document_type=(fields.get("document_code") or "")[:4],
        )
    name = name_key(fields.get("surname", ""), fields.get("given_names", ""))
    if name and fields.get("birth_date") and not fields.get("name_uncertain"):
        keys.update(name=name, birth_date=fields["birth_date"])
    return keys


def fingerprint_on_check_recorded(sender, *, session, participant, kind: str, outcome, **kwargs) -> None:
    """Receives workflows.events.check_recorded, inside the transaction that
    stores the result: the fingerprint exists exactly when the result does.
    A failure here costs the fingerprint, never the check's result: it runs
    in a savepoint of its own and is logged (the checks are a lower floor,
    and a retried check task must not fail on this forever)."""
    if participant.erased_at is not None:
        return
    try:
        if kind == CheckResult.Kind.MRZ:
            keys = _mrz_keys(outcome)
        elif kind == CheckResult.Kind.FACE_MATCH and outcome.face_descriptor:
            keys = {"face_descriptor": descriptor_to_bytes(outcome.face_descriptor)}
        else:
            return
        if keys:
            with transaction.atomic():
                fingerprint_update(participant=participant, threshold=session.workflow.face_match_threshold, **keys)
    except Exception:  # noqa: BLE001 - see the docstring
        logger.exception("repeat-applicant fingerprint of participant %s not written", participant.pk)


def fingerprint_update(*, participant: Participant, threshold: float, **keys) -> ApplicantFingerprint | None:
    """Add what a check read to the participant's fingerprint and compare it
    again with the business's earlier ones. ``threshold`` is the face
    check's own (the workflow's face-match threshold): a face is "seen
    before" exactly when the face check would call it the same person."""
    session = participant.session
    with transaction.atomic():
        # Read again under the participant's lock: an erasure that committed
        # after the caller loaded the participant must not see its keys
        # written back (session_erase updates the participant rows first).
        if not Participant.objects.select_for_update().filter(pk=participant.pk, erased_at__isnull=True).exists():
            return None
        # Called inside check_result_store, which has taken the session's row
        # first (session_mark_changed): two checks of one participant stored at
        # once take turns there, so get_or_create cannot race itself.
        fingerprint, _created = ApplicantFingerprint.objects.select_for_update().get_or_create(
            participant=participant, defaults={"business_id": session.business_id, "session": session}
        )
        for field, value in keys.items():
            setattr(fingerprint, field, value)
        fingerprint.matches = _matches_of(fingerprint, threshold=threshold)
        fingerprint.save()
    return fingerprint


def _matches_of(fingerprint: ApplicantFingerprint, *, threshold: float) -> dict[str, list[str]]:
    # Earlier applicants only: other sessions of the same business.
    others = ApplicantFingerprint.objects.filter(business_id=fingerprint.business_id).exclude(
        session_id=fingerprint.session_id
    )
    found: dict[int, list[str]] = {}

    def add(pks: Iterable[int], field: str) -> None:
        for pk in pks:
            found.setdefault(pk, []).append(field)

    if fingerprint.document_number:
        add(others.filter(document_number=fingerprint.document_number).values_list("pk", flat=True), DOCUMENT)
    if fingerprint.name and fingerprint.birth_date:
        add(
            others.filter(name=fingerprint.name, birth_date=fingerprint.birth_date).values_list("pk", flat=True),
            NAME_BIRTH_DATE,
        )
    if fingerprint.face_descriptor:
        rows = list(
            others.filter(face_descriptor__isnull=False)
            .order_by("-pk")
            .values_list("pk", "face_descriptor")[:FACE_SCAN_LIMIT]
        )
        pks = [pk for pk, _descriptor in rows]
        close = _faces_within(descriptor_from_bytes(fingerprint.face_descriptor), [d for _pk, d in rows], threshold)
        add((pks[index] for index in close), FACE)
    return {str(pk): fields for pk, fields in sorted(found.items())}


def _faces_within(descriptor: np.ndarray, others: list, threshold: float) -> list[int]:
    """Indexes of the descriptors at most ``threshold`` away (Euclidean, as
    the face engine measures: workflows.checks.faces.face_distance)."""
    if not others:
        return []
    matrix = np.frombuffer(b"".join(bytes(other) for other in others), dtype="<f4").reshape(len(others), -1)
    distances = np.linalg.norm(matrix - descriptor, axis=1)
    return [int(index) for index in np.flatnonzero(distances <= threshold)]


def fingerprints_erase(*, session_id: int) -> int:
    """Delete a session's fingerprints (retention): the face descriptors,
    document numbers and names go with the session's personal data."""
    deleted, _ = ApplicantFingerprint.objects.filter(session_id=session_id).delete()
    return deleted


# --- the negative list ---------------------------------------------------------------


def negative_list_entry_normalise(entry: NegativeListEntry) -> None:
    """Validate an entry and write its value the way fingerprints are
    written (called by NegativeListEntry.clean, so the admin and the API
    store one spelling). A face entry copies the descriptor of a session of
    the same business: the entry keeps it after that session is erased."""
    kinds = NegativeListEntry.Kind
    if entry.kind == kinds.DOCUMENT_NUMBER:
        entry.document_number = document_number_key(entry.document_number)
        if not entry.document_number:
            raise ValidationError({"document_number": _("Enter the document number.")})
        entry.name, entry.birth_date, entry.source_session, entry.face_descriptor = "", None, None, None
    elif entry.kind == kinds.NAME_BIRTH_DATE:
        entry.name = name_key(entry.name)
        if not entry.name or entry.birth_date is None:
            raise ValidationError(_("Enter the name and the date of birth."))
        entry.document_number, entry.source_session, entry.face_descriptor = "", None, None
    elif entry.kind == kinds.FACE:
        session = entry.source_session
        if session is None or session.business_id != entry.business_id:
            raise ValidationError({"source_session": _("Choose a session of this business.")})
        descriptors = list(
            ApplicantFingerprint.objects.filter(session=session, face_descriptor__isnull=False)
            .values_list("face_descriptor", flat=True)[:2]
        )
        if not descriptors:
            raise ValidationError({"source_session": _("This session has no face description (no face match ran, or it was erased).")})
        if len(descriptors) > 1:
            # Whose face would it be? A co-applicant must not land on the list.
            raise ValidationError({"source_session": _("This session had several participants: add their document number or name and date of birth instead.")})
        descriptor = descriptors[0]
        entry.face_descriptor = bytes(descriptor)
        entry.document_number, entry.name, entry.birth_date = "", "", None


def negative_list_entry_save(*, entry: NegativeListEntry, user, created: bool) -> NegativeListEntry:
    """Keep an entry (normalised by its form's clean). A face entry copies a
    biometric description out of a session into a list that outlives the
    session's erasure: that session's audit trail says who did it and when."""
    with transaction.atomic():
        if created:
            entry.added_by = user
        entry.save()
        if entry.kind == NegativeListEntry.Kind.FACE and entry.source_session_id:
            audit_record(
                business=entry.business,
                session=entry.source_session,
                actor=Actor.staff(user),
                action="negative_list.face_copied",
                data={"entry": entry.pk},
            )
    return entry


def _negative_matches(fingerprint: ApplicantFingerprint, entries: list[NegativeListEntry], threshold: float) -> list[NegativeListEntry]:
    kinds = NegativeListEntry.Kind
    hits = []
    faces = [entry for entry in entries if entry.kind == kinds.FACE and entry.face_descriptor]
    close = set()
    if fingerprint.face_descriptor and faces:
        close = set(_faces_within(descriptor_from_bytes(fingerprint.face_descriptor),
                                  [entry.face_descriptor for entry in faces], threshold))
    for entry in entries:
        if entry.kind == kinds.DOCUMENT_NUMBER:
            hit = bool(fingerprint.document_number) and entry.document_number == fingerprint.document_number
        elif entry.kind == kinds.NAME_BIRTH_DATE:
            hit = bool(fingerprint.name) and (entry.name, entry.birth_date) == (fingerprint.name, fingerprint.birth_date)
        else:
            hit = entry in faces and faces.index(entry) in close
        if hit:
            hits.append(entry)
    return hits


def _negative_candidates(fingerprints: list[ApplicantFingerprint]) -> Q:
    """The negative-list entries that could match these fingerprints: the
    same document number or name and birth date, found by the database, and
    face entries only for a fingerprint with a face. Read on every push of a
    call's state, so a long list is never loaded whole for nothing."""
    kinds = NegativeListEntry.Kind
    candidates = Q(pk__in=[])
    documents = {fingerprint.document_number for fingerprint in fingerprints if fingerprint.document_number}
    if documents:
        candidates |= Q(kind=kinds.DOCUMENT_NUMBER, document_number__in=documents)
    for fingerprint in fingerprints:
        if fingerprint.name and fingerprint.birth_date:
            candidates |= Q(kind=kinds.NAME_BIRTH_DATE, name=fingerprint.name, birth_date=fingerprint.birth_date)
    if any(fingerprint.face_descriptor for fingerprint in fingerprints):
        candidates |= Q(kind=kinds.FACE)
    return candidates


# --- reading: "seen before" ------------------------------------------------------------


def _outcome_of(participant: Participant) -> dict:
    """The outcome that stands under the four-eyes rule (Decision.final_outcome:
    the review's when there is one). An approval still awaiting its review
    has none yet: it is said as the operator's approval, marked as awaiting
    review, so a rejection on review is never shown as an approval."""
    decision = getattr(participant, "decision", None)
    if decision is None:
        return {"outcome": None, "reason": None, "awaiting_review": False}
    if decision.awaiting_review:
        return {"outcome": decision.outcome, "reason": decision.reason_code, "awaiting_review": True}
    return {"outcome": decision.final_outcome, "reason": decision.final_reason_code, "awaiting_review": False}


def seen_before_for(participants: Iterable[Participant]) -> dict[int, dict]:
    """For each participant (of one or more sessions): the earlier sessions of
    their business that share a document number, a name and birth date, or a
    face with them, with those sessions' outcomes and open fraud flags, and the
    business's negative-list entries they match. Participants without a
    fingerprint are absent. A fixed number of queries, however many
    participants: the call's state and the review page ask for several."""
    participant_ids = [participant.pk for participant in participants]
    fingerprints = list(
        ApplicantFingerprint.objects.filter(participant_id__in=participant_ids).select_related("session__workflow")
    )
    if not fingerprints:
        return {}
    matched_ids = {int(pk) for fingerprint in fingerprints for pk in fingerprint.matches}
    business_ids = {fingerprint.business_id for fingerprint in fingerprints}
    earlier = {
        fingerprint.pk: fingerprint
        for fingerprint in ApplicantFingerprint.objects.filter(pk__in=matched_ids, business_id__in=business_ids)
        .select_related("session", "participant__decision__review")
        .only(
            "pk", "business_id", "session__public_id", "session__created_at", "session__business_id",
            "participant__public_id", "participant__decision__outcome", "participant__decision__reason_code",
            "participant__decision__provisional", "participant__decision__review__final_outcome",
            "participant__decision__review__final_reason_code",
        )
    }
    flagged = set(
        FraudFlag.objects.open()
        .filter(session_id__in={fingerprint.session_id for fingerprint in earlier.values()})
        .values_list("session_id", flat=True)
    )
    negative = list(
        NegativeListEntry.objects.filter(business_id__in=business_ids)
        .filter(_negative_candidates(fingerprints))
        .order_by("added_at", "pk")
    )
    seen = {}
    for fingerprint in fingerprints:
        by_session: dict[int, dict] = {}
        for pk, fields in fingerprint.matches.items():
            other = earlier.get(int(pk))
            if other is None or other.business_id != fingerprint.business_id:
                continue  # erased since, or (never) another business's
            entry = by_session.setdefault(
                other.session_id,
                {
                    "session": other.session.public_id.hex,
                    "url": reverse("admin:sessions_app_verificationsession_review", args=[other.session_id]),
                    "created_at": other.session.created_at.isoformat(),
                    "matched": [],
                    "outcome": None,
                    "reason": None,
                    "awaiting_review": False,
                    "flagged": other.session_id in flagged,
                },
            )
            entry["matched"] = sorted(set(entry["matched"]) | set(fields), key=MATCH_FIELDS.index)
            outcome = _outcome_of(other.participant)
            # Of several participants of one earlier session, a rejection is
            # what the operator must hear about.
            if entry["outcome"] != Decision.Outcome.REJECT and outcome["outcome"]:
                entry.update(outcome)
        sessions = sorted(by_session.values(), key=lambda entry: entry["created_at"], reverse=True)
        hits = _negative_matches(
            fingerprint, [entry for entry in negative if entry.business_id == fingerprint.business_id],
            fingerprint.session.workflow.face_match_threshold,
        )
        seen[fingerprint.participant_id] = {
            "count": len(sessions),
            "rejected": sum(1 for entry in sessions if entry["outcome"] == Decision.Outcome.REJECT),
            "sessions": sessions,
            "negative_list": [
                {"kind": entry.kind, "reason": entry.reason, "added_at": entry.added_at.isoformat()} for entry in hits
            ],
        }
    return seen


def participant_seen_before(participant: Participant) -> dict:
    """The operator's call state: "seen_before" of one participant (None
    before any identifying check ran)."""
    return {"seen_before": seen_before_for([participant]).get(participant.pk)}


def repeat_applicants_connect() -> None:
    """Subscribe to the checks' results (OperatorsConfig.ready)."""
    workflow_events.check_recorded.connect(fingerprint_on_check_recorded, dispatch_uid="fingerprint_on_check_recorded")
