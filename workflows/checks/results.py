"""What every check engine returns: one plain, JSON-ready outcome.

The engines know nothing about Django. A Celery task turns an outcome into a
``CheckResult`` row; the recommendation reads outcomes back. ``status`` is one
of four words, and only ``passed`` counts in the customer's favour: an engine
that could not look (bad capture, exception, timeout) says so instead of
guessing.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

logger = logging.getLogger(__name__)

PASSED = "passed"
FAILED = "failed"
NEEDS_REVIEW = "needs_review"
ERROR = "error"
STATUSES = (PASSED, FAILED, NEEDS_REVIEW, ERROR)

# Check kinds, as stored in CheckResult.kind.
MRZ = "mrz"
FACE_MATCH = "face_match"
LIVENESS = "liveness"
QUALITY = "quality"
KINDS = (MRZ, FACE_MATCH, LIVENESS, QUALITY)

# Worst first: the status of a whole made of parts is the worst part's.
_SEVERITY = {ERROR: 3, FAILED: 2, NEEDS_REVIEW: 1, PASSED: 0}


def worst(statuses, default: str = PASSED) -> str:
    statuses = list(statuses)
    if not statuses:
        return default
    return max(statuses, key=lambda s: _SEVERITY.get(s, _SEVERITY[ERROR]))


def status_of(*, failed: list[Reason], review: list[Reason]) -> str:
    """The status of a check that sorts what it finds into reasons that fail
    it and reasons a person should look at: failed if anything failed,
    needs_review if anything wants a look, passed otherwise."""
    if failed:
        return FAILED
    if review:
        return NEEDS_REVIEW
    return PASSED


def gettext_noop(text: str) -> str:
    """Marks an English sentence for makemessages (this name is one of its
    keywords) without importing Django: the engines stay Django-free, and the
    sentence is translated where a person reads it (workflows/check_texts.py)."""
    return text


@dataclass(frozen=True)
class Reason:
    """Why a check is not simply passed: a stable code for programs and an
    English sentence for the operator. ``advice`` is what to do during the
    call (a retake), empty when there is nothing the customer can do.
    ``template`` and ``params`` are the sentence before its values were put
    in, so it can be said again in the reader's language."""

    code: str
    message: str
    advice: str = ""
    template: str = ""
    params: dict[str, Any] = field(default_factory=dict)


# The stored English sentence names a check by these; where a person reads
# it, the sentence is made again from its template with the labels of their
# language (workflows/check_texts.py).
_ENGLISH_NAMES = {MRZ: "The document MRZ check", FACE_MATCH: "The face match", LIVENESS: "The liveness check",
                  QUALITY: "The image quality check"}


def reason(code: str, template: str, advice: str = "", /, **params: Any) -> Reason:
    """A reason whose sentence is ``template`` (English, with %(name)s
    placeholders) filled with ``params``. makemessages finds the template as
    this function's second argument (sessions_app's makemessages). Codes in
    the params (a check kind, a challenge action) stay codes there."""
    message = template % {key: _english(key, value) for key, value in params.items()}
    return Reason(code, message[:1].upper() + message[1:], advice, template, params)


def _english(key: str, value: Any) -> Any:
    if key == "check":
        return _ENGLISH_NAMES.get(value, value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item).replace("_", " ") for item in value)
    if key in ("action", "field"):
        return str(value).replace("_", " ")
    return value


@dataclass
class CheckOutcome:
    kind: str
    status: str
    score: float | None
    reasons: list[Reason] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    engine: str = ""
    engine_version: str = ""
    duration_ms: int = 0
    # The live face's descriptor (128 floats) when the face-match check
    # computed one: the repeat-applicant matching keeps it (never an image),
    # so no second model run is needed. Not part of the stored details, which
    # the operator's panel and the webhooks read.
    face_descriptor: tuple[float, ...] | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown check status {self.status!r}")

    @property
    def advice(self) -> list[str]:
        return [reason.advice for reason in self.reasons if reason.advice]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("face_descriptor")
        return data


def guarded(kind: str, engine: str, engine_version: str) -> Callable:
    """Time a check and turn any exception into an ``error`` outcome.

    The engines run native code on customer-supplied images; a crash there
    must end as "could not check" (which the recommendation turns into a
    review), never as a missing result that someone might read as a pass.
    """

    def decorate(check: Callable[..., CheckOutcome]) -> Callable[..., CheckOutcome]:
        @functools.wraps(check)
        def run(*args, **kwargs) -> CheckOutcome:
            started = time.perf_counter()
            try:
                outcome = check(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every failure must become a result
                # Celery's soft time limit raises inside the engine; so may a
                # caller's own deadline.
                timed_out = isinstance(exc, TimeoutError) or type(exc).__name__ == "SoftTimeLimitExceeded"
                logger.exception("%s check failed with an exception", kind)
                why = (
                    reason("engine.timeout", "%(check)s took too long and was stopped.", check=kind)
                    if timed_out
                    else reason("engine.exception", "%(check)s could not run: %(error)s.", check=kind, error=type(exc).__name__)
                )
                outcome = CheckOutcome(
                    kind=kind,
                    status=ERROR,
                    score=None,
                    reasons=[why],
                    details={"exception": type(exc).__name__, "message": str(exc)[:500]},
                )
            outcome.engine = outcome.engine or engine
            outcome.engine_version = outcome.engine_version or engine_version
            outcome.duration_ms = round((time.perf_counter() - started) * 1000)
            return outcome

        return run

    return decorate
