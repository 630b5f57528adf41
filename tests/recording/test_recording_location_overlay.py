"""The customer's live location (LIVE_LOCATION) is burned into the composed
recording beside the call's clock: coordinates, accuracy and the time of the
position, in the clock's box; a call without a location keeps the clock alone."""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from sessions_app import recording_media, recordings
from sessions_app.models import ParticipantLocation
from tests.evidence_stores import plaintext_copy
from tests.recording.test_recording_compose import recorded_call  # noqa: F401  (the fixture)


@pytest.fixture
def overlay_seen(monkeypatch):
    """What compose burned in: the text file of its clock, read back."""
    seen = {}
    compose = recording_media.compose

    def compose_and_read_the_overlay(**kwargs):
        result = compose(**kwargs)
        seen["clock"] = (kwargs["workdir"] / "clock.txt").read_text()
        seen["filter"] = (kwargs["workdir"] / "compose.filter").read_text()
        seen["burned"] = result.clock_burned_in
        return result

    monkeypatch.setattr(recording_media, "compose", compose_and_read_the_overlay)
    return seen


def frame_at(path, seconds: float, target) -> Image.Image:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", f"{seconds}", "-i", str(path), "-frames:v", "1", str(target)],
        check=True,
    )
    return Image.open(target).convert("RGB")


def test_the_location_is_burned_in_beside_the_clock(recorded_call, overlay_seen, tmp_path):  # noqa: F811
    located_at = datetime(2026, 12, 7, 10, 15, 30, tzinfo=UTC)
    participant = recorded_call.participants.get()
    ParticipantLocation.objects.create(
        participant=participant, latitude=19.076, longitude=72.8777, accuracy_m=18.4, located_at=located_at,
        ip_country="IN", location_country="IN",
    )
    assert recordings.recording_compose_session(session_id=recorded_call.pk) == recordings.COMPOSED
    assert overlay_seen["burned"], "the clock's font (fonts-dejavu-core) is missing"
    gps, clock = overlay_seen["clock"].split("\n")
    assert gps == "GPS 19.07600, 72.87770 +/-18 m at 2026-12-07 10:15:30 UTC"
    assert clock.startswith("%{pts:gmtime:") and clock.endswith("call %{pts:hms}")
    assert "drawtext=textfile=" in overlay_seen["filter"]
    # The file still plays with the taller box (a frame of it was looked at by eye).
    playable = plaintext_copy(recordings.composed_recording(recorded_call).file, tmp_path)
    assert frame_at(playable, 3.0, tmp_path / "frame.png").size == (1280, 480)


def test_a_call_without_a_location_keeps_the_clock_alone(recorded_call, overlay_seen):  # noqa: F811
    assert recordings.recording_compose_session(session_id=recorded_call.pk) == recordings.COMPOSED
    assert "\n" not in overlay_seen["clock"] and "GPS" not in overlay_seen["clock"]


def test_the_newest_location_of_each_customer_is_burned_in(recorded_call):  # noqa: F811
    participant = recorded_call.participants.get()
    now = datetime.now(UTC)
    for latitude, age in ((19.0, 60), (19.5, 5)):
        ParticipantLocation.objects.create(
            participant=participant, latitude=latitude, longitude=72.8, accuracy_m=10,
            located_at=now - timedelta(seconds=age), received_at=now - timedelta(seconds=age),
        )
    [line] = recordings._location_overlay_lines(recorded_call)
    assert line.startswith("GPS 19.50000, 72.80000 +/-10 m")
