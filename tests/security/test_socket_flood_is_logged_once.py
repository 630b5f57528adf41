"""A flood on one socket is one episode in the log, with its count.
Reproduces the finding that a flood of 3,000 frames on one socket wrote a
warning line for nearly every frame (~1,100), so a flood of frames was also
a flood of the log."""

import logging

import pytest

from sessions_app.consumers import CLOSE_FLOOD

pytestmark = pytest.mark.django_db(transaction=True)

FRAMES = 3000
BURST = 5


@pytest.fixture
def small_bucket(settings):
    settings.SIGNALING_RATE_BURST = BURST
    settings.SIGNALING_RATE_PER_SECOND = 0.2


def warnings_logged(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]


async def test_a_flood_of_3000_frames_writes_one_line_when_it_starts_and_one_with_its_count(
    sockets, answered_call, small_bucket, caplog
):
    customer = await sockets.customer(answered_call.participant)
    caplog.set_level(logging.INFO)

    for _ in range(FRAMES):
        await customer.send({"type": "sync"})
    await customer.closed_with(CLOSE_FLOOD)
    await customer.disconnect()  # after every frame sent: the socket saw them all

    lines = warnings_logged(caplog)
    assert len(lines) == 2, lines
    assert "refusing its frames" in lines[0]
    assert f"{FRAMES - BURST} frames refused" in lines[1]


async def test_a_new_flood_after_a_quiet_spell_is_a_new_episode(sockets, answered_call, settings, caplog):
    settings.SIGNALING_RATE_BURST = 2
    settings.SIGNALING_RATE_PER_SECOND = 20
    customer = await sockets.customer(answered_call.participant)
    caplog.set_level(logging.INFO)

    for _ in range(2):
        for _ in range(4):
            await customer.send({"type": "sync"})
        await customer.drain()
        await customer.communicator.receive_nothing(timeout=0.2)
        assert await customer.heartbeat_answered()

    lines = warnings_logged(caplog)
    assert len(lines) == 4, lines
    assert ["refusing its frames" in line for line in lines] == [True, False, True, False], lines
    assert all(" frames refused" in line and "ended" in line for line in lines[1::2]), lines
