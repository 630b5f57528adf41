"""Embedded mode's worker process (kyc/background.py): the checks run there,
not on a thread of the web process, because some native code holds Python's
interpreter lock for seconds. What the work tells the browsers reaches them
through the web process; a failure comes back as the work's own exception;
a worker that died is replaced. (The worker sets Django up from the
environment, not from the test's settings: no test here lets it near a
database.)"""

import asyncio
import os
import signal

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from kyc import background, realtime

GROUP = "test.worker"


def tell_who_runs_me(note: str) -> None:
    """Runs in the worker process: says its process id and niceness."""
    realtime._group_send(GROUP, {"type": "worker.said", "pid": os.getpid(), "nice": os.nice(0), "note": note})


def fail(message: str) -> None:
    raise ValueError(message)


def tell_then_fail(note: str) -> None:
    tell_who_runs_me(note)
    raise LookupError("after a result was stored")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def hang() -> None:
    import time

    time.sleep(600)


async def _said(layer, channel) -> dict:
    return await layer.receive(channel)


async def _in_worker(function, *args, **kwargs) -> None:
    """in_worker_process as the checks thread calls it: off the event loop."""
    await sync_to_async(background.in_worker_process, thread_sensitive=False)(function, *args, **kwargs)


async def _who_runs(listening, note: str) -> dict:
    layer, channel = listening
    await _in_worker(tell_who_runs_me, note)
    said = await _said(layer, channel)
    assert said["note"] == note
    return said


@pytest.fixture
async def listening():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(GROUP, channel)
    yield layer, channel
    await layer.group_discard(GROUP, channel)


async def test_work_runs_in_another_process_at_a_lower_priority_and_its_messages_arrive(listening):
    layer, channel = listening
    await _in_worker(tell_who_runs_me, "first")
    said = await _said(layer, channel)
    assert said["note"] == "first"
    assert said["pid"] != os.getpid()
    assert said["nice"] >= os.nice(0) + background.WORKER_NICENESS or said["nice"] == 19

    # The same worker takes the next piece of work (models stay loaded).
    await _in_worker(tell_who_runs_me, "second")
    again = await _said(layer, channel)
    assert (again["note"], again["pid"]) == ("second", said["pid"])


def test_the_works_exception_comes_back():
    with pytest.raises(ValueError, match="no MRZ here"):
        background.in_worker_process(fail, "no MRZ here")


async def test_what_failed_work_told_the_browsers_still_reaches_them(listening):
    layer, channel = listening
    with pytest.raises(LookupError, match="after a result was stored"):
        await _in_worker(tell_then_fail, "stored first")
    said = await _said(layer, channel)
    assert said["note"] == "stored first"


async def test_a_worker_that_died_while_idle_is_replaced_and_the_work_done(listening):
    before = await _who_runs(listening, "before")
    os.kill(before["pid"], signal.SIGKILL)
    for _ in range(50):  # until the pool has seen it go
        if background._worker._broken:
            break
        await asyncio.sleep(0.1)

    after = await _who_runs(listening, "after")
    assert after["pid"] != before["pid"]


async def test_a_worker_that_died_is_replaced(listening):
    before = await _who_runs(listening, "before")

    with pytest.raises(Exception) as died:
        await _in_worker(die)
    assert type(died.value).__name__ == "BrokenProcessPool"

    after = await _who_runs(listening, "after")
    assert after["pid"] != before["pid"]


async def test_work_that_overruns_its_time_is_stopped_and_the_worker_replaced(listening):
    before = await _who_runs(listening, "before")

    with pytest.raises(TimeoutError):
        await _in_worker(hang, timeout=1)
    # The hung process is gone, not left running beside its replacement.
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(before["pid"], 0)
            await asyncio.sleep(0.1)

    after = await _who_runs(listening, "after")
    assert after["pid"] != before["pid"]


def test_messages_sent_inside_collected_are_kept_not_sent(monkeypatch):
    sent = []
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: sent.append("layer") or None)
    with realtime.collected() as told:
        realtime._group_send("call.abc", {"type": "session.changed", "version": 3})
    assert told == [("call.abc", {"type": "session.changed", "version": 3})]
    assert sent == []


PARENT = """
import os, sys
import django
django.setup()
from kyc import background
from tests.unit import test_worker_process as here
background.in_worker_process(here.write_pid, sys.argv[1])
print("ready", flush=True)
import time
time.sleep(600)
"""


def write_pid(path: str) -> None:
    with open(path, "w") as file:
        file.write(str(os.getpid()))


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited orphan waits to be reaped by
    whoever adopted it, which may be slow to)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


def test_a_worker_whose_web_process_was_killed_outright_leaves(tmp_path):
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "worker.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(pid_file)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        worker = int(pid_file.read_text())
        os.kill(worker, 0)  # running
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10 * background.ORPHAN_CHECK_SECONDS
    while time.monotonic() < deadline:
        if not _running(worker):
            return
        time.sleep(0.2)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the worker outlived its web process")
