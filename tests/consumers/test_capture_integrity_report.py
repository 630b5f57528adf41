"""The customer's page reports its camera over the call socket
(integrity_report): the server scores it, keeps the signals, pushes the
operator's risk panel, and never keeps the camera's own label. A malformed
report gets a clear error and the socket goes on; an operator may not send
one; a page that sends too many is told to stop."""

import json

import pytest
from channels.db import database_sync_to_async

from sessions_app.consumers import INTEGRITY_REPORTS_PER_SOCKET
from sessions_app.models import AuditEvent, CaptureSignal
# Alice's call with Max answered: his socket and hers (fixtures shared with the bad-frame tests).
from tests.consumers.test_signaling_bad_frames import assert_error_and_still_usable, customer, operator  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

PERSONAL_LABEL = "Anna Schmidt's OBS Virtual Camera"


def report(**fields):
    frame = {
        "type": "integrity_report",
        "phase": "precall",
        "camera": {"label": "FaceTime HD Camera"},
        "track": {"canvas": False, "has_device_id": True, "has_capabilities": True, "stats": None},
        "capabilities": {"width_max": 1920, "height_max": 1080, "frame_rate_max": 30},
        "settings": {"width": 1280, "height": 720, "frame_rate": 30},
        "replaced": [],
        "timing": {"samples": 40, "mean_ms": 33.3, "cv": 0.08},
        "changes": [],
    }
    frame.update(fields)
    return frame


def _signals(participant):
    return database_sync_to_async(
        lambda: list(CaptureSignal.objects.filter(participant=participant).values_list("code", "phase", "count"))
    )()


def _audit_data(participant):
    return database_sync_to_async(
        lambda: list(
            AuditEvent.objects.filter(participant=participant, action="integrity.reported").values_list("data", flat=True)
        )
    )()


async def test_a_virtual_camera_reaches_the_operators_panel_without_its_label(customer, operator, answered_call):
    await customer.send(report(camera={"label": PERSONAL_LABEL}))

    state = await operator.receive_until("state")
    panel = state["participants"][0]["integrity"]
    assert panel["raised"] is True
    assert panel["level"] == "high"
    (signal,) = panel["signals"]
    assert signal["code"] == "virtual_camera_name"
    assert signal["label"] == "The camera is named like a virtual camera"
    assert signal["params"] == {"product": "OBS Virtual Camera"}
    assert await _signals(answered_call.participant) == [("virtual_camera_name", "precall", 1)]
    (audited,) = await _audit_data(answered_call.participant)
    assert audited == {
        "phase": "precall",
        "codes": ["virtual_camera_name"],
        "camera_kind": "virtual_camera",
        "camera_product": "OBS Virtual Camera",
    }
    # The person's name in the label is nowhere: not in the state, not kept.
    assert "Anna" not in json.dumps(state)
    rows = await database_sync_to_async(lambda: list(CaptureSignal.objects.values("params")))()
    assert "Anna" not in json.dumps(rows)


async def test_the_customers_own_state_carries_no_panel(customer, answered_call):
    await customer.send(report(camera={"label": "OBS Virtual Camera"}))
    state = await customer.receive_until("state")
    assert "integrity" not in json.dumps(state)


async def test_an_ordinary_camera_is_reported_and_raises_nothing(customer, operator, answered_call):
    await customer.send(report())
    await customer.send({"type": "sync"})
    await customer.receive_until("state")
    assert await _signals(answered_call.participant) == []
    assert len(await _audit_data(answered_call.participant)) == 1
    await operator.send({"type": "sync"})
    panel = (await operator.receive_until("state"))["participants"][0]["integrity"]
    assert panel == {"level": "none", "raised": False, "weight": 0, "signals": []}


async def test_a_repeated_report_counts_up_and_does_not_push_again(customer, operator, answered_call):
    await customer.send(report(replaced=["getUserMedia"]))
    await operator.receive_until("state")
    await customer.receive_until("state")  # the same nudge reaches every page of the call
    await customer.send(report(replaced=["getUserMedia"]))
    await customer.send({"type": "sync"})
    await customer.receive_until("state")
    assert await _signals(answered_call.participant) == [("api_replaced", "precall", 2)]
    assert [m for m in await operator.drain() if m["type"] == "state"] == []


BAD_REPORTS = {
    "an unknown phase": report(phase="later"),
    "a label that is not text": report(camera={"label": ["OBS"]}),
    "a negative timing": report(timing={"samples": 40, "mean_ms": -1, "cv": 0.1}),
    "timing without samples": report(timing={"mean_ms": 33, "cv": 0.1}),
    "an unknown change": report(changes=[{"kind": "face_swapped"}]),
    "too many changes": report(changes=[{"kind": "camera_switched"}] * 11),
    "replaced as text": report(replaced="getUserMedia"),
    "track as a list": report(track=[1, 2]),
}


@pytest.mark.parametrize("frame", BAD_REPORTS.values(), ids=BAD_REPORTS.keys())
async def test_a_malformed_report_gets_a_clear_error_and_keeps_nothing(customer, answered_call, frame):
    await customer.send(frame)
    error = await customer.receive()
    assert error["code"] == "invalid"
    assert error["message"].startswith("integrity report: ")
    assert await customer.heartbeat_answered()
    assert await _signals(answered_call.participant) == []
    assert await _audit_data(answered_call.participant) == []


async def test_unknown_fields_and_function_names_are_dropped(customer, answered_call):
    await customer.send(report(replaced=["getUserMedia", "<script>", "x" * 5000], secret={"a": 1}))
    await customer.send({"type": "sync"})
    await customer.receive_until("state")
    rows = await database_sync_to_async(lambda: list(CaptureSignal.objects.values_list("code", "params")))()
    assert rows == [("api_replaced", {"functions": ["getUserMedia"]})]


async def test_an_operator_may_not_send_a_report(operator, answered_call):
    await operator.send(report(camera={"label": "OBS Virtual Camera"}))
    await assert_error_and_still_usable(operator, "forbidden")
    assert await _signals(answered_call.participant) == []


async def test_a_page_that_sends_too_many_reports_is_told_to_stop(customer, answered_call):
    for _ in range(INTEGRITY_REPORTS_PER_SOCKET):
        await customer.send(report(phase="call", changes=[{"kind": "camera_switched"}]))
    await customer.send(report(phase="call", changes=[{"kind": "camera_switched"}]))
    error = await customer.receive_until("error", timeout=10)
    assert error["code"] == "too_many_reports"
    assert await customer.heartbeat_answered()
    assert await _signals(answered_call.participant) == [("camera_switched", "call", INTEGRITY_REPORTS_PER_SOCKET)]
