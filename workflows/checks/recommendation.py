"""The system's recommendation for one participant: approve, review or reject.

It never decides: the operator does, and sees the reasons. It fails closed:
a check that errored, timed out, is still running or never ran (its capture
is missing) makes the recommendation "review", whatever else passed. Only
every required check passing gives "approve".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable

from workflows.checks.results import (
    ERROR,
    FACE_MATCH,
    FAILED,
    LIVENESS,
    MRZ,
    NEEDS_REVIEW,
    PASSED,
    STATUSES,
    reason,
    worst,
)

logger = logging.getLogger(__name__)

APPROVE = "approve"
REVIEW = "review"
REJECT = "reject"

# What a participant needs by default: the document read, the face matched,
# the liveness shown. Quality results are advice for retakes and count when
# present.
DEFAULT_REQUIRED = (MRZ, FACE_MATCH, LIVENESS)


@dataclass(frozen=True)
class RecommendationReason:
    kind: str
    status: str
    code: str
    message: str
    # The sentence before its values, to say it in the reader's language
    # (results.reason; workflows/check_texts.py).
    template: str = ""
    params: dict = field(default_factory=dict)

    @classmethod
    def said(cls, kind: str, status: str, code: str, template: str, **params) -> "RecommendationReason":
        sentence = reason(code, template, **params)
        return cls(kind, status, code, sentence.message, sentence.template, sentence.params)


@dataclass
class Recommendation:
    decision: str
    reasons: list[RecommendationReason] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "decision": self.decision,
            "reasons": [reason.__dict__ for reason in self.reasons],
            "statuses": self.statuses,
        }


def _get(result: Any, name: str, default=None):
    if isinstance(result, dict):
        return result.get(name, default)
    return getattr(result, name, default)


def _reasons(result: Any) -> list[tuple[str, str, str, dict]]:
    """(code, message, template, params) of each reason of an engine
    outcome, a stored row (reasons in its details) or a plain dict."""
    reasons = _get(result, "reasons")
    if reasons is None:
        details = _get(result, "details") or {}
        reasons = details.get("reasons", []) if isinstance(details, dict) else []
    out = []
    for item in reasons or []:
        code = _get(item, "code", "") or ""
        message = _get(item, "message", "") or str(item)
        out.append((code, message, _get(item, "template", "") or "", _get(item, "params", None) or {}))
    return out


def _only_not_found(result: Any) -> bool:
    codes = {code for code, *_ in _reasons(result)}
    return codes == {"mrz.not_found"}


def recommend(
    results: Iterable[Any],
    *,
    required: Iterable[str] = DEFAULT_REQUIRED,
    pending: Iterable[str] = (),
) -> Recommendation:
    """``results`` are the current outcomes of one participant's checks
    (a retaken capture's result replaces the old one before this is called);
    ``pending`` names kinds whose checks are still running."""
    try:
        return _recommend(list(results), tuple(required), tuple(pending))
    except Exception as exc:  # noqa: BLE001 - a broken input must not approve
        logger.exception("recommendation failed")
        return Recommendation(
            REVIEW,
            [RecommendationReason.said("recommendation", ERROR, "recommendation.exception",
                                       "The recommendation could not be computed (%(error)s).",
                                       error=type(exc).__name__)],
        )


def _recommend(results: list, required: tuple[str, ...], pending: tuple[str, ...]) -> Recommendation:
    reasons: list[RecommendationReason] = []
    by_kind: dict[str, list] = {}
    for result in results:
        by_kind.setdefault(str(_get(result, "kind")), []).append(result)

    statuses: dict[str, str] = {}
    for kind, group in by_kind.items():
        if kind == MRZ and any(not _only_not_found(r) for r in group):
            # An ID card's front has no MRZ; the back's reading stands for
            # the document.
            group = [r for r in group if not _only_not_found(r)]
        kind_statuses = []
        for result in group:
            status = _get(result, "status")
            if status not in STATUSES:
                status = ERROR
                reasons.append(RecommendationReason.said(kind, ERROR, "recommendation.unknown_status",
                                                         "%(check)s returned an unknown status.", check=kind))
            kind_statuses.append(status)
            if status != PASSED:
                said = _reasons(result)
                if not said:
                    fallback = reason(f"{kind}.{status}", "%(check)s: %(status)s.", check=kind, status=status)
                    said = [(fallback.code, fallback.message, fallback.template, fallback.params)]
                for code, message, template, params in said:
                    reasons.append(RecommendationReason(kind, status, code, message, template, params))
        statuses[kind] = worst(kind_statuses)

    blocked = False
    for kind in required:
        if kind in pending:
            statuses[kind] = "pending"
            reasons.append(RecommendationReason.said(kind, "pending", "check.pending", "%(check)s is still running.",
                                                     check=kind))
            blocked = True
        elif kind not in statuses:
            statuses[kind] = "missing"
            reasons.append(RecommendationReason.said(kind, "missing", "check.missing",
                                                     "%(check)s has no result: its capture is missing or was not "
                                                     "checked.", check=kind))
            blocked = True
    for kind in pending:
        if kind not in required:
            statuses[kind] = "pending"
            blocked = True
            reasons.append(RecommendationReason.said(kind, "pending", "check.pending", "%(check)s is still running.",
                                                     check=kind))

    present = list(statuses.values())
    if blocked or ERROR in present:
        decision = REVIEW
    elif FAILED in present:
        decision = REJECT
    elif NEEDS_REVIEW in present:
        decision = REVIEW
    elif present and all(status == PASSED for status in present):
        decision = APPROVE
    else:
        decision = REVIEW
    # Failures first, then what needs a look, then what could not run.
    order = {FAILED: 0, NEEDS_REVIEW: 1, ERROR: 2, "missing": 3, "pending": 4}
    reasons.sort(key=lambda reason: order.get(reason.status, 5))
    return Recommendation(decision, reasons, statuses)
