"""Budgets per client IP address, kept in Django's cache.

With REDIS_URL the cache is Redis, shared by every daphne process, so an
attacker gains nothing by spreading requests over processes; embedded it is
the process's memory. The client's address always comes from kyc.net, so a
forged X-Forwarded-For cannot open a fresh budget.
"""

import logging
import time
from dataclasses import dataclass, field

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
    if report:
        key = _window_key("ws", ip, budget.window)
        await cache.aadd(key, 0, timeout=budget.window + 1)
        try:
            total = await cache.aincr(key, report)
        except ValueError:  # expired between add and incr
            total = report
            await cache.aset(key, report, timeout=budget.window + 1)
        if total > budget.shared_limit():
            return _refused(ip, "shared", budget)
    return True


def _refused(ip: str, where: str, budget: IpFrameBudget | None = None) -> bool:
    budget = budget or ip_frame_budget()
    now = time.monotonic()
    # Once per address and window in this process: a flood must not flood the log.
    if now - budget.logged.get(ip, -budget.window) >= budget.window:
        budget.logged[ip] = now
        security_log.warning("websocket frames over the per-address budget (%s): client %s", where, ip)
    return False
