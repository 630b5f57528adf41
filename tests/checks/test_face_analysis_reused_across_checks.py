"""A liveness burst's frames are looked at once: the faces found for the
liveness check serve the person-swap check, and only the frames that need a
descriptor get one (one per burst of one person standing in place)."""

import pytest

from sessions_app.models import Evidence
from tests.checks import testdata as td
from workflows.checks import faces
from workflows.checks.results import FAILED, PASSED
from workflows.models import CheckResult
from workflows.steps import LIVENESS_BURST_FRAMES
from workflows.tasks import run_checks_for_evidence

from .test_run_checks_for_evidence import store


@pytest.fixture
def counted(monkeypatch):
    """Counts of face detections and descriptors actually computed (not taken
    from what the engine kept), from an empty memory."""
    calls = {"detect": 0, "describe": 0}
    detect, models = faces._detect, faces.models()

    def counting_detect(rgb, key):
        calls["detect"] += 1
        return detect(rgb, key)

    class CountingRecogniser:
        def compute_face_descriptor(self, *args, **kwargs):
            calls["describe"] += 1
            return models[2].compute_face_descriptor(*args, **kwargs)

    faces._cache.clear()
    monkeypatch.setattr(faces, "_detect", counting_detect)
    monkeypatch.setattr(faces, "models", lambda: (models[0], models[1], CountingRecogniser()))
    yield calls
    faces._cache.clear()


@pytest.fixture(scope="module")
def turn(astronaut_challenges):
    return astronaut_challenges["turn_left"]


@pytest.fixture(scope="module")
def hopper_in_her_place(astronaut_frame):
    """Grace Hopper where the astronaut stands, at her size: a swap no box
    position gives away."""
    return td.live_frame(td.grace_hopper(), seed=1)


def test_liveness_and_swap_check_of_a_burst_detect_each_frame_once(live_call, astronaut_frame, counted):
    """A whole burst as the page sends it. The liveness check tracks the face
    through the burst with its own detector (workflows.checks.liveness), so
    the engine's detections are the swap check's: each frame once."""
    burst = td.challenge_frames(astronaut_frame, "turn_left", seed=0, frames=LIVENESS_BURST_FRAMES)
    store(live_call.participant, Evidence.Kind.FACE, astronaut_frame)
    counted.update(detect=0, describe=0)
    frames = [store(live_call.participant, Evidence.Kind.LIVENESS_FRAME, image, label="turn_left", frame_index=i)
              for i, image in enumerate(burst)]
    for frame in frames:
        run_checks_for_evidence(frame.pk)
    assert sorted(CheckResult.objects.filter(evidence=frames[0]).values_list("kind", "status")) == [
        ("face_match", PASSED), ("liveness", PASSED)]
    # Every frame and the live face, each detected once.
    assert counted["detect"] == LIVENESS_BURST_FRAMES + 1
    swap = CheckResult.objects.get(evidence=frames[0], kind="face_match")
    compared = [f for f in swap.details["liveness_frames"] if f["distance"] is not None]
    # The live face and one frame of a person who stays in place.
    assert len(compared) == 1 and counted["describe"] == 2
    assert [f["faces"] for f in swap.details["liveness_frames"]] == [1] * LIVENESS_BURST_FRAMES


def test_one_frame_of_a_steady_burst_is_described_and_passes(astronaut_frame, turn, counted):
    outcome = faces.check_face_match(live_face=astronaut_frame, document=None,
                                     liveness_frames=[(f"turn_left {n + 1}", f) for n, f in enumerate(turn)])
    assert outcome.status == PASSED, outcome.reasons
    assert sum(f["distance"] is not None for f in outcome.details["liveness_frames"]) == 1
    assert counted["describe"] == 2


def test_the_same_frames_pick_the_same_frame_to_describe(astronaut_frame, turn):
    frames = [(f"turn_left {n + 1}", f) for n, f in enumerate(turn)]
    first = faces.check_face_match(live_face=astronaut_frame, document=None, liveness_frames=frames)
    faces._cache.clear()
    again = faces.check_face_match(live_face=astronaut_frame, document=None, liveness_frames=frames)
    assert first.details == again.details


def test_somebody_taking_the_persons_place_mid_burst_fails(astronaut_frame, turn, hopper_in_her_place):
    frames = turn[:2] + [hopper_in_her_place] + turn[3:]
    outcome = faces.check_face_match(live_face=astronaut_frame, document=None,
                                     liveness_frames=[(f"turn_left {n + 1}", f) for n, f in enumerate(frames)])
    assert outcome.status == FAILED
    assert [r.code for r in outcome.reasons] == ["face.swap"]
    assert outcome.reasons[0].params["number"] == "3"


def test_somebody_staying_from_the_first_frame_fails(astronaut_frame, hopper_in_her_place):
    frames = [td.sensor_noise(hopper_in_her_place, seed=n) for n in range(5)]
    outcome = faces.check_face_match(live_face=astronaut_frame, document=None,
                                     liveness_frames=[(f"blink {n + 1}", f) for n, f in enumerate(frames)])
    assert outcome.status == FAILED
    assert {r.code for r in outcome.reasons} == {"face.swap"}
