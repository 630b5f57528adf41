"""Capture-integrity scoring: each signal fires from the report facts that
mean it, timing alone never raises the panel, the levels follow the summed
weights, and a participant's panel holds only their own signals."""

import pytest

from sessions_app import integrity
from sessions_app.models import CaptureSignal


def clean(**fields):
    frame = {
        "phase": "call",
        "camera": {"label": "Integrated Camera"},
        "track": {"canvas": False, "has_device_id": True, "has_capabilities": True},
        "capabilities": {"width_max": 1920, "height_max": 1080, "frame_rate_max": 30},
        "settings": {"width": 1280, "height": 720, "frame_rate": 30},
    }
    frame.update(fields)
    return integrity.report_clean(frame)


def codes(report):
    return [code for code, _params in integrity.report_signals(report)]


def test_an_ordinary_camera_fires_nothing():
    assert codes(clean()) == []


def test_a_canvas_track_is_synthetic_on_its_own():
    """No replaced function needed: the track's class says it."""
    assert codes(clean(track={"canvas": True, "has_device_id": False})) == ["synthetic_track"]


def test_a_track_without_a_device_or_capabilities_is_synthetic():
    assert codes(clean(track={"canvas": False, "has_device_id": False, "has_capabilities": False})) == ["synthetic_track"]


def test_a_report_that_does_not_describe_its_track_is_not_called_synthetic():
    """A missing fact is not scored as the worse answer."""
    assert codes(clean(track={})) == []
    assert codes(clean(track={"has_device_id": False})) == []


def test_a_number_out_of_range_is_a_sign_not_a_reason_to_drop_the_report():
    """A page cannot hide its virtual camera's name behind one absurd number."""
    report = clean(camera={"label": "OBS Virtual Camera"}, capabilities={"width_max": 4e9, "frame_rate_max": 1e300})
    assert codes(report) == ["virtual_camera_name", "unusual_capabilities"]
    assert report["capabilities"]["width_max"] == 1e6
    report = clean(capabilities={"width_max": True, "frame_rate_max": "fast"}, settings={"frame_rate": -1})
    assert report["capabilities"]["width_max"] is None and report["settings"]["frame_rate"] is None
    assert codes(report) == []


def test_weak_signs_together_stay_a_note(db, live_call):
    """A camera switch, uneven timing and a size change: each innocent, and
    together still no warning; one medium sign with them is one."""
    participant = live_call.participant
    weak = [("camera_switched", {}), ("timing_jittery", {}), ("resolution_changed", {})]
    integrity.capture_integrity_record(participant_id=participant.pk, phase="call", signals=weak)
    panel = integrity.integrity_panel_for_participant(participant)
    assert (panel["level"], panel["raised"]) == ("low", False)
    integrity.capture_integrity_record(participant_id=participant.pk, phase="server", signals=[("still_picture", {})])
    assert integrity.integrity_panel_for_participant(participant)["raised"] is True


def test_capabilities_no_camera_has_are_unusual():
    assert codes(clean(capabilities={"width_max": 100_000, "frame_rate_max": 30})) == ["unusual_capabilities"]
    assert codes(clean(capabilities={"frame_rate_max": 1000})) == ["unusual_capabilities"]


@pytest.mark.parametrize(
    "label, kind, product",
    [
        ("OBS Virtual Camera", "virtual_camera", "OBS Virtual Camera"),
        ("/tmp/OBS-Virtual-Camera.y4m", "virtual_camera", "OBS Virtual Camera"),
        ("ManyCam Virtual Webcam", "virtual_camera", "ManyCam"),
        ("Dummy video device (0x0000)", "virtual_camera", "v4l2loopback (pyvirtualcam)"),
        ("NVIDIA Broadcast", "virtual_camera", "NVIDIA Broadcast"),
        ("fake_device_0", "browser_test_camera", ""),
        ("/srv/tests/face.y4m", "video_file", ""),
        ("Anna's iPhone Camera", "device", ""),
        ("", "unnamed", ""),
    ],
)
def test_camera_labels_are_classified(label, kind, product):
    assert integrity.camera_label_classify(label) == (kind, product)


def test_timing_is_judged_only_with_enough_frames():
    assert codes(clean(timing={"samples": 10, "mean_ms": 33, "cv": 0.0})) == []
    assert codes(clean(timing={"samples": 40, "mean_ms": 33, "cv": 0.001})) == ["timing_too_regular"]
    assert codes(clean(timing={"samples": 40, "mean_ms": 33, "cv": 0.9})) == ["timing_jittery"]
    assert codes(clean(timing={"samples": 40, "mean_ms": 50, "cv": 0.017})) == []


def test_timing_alone_never_raises_the_panel():
    weight = integrity.REASONS["timing_too_regular"].weight + integrity.REASONS["browser_test_camera"].weight
    assert integrity.level_for(weight) not in integrity.RAISED_LEVELS


@pytest.mark.parametrize(
    "weight, level", [(0, "none"), (1, "low"), (2, "low"), (3, "elevated"), (4, "elevated"), (5, "high"), (12, "high")]
)
def test_levels_follow_the_summed_weights(weight, level):
    assert integrity.level_for(weight) == level


def test_every_reason_code_is_stable_and_described():
    for code, reason in integrity.REASONS.items():
        assert reason.code == code
        assert reason.strength in (integrity.WEAK, integrity.MEDIUM, integrity.STRONG)
        assert str(reason.label) and str(reason.meaning)


def test_an_unknown_code_is_refused(db, live_call):
    with pytest.raises(ValueError):
        integrity.capture_integrity_record(participant_id=live_call.participant.pk, phase="server", signals=[("nope", {})])


def test_a_code_seen_in_two_phases_counts_once(db, live_call):
    participant = live_call.participant
    integrity.capture_integrity_record(participant_id=participant.pk, phase="precall", signals=[("api_replaced", {})])
    integrity.capture_integrity_record(participant_id=participant.pk, phase="call", signals=[("api_replaced", {})])
    panel = integrity.integrity_panel_for_participant(participant)
    assert panel["weight"] == integrity.REASONS["api_replaced"].weight
    assert [signal["code"] for signal in panel["signals"]] == ["api_replaced"]


def test_a_participants_panel_holds_only_their_own_signals(db, live_call, other_call):
    integrity.capture_integrity_record(
        participant_id=other_call.participant.pk, phase="call", signals=[("synthetic_track", {"canvas": True})]
    )
    assert integrity.integrity_panels_for_session(live_call.session.pk) == {}
    assert integrity.integrity_panel_for_participant(live_call.participant)["signals"] == []
    assert CaptureSignal.objects.for_business(live_call.session.business).count() == 0
    assert CaptureSignal.objects.for_business(other_call.session.business).count() == 1


def test_track_counters_out_of_range_do_not_cost_the_reports_signs():
    report = clean(camera={"label": "OBS Virtual Camera"}, track={"canvas": False, "has_device_id": True,
                                                                   "stats": {"total": 1e12, "delivered": "x"}})
    assert codes(report) == ["virtual_camera_name"]
    assert report["track"]["stats"] == {"delivered": None, "discarded": None, "total": 1e9}
