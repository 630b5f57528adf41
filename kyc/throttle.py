"""Budgets per client IP address, kept in Django's cache.

With REDIS_URL the cache is Redis, shared by every daphne process, so an
attacker gains nothing by spreading requests over processes; embedded it is
the process's memory. The client's address always comes from kyc.net, so a
forged X-Forwarded-For cannot open a fresh budget.
"""

import logging
import time
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

security_log = logging.getLogger("verity.security")


def _window_key(kind: str, ip: str, window: int) -> str:
    # Fixed windows: the key names its window, so it expires on its own and
    # a count never has to be reset.
    return f"verity:throttle:{kind}:{ip}:{int(time.time()) // window}"


def _count(key: str, timeout: int, by: int = 1) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, by)
    except ValueError:  # expired between add and incr
        cache.set(key, by, timeout=timeout)
        return by


def window_count(kind: str, key: str, window: int) -> int:
    """Count one event of this kind for this key in the current fixed window."""
    return _count(_window_key(kind, key, window), timeout=window + 1)


def window_total(kind: str, key: str, window: int) -> int:
    return cache.get(_window_key(kind, key, window), 0)


# --- guessing link tokens --------------------------------------------------------------


def link_guessing_blocked(ip: str | None) -> bool:
    """True when this address used up its failed link lookups of the window.
    Checked before the lookup: a blocked client learns nothing, not even
    whether its next guess was right."""
    window = settings.LINK_THROTTLE_WINDOW_SECONDS
    failures = cache.get(_window_key("link", ip or "unknown", window), 0)
    if failures < settings.LINK_THROTTLE_FAILURES:
        return False
    # One security log entry per address and window, not one per request: a
    # flood must not flood the log too.
    if cache.add(_window_key("link-logged", ip or "unknown", window), 1, timeout=window):
        security_log.warning(
            "link guessing throttled: client %s had %d failed link lookups within %d s",
            ip or "unknown",
            failures,
            window,
        )
    return True


def link_lookup_failed(ip: str | None) -> int:
    """Count one failed lookup of a link token; returns the window's count."""
    window = settings.LINK_THROTTLE_WINDOW_SECONDS
    return _count(_window_key("link", ip or "unknown", window), timeout=window + 1)


def link_throttle_forget(ip: str | None) -> None:
    """Forget an address's failures (tests, and an admin who unblocks an office)."""
    window = settings.LINK_THROTTLE_WINDOW_SECONDS
    cache.delete_many([_window_key("link", ip or "unknown", window), _window_key("link-logged", ip or "unknown", window)])


# --- websocket frames per client IP, across sockets ------------------------------------


@dataclass
class _Bucket:
    tokens: float
    updated: float
    unreported: int = 0


@dataclass
class IpFrameBudget:
    """Frames per client IP across all sockets: a token bucket per address in
    this process's memory (the relay path pays a dict lookup, nothing more),
    plus a coarse count shared through the cache, reported once every
    ``report_every`` frames, so several processes together cannot be
    flooded more than one window's allowance either."""

    rate: float
    burst: float
    window: int
    report_every: int
    buckets: dict = field(default_factory=dict)
    logged: dict = field(default_factory=dict)

    def allow_locally(self, ip: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get(ip)
        if bucket is None:
            if len(self.buckets) > 10_000:
                self._forget_idle(now)
            bucket = self.buckets[ip] = _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        bucket.unreported += 1
        return True

    def due_for_report(self, ip: str) -> int:
        """How many frames to add to the shared count now (0: not yet)."""
        bucket = self.buckets.get(ip)
        if bucket is None or bucket.unreported < self.report_every:
            return 0
        count, bucket.unreported = bucket.unreported, 0
        return count

    def shared_limit(self) -> int:
        return int(self.rate * self.window + self.burst)

    def _forget_idle(self, now: float) -> None:
        # A full bucket holds nothing worth remembering.
        for ip in [ip for ip, b in self.buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]:
            del self.buckets[ip]
        for ip in [ip for ip, at in self.logged.items() if now - at >= self.window]:
            del self.logged[ip]


_budget: IpFrameBudget | None = None


def ip_frame_budget() -> IpFrameBudget:
    global _budget
    config = (
        settings.SIGNALING_IP_RATE_PER_SECOND,
        settings.SIGNALING_IP_RATE_BURST,
        settings.SIGNALING_IP_WINDOW_SECONDS,
        settings.SIGNALING_IP_REPORT_EVERY,
    )
    if _budget is None or (_budget.rate, _budget.burst, _budget.window, _budget.report_every) != config:
        _budget = IpFrameBudget(*config)
    return _budget


async def ip_frame_allowed(ip: str | None) -> bool:
    """One frame from this client IP: within its budget, in this process and
    across processes? Costs a dict lookup; one cache round trip every
    ``report_every`` frames of the address."""
    budget = ip_frame_budget()
    ip = ip or "unknown"
    if not budget.allow_locally(ip):
        return _refused(ip, "process", budget)
    report = budget.due_for_report(ip)
    if report and await _off_database_thread(_report_frames)(ip, report, budget.window) > budget.shared_limit():
        return _refused(ip, "shared", budget)
    return True


def _off_database_thread(function):
    """A socket's cache work, run in the general thread pool. The cache's own
    async methods (cache.aadd, aincr, ...) are Django's thread-sensitive
    wrappers: they run on the one thread database_sync_to_async uses, so a
    connect's socket slot (taken before the socket is accepted) queued behind
    every other socket's database work, and daphne dropped handshakes not
    accepted within its 5 s (bench/signaling_capacity.py: at 100 calls
    connecting together, every operator's socket). Presence's leases run off
    that thread for the same reason (kyc/presence.py)."""
    return sync_to_async(function, thread_sensitive=False)


def _report_frames(ip: str, count: int, window: int) -> int:
    """Add frames to the address's count shared across processes; the total."""
    return _count(_window_key("ws", ip, window), timeout=window + 1, by=count)


def _refused(ip: str, where: str, budget: IpFrameBudget | None = None) -> bool:
    budget = budget or ip_frame_budget()
    now = time.monotonic()
    # Once per address and window in this process: a flood must not flood the log.
    if now - budget.logged.get(ip, -budget.window) >= budget.window:
        budget.logged[ip] = now
        security_log.warning("websocket frames over the per-address budget (%s): client %s", where, ip)
    return False


# --- one socket's flood, in the log ------------------------------------------------------


@dataclass
class FloodLog:
    """Frames refused on one socket, logged once per flood episode: one line
    when the first frame is refused, one with the count when the episode
    ends (a frame is accepted again, or the socket goes), and one every
    SIGNALING_FLOOD_LOG_SECONDS while it lasts. A line per refused frame let
    one flood of 3,000 frames write 1,100 warnings: the log must not be the
    next thing a flood fills."""

    who: str
    refused: int = 0
    logged_at: float = 0.0

    def refuse(self, reason: str) -> None:
        now = time.monotonic()
        self.refused += 1
        if self.refused == 1:
            self.logged_at = now
            security_log.warning("websocket flood from %s: refusing its frames (%s)", self.who, reason)
        elif now - self.logged_at >= settings.SIGNALING_FLOOD_LOG_SECONDS:
            self.logged_at = now
            security_log.warning("websocket flood from %s goes on: %d frames refused so far", self.who, self.refused)

    def end(self) -> None:
        if self.refused:
            security_log.warning("websocket flood from %s ended: %d frames refused", self.who, self.refused)
            self.refused = 0


# --- open sockets per client IP, across processes --------------------------------------

# The close code of a socket refused because its address has too many open:
# not fatal for the page (signaling.js reconnects with backoff).
CLOSE_TOO_MANY_SOCKETS = 4430


def _slot_key(ip: str, window: int) -> str:
    return f"verity:sockets:{ip}:{window}"


def _slot_window(now: float | None = None) -> int:
    return int(time.time() if now is None else now) // settings.SIGNALING_SOCKET_SLOT_SECONDS


def _slot_add(ip: str, window: int, by: int) -> int:
    key = _slot_key(ip, window)
    timeout = 2 * settings.SIGNALING_SOCKET_SLOT_SECONDS + 1
    if by > 0:
        cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, by)
    except ValueError:  # expired (a decrement of a window gone: nothing to take away)
        if by > 0:
            cache.set(key, by, timeout=timeout)
        return max(by, 0)


def _slot_take(ip: str, window: int) -> tuple[bool, int, bool]:
    """Count one more socket of this address: (taken, the address's count
    without it if refused, whether this refusal is the window's first)."""
    current = _slot_add(ip, window, 1)
    previous = cache.get(_slot_key(ip, window - 1), 0)
    count = current + max(previous, 0)
    if count <= settings.SIGNALING_MAX_SOCKETS_PER_IP:
        return True, count, False
    _slot_add(ip, window, -1)
    first = cache.add(f"verity:sockets-logged:{ip}:{window}", 1, timeout=settings.SIGNALING_SOCKET_SLOT_SECONDS)
    return False, count - 1, first


def _slot_move(ip: str, counted_in: int, window: int) -> None:
    _slot_add(ip, window, 1)
    _slot_add(ip, counted_in, -1)


class SocketSlots:
    """A consumer mixin: each open socket holds a place in its client IP's
    count, kept in the cache (shared by every daphne process with Redis), so
    one address cannot hold more than SIGNALING_MAX_SOCKETS_PER_IP sockets
    open across all processes.

    The count lives in fixed windows: a socket is counted in the window it
    last renewed in, and the address's count is the current window's plus the
    previous one's. A socket renews at each heartbeat (moving itself into the
    current window) and leaves its window on disconnect; the places of a
    process that died without disconnecting expire with their window, within
    two windows, with nothing to clean up."""

    socket_slot: tuple[str, int] | None = None  # (address, window counted in)

    async def take_socket_slot(self, ip: str | None) -> bool:
        """Count this socket before it is accepted; False (and the socket
        accepted only to be told why, then closed) when its address has too
        many open already."""
        ip = ip or "unknown"
        window = _slot_window()
        taken, count, first_refusal = await _off_database_thread(_slot_take)(ip, window)
        if taken:
            self.socket_slot = (ip, window)
            return True
        if first_refusal:
            security_log.warning(
                "websocket refused: client %s has %d sockets open (limit %d)",
                ip,
                count,
                settings.SIGNALING_MAX_SOCKETS_PER_IP,
            )
        await self.accept()
        await self.send_json(
            {
                "type": "error",
                "code": "too_many_sockets",
                "message": "Too many connections from your address. Trying again shortly.",
            }
        )
        await self.close(code=CLOSE_TOO_MANY_SOCKETS)
        return False

    async def renew_socket_slot(self) -> None:
        """Keep this socket counted (call it at least once a window)."""
        if self.socket_slot is None:
            return
        ip, counted_in = self.socket_slot
        window = _slot_window()
        if window != counted_in:
            await _off_database_thread(_slot_move)(ip, counted_in, window)
            self.socket_slot = (ip, window)

    async def release_socket_slot(self) -> None:
        if self.socket_slot is None:
            return
        ip, counted_in = self.socket_slot
        self.socket_slot = None
        if counted_in >= _slot_window() - 1:  # an older window has expired with the place in it
            await _off_database_thread(_slot_add)(ip, counted_in, -1)


def socket_slots_forget(ip: str | None) -> None:
    """Forget an address's open-socket count (tests)."""
    window = _slot_window()
    cache.delete_many([_slot_key(ip or "unknown", w) for w in (window - 1, window)])
