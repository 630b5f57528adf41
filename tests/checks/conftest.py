"""Shared captures for the check engines, generated once per test session.

The people: ``astronaut`` (Eileen Collins, from scikit-image) is the
customer; ``grace_hopper`` (from matplotlib) is somebody else. Documents are
drawn for holders born well before today and valid well after it, so the
same fixtures stay valid whatever day the suite runs.
"""

import datetime as dt

import pytest

from tests.checks import testdata as td

TODAY = dt.date.today()


def holder(**changes) -> td.DocumentHolder:
    base = dict(
        surname="ERIKSSON",
        given_names="ANNA MARIA",
        document_number="L898902C3",
        nationality="SWE",
        birth_date=dt.date(1974, 8, 12),
        sex="F",
        expiry_date=TODAY.replace(year=TODAY.year + 5, day=min(TODAY.day, 28)),
        optional_data="ZE184226B",
    )
    base.update(changes)
    return td.DocumentHolder(**base)


@pytest.fixture(scope="session")
def anna() -> td.DocumentHolder:
    return holder()


@pytest.fixture(scope="session")
def passport(anna):
    """A clean TD3 passport page of Anna with the astronaut's photo, on a table."""
    image, _ = td.document_capture(anna, "TD3", portrait=td.astronaut(), seed=1)
    return image


@pytest.fixture(scope="session")
def astronaut_frame():
    return td.live_frame(td.astronaut(), seed=1)


@pytest.fixture(scope="session")
def hopper_frame():
    return td.live_frame(td.grace_hopper(), seed=2)


@pytest.fixture(scope="session")
def astronaut_challenges(astronaut_frame):
    """Every liveness action done by the astronaut, five frames each."""
    from workflows.checks.liveness import ACTIONS

    return {action: td.challenge_frames(astronaut_frame, action, seed=i) for i, action in enumerate(ACTIONS)}


@pytest.fixture(scope="session")
def astronaut_bursts(astronaut_challenges):
    """Every action as the customer's page sends it (LIVENESS_BURST_FRAMES
    frames): each of the five frames of astronaut_challenges twice, with
    fresh sensor noise, so the movement keeps its shape."""
    from workflows.steps import LIVENESS_BURST_FRAMES

    repeat = LIVENESS_BURST_FRAMES // td.FRAMES_PER_ACTION
    return {action: [td.sensor_noise(frame, 70 + n) for frame in frames for n in range(repeat)]
            for action, frames in astronaut_challenges.items()}
