"""The signaling protocol: message types, who may send them, and the schema
each frame must match. Pure functions, so every rule is tested directly and
fuzzed without a socket."""

import json
import time
from dataclasses import dataclass

from sessions_app.call_conditions import MeasurementError, measurement_clean
from sessions_app.integrity import ReportError, report_clean
from sessions_app.selectors import CUSTOMER, OPERATOR

# Client -> server
SIGNAL = "signal"
HEARTBEAT = "heartbeat"
SYNC = "sync"
MEDIA_STATE = "media_state"
END_CALL = "end_call"
PROMPT = "prompt"
# The customer's page shows a prompt (names the participant and the prompt's id).
PROMPT_SHOWN = "prompt_shown"
# The operator sends a prompt the customer's page has not confirmed again.
PROMPT_RESEND = "prompt_resend"
# The customer's page reports what it sees of its camera (sessions_app/integrity.py).
INTEGRITY_REPORT = "integrity_report"
# The operator's page reports one participant's video and connection as it
# receives them (sessions_app/call_conditions.py).
CALL_CONDITIONS = "call_conditions"

ALLOWED_TYPES = {
    CUSTOMER: frozenset({SIGNAL, HEARTBEAT, SYNC, MEDIA_STATE, END_CALL, PROMPT_SHOWN, INTEGRITY_REPORT}),
    OPERATOR: frozenset({SIGNAL, HEARTBEAT, SYNC, MEDIA_STATE, END_CALL, PROMPT, PROMPT_RESEND, CALL_CONDITIONS}),
}

MAX_SDP_CHARS = 60_000
MAX_CANDIDATE_CHARS = 1_000
MAX_ID_CHARS = 64
# Prompt ids are session state versions; JSON numbers stay exact below 2**53.
MAX_PROMPT_ID = 2**53
# The prompts the customer's page can show. A workflow's liveness actions are
# prompted by their own names (workflows.steps.LIVENESS_ACTIONS is this tuple).
LIVENESS_PROMPT_CODES = ("turn_left", "turn_right", "look_up", "blink", "move_closer")
PROMPT_CODES = frozenset(
    {
        "document_front",
        "document_back",
        "look_at_camera",
        "question",
        "hold_still",
        # Security features are checked while the customer tilts the document
        # (workflows.security_features).
        "tilt_document",
        *LIVENESS_PROMPT_CODES,
    }
)


class FrameError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _require(condition: bool, code: str, message: str) -> None:
    if not condition:
        raise FrameError(code, message)


def _short_str(value, name: str, limit: int = MAX_ID_CHARS, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    _require(isinstance(value, str) and 0 < len(value) <= limit, "invalid", f"{name} must be a text of 1-{limit} characters")
    return value


def _validate_signal(frame: dict) -> dict:
    to = _short_str(frame.get("to"), "to")
    has_description = "description" in frame
    has_candidate = "candidate" in frame
    _require(has_description != has_candidate, "invalid", "a signal carries exactly one of description or candidate")
    if has_description:
        description = frame["description"]
        _require(isinstance(description, dict), "invalid", "description must be an object")
        kind = description.get("type")
        _require(kind in ("offer", "answer", "rollback"), "invalid", "description.type must be offer, answer or rollback")
        sdp = description.get("sdp", "")
        _require(isinstance(sdp, str) and len(sdp) <= MAX_SDP_CHARS, "invalid", "description.sdp must be a text")
        _require(kind == "rollback" or sdp, "invalid", "an offer or answer needs its sdp")
        return {"to": to, "description": {"type": kind, "sdp": sdp}}
    candidate = frame["candidate"]
    if candidate is None:
        return {"to": to, "candidate": None}  # end of candidates
    _require(isinstance(candidate, dict), "invalid", "candidate must be an object or null")
    text = candidate.get("candidate", "")
    _require(isinstance(text, str) and len(text) <= MAX_CANDIDATE_CHARS, "invalid", "candidate.candidate must be a text")
    mid = candidate.get("sdpMid")
    _require(mid is None or (isinstance(mid, str) and len(mid) <= MAX_ID_CHARS), "invalid", "candidate.sdpMid is malformed")
    index = candidate.get("sdpMLineIndex")
    _require(
        index is None or (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 64),
        "invalid",
        "candidate.sdpMLineIndex is malformed",
    )
    fragment = candidate.get("usernameFragment")
    _require(
        fragment is None or (isinstance(fragment, str) and len(fragment) <= 256),
        "invalid",
        "candidate.usernameFragment is malformed",
    )
    return {
        "to": to,
        "candidate": {"candidate": text, "sdpMid": mid, "sdpMLineIndex": index, "usernameFragment": fragment},
    }


def _validate_media_state(frame: dict) -> dict:
    audio, video = frame.get("audio"), frame.get("video")
    _require(isinstance(audio, bool) and isinstance(video, bool), "invalid", "audio and video must be true or false")
    return {"audio": audio, "video": video}


def _validate_prompt(frame: dict) -> dict:
    participant = _short_str(frame.get("participant"), "participant")
    prompt = frame.get("prompt")
    if prompt is None:
        return {"participant": participant, "prompt": None}
    _require(isinstance(prompt, dict), "invalid", "prompt must be an object or null")
    code = prompt.get("code")
    # isinstance first: a list or object is unhashable and `in` a frozenset raises.
    _require(
        isinstance(code, str) and code in PROMPT_CODES,
        "invalid",
        f"prompt.code must be one of {', '.join(sorted(PROMPT_CODES))}",
    )
    text = prompt.get("text", "")
    _require(isinstance(text, str) and len(text) <= 500, "invalid", "prompt.text must be a text of at most 500 characters")
    return {"participant": participant, "prompt": {"code": code, "text": text}}


def _validate_prompt_reference(frame: dict) -> dict:
    """A prompt named by its participant and id (prompt_shown, prompt_resend)."""
    participant = _short_str(frame.get("participant"), "participant")
    prompt = frame.get("prompt")
    _require(
        isinstance(prompt, int) and not isinstance(prompt, bool) and 0 < prompt < MAX_PROMPT_ID,
        "invalid",
        "prompt must be the id of a prompt (a positive whole number)",
    )
    return {"participant": participant, "prompt": prompt}


def _validate_integrity_report(frame: dict) -> dict:
    try:
        return report_clean(frame)
    except ReportError as error:
        raise FrameError("invalid", f"integrity report: {error}") from None


def _validate_call_conditions(frame: dict) -> dict:
    participant = _short_str(frame.get("participant"), "participant")
    try:
        measurement = measurement_clean(frame)
    except MeasurementError as error:
        raise FrameError("invalid", f"call conditions: {error}") from None
    return {"participant": participant, "measurement": measurement}


def _no_payload(frame: dict) -> dict:
    return {}


VALIDATORS = {
    SIGNAL: _validate_signal,
    HEARTBEAT: _no_payload,
    SYNC: _no_payload,
    MEDIA_STATE: _validate_media_state,
    END_CALL: _no_payload,
    PROMPT: _validate_prompt,
    PROMPT_SHOWN: _validate_prompt_reference,
    PROMPT_RESEND: _validate_prompt_reference,
    INTEGRITY_REPORT: _validate_integrity_report,
    CALL_CONDITIONS: _validate_call_conditions,
}


def parse_frame(*, text: str | None, binary: bytes | None, role: str, max_bytes: int) -> tuple[str, dict]:
    """Validate one client frame. Returns (type, clean payload) or raises
    FrameError with a code the client can act on."""
    _require(binary is None, "binary_not_accepted", "frames must be JSON text")
    _require(text is not None, "invalid_json", "empty frame")
    # The limit is in bytes: a character is up to 4 of them, so only long text
    # needs encoding (surrogatepass: a lone surrogate must not raise here).
    _require(
        len(text) <= max_bytes and (len(text) * 4 <= max_bytes or len(text.encode("utf-8", "surrogatepass")) <= max_bytes),
        "too_large",
        f"frames are limited to {max_bytes} bytes",
    )
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "the frame is not valid JSON") from None
    _require(isinstance(frame, dict), "invalid", "a frame is a JSON object")
    kind = frame.get("type")
    _require(isinstance(kind, str) and kind in VALIDATORS, "unknown_type", "unknown message type")
    _require(kind in ALLOWED_TYPES[role], "forbidden", f"a {role} may not send {kind}")
    return kind, VALIDATORS[kind](frame)


@dataclass
class TokenBucket:
    """Flood control for one socket: ``rate`` frames a second, bursts up to
    ``burst`` (an ICE candidate burst at call set-up stays well below it)."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def allow(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if self.tokens < 0:
            self.tokens, self.updated = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
