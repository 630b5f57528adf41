"""A socket's place in its address's count is taken before the socket is
accepted, so it must not wait for the one thread database_sync_to_async
uses: behind a busy database thread, daphne dropped handshakes it could not
accept within 5 s (every operator's socket, 100 calls connecting together)."""

import asyncio
import threading

from asgiref.sync import sync_to_async

from kyc import throttle


class Slots(throttle.SocketSlots):
    async def accept(self):  # only reached when refused
        raise AssertionError("refused")


async def test_a_socket_slot_is_taken_while_the_database_thread_is_busy():
    release = threading.Event()
    # Another socket's database work holding the database thread.
    busy = asyncio.ensure_future(sync_to_async(release.wait, thread_sensitive=True)(5))
    try:
        await asyncio.sleep(0.05)
        slots = Slots()
        assert await asyncio.wait_for(slots.take_socket_slot("203.0.113.9"), 2)
        await asyncio.wait_for(slots.renew_socket_slot(), 2)
        await asyncio.wait_for(slots.release_socket_slot(), 2)
    finally:
        release.set()
        await busy
        throttle.socket_slots_forget("203.0.113.9")
