"""A background thread of the web process (kyc/background.py: the checks'
thread, a composition) tells the browsers through the server's own event
loop, which owns the in-memory channel layer's queues; and once that loop
has stopped (the server shutting down) it gives up instead of waiting for a
loop that never turns again."""

import asyncio
import threading

from channels.layers import get_channel_layer

from kyc import background, realtime


async def test_a_background_thread_sends_through_the_loop_of_the_request_that_started_it(monkeypatch):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test.background", channel)
    loop = asyncio.get_running_loop()
    sent_from = []
    group_send = layer.group_send

    async def recording_group_send(group, message):
        sent_from.append(asyncio.get_running_loop())
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", recording_group_send)

    def in_a_request():
        # What asgiref leaves in a request's thread under daphne.
        from asgiref.sync import SyncToAsync

        assert SyncToAsync.threadlocal.main_event_loop is loop
        background.background_submit("test", realtime._group_send, "test.background", {"type": "hello"})

    from asgiref.sync import sync_to_async

    await sync_to_async(in_a_request)()
    message = await asyncio.wait_for(layer.receive(channel), timeout=10)
    assert message == {"type": "hello"}
    assert sent_from == [loop]
    await layer.group_discard("test.background", channel)


def test_a_stopped_server_loop_is_not_waited_for():
    stopped = asyncio.new_event_loop()  # never run: like the server's after shutdown
    done = threading.Event()

    def send():
        realtime.send_through(stopped)
        realtime._group_send("test.background", {"type": "hello"})
        done.set()

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    assert done.wait(timeout=10), "the send waited for a loop that does not run"
    stopped.close()
