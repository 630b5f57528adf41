"""Capture integrity: warning signs that a participant's camera is not a
camera (a virtual camera, a canvas or script-made stream, an injected or
replayed picture), scored for the operator's risk panel.

A browser cannot prove a camera is real. The customer's page reports what it
sees (static/js/capture-integrity.js); the server classifies it, keeps the
signals that fired (CaptureSignal), and adds its own view of the pictures
(workflows/checks/capture_integrity.py). Each signal has a stable code, a
reason in words, an honest strength, and a weight; the panel's level comes
from the summed weights, and timing alone never raises it (README "Capture
integrity" says what each signal catches and how it is defeated).

Camera labels can be personal ("Anna's iPhone camera"): the report's label is
classified here, in the schema, and never goes further than this module.
"""

import math
import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions_app.audit import Actor, audit_record
from sessions_app.changes import session_mark_changed
from sessions_app.locks import participant_lock
from sessions_app.models import CaptureSignal, Participant

WEAK, MEDIUM, STRONG = "weak", "medium", "strong"


@dataclass(frozen=True)
class Reason:
    code: str
    label: str  # lazy: the panel's line
    meaning: str  # lazy: what it means, and what it does not
    strength: str
    weight: int


_REASONS = [
    Reason(
        "virtual_camera_name",
        _("The camera is named like a virtual camera"),
        _("Virtual-camera software can feed any video, including a face swap, into the call. It is also used "
          "innocently (background effects); a renamed one is not caught."),
        STRONG,
        5,
    ),
    Reason(
        "video_file_camera",
        _("The camera is a video file"),
        _("The browser plays a video file as its camera (Chromium's file-backed test camera, started with a "
          "command-line flag): whatever the file shows reaches the call."),
        MEDIUM,
        3,
    ),
    Reason(
        "synthetic_track",
        _("The video is made by the page, not by a camera"),
        _("The picture comes from a canvas or another script-made stream, not from a camera device."),
        STRONG,
        5,
    ),
    Reason(
        "api_replaced",
        _("The page's camera functions were replaced"),
        _("A script or browser extension replaced the browser's own camera functions and can hand the call "
          "any picture. Some privacy extensions do this too."),
        STRONG,
        4,
    ),
    Reason(
        "unusual_capabilities",
        _("The camera reports capabilities no real camera has"),
        _("Its resolution or frame-rate range is outside what camera hardware offers."),
        MEDIUM,
        2,
    ),
    Reason(
        "timing_too_regular",
        _("Frames arrive with machine-exact timing"),
        _("Real cameras show small timing variation; a generated stream often does not. Weak on its own: "
          "some cameras and the browser's test camera are this regular."),
        WEAK,
        1,
    ),
    Reason(
        "timing_jittery",
        _("Frames arrive with very uneven timing"),
        _("Typical of a stream re-encoded or relayed by software, but also of a busy or overheated device."),
        WEAK,
        1,
    ),
    Reason(
        "camera_switched",
        _("The camera was switched during the call"),
        _("Switching to the back camera for the document is normal; switching to another source mid-call can "
          "hide an injection."),
        WEAK,
        1,
    ),
    Reason(
        "resolution_changed",
        _("The camera's resolution changed during the call"),
        _("A source swapped behind the same camera often changes the picture size."),
        WEAK,
        1,
    ),
    Reason(
        "repeated_picture",
        _("The same picture was sent more than once"),
        _("Captures taken apart look identical, as a replayed photo or looped video would."),
        MEDIUM,
        4,
    ),
    Reason(
        "still_picture",
        _("The picture did not move while the customer was asked to move"),
        _("The frames of a movement burst are nearly identical: a still image held to the camera or injected."),
        MEDIUM,
        2,
    ),
    Reason(
        "browser_test_camera",
        _("The browser's built-in test camera"),
        _("Chromium's synthetic test device, used by automated tests. Not a real camera; never used by a "
          "customer's ordinary browser."),
        WEAK,
        0,
    ),
]
REASONS: dict[str, Reason] = {reason.code: reason for reason in _REASONS}

# Levels by summed weight. A weak signal alone (timing, a switch) stays
# "low", which the panel shows as no warning: a real camera sometimes trips
# one, and the test device always trips timing_too_regular.
LEVELS = ("none", "low", "elevated", "high")
LEVEL_THRESHOLDS = (("high", 5), ("elevated", 3), ("low", 1))
RAISED_LEVELS = ("elevated", "high")

# --- camera labels ------------------------------------------------------------

CAMERA_KINDS = ("virtual_camera", "browser_test_camera", "video_file", "device", "unnamed")
# Lower-case fragments of labels virtual-camera software gives its device,
# most specific first, with the product named to the operator.
VIRTUAL_CAMERA_NAMES = (
    ("obs virtual", "OBS Virtual Camera"),
    ("obs camera", "OBS Virtual Camera"),
    ("manycam", "ManyCam"),
    ("xsplit", "XSplit VCam"),
    ("snap camera", "Snap Camera"),
    ("mmhmm", "mmhmm"),
    ("camtwist", "CamTwist"),
    ("e2esoft", "e2eSoft VCam"),
    ("vcam", "e2eSoft VCam"),
    ("v4l2loopback", "v4l2loopback (pyvirtualcam)"),
    ("dummy video device", "v4l2loopback (pyvirtualcam)"),
    ("pyvirtualcam", "v4l2loopback (pyvirtualcam)"),
    ("unity video capture", "Unity Capture (pyvirtualcam)"),
    ("logi capture", "Logi Capture"),
    ("nvidia broadcast", "NVIDIA Broadcast"),
    ("droidcam", "DroidCam"),
    ("iriun", "Iriun Webcam"),
    ("virtual", "virtual camera"),
)
VIDEO_FILE_SUFFIXES = (".y4m", ".mjpeg", ".mjpg", ".mp4", ".webm", ".avi", ".mov")


def camera_label_classify(label: str) -> tuple[str, str]:
    """(kind, product) of a camera label; product is "" unless a known
    virtual camera matched. The label itself is not kept."""
    text = (label or "").strip().lower()
    if not text:
        return "unnamed", ""
    if text.startswith("fake_device"):
        return "browser_test_camera", ""
    # "OBS-Virtual-Camera", "obs_virtual_camera": the same name.
    words = re.sub(r"[-_./\\]+", " ", text)
    for fragment, product in VIRTUAL_CAMERA_NAMES:
        if fragment in words:
            return "virtual_camera", product
    if text.endswith(VIDEO_FILE_SUFFIXES):
        return "video_file", ""
    return "device", ""


# --- the report's schema ------------------------------------------------------

PHASES = ("precall", "call")
MAX_LABEL_CHARS = 200
# The functions the page checks for native code (capture-integrity.js).
CHECKED_FUNCTIONS = frozenset(
    {
        "getUserMedia",
        "enumerateDevices",
        "getSettings",
        "getCapabilities",
        "getDisplayMedia",
        "toString",
        "MediaStream",
        "addTrack",
        "replaceTrack",
    }
)
CHANGE_KINDS = ("camera_switched", "resolution_changed")
MAX_CHANGES = 10
MAX_TIMING_SAMPLES = 10_000


class ReportError(ValueError):
    """A malformed report: the message says which part."""


def _number(value, name: str, *, low: float = 0, high: float = 1e6, optional: bool = True) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not low <= value <= high:
        raise ReportError(f"{name} must be a number between {low:g} and {high:g}")
    return value


def _measure(value, *, high: float = 1e6) -> float | None:
    """A camera's reported size or rate: a number the page may not control
    (a virtual camera reports what it likes). Out of range is itself a sign
    (unusual_capabilities), so it is clamped, never a reason to refuse the
    report and lose its other signals; what is not a number says nothing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return None
    return min(float(value), high)


def _known_flag(value, name: str) -> bool | None:
    """True, False, or None when the page did not say (an unknown is never
    scored as the worse answer)."""
    return None if value is None else _flag(value, name)


def _flag(value, name: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ReportError(f"{name} must be true or false")
    return value


def _object(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ReportError(f"{name} must be an object")
    return value


def report_clean(frame: dict) -> dict:
    """The report a customer's page sent, checked and reduced to what is
    scored: unknown fields dropped, numbers bounded, the camera's label
    replaced by its kind. Raises ReportError."""
    phase = frame.get("phase")
    if not isinstance(phase, str) or phase not in PHASES:
        raise ReportError("phase must be precall or call")
    camera = _object(frame.get("camera"), "camera")
    label = camera.get("label", "")
    if not isinstance(label, str):
        raise ReportError("camera.label must be a text")
    kind, product = camera_label_classify(label[:MAX_LABEL_CHARS])
    track = _object(frame.get("track"), "track")
    stats = track.get("stats")
    if stats is not None:
        stats = _object(stats, "track.stats")
        stats = {
            key: _measure(stats.get(key), high=1e9)
            for key in ("delivered", "discarded", "total")
        }
    capabilities = _object(frame.get("capabilities"), "capabilities")
    settings_ = _object(frame.get("settings"), "settings")
    replaced = frame.get("replaced") or []
    if not isinstance(replaced, list) or len(replaced) > 20 or not all(isinstance(name, str) for name in replaced):
        raise ReportError("replaced must be a list of function names")
    timing = frame.get("timing")
    if timing is not None:
        timing = _object(timing, "timing")
        timing = {
            "samples": int(_number(timing.get("samples"), "timing.samples", high=MAX_TIMING_SAMPLES, optional=False)),
            "mean_ms": _number(timing.get("mean_ms"), "timing.mean_ms", high=10_000, optional=False),
            "cv": _number(timing.get("cv"), "timing.cv", high=100, optional=False),
        }
    changes = frame.get("changes") or []
    if not isinstance(changes, list) or len(changes) > MAX_CHANGES:
        raise ReportError(f"changes must be a list of at most {MAX_CHANGES}")
    clean_changes = []
    for change in changes:
        change = _object(change, "a change")
        change_kind = change.get("kind")
        if not isinstance(change_kind, str) or change_kind not in CHANGE_KINDS:
            raise ReportError(f"a change's kind must be one of {', '.join(CHANGE_KINDS)}")
        entry = {"kind": change_kind}
        if change_kind == "resolution_changed":
            for key in ("from_width", "from_height", "to_width", "to_height"):
                value = _number(change.get(key), f"change.{key}", high=100_000)
                entry[key] = int(value) if value is not None else None
        clean_changes.append(entry)
    return {
        "phase": phase,
        "camera_kind": kind,
        "camera_product": product,
        "track": {
            "canvas": _flag(track.get("canvas"), "track.canvas"),
            "has_device_id": _known_flag(track.get("has_device_id"), "track.has_device_id"),
            "has_capabilities": _known_flag(track.get("has_capabilities"), "track.has_capabilities"),
            "stats": stats,
        },
        "capabilities": {key: _measure(capabilities.get(key)) for key in ("width_max", "height_max", "frame_rate_max")},
        "settings": {key: _measure(settings_.get(key)) for key in ("width", "height", "frame_rate")},
        # Only the names the page checks; anything else is not ours to store.
        "replaced": sorted({name for name in replaced if name in CHECKED_FUNCTIONS}),
        "timing": timing,
        "changes": clean_changes,
    }


# --- scoring ------------------------------------------------------------------

# Frame timing, as the coefficient of variation of the intervals between
# captured frames (capture-integrity.js drops intervals of skipped frames).
# Chromium's test device measured ~0.02-0.06 through requestVideoFrameCallback
# here (README), real webcams typically 0.02-0.2; below this is exact to the
# microsecond, above the other bound frames come in bursts.
TIMING_MIN_SAMPLES = 20
TIMING_REGULAR_CV = 0.005
TIMING_JITTERY_CV = 0.6
MAX_REAL_FRAME_RATE = 480
MAX_REAL_DIMENSION = 16_384


def report_signals(report: dict) -> list[tuple[str, dict]]:
    """The signals a clean report fires, as (code, params)."""
    signals: list[tuple[str, dict]] = []
    if report["camera_kind"] == "virtual_camera":
        signals.append(("virtual_camera_name", {"product": report["camera_product"]}))
    elif report["camera_kind"] == "video_file":
        signals.append(("video_file_camera", {}))
    elif report["camera_kind"] == "browser_test_camera":
        signals.append(("browser_test_camera", {}))
    track = report["track"]
    # A canvas track is synthetic by its class; a track that says it has
    # neither a device id nor capabilities came from no device (script-made:
    # WebAudio, WebCodecs, a generator). A report that does not say is not
    # scored as if it had said no.
    if track["canvas"] or (track["has_device_id"] is False and track["has_capabilities"] is False):
        signals.append(
            ("synthetic_track", {"canvas": track["canvas"], "device": track["has_device_id"]})
        )
    capabilities = report["capabilities"]
    if (capabilities["frame_rate_max"] or 0) > MAX_REAL_FRAME_RATE or max(
        capabilities["width_max"] or 0, capabilities["height_max"] or 0
    ) > MAX_REAL_DIMENSION:
        signals.append(("unusual_capabilities", {k: v for k, v in capabilities.items() if v is not None}))
    if report["replaced"]:
        signals.append(("api_replaced", {"functions": report["replaced"]}))
    timing = report["timing"]
    if timing and timing["samples"] >= TIMING_MIN_SAMPLES:
        figures = {"samples": timing["samples"], "cv": round(timing["cv"], 4), "mean_ms": round(timing["mean_ms"], 2)}
        if timing["cv"] < TIMING_REGULAR_CV:
            signals.append(("timing_too_regular", figures))
        elif timing["cv"] > TIMING_JITTERY_CV:
            signals.append(("timing_jittery", figures))
    for change in report["changes"]:
        signals.append((change["kind"], {k: v for k, v in change.items() if k != "kind" and v is not None}))
    return signals


def level_for(weight: int) -> str:
    for level, threshold in LEVEL_THRESHOLDS:
        if weight >= threshold:
            return level
    return "none"


# --- writes -------------------------------------------------------------------


def capture_integrity_record(
    *, participant_id: int, phase: str, signals: list[tuple[str, dict]], report: dict | None = None
) -> list[str]:
    """Keep the signals one report (or one server check) fired, audit the
    report, and push the panel when something new fired. Returns the codes
    that were new for this participant and phase.

    The participant is locked: two reports of one page (a reconnect resends)
    must not both create the same signal."""
    for code, _params in signals:
        if code not in REASONS:
            raise ValueError(f"unknown capture-integrity code {code!r}")
    with transaction.atomic():
        participant = participant_lock(participant_id)
        now = timezone.now()
        new = []
        for code, params in signals:
            updated = CaptureSignal.objects.filter(participant=participant, code=code, phase=phase).update(
                count=F("count") + 1, last_seen_at=now, params=params
            )
            if not updated:
                CaptureSignal.objects.create(
                    participant=participant,
                    code=code,
                    phase=phase,
                    weight=REASONS[code].weight,
                    params=params,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                new.append(code)
        data = {"phase": phase, "codes": [code for code, _params in signals]}
        if report is not None:
            # The camera's kind and product, never its label.
            data.update(camera_kind=report["camera_kind"], camera_product=report["camera_product"])
        audit_record(
            business=participant.session.business,
            session=participant.session,
            participant=participant,
            actor=Actor.customer() if phase in PHASES else Actor.system(),
            action="integrity.reported",
            data=data,
        )
        if new:
            session_mark_changed(participant.session)
    return new


def capture_integrity_report(*, participant_id: int, report: dict) -> list[str]:
    """A customer's page's clean report (report_clean): scored and kept."""
    return capture_integrity_record(
        participant_id=participant_id, phase=report["phase"], signals=report_signals(report), report=report
    )


# --- reads --------------------------------------------------------------------


def _signal_view(signal: CaptureSignal) -> dict:
    reason = REASONS.get(signal.code)
    return {
        "code": signal.code,
        "phase": signal.phase,
        "label": str(reason.label) if reason else signal.code,
        "meaning": str(reason.meaning) if reason else "",
        "strength": reason.strength if reason else WEAK,
        "weight": signal.weight,
        "count": signal.count,
        "params": signal.params,
        "first_seen_at": signal.first_seen_at.isoformat(),
    }


WEAK_WEIGHT_CAP = 2


def _strength(code: str) -> str:
    reason = REASONS.get(code)
    return reason.strength if reason else WEAK


def integrity_panel(signals) -> dict:
    """The risk panel of one participant from their signals: the level, and
    each signal with its reason. A code seen in two phases counts once."""
    by_code: dict[str, CaptureSignal] = {}
    for signal in signals:
        known = by_code.get(signal.code)
        if known is None or signal.first_seen_at < known.first_seen_at:
            by_code[signal.code] = signal
    # Weak signs add up to at most WEAK_WEIGHT_CAP: a camera switch, uneven
    # timing on a busy phone and a size change are each innocent, and
    # together still only a note; a warning needs a medium or strong sign.
    weak = sum(s.weight for s in by_code.values() if _strength(s.code) == WEAK)
    weight = sum(s.weight for s in by_code.values() if _strength(s.code) != WEAK) + min(weak, WEAK_WEIGHT_CAP)
    level = level_for(weight)
    views = sorted((_signal_view(s) for s in by_code.values()), key=lambda v: (-v["weight"], v["first_seen_at"]))
    return {"level": level, "raised": level in RAISED_LEVELS, "weight": weight, "signals": views}


def integrity_panels_for_session(session_id: int) -> dict[int, dict]:
    """Each participant's panel (by participant pk) in one query."""
    signals: dict[int, list] = {}
    for signal in CaptureSignal.objects.filter(participant__session_id=session_id):
        signals.setdefault(signal.participant_id, []).append(signal)
    return {participant_id: integrity_panel(rows) for participant_id, rows in signals.items()}


def integrity_panel_for_participant(participant: Participant) -> dict:
    return integrity_panel(participant.capture_signals.all())


EMPTY_PANEL = {"level": "none", "raised": False, "weight": 0, "signals": []}
