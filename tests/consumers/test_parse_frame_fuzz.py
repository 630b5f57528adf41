"""parse_frame is the one gate every browser frame passes: whatever arrives,
it either raises FrameError or returns a payload that fits the schema."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessions_app.selectors import CUSTOMER, OPERATOR
from sessions_app.signaling import (
    ALLOWED_TYPES,
    MAX_CANDIDATE_CHARS,
    MAX_ID_CHARS,
    MAX_PROMPT_ID,
    MAX_SDP_CHARS,
    PROMPT_CODES,
    VALIDATORS,
    FrameError,
    parse_frame,
)

MAX_BYTES = 64 * 1024
ERROR_CODES = {"binary_not_accepted", "invalid_json", "invalid", "unknown_type", "forbidden", "too_large"}

# The autouse fixtures of tests/conftest.py (settings, tmp_path) are function
# scoped and play no part in a pure function.
fuzz = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

roles = st.sampled_from([CUSTOMER, OPERATOR])
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=80)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def maybe(valid, junk=json_values):
    """Mostly well-formed values, sometimes anything at all."""
    return valid | junk


ids = maybe(st.text(min_size=1, max_size=MAX_ID_CHARS + 4))
descriptions = maybe(
    st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(["offer", "answer", "rollback", "pranswer"]))},
        optional={"sdp": maybe(st.text(max_size=200))},
    )
)
candidates = maybe(
    st.none()
    | st.fixed_dictionaries(
        {},
        optional={
            "candidate": maybe(st.text(max_size=200)),
            "sdpMid": maybe(st.none() | st.text(max_size=MAX_ID_CHARS + 2)),
            "sdpMLineIndex": maybe(st.none() | st.integers(min_value=-2, max_value=70) | st.booleans()),
            "usernameFragment": maybe(st.none() | st.text(max_size=20)),
        },
    )
)
prompts = maybe(
    st.none()
    | st.fixed_dictionaries(
        {"code": maybe(st.sampled_from(sorted(PROMPT_CODES)))}, optional={"text": maybe(st.text(max_size=510))}
    )
    # A prompt's id (prompt_shown, prompt_resend).
    | st.integers(min_value=-2, max_value=MAX_PROMPT_ID + 2)
)
types = maybe(st.sampled_from(sorted(VALIDATORS) + ["join", "relay.signal", ""]))
schema_shaped_frames = st.fixed_dictionaries(
    {"type": types},
    optional={
        "to": ids,
        "from": ids,
        "description": descriptions,
        "candidate": candidates,
        "audio": maybe(st.booleans()),
        "video": maybe(st.booleans()),
        "participant": ids,
        "prompt": prompts,
        "extra": json_values,
    },
)


def is_text(value, limit, *, empty_ok=True) -> bool:
    return isinstance(value, str) and (empty_ok or value) and len(value) <= limit


def assert_follows_schema(kind: str, payload: dict, role: str) -> None:
    assert kind in ALLOWED_TYPES[role]
    if kind in ("heartbeat", "sync", "end_call"):
        assert payload == {}
    elif kind == "media_state":
        assert set(payload) == {"audio", "video"}
        assert all(type(v) is bool for v in payload.values())
    elif kind == "signal":
        assert is_text(payload["to"], MAX_ID_CHARS, empty_ok=False)
        assert set(payload) in ({"to", "description"}, {"to", "candidate"})
        if "description" in payload:
            description = payload["description"]
            assert set(description) == {"type", "sdp"}
            assert description["type"] in ("offer", "answer", "rollback")
            assert is_text(description["sdp"], MAX_SDP_CHARS)
            assert description["type"] == "rollback" or description["sdp"]
        elif payload["candidate"] is not None:
            candidate = payload["candidate"]
            assert set(candidate) == {"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"}
            assert is_text(candidate["candidate"], MAX_CANDIDATE_CHARS)
            assert candidate["sdpMid"] is None or is_text(candidate["sdpMid"], MAX_ID_CHARS)
            index = candidate["sdpMLineIndex"]
            assert index is None or (type(index) is int and 0 <= index < 64)
            assert candidate["usernameFragment"] is None or is_text(candidate["usernameFragment"], 256)
    elif kind == "prompt":
        assert role == OPERATOR
        assert set(payload) == {"participant", "prompt"}
        assert is_text(payload["participant"], MAX_ID_CHARS, empty_ok=False)
        if payload["prompt"] is not None:
            assert set(payload["prompt"]) == {"code", "text"}
            assert payload["prompt"]["code"] in PROMPT_CODES
            assert is_text(payload["prompt"]["text"], 500)
    elif kind in ("prompt_shown", "prompt_resend"):
        assert role == (CUSTOMER if kind == "prompt_shown" else OPERATOR)
        assert set(payload) == {"participant", "prompt"}
        assert is_text(payload["participant"], MAX_ID_CHARS, empty_ok=False)
        assert type(payload["prompt"]) is int and 0 < payload["prompt"] < MAX_PROMPT_ID
    else:
        raise AssertionError(f"parse_frame returned unknown type {kind!r}")
    json.dumps(payload)  # what is relayed must serialise


def check(text: str, role: str) -> None:
    try:
        kind, payload = parse_frame(text=text, binary=None, role=role, max_bytes=MAX_BYTES)
    except FrameError as error:
        assert error.code in ERROR_CODES
        assert error.message
        return
    assert_follows_schema(kind, payload, role)


@fuzz
@given(text=st.text(max_size=300), role=roles)
def test_random_text_never_breaks_the_parser(text, role):
    check(text, role)


@fuzz
@given(value=json_values, role=roles)
def test_random_json_never_breaks_the_parser(value, role):
    check(json.dumps(value), role)


@fuzz
@given(frame=schema_shaped_frames, role=roles)
def test_schema_shaped_frames_are_refused_or_clean(frame, role):
    check(json.dumps(frame), role)


@fuzz
@given(frame=schema_shaped_frames, role=roles)
def test_schema_shaped_frames_with_unicode_escapes_disabled_are_refused_or_clean(frame, role):
    check(json.dumps(frame, ensure_ascii=False), role)


@fuzz
@given(data=st.binary(max_size=100), role=roles)
def test_binary_frames_are_always_refused(data, role):
    try:
        parse_frame(text=None, binary=data, role=role, max_bytes=MAX_BYTES)
    except FrameError as error:
        assert error.code == "binary_not_accepted"
    else:
        raise AssertionError("a binary frame was accepted")


@fuzz
@given(text=st.text(min_size=1, max_size=60), role=roles)
def test_frames_over_the_byte_limit_are_too_large(text, role):
    limit = len(text.encode("utf-8", "surrogatepass")) - 1
    try:
        parse_frame(text=text, binary=None, role=role, max_bytes=limit)
    except FrameError as error:
        assert error.code == "too_large"
    else:
        raise AssertionError("an oversized frame was accepted")
