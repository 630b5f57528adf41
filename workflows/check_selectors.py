"""Reads of the automated checks: a participant's current results and the
system recommendation built from them. (Apart from workflows/selectors.py
for the same reason check_services.py is apart from services.py.)"""

from __future__ import annotations

from django.utils.translation import gettext as _

from sessions_app.models import Evidence, Participant
from workflows import steps as step_kinds
from workflows.check_texts import MRZ_FIELD_LABELS, advice_text, reason_text
from workflows.checks.recommendation import Recommendation, recommend
from workflows.models import CheckResult, StepState


def participant_check_results(participant: Participant) -> list[CheckResult]:
    """Every result of the participant's checks, oldest first, erased
    evidence left out."""
    return list(
        CheckResult.objects.filter(participant=participant, evidence__erased_at__isnull=True)
        .select_related("evidence")
        .order_by("created_at", "pk")
    )


def _current(results: list[CheckResult]) -> list[CheckResult]:
    """The results that stand now: a retake replaces what it retakes.

    Quality and MRZ: the latest per kind of capture (front, back, face).
    Liveness: the latest per action. Face match: the latest comparison with
    the document, and every person-swap comparison of a liveness burst that
    is still current.
    """
    latest: dict[tuple, CheckResult] = {}
    for result in results:  # oldest first: later ones overwrite
        evidence = result.evidence
        if result.kind == CheckResult.Kind.LIVENESS:
            key = (result.kind, evidence.label)
        elif result.kind == CheckResult.Kind.FACE_MATCH and evidence.kind == Evidence.Kind.LIVENESS_FRAME:
            key = (result.kind, "liveness", evidence.label)
        elif result.kind == CheckResult.Kind.FACE_MATCH:
            key = (result.kind, "document")
        else:
            key = (result.kind, evidence.kind, evidence.source)
        latest[key] = result
    return list(latest.values())


def _required(participant: Participant) -> list[str]:
    # The participant's own copy of the steps: editing the template later
    # does not change what this participant had to do.
    kinds = set(StepState.objects.filter(participant=participant).values_list("kind", flat=True))
    required = []
    if step_kinds.DOCUMENT in kinds:
        required += [CheckResult.Kind.MRZ, CheckResult.Kind.FACE_MATCH]
    if step_kinds.LIVENESS in kinds:
        required.append(CheckResult.Kind.LIVENESS)
    return required


def _burst_first_frames(participant: Participant, *, frames_needed: int) -> list[Evidence]:
    """The first frame of every complete liveness burst (where its liveness
    result is stored)."""
    bursts: dict[tuple, list[Evidence]] = {}
    for frame in (
        Evidence.objects.filter(
            participant=participant, kind=Evidence.Kind.LIVENESS_FRAME, source=Evidence.Source.CUSTOMER_DEVICE,
            erased_at__isnull=True,
        )
        .exclude(file="")
        .order_by("frame_index", "pk")
    ):
        bursts.setdefault((frame.capture_id, frame.label), []).append(frame)
    return [frames[0] for frames in bursts.values() if len(frames) >= frames_needed]


def participant_checks_awaited(participant: Participant, *, customer_only: bool = True) -> list[tuple[Evidence, str]]:
    """(evidence, check kind) of every check that is due on the participant's
    captures and has no result yet: the checks still running, or lost.

    What is due follows workflows.check_services.checks_planned, counting
    only what does not depend on timing: quality on every still, the MRZ on
    every document side from the customer's camera, liveness on every
    complete burst, and the face match on whichever of the latest face and
    the latest document front came second (that one compares the two). The
    person-swap comparison of a burst is not awaited: it runs only when a
    face was there before the burst, and comes with the liveness result.
    """

    stills = Evidence.objects.filter(
        participant=participant, erased_at__isnull=True,
        kind__in=[Evidence.Kind.DOCUMENT_FRONT, Evidence.Kind.DOCUMENT_BACK, Evidence.Kind.FACE],
    ).exclude(file="")
    if customer_only:
        stills = stills.filter(source=Evidence.Source.CUSTOMER_DEVICE)
    stills = list(stills.order_by("created_at", "pk"))
    due: list[tuple[Evidence, str]] = []
    for evidence in stills:
        due.append((evidence, CheckResult.Kind.QUALITY))
        if evidence.source == Evidence.Source.CUSTOMER_DEVICE and evidence.kind != Evidence.Kind.FACE:
            due.append((evidence, CheckResult.Kind.MRZ))
    customer = [e for e in stills if e.source == Evidence.Source.CUSTOMER_DEVICE]
    latest_face = next((e for e in reversed(customer) if e.kind == Evidence.Kind.FACE), None)
    latest_front = next((e for e in reversed(customer) if e.kind == Evidence.Kind.DOCUMENT_FRONT), None)
    if latest_face is not None and latest_front is not None:
        second = max(latest_face, latest_front, key=lambda e: (e.created_at, e.pk))
        due.append((second, CheckResult.Kind.FACE_MATCH))
    for first in _burst_first_frames(participant, frames_needed=step_kinds.LIVENESS_BURST_FRAMES):
        due.append((first, CheckResult.Kind.LIVENESS))
    stored = set(
        CheckResult.objects.filter(evidence_id__in={evidence.pk for evidence, _ in due}).values_list(
            "evidence_id", "kind"
        )
    )
    return [(evidence, kind) for evidence, kind in due if (evidence.pk, kind) not in stored]


def _recommendation(participant: Participant, current: list[CheckResult], awaited) -> Recommendation:
    # From the customer's captures only: the quality of the frame the
    # operator received tells the operator about the video (a 480×270 frame
    # while the bandwidth ramps up), not about the customer's identity, and
    # must not hold back a recommendation the full-resolution captures earn.
    from_customer = [result for result in current if result.evidence.source == Evidence.Source.CUSTOMER_DEVICE]
    return recommend(from_customer, required=_required(participant), pending=sorted({kind for _, kind in awaited}))


def participant_recommendation(participant: Participant) -> Recommendation:
    """Approve, review or reject, with reasons; fails closed (see
    workflows.checks.recommendation). Checks due on the customer's captures
    and not stored yet count as checks still running."""
    current = _current(participant_check_results(participant))
    return _recommendation(participant, current, participant_checks_awaited(participant))


# --- what people see of a result ------------------------------------------------------------

# What of a result's details leaves the check: the measurements and what the
# MRZ says, never the OCR's raw text, file paths or an exception's message
# (which may quote either). Personal data (names, document numbers, dates)
# stays in: the business sent it and the operator reads it off the document,
# and it is erased with the rest under retention.
_SAFE_DETAILS = {
    CheckResult.Kind.MRZ: ("age", "name_match", "birth_date_match", "ocr_confidence"),
    CheckResult.Kind.FACE_MATCH: ("threshold", "distance", "live_faces", "document_faces", "liveness_frames"),
    CheckResult.Kind.LIVENESS: ("actions", "mirrored"),
    CheckResult.Kind.QUALITY: ("capture_kind", "width", "height", "sharpness", "brightness", "glare_share"),
}
_SAFE_MRZ_FIELDS = (
    "layout",
    "document_code",
    "issuing_state",
    "surname",
    "given_names",
    "document_number",
    "nationality",
    "birth_date",
    "sex",
    "expiry_date",
    "check_digits",
    "name_uncertain",
)


def check_result_details_safe(result: CheckResult) -> dict:
    """The part of a result's details that may be shown and served."""
    details = result.details or {}
    safe = {key: details[key] for key in _SAFE_DETAILS.get(result.kind, ()) if key in details}
    fields = details.get("fields")
    if result.kind == CheckResult.Kind.MRZ and isinstance(fields, dict):
        safe["fields"] = {key: fields[key] for key in _SAFE_MRZ_FIELDS if key in fields}
    if "exception" in details:
        safe["exception"] = details["exception"]
    # The sentences in the reader's language (workflows/check_texts.py); the
    # codes are what programs rely on.
    safe["reasons"] = [
        {"code": r.get("code", ""), "message": reason_text(r), "advice": advice_text(r.get("advice", ""))}
        for r in details.get("reasons", [])
        if isinstance(r, dict)
    ]
    return safe


def _facts(result: CheckResult, details: dict) -> list[list[str]]:
    """A few (label, value) pairs the operator reads at a glance."""
    facts = []
    if result.kind == CheckResult.Kind.MRZ and details.get("fields"):
        fields = details["fields"]
        name = " ".join(part for part in (fields.get("given_names"), fields.get("surname")) if part)
        for label, value in (
            (MRZ_FIELD_LABELS["document_number"], fields.get("document_number")),
            (_("Name"), name),
            (MRZ_FIELD_LABELS["nationality"], fields.get("nationality")),
            (MRZ_FIELD_LABELS["birth_date"], fields.get("birth_date")),
            (MRZ_FIELD_LABELS["expiry_date"], fields.get("expiry_date")),
        ):
            if value:
                facts.append([str(label), str(value)])
    elif result.kind == CheckResult.Kind.FACE_MATCH and details.get("distance") is not None:
        facts.append(
            [
                _("Distance"),
                _("%(distance).2f (threshold %(threshold).2f)")
                % {"distance": details["distance"], "threshold": details.get("threshold", 0)},
            ]
        )
    elif result.kind == CheckResult.Kind.LIVENESS:
        for action in details.get("actions", []):
            name, status = action.get("action", ""), action.get("status", "")
            facts.append(
                [
                    str(step_kinds.LIVENESS_ACTION_LABELS.get(name, name)),
                    str(CheckResult.Status(status).label) if status in CheckResult.Status.values else str(status),
                ]
            )
    elif result.kind == CheckResult.Kind.QUALITY and "sharpness" in details:
        facts.append([_("Size"), f"{details.get('width')}×{details.get('height')}"])
        facts.append([_("Sharpness"), f"{details['sharpness']:.0f}"])
        facts.append([_("Brightness"), f"{details.get('brightness', 0):.0f}"])
    return facts


def _summary(result: CheckResult, details: dict) -> str:
    """One short line: the first reason, or what passed."""
    if details["reasons"]:
        return details["reasons"][0]["message"]
    if result.kind == CheckResult.Kind.MRZ and details.get("fields"):
        return _("Read and valid: document %(number)s.") % {"number": details["fields"].get("document_number", "")}
    return {
        CheckResult.Kind.FACE_MATCH: _("The faces match."),
        CheckResult.Kind.LIVENESS: _("Every action was seen."),
        CheckResult.Kind.QUALITY: _("Sharp, well lit and large enough."),
    }.get(result.kind, _("Passed."))


def check_result_summary(result: CheckResult, *, current: bool = True, full_details: bool = False) -> dict:
    """A result as the operator's panel, the API and the compliance review
    show it: JSON-ready, with the safe details only (everything stored, for
    compliance, with ``full_details``)."""
    details = check_result_details_safe(result)
    evidence = result.evidence
    return {
        "id": str(result.public_id),
        "kind": result.kind,
        "kind_label": str(result.get_kind_display()),
        "status": result.status,
        "status_label": str(result.get_status_display()),
        "score": result.score,
        "engine": result.engine,
        "engine_version": result.engine_version,
        "duration_ms": result.duration_ms,
        "created_at": result.created_at.isoformat(),
        "current": current,
        "evidence": {
            "id": evidence.public_id.hex,
            "kind": evidence.kind,
            "source": evidence.source,
            "label": evidence.label,
        },
        "summary": _summary(result, details),
        # Retakes are the customer's: the frame the operator received only
        # says how the video looks.
        "advice": (
            [reason["advice"] for reason in details["reasons"] if reason["advice"]]
            if evidence.source == Evidence.Source.CUSTOMER_DEVICE
            else []
        ),
        "facts": _facts(result, details),
        "details": result.details if full_details else details,
    }


def recommendation_summary(recommendation: Recommendation) -> dict:
    summary = recommendation.to_dict()
    summary["reasons"] = [
        {"kind": reason["kind"], "status": reason["status"], "code": reason["code"], "message": reason_text(reason)}
        for reason in summary["reasons"]
    ]
    # Said wherever it is shown: the machine advises, the operator decides.
    summary["advisory"] = True
    return summary


def participant_checks(participant: Participant, *, history: bool = False, full_details: bool = False) -> dict:
    """The participant's check results (the current ones; every one with
    ``history``, oldest first, each marked current or not), the checks
    still awaited and the system recommendation."""
    results = participant_check_results(participant)
    current = _current(results)
    current_ids = {result.pk for result in current}
    if history:
        # Erased captures' results too: their kind, status and score stay in
        # the anonymised record.
        shown = list(
            CheckResult.objects.filter(participant=participant).select_related("evidence").order_by("created_at", "pk")
        )
    else:
        shown = [result for result in results if result.pk in current_ids]
    awaited = participant_checks_awaited(participant)
    recommendation = _recommendation(participant, current, awaited)
    return {
        "results": [
            check_result_summary(result, current=result.pk in current_ids, full_details=full_details)
            for result in shown
        ],
        "pending": sorted({kind for _, kind in awaited}),
        "recommendation": recommendation_summary(recommendation),
    }
