"""Reads of the automated checks: a participant's current results and the
system recommendation built from them. (Apart from workflows/selectors.py
for the same reason check_services.py is apart from services.py.)"""

from __future__ import annotations

from sessions_app.models import Evidence, Participant
from workflows import steps as step_kinds
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


def participant_recommendation(participant: Participant) -> Recommendation:
    """Approve, review or reject, with reasons; fails closed (see
    workflows.checks.recommendation). Customer captures whose checks have
    not been stored yet count as checks still running."""
    results = participant_check_results(participant)
    current = _current(results)
    checked = {result.evidence_id for result in results}
    waiting = (
        Evidence.objects.filter(
            participant=participant, source=Evidence.Source.CUSTOMER_DEVICE, erased_at__isnull=True,
            kind__in=[Evidence.Kind.DOCUMENT_FRONT, Evidence.Kind.DOCUMENT_BACK, Evidence.Kind.FACE],
        )
        .exclude(pk__in=checked)
        .values_list("kind", flat=True)
    )
    pending = set()
    for kind in waiting:
        pending.add(CheckResult.Kind.QUALITY)
        if kind in (Evidence.Kind.DOCUMENT_FRONT, Evidence.Kind.DOCUMENT_BACK):
            pending.add(CheckResult.Kind.MRZ)
    return recommend(current, required=_required(participant), pending=sorted(pending))
