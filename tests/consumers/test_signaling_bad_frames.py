"""Every kind of bad frame gets an error with a stable code the client can act
on, and the socket goes on working."""

import json

import pytest
from channels.db import database_sync_to_async

from sessions_app.models import Participant
from sessions_app.selectors import OPERATOR_PEER_ID
from sessions_app.signaling import MAX_CANDIDATE_CHARS, MAX_ID_CHARS, MAX_SDP_CHARS

pytestmark = pytest.mark.django_db(transaction=True)


def signal(**fields):
    return json.dumps({"type": "signal", "to": OPERATOR_PEER_ID, **fields})


BAD_TEXT_FRAMES = {
    "empty text": ("", "invalid_json"),
    "broken JSON": ('{"type": "heartbeat"', "invalid_json"),
    "deeply nested JSON": ("[" * 30_000 + "]" * 30_000, "invalid_json"),
    "a JSON list": ('[{"type": "heartbeat"}]', "invalid"),
    "a JSON string": ('"heartbeat"', "invalid"),
    "JSON null": ("null", "invalid"),
    "no type": ('{"to": "operator"}', "unknown_type"),
    "an unknown type": ('{"type": "join_group"}', "unknown_type"),
    "a type that is not text": ('{"type": ["heartbeat"]}', "unknown_type"),
    "a server message type": ('{"type": "relay.signal"}', "unknown_type"),
    "a signal without a recipient": (json.dumps({"type": "signal", "description": {"type": "offer", "sdp": "v=0"}}), "invalid"),
    "a signal to an over-long peer id": (
        json.dumps({"type": "signal", "to": "x" * (MAX_ID_CHARS + 1), "description": {"type": "offer", "sdp": "v=0"}}),
        "invalid",
    ),
    "a signal with neither description nor candidate": (signal(), "invalid"),
    "a signal with both description and candidate": (
        signal(description={"type": "offer", "sdp": "v=0"}, candidate=None),
        "invalid",
    ),
    "a description of an unknown type": (signal(description={"type": "pranswer", "sdp": "v=0"}), "invalid"),
    "an offer without sdp": (signal(description={"type": "offer"}), "invalid"),
    "an over-long sdp": (signal(description={"type": "offer", "sdp": "a" * (MAX_SDP_CHARS + 1)}), "invalid"),
    "a candidate that is a string": (signal(candidate="candidate:1 1 udp"), "invalid"),
    "an over-long candidate": (signal(candidate={"candidate": "c" * (MAX_CANDIDATE_CHARS + 1)}), "invalid"),
    "a candidate line index that is a boolean": (signal(candidate={"candidate": "", "sdpMLineIndex": True}), "invalid"),
    "a negative candidate line index": (signal(candidate={"candidate": "", "sdpMLineIndex": -1}), "invalid"),
    "media state without video": ('{"type": "media_state", "audio": true}', "invalid"),
    "media state as strings": ('{"type": "media_state", "audio": "yes", "video": "no"}', "invalid"),
}


async def assert_error_and_still_usable(socket, code):
    error = await socket.receive()
    assert error["type"] == "error", error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert "fatal" not in error
    assert await socket.heartbeat_answered()


@pytest.fixture
async def customer(sockets, answered_call):
    return await sockets.customer(answered_call.participant)


@pytest.fixture
async def operator(sockets, answered_call, operator_a):
    return await sockets.operator(operator_a, answered_call.session)


@pytest.mark.parametrize("text, code", BAD_TEXT_FRAMES.values(), ids=BAD_TEXT_FRAMES.keys())
async def test_bad_frame_gets_a_stable_error_code_and_the_socket_stays_usable(customer, text, code):
    await customer.send_text(text)
    await assert_error_and_still_usable(customer, code)


async def test_binary_frame_is_not_accepted(customer):
    await customer.send_bytes(b'{"type": "heartbeat"}')
    await assert_error_and_still_usable(customer, "binary_not_accepted")


async def test_frame_over_the_size_limit_is_too_large(customer, settings):
    await customer.send(
        {"type": "signal", "to": OPERATOR_PEER_ID, "description": {"type": "offer", "sdp": "a" * settings.SIGNALING_MAX_FRAME_BYTES}}
    )
    await assert_error_and_still_usable(customer, "too_large")


async def test_frame_over_the_byte_limit_in_multibyte_characters_is_too_large(customer, settings):
    """The limit is in bytes, as the setting says: text of fewer characters than
    the limit but more bytes is refused as well."""
    sdp = "é" * (settings.SIGNALING_MAX_FRAME_BYTES // 2)
    frame = json.dumps({"type": "signal", "to": OPERATOR_PEER_ID, "description": {"type": "offer", "sdp": sdp}}, ensure_ascii=False)
    assert len(frame) < settings.SIGNALING_MAX_FRAME_BYTES < len(frame.encode())

    await customer.send_text(frame)
    await assert_error_and_still_usable(customer, "too_large")


async def test_customer_may_not_send_a_prompt(customer, answered_call):
    await customer.send(
        {"type": "prompt", "participant": answered_call.participant.public_id.hex, "prompt": {"code": "blink", "text": ""}}
    )
    await assert_error_and_still_usable(customer, "forbidden")
    prompt = await database_sync_to_async(
        lambda: Participant.objects.get(pk=answered_call.participant.pk).current_prompt
    )()
    assert prompt is None


@pytest.mark.parametrize(
    "prompt",
    [
        {"code": "sing_a_song", "text": ""},
        {"code": ["blink"], "text": ""},
        {"code": {"blink": True}, "text": ""},
        {"code": "blink", "text": "x" * 501},
        {"code": "blink", "text": 5},
        "blink",
    ],
    ids=["unknown code", "code as a list", "code as an object", "over-long text", "text not a text", "prompt not an object"],
)
async def test_malformed_prompt_from_the_operator_is_invalid(operator, answered_call, prompt):
    await operator.send({"type": "prompt", "participant": answered_call.participant.public_id.hex, "prompt": prompt})
    await assert_error_and_still_usable(operator, "invalid")


@pytest.mark.parametrize("participant", ["not-a-uuid", "0" * 32, "{" + "a" * 62 + "}"])
async def test_prompt_for_a_participant_nobody_knows_is_rejected(operator, participant):
    await operator.send({"type": "prompt", "participant": participant, "prompt": {"code": "blink", "text": ""}})
    await assert_error_and_still_usable(operator, "rejected")
