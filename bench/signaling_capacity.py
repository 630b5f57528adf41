"""Signaling capacity: many call sockets on daphne, beside a bare relay.

Plain `websockets` clients (bench/loadgen.py) in calls of two connect with
real credentials (a customer's Django session cookie, an operator's login),
send a set-up burst of offer / answer / ICE frames, then a heartbeat every
10 s, as the call pages do. The calls are made in the benchmark's own
database with the product's services (bench/provision.py).

The database is SQLite (what `make run` runs; --database postgresql for a
fresh PostgreSQL database). Configurations, one after the other on it:
  redis       one daphne, RedisPubSubChannelLayer (what production uses)
  floor       the bare relay (bench/floor_relay.py) in its own process
  memory      one daphne, InMemoryChannelLayer (the embedded default)
  redis-2     two daphne processes sharing Redis; every call's customer on
              one, its operator on the other, so every frame crosses Redis
  redis-reuse (not by default) one daphne + Redis with database connections
              kept between calls (bench/settings_db_reuse.py)

First the ceiling, for one daphne + Redis and for the floor, alternating
step by step: signals (1.5 KB, no heartbeats) at a rising offered rate until
p99 passes 100 ms; the ceiling is the most messages a second relayed with
p99 within it, and the relay's CPU per message says what one free core would
carry. A py-spy profile of daphne is taken relaying at 70 % of its ceiling.

Then each configuration climbs through the levels (100, 500, 1,000 calls).
At each level: connect up to it (each call bursts when set up: offer 5 KB,
answer 3 KB, 6 + 6 candidates), the server's memory per idle socket, then a
window in which new calls set up at 10 a second on top of the connected ones
(their connect time and relay latency, heartbeat round trips, server CPU,
lost or misrouted frames). A level that cannot be connected within its
budget, or whose heartbeats go unanswered for seconds, is where that
configuration saturates: it stops climbing. At its last level a
heartbeat-only window: what presence alone costs (each heartbeat touches the
database), profiled with py-spy for `redis`.

Every loop is bounded in count and time (DEFAULT_TIME_LIMIT_S for the run);
all traffic goes to 127.0.0.1.

    python -m bench.signaling_capacity [--levels 100,500,1000,2000] [--configs redis,floor]
"""

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.common import (
    ROOT,
    BenchServer,
    CpuBurner,
    fmt,
    free_port,
    load_snapshot,
    machine_info,
    postgres_available,
    postgres_database,
    process_cpu_seconds,
    provision_calls,
    redis_server,
    results_dir,
    table,
    write_results,
)
from bench.loadgen import Load, Stats, percentile

NAME = "signaling_capacity"
TARGET_SESSIONS = 1000
TARGET_P99_MS = 20.0
# Heartbeat round trip: a level whose p99 is over it is saturated (late
# heartbeats are how a page decides its socket is dead).
TARGET_HEARTBEAT_P99_MS = 100.0
# Past this, the level cannot hold its sockets at all: stop climbing.
HEARTBEAT_GIVE_UP_MS = 5000.0
TARGET_CPU_MS_PER_HEARTBEAT = 0.5
TARGET_CPU_MS_PER_SOCKET = 5.0
# A p99 on fewer samples than this is marked as such.
MIN_P99_SAMPLES = 1000
# Each ceiling step is repeated this many times (the configurations
# alternating every time); a rate is held when most of them held it.
CEILING_REPEATS = 3
TARGET_RSS_KB = 50.0
CEILING_P99_MS = 100.0
CEILING_SHARE = 1 / 3
NEW_CALL_RATE = 10.0
NEW_CALL_HOLD_S = 3.0
POOL_CALLS = 60
CEILING_RATES = [250, 500, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 12000, 16000]
# Everything is over after this long, whatever happens.
RUN_LIMIT_S = 30 * 60
DEFAULT_TIME_LIMIT_S = 6 * 60
DEFAULT_CONFIGS = ("redis", "floor")
# Every simulated client comes from 127.0.0.1: the per-address frame budget
# and the per-address socket cap (kyc/throttle.py; 50 sockets by default)
# would take them all for one flooding client and refuse all but 50 sockets.
# The per-socket frame limit stays as configured.
BENCH_CLIENT_ENV = {"SIGNALING_IP_RATE_PER_SECOND": "1000000", "SIGNALING_IP_RATE_BURST": "10000000",
                    "SIGNALING_MAX_SOCKETS_PER_IP": "1000000"}


# --- processes: CPU and memory --------------------------------------------------------


class Usage:
    """CPU (in cores, from /proc/<pid>/stat) and RSS of a few processes over a
    window: the relay's own processes, Redis's included for ours."""

    def __init__(self, pids: list[int]):
        self.pids = list(pids)
        self.started = None
        self.cpu0 = []

    def _cpu(self):
        return [process_cpu_seconds(pid) or 0.0 for pid in self.pids]

    def start(self):
        self.started, self.cpu0 = time.monotonic(), self._cpu()
        return self

    def stop(self) -> list[float]:
        elapsed = time.monotonic() - self.started
        return [(b - a) / elapsed for a, b in zip(self.cpu0, self._cpu())]

    def rss(self) -> list[int]:
        import psutil

        out = []
        for pid in self.pids:
            try:
                out.append(psutil.Process(pid).memory_info().rss)
            except Exception:
                out.append(0)
        return out


class Profiler:
    """py-spy on a running process (non-blocking sampling), summarised as the
    functions most often on the stack and most often at its top."""

    def __init__(self, pid: int, label: str, seconds: float):
        self.pid, self.label, self.seconds = pid, label, seconds
        self.path = results_dir() / f"{NAME}.profile.{label}.txt"
        self.proc = None

    def start(self):
        exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not os.path.exists(exe):
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "record", "--pid", str(self.pid), "--duration", str(int(self.seconds)), "--rate", "200",
             "--nonblocking", "--format", "raw", "--output", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return self

    def summary(self, top: int = 15) -> dict | None:
        if self.proc is None:
            return None
        try:
            self.proc.wait(timeout=self.seconds + 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        if not self.path.exists():
            return None
        inclusive, own = Counter(), Counter()
        total = 0
        for line in self.path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            count = int(count)
            total += count
            frames = stack.split(";")
            seen = set()
            for frame in frames:
                name = _frame_name(frame)
                if name not in seen:
                    inclusive[name] += count
                    seen.add(name)
            own[_frame_name(frames[-1])] += count
        if not total:
            return None
        def share(counter, count=top):
            return [[name, round(100 * n / total, 1)] for name, n in counter.most_common(count)]

        ours = Counter({name: n for name, n in inclusive.items() if "sessions_app/" in name or "kyc/" in name})
        return {"file": self.path.name, "samples": total, "buckets": _buckets(self.path, total),
                "verity_functions_inclusive_percent": share(ours), "own_percent": share(own),
                "inclusive_percent": share(inclusive, 40)}


def _frame_name(frame: str) -> str:
    # py-spy raw frames: "function (path/file.py:line)"
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


# Where the daphne process spends its time, in words. A sample goes to the
# first bucket (in this order) one of whose markers is on its stack; samples
# whose innermost frame is a wait for I/O count as idle.
IDLE_LEAVES = ("select (selectors.py", "EpollSelector.select", "wait (threading.py", "_worker (concurrent/futures")
BUCKETS = [
    ("database: open/close connection", ("get_new_connection", "BaseDatabaseWrapper._close", "close_if_unusable")),
    ("database: queries (ORM + driver)", ("django/db/", "sqlite3", "psycopg")),
    ("heartbeat handler (rest)", ("on_heartbeat",)),
    ("connect / disconnect (consumer, auth, session)", ("websocket_connect", "websocket_disconnect", "resolve_scope",
                                                        "get_user (channels/auth.py", "CallConsumer.connect",
                                                        "CallConsumer.disconnect")),
    ("frame parse + validate", ("parse_frame",)),
    ("channel layer (send, receive, serialise)", ("channels_redis/", "channels/layers.py", "msgpack", "redis/")),
    ("consumer dispatch (channels, asgiref)", ("channels/consumer.py", "channels/generic/", "channels/utils.py", "asgiref/")),
    ("websocket protocol (autobahn)", ("autobahn/",)),
    ("daphne server (HTTP/ws glue)", ("daphne/server.py", "daphne/ws_protocol.py", "daphne/http_protocol.py")),
    ("event loop, sockets (asyncio, twisted)", ("twisted/", "asyncio/", "selectors.py")),
]


def _bucket(stack: str) -> str:
    leaf = stack.rsplit(";", 1)[-1]
    if any(marker in leaf for marker in IDLE_LEAVES):
        return "idle (waiting for I/O or work)"
    for label, markers in BUCKETS:
        if any(marker in stack for marker in markers):
            return label
    return "other"


def _buckets(path: Path, total: int) -> list:
    counts = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            counts[_bucket(stack)] += int(count)
    return [[label, round(100 * n / total, 1)] for label, n in counts.most_common()]


# --- one window of figures ------------------------------------------------------------------


def _samples_note(count: int) -> str:
    return "" if count >= MIN_P99_SAMPLES else f"only {count} samples"


def _window(stats: Stats, seconds: float, cpu: list[float], extra: dict | None = None) -> dict:
    lost = max(0, stats.sent - stats.received - stats.misrouted)
    return {
        "seconds": round(seconds, 2),
        "signals_sent": stats.sent,
        "signals_relayed": stats.received,
        "relayed_per_s": stats.received / seconds if seconds else None,
        "heartbeats": stats.heartbeats,
        "heartbeats_per_s": stats.heartbeats / seconds if seconds else None,
        "relay_p50_ms": percentile(stats.latencies_ms, 50),
        "relay_p99_ms": percentile(stats.latencies_ms, 99),
        "relay_max_ms": max(stats.latencies_ms) if stats.latencies_ms else None,
        "heartbeat_rtt_p50_ms": percentile(stats.heartbeat_rtts_ms, 50),
        "heartbeat_rtt_p99_ms": percentile(stats.heartbeat_rtts_ms, 99),
        "connect_p50_ms": percentile(stats.connect_ms, 50),
        "connect_p99_ms": percentile(stats.connect_ms, 99),
        "call_ready_p50_ms": percentile(stats.ready_ms, 50),
        # What each p99 rests on: fewer than MIN_P99_SAMPLES is marked.
        "samples": {"relay": len(stats.latencies_ms), "heartbeat_rtt": len(stats.heartbeat_rtts_ms),
                    "connect": len(stats.connect_ms)},
        "lost": lost,
        "misrouted": stats.misrouted,
        "errors": dict(stats.errors),
        "server_cpu_cores": [round(c, 3) for c in cpu],
        **(extra or {}),
    }


async def _drain(stats: Stats, limit_s: float = 10.0):
    """Wait until every signal sent has come back (or the limit)."""
    deadline = time.monotonic() + limit_s
    while stats.received + stats.misrouted < stats.sent and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def _cpu_ms_per(cores: list[float], seconds: float, count: int) -> float | None:
    """CPU milliseconds the relay's processes (daphne and Redis for ours)
    spent per operation: a figure the machine's other load moves far less
    than latencies."""
    return sum(cores) * seconds * 1000 / count if count else None


class Climb:
    """One configuration climbing through the levels. Two climbs (ours and
    the floor) take turns level by level (run_pair), both connected
    throughout, so the machine's other load falls on both alike."""

    def __init__(self, name: str, load: Load, pids: list[int], levels: list[int], *, servers: int,
                 profile_pid: int | None, connect_concurrency: int, window_s: float, level_budget_s: float,
                 deadline: float, pool_calls: int = POOL_CALLS, heartbeat_window_s: float = 10.0,
                 hold_s: float = NEW_CALL_HOLD_S):
        self.name, self.load, self.levels = name, load, levels
        self.servers, self.profile_pid = servers, profile_pid
        self.connect_concurrency, self.window_s, self.level_budget_s = connect_concurrency, window_s, level_budget_s
        self.deadline, self.heartbeat_window_s, self.hold_s = deadline, heartbeat_window_s, hold_s
        self.calls = load.calls[: max(levels)]
        self.pool = load.calls[max(levels) : max(levels) + pool_calls]
        self.usage = Usage(pids)
        self.forever = time.monotonic() + RUN_LIMIT_S
        self.connected = 0
        self.stopped = False
        self.out = {"config": name, "levels": []}
        self.rss0 = None

    async def warm_up(self):
        """A few calls through every code path, then gone."""
        warm = self.load.phase("warmup")
        await self.load.connect_calls(self.pool[:5], warm, concurrency=5, burst_phase="warmup",
                                      heartbeat_until=self.forever, deadline=min(self.deadline, time.monotonic() + 60))
        await _drain(warm, 5)
        await self.load.close_calls(self.pool[:5])
        await asyncio.sleep(1.0)
        self.rss0 = self.usage.rss()
        self.out["baseline_rss_mib"] = [round(r / 2**20, 1) for r in self.rss0]

    async def level(self, level: int):
        load, usage, name = self.load, self.usage, self.name
        if time.monotonic() > self.deadline:
            self.out["stopped"] = f"time limit before {level} calls"
            self.stopped = True
            return
        level_out = {"calls": level}
        # Connect up to this level: each call bursts as soon as it is set up.
        # A level that cannot be reached within its budget is where this
        # configuration gives up on this machine.
        stats = load.phase(f"connect{level}")
        usage.start()
        started = time.monotonic()
        failures = await load.connect_calls(self.calls[self.connected : level], stats,
                                            concurrency=self.connect_concurrency, burst_phase=f"connect{level}",
                                            heartbeat_until=self.forever,
                                            deadline=min(self.deadline, started + self.level_budget_s))
        await _drain(stats)
        took = time.monotonic() - started
        reached = sum(1 for call in self.calls if call.connected)
        new_sockets = 2 * (reached - self.connected)
        cores = usage.stop()
        level_out["connect"] = _window(stats, took, cores, {
            "new_sockets": new_sockets,
            "sockets_per_s": new_sockets / took,
            "failed_calls": failures,
            # daphne and Redis together for ours.
            "cpu_ms_per_socket": _cpu_ms_per(cores, took, new_sockets),
        })
        level_out["calls"], level_out["sockets"] = reached, 2 * reached
        self.connected = reached
        give_up = None
        out_of_time = reached < level and time.monotonic() >= self.deadline
        if reached < level and not out_of_time:
            give_up = (f"reached {reached} of {level} calls in {took:.0f} s "
                       f"({failures} failed; connect budget {self.level_budget_s:.0f} s)")
        # Idle: memory per connected socket.
        await asyncio.sleep(2.0)
        rss = usage.rss()
        level_out["rss_mib"] = [round(r / 2**20, 1) for r in rss]
        # The relay's own processes (daphne, or the floor relay): Redis's
        # memory is reported beside it, not in it.
        level_out["rss_per_socket_kb"] = ((sum(rss[: self.servers]) - sum(self.rss0[: self.servers])) / 1024
                                          / (2 * reached) if reached else None)
        # New calls at 10/s on top of the connected ones, heartbeats going on.
        # Always measured, even past saturation: what a late level looks like
        # is the figure.
        stats = load.phase(f"steady{level}")
        usage.start()
        started = time.monotonic()
        await load.new_calls(self.pool, stats, f"steady{level}", rate=NEW_CALL_RATE, seconds=self.window_s,
                             hold_s=self.hold_s, heartbeat_until=self.forever)
        await _drain(stats)
        level_out["steady"] = _window(stats, time.monotonic() - started, usage.stop(), {
            "connected_calls": reached, "new_calls_per_s": NEW_CALL_RATE,
        })
        hb_p99 = level_out["steady"]["heartbeat_rtt_p99_ms"]
        saturated = give_up
        if hb_p99 is not None and hb_p99 > TARGET_HEARTBEAT_P99_MS:
            late = f"heartbeats late: round trip p99 {fmt(hb_p99)} ms > {TARGET_HEARTBEAT_P99_MS:.0f} ms at {reached} calls"
            saturated = f"{saturated}; {late}" if saturated else late
            if hb_p99 > HEARTBEAT_GIVE_UP_MS:
                give_up = give_up or late
        last = give_up or out_of_time or level == self.levels[-1]
        if last and reached:
            # Heartbeats only: every socket beats once in 10 s. What presence
            # costs at this many sockets.
            stats = load.phase(f"heartbeat{level}")
            profiler = (Profiler(self.profile_pid, f"heartbeats-{name}", self.heartbeat_window_s).start()
                        if self.profile_pid else None)
            usage.start()
            await asyncio.sleep(self.heartbeat_window_s)
            cores = usage.stop()
            level_out["heartbeat_only"] = _window(stats, self.heartbeat_window_s, cores, {
                "cpu_ms_per_heartbeat": _cpu_ms_per(cores, self.heartbeat_window_s, stats.heartbeats),
                "acks_per_s": len(stats.heartbeat_rtts_ms) / self.heartbeat_window_s,
            })
            if profiler:
                level_out["heartbeat_only"]["profile"] = profiler.summary()
        level_out["saturated"] = saturated
        self.out["levels"].append(level_out)
        samples = level_out["steady"]["samples"]
        print(f"  {name:8} {reached:5} calls: connect {fmt(level_out['connect']['sockets_per_s'])} sockets/s "
              f"({fmt(level_out['connect']['cpu_ms_per_socket'], 1)} ms CPU each), "
              f"{fmt(level_out['rss_per_socket_kb'], 1)} KB/socket, steady p99 "
              f"{fmt(level_out['steady']['relay_p99_ms'], 1)} ms ({samples['relay']}), heartbeat p99 "
              f"{fmt(hb_p99)} ms ({samples['heartbeat_rtt']}), cpu {level_out['steady']['server_cpu_cores']}, "
              f"lost {level_out['steady']['lost']}, errors {level_out['steady']['errors']}"
              + (f"; SATURATED: {saturated}" if saturated else ""), flush=True)
        if give_up:
            self.out["stopped"] = f"saturated: {give_up}"
            self.stopped = True
        elif out_of_time:
            self.out["stopped"] = f"time limit at {reached} of {level} calls (not saturated)"
            self.stopped = True

    async def close(self):
        await self.load.close_calls([c for c in self.calls if c.connected])


async def run_pair(climbs: list[Climb]) -> dict:
    """The climbs take turns at every level, who goes first alternating."""
    for climb in climbs:
        await climb.warm_up()
    for n, level in enumerate(climbs[0].levels):
        for climb in climbs if n % 2 == 0 else climbs[::-1]:
            if not climb.stopped:
                await climb.level(level)
    for climb in climbs:
        await climb.close()
    return {climb.name: climb.out for climb in climbs}


def _held(window: dict) -> bool:
    """A ceiling step the relay held: p99 within CEILING_P99_MS, nothing
    lost, and it kept up with (80 % of) what was offered."""
    p99 = window["relay_p99_ms"]
    return (p99 is not None and p99 <= CEILING_P99_MS and not window["lost"]
            and window["relayed_per_s"] >= 0.8 * window["offered_per_s"])


def _spread(values: list) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


async def run_ceiling(loads: dict[str, Load], pids: dict[str, list[int]], calls: int, rates: list[int],
                      step_s: float, deadline: float, profile: dict[str, int] | None,
                      repeats: int = CEILING_REPEATS) -> dict:
    """Rising offered load; each rate `repeats` times, the configurations
    alternating at every try. The relay alone: these sockets send no
    heartbeats (what those cost is measured on its own, in the levels). A
    rate is held when most of its tries held it; the ceiling is the median
    delivered rate at the highest rate held, with the tries' spread."""
    connect_stats = {}
    for name, load in loads.items():
        stats = connect_stats[name] = load.phase(f"ceilconnect{name}")
        await load.connect_calls(load.calls[:calls], stats, concurrency=25, burst_phase=None,
                                 heartbeat_until=time.monotonic(), deadline=min(deadline, time.monotonic() + 120))
    connected = {name: [c for c in load.calls[:calls] if c.connected] for name, load in loads.items()}
    steps = {name: [] for name in loads}
    done = {name: False for name in loads}
    names = list(loads)
    turn = 0
    for rate in rates:
        for attempt in range(repeats):
            order = names if turn % 2 == 0 else names[::-1]
            turn += 1
            for name in order:
                if done[name] or time.monotonic() > deadline:
                    continue
                load = loads[name]
                phase = f"ceil{name.replace('-', '')}{rate}x{attempt}"
                stats = load.phase(phase)
                usage = Usage(pids[name]).start()
                me = Usage([os.getpid()]).start()
                started = time.monotonic()
                await load.offered_load(connected[name], stats, phase, rate=rate, seconds=step_s)
                await _drain(stats, 15)
                took = time.monotonic() - started
                cores = usage.stop()
                window = _window(stats, took, cores, {"offered_per_s": rate, "attempt": attempt,
                                                      "load_generator_cpu": me.stop()[0],
                                                      "cpu_ms_per_message": _cpu_ms_per(cores, took, stats.received)})
                # Delivered a second while offering (the drain's tail included).
                window["relayed_per_s"] = stats.received / took
                window["held"] = _held(window)
                steps[name].append(window)
                print(f"  ceiling {name:8} offered {rate:6}/s #{attempt + 1} relayed {fmt(window['relayed_per_s'])}/s "
                      f"p99 {fmt(window['relay_p99_ms'], 1)} ms ({window['samples']['relay']}) lost {window['lost']} "
                      f"cpu {window['server_cpu_cores']} loadgen {window['load_generator_cpu']:.2f}", flush=True)
        for name in names:
            tries = [w for w in steps[name] if w["offered_per_s"] == rate]
            if tries and 2 * sum(1 for w in tries if not w["held"]) >= len(tries):
                done[name] = True
        if all(done.values()):
            break
    out = {"calls": {name: len(c) for name, c in connected.items()}, "step_s": step_s, "repeats": repeats,
           "steps": steps, "ceiling_per_s": {}, "ceiling_spread": {}, "cpu_ms_per_message": {},
           "processes_measured": {name: ("floor relay" if name == "floor" else "daphne + redis" if len(pids[name]) > 1
                                         else "daphne") for name in names}}
    for name, windows in steps.items():
        by_rate = {}
        for w in windows:
            by_rate.setdefault(w["offered_per_s"], []).append(w)
        held = [rate for rate, tries in by_rate.items() if 2 * sum(1 for w in tries if w["held"]) > len(tries)]
        if held:
            tries = by_rate[max(held)]
            relayed = _spread([w["relayed_per_s"] for w in tries])
            out["ceiling_per_s"][name] = relayed["median"]
            out["ceiling_spread"][name] = {
                "offered_per_s": max(held), "relayed_per_s": relayed,
                "p99_ms": _spread([w["relay_p99_ms"] for w in tries]),
                "samples_per_try": [w["samples"]["relay"] for w in tries],
            }
        else:
            out["ceiling_per_s"][name] = None
        out.setdefault("load_generator_bound", {})[name] = any(w["load_generator_cpu"] > 0.9 for w in windows)
        # The relay's CPU per message at the rates it held: what one free
        # core would carry, whatever else the machine was doing.
        # Counted where the relay kept up with what was offered (latency
        # aside: that is the machine's other load), per message delivered.
        costs = [w["cpu_ms_per_message"] for w in windows if w["cpu_ms_per_message"]
                 and w["relayed_per_s"] >= 0.9 * w["offered_per_s"]]
        out["cpu_ms_per_message"][name] = statistics.median(costs) if costs else None
    # Profile daphne relaying at ~70 % of its ceiling.
    if profile:
        for name, pid in profile.items():
            ceiling = out["ceiling_per_s"].get(name) or 500
            rate = max(100, int(0.7 * ceiling))
            load = loads[name]
            phase = f"profile{name.replace('-', '')}"
            stats = load.phase(phase)
            profiler = Profiler(pid, f"relay-{name}", 8).start()
            await load.offered_load(connected[name], stats, phase, rate=rate, seconds=8)
            await _drain(stats, 10)
            out.setdefault("profile", {})[name] = {"rate_per_s": rate, **(profiler.summary() or {})}
    for load in loads.values():
        await load.close_calls([c for c in load.calls if c.connected])
    return out


def _floor_relay_process() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.floor_relay", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    line = proc.stdout.readline()
    if "floor relay on" not in line:
        raise RuntimeError(f"the floor relay did not start: {line}")
    return proc, port


def run(levels=(100, 500, 1000), configs=DEFAULT_CONFIGS, ceiling=True, ceiling_configs=("redis", "floor"),
        ceiling_calls=200, ceiling_rates=None, step_s=3.0, window_s=8.0, database="sqlite", profile=True,
        connect_concurrency=25, level_budget_s=45.0, time_limit_s=DEFAULT_TIME_LIMIT_S, pool_calls=POOL_CALLS,
        heartbeat_window_s=10.0, hold_s=NEW_CALL_HOLD_S, burn_one_core=False, repeats=CEILING_REPEATS) -> dict:
    """The default run fits in about DEFAULT_TIME_LIMIT_S; what does not fit
    is reported as not run. With `burn_one_core`, a CPU burner takes one core
    for the whole run (the loaded-machine figures)."""
    levels = sorted(levels)
    load_before = load_snapshot()
    started = time.monotonic()
    deadline = started + time_limit_s
    if database == "auto":
        database = "postgresql" if postgres_available() else "sqlite"
    results: dict = {
        "name": NAME,
        "machine": machine_info(),
        "load_before": load_before,
        "parameters": {
            "levels": levels, "configs": list(configs), "database": database, "window_s": window_s,
            "new_calls_per_s": NEW_CALL_RATE, "new_call_hold_s": hold_s, "heartbeat_window_s": heartbeat_window_s, "ceiling_calls": ceiling_calls,
            "ceiling_step_s": step_s, "connect_concurrency": connect_concurrency, "level_budget_s": level_budget_s,
            "time_limit_s": time_limit_s,
            "client_ip_budget": "lifted: every simulated client shares 127.0.0.1 (SIGNALING_IP_* settings, "
                                "SIGNALING_MAX_SOCKETS_PER_IP)",
            "frame_mix": "per call: offer 5 KB, answer 3 KB, 6 + 6 candidates (~250 B), media_state on welcome; "
                         "ceiling frames 1.5 KB",
            "ceiling_repeats": repeats, "min_p99_samples": MIN_P99_SAMPLES,
        },
        "configs": {},
    }
    floor_proc = None
    burner = CpuBurner().__enter__() if burn_one_core else None
    results["parameters"]["burn_one_core"] = burner.tool if burner else None
    pg = postgres_database() if database == "postgresql" else None
    database_url = pg.__enter__() if pg else None
    try:
        with redis_server() as redis:
            server = BenchServer(2 if "redis-2" in configs else 1, redis_url=redis.url, database_url=database_url)
            server.env.update(BENCH_CLIENT_ENV)
            server.start()
            try:
                needed = max(max(levels) if configs else 0, ceiling_calls if ceiling else 0) + pool_calls
                provisioned = provision_calls(server, needed)
                results["parameters"]["provision_seconds"] = round(provisioned["seconds"], 1)
                print(f"  provisioned {needed} calls in {provisioned['seconds']:.0f} s ({database})", flush=True)
                floor_proc, floor_port = _floor_relay_process()
                # start() served one daphne + Redis; it has not been used yet.
                running = {"config": "redis-2" if len(server.procs) > 1 else "redis", "used": False}

                def load_for(config: str) -> tuple[Load, list[int], int | None]:
                    if config == "floor":
                        load = Load(calls=provisioned["calls"], cookie_name=provisioned["cookie_name"],
                                    ports=[floor_port], floor=True)
                        return load, [floor_proc.pid], None
                    processes = 2 if config == "redis-2" else 1
                    settings_module = "bench.settings_db_reuse" if config == "redis-reuse" else "kyc.settings"
                    if running.get("config") != config or running.get("used"):
                        # A fresh process for each configuration (and after
                        # each use): the same memory to start from, no leftovers.
                        server.env["DJANGO_SETTINGS_MODULE"] = settings_module
                        server.configure(processes=processes, redis_url=None if config == "memory" else redis.url)
                    running.update(config=config, used=True)
                    load = Load(calls=provisioned["calls"], cookie_name=provisioned["cookie_name"],
                                ports=server.ports[:processes], floor=False, split=processes > 1)
                    pids = server.pids + ([redis.pid] if config != "memory" else [])
                    return load, pids, server.pids[0]

                if ceiling and time.monotonic() > deadline:
                    results["ceiling_not_run"] = "time limit"
                if ceiling and time.monotonic() < deadline:
                    # One daphne process (its CPU only, not Redis's) beside the
                    # floor relay; both connected throughout, taking turns.
                    loads, pids, profile_pids = {}, {}, {}
                    for config in ceiling_configs:
                        load, config_pids, pid = load_for(config)
                        # daphne and its Redis, or the floor relay.
                        loads[config], pids[config] = load, config_pids
                        if pid and profile:
                            profile_pids[config] = pid
                    results["ceiling"] = asyncio.run(run_ceiling(
                        loads, pids, ceiling_calls, ceiling_rates or CEILING_RATES, step_s, deadline, profile_pids, repeats))
                # Each of ours climbs beside a floor climb of its own, taking
                # turns at every level.
                for n, config in enumerate(c for c in configs if c != "floor"):
                    floor_name = "floor" if n == 0 else f"floor/{config}"
                    if time.monotonic() > deadline:
                        results["configs"][config] = {"levels": [], "stopped": "not run: time limit"}
                        continue
                    climbs, measured = [], {}
                    load, pids, pid = load_for(config)
                    measured[config] = [f"daphne {k + 1}" for k in range(len(server.pids))]
                    measured[config] += ["redis"] if config != "memory" else []
                    common = dict(connect_concurrency=connect_concurrency, window_s=window_s,
                                  level_budget_s=level_budget_s, deadline=deadline, pool_calls=pool_calls,
                                  heartbeat_window_s=heartbeat_window_s, hold_s=hold_s)
                    climbs.append(Climb(config, load, pids, levels, servers=len(server.pids),
                                        profile_pid=pid if (profile and config == "redis") else None, **common))
                    if "floor" in configs:
                        floor_load, floor_pids, _ = load_for("floor")
                        measured[floor_name] = ["floor relay"]
                        climbs.append(Climb(floor_name, floor_load, floor_pids, levels, servers=1, profile_pid=None,
                                            **common))
                    for name, out in asyncio.run(run_pair(climbs)).items():
                        results["configs"][name] = {"processes_measured": measured[name], "beside": config, **out}
            finally:
                server.stop()
                if floor_proc is not None:
                    floor_proc.terminate()
                    floor_proc.wait(timeout=10)
    finally:
        if pg:
            pg.__exit__(None, None, None)
        if burner:
            burner.__exit__(None, None, None)
    results["load_after"] = load_snapshot()
    results["seconds"] = round(time.monotonic() - started, 1)
    results["summary"] = summarise(results)
    write_results(NAME + (".loaded" if burn_one_core else ""), results)
    return results


def _top_level(results, config):
    levels = results["configs"].get(config, {}).get("levels", [])
    return levels[-1] if levels else None


def _floor_of(results: dict, config: str) -> str | None:
    """The floor climb that took turns with this configuration."""
    return next((name for name, data in results["configs"].items()
                 if name.startswith("floor") and data.get("beside") == config), None)


def _p99_note(value, samples: int | None) -> str:
    """A p99 with the count it rests on, marked when too few."""
    if value is None:
        return "–"
    mark = "" if samples is not None and samples >= MIN_P99_SAMPLES else "†"
    return f"{fmt(value, 1)}{mark}"


def summarise(results: dict) -> dict:
    """The figures beside their floor, and the targets."""
    out = {"levels": [], "targets": {}, "saturation": {}}
    for config, data in results["configs"].items():
        if data.get("stopped"):
            out["saturation"][config] = data["stopped"]
        for level in data.get("levels", []):
            steady, connect = level["steady"], level["connect"]
            heartbeat = level.get("heartbeat_only") or {}
            out["levels"].append({
                "config": config,
                "floor": _floor_of(results, config) if not config.startswith("floor") else None,
                "calls": level["calls"],
                "connect_sockets_per_s": connect["sockets_per_s"],
                "connect_cpu_ms_per_socket": connect.get("cpu_ms_per_socket"),
                "new_call_connect_p50_ms": steady["connect_p50_ms"],
                "new_call_connect_p99_ms": steady["connect_p99_ms"],
                "setup_burst_p99_ms": connect["relay_p99_ms"],
                "steady_p50_ms": steady["relay_p50_ms"],
                "steady_p99_ms": steady["relay_p99_ms"],
                "heartbeat_rtt_p99_ms": steady["heartbeat_rtt_p99_ms"],
                "samples": steady["samples"],
                "relayed_per_s": steady["relayed_per_s"],
                "heartbeats_per_s": steady["heartbeats_per_s"],
                "cpu_cores": steady["server_cpu_cores"],
                "rss_per_socket_kb": level["rss_per_socket_kb"],
                "lost": steady["lost"] + connect["lost"],
                "misrouted": steady["misrouted"] + connect["misrouted"],
                "errors": sum(steady["errors"].values()) + sum(connect["errors"].values()),
                "heartbeat_only_cpu_cores": heartbeat.get("server_cpu_cores"),
                "cpu_ms_per_heartbeat": heartbeat.get("cpu_ms_per_heartbeat"),
                "saturated": level.get("saturated"),
            })
    ours, floor = _top_level(results, "redis"), _top_level(results, _floor_of(results, "redis") or "floor")
    targets = out["targets"]
    if ours:
        steady = ours["steady"]
        fsteady = (floor or {}).get("steady", {})
        reached = ours["calls"] >= TARGET_SESSIONS
        note = "" if reached else f" (only {ours['calls']} calls reached)"
        sat = f" (saturated: {ours['saturated']})" if ours.get("saturated") else ""
        p99 = steady["relay_p99_ms"]
        targets["p99_ms"] = {
            "calls": ours["calls"], "ours": p99, "floor": fsteady.get("relay_p99_ms"),
            "samples": steady["samples"]["relay"], "floor_samples": fsteady.get("samples", {}).get("relay"),
            "floor_calls": (floor or {}).get("calls"), "target": TARGET_P99_MS,
            "met": reached and p99 is not None and p99 <= TARGET_P99_MS, "note": note}
        hb = steady["heartbeat_rtt_p99_ms"]
        targets["heartbeat_rtt_p99_ms"] = {
            "calls": ours["calls"], "ours": hb, "floor": fsteady.get("heartbeat_rtt_p99_ms"),
            "samples": steady["samples"]["heartbeat_rtt"],
            "floor_samples": fsteady.get("samples", {}).get("heartbeat_rtt"), "target": TARGET_HEARTBEAT_P99_MS,
            "met": reached and hb is not None and hb <= TARGET_HEARTBEAT_P99_MS, "note": note + sat}
        rss = ours["rss_per_socket_kb"]
        targets["rss_per_socket_kb"] = {
            "calls": ours["calls"], "ours": rss, "floor": (floor or {}).get("rss_per_socket_kb"), "target": TARGET_RSS_KB,
            "met": rss is not None and rss <= TARGET_RSS_KB}
        lost = steady["lost"] + ours["connect"]["lost"]
        misrouted = steady["misrouted"] + ours["connect"]["misrouted"]
        targets["lost_or_misrouted"] = {"calls": ours["calls"], "ours": lost + misrouted, "lost": lost,
                                        "misrouted": misrouted, "target": 0,
                                        "met": reached and lost + misrouted == 0, "note": note}
        # CPU per socket connect: the first level's connect window is the
        # clean one (no heartbeats yet, nobody else connected); the top
        # level's is beside it (heartbeats of the connected sockets included).
        first = results["configs"]["redis"]["levels"][0]
        ffirst = ((results["configs"].get(_floor_of(results, "redis") or "floor") or {}).get("levels") or [None])[0]
        targets["cpu_ms_per_socket"] = {
            "calls": first["calls"], "ours": first["connect"]["cpu_ms_per_socket"],
            "floor": (ffirst or {}).get("connect", {}).get("cpu_ms_per_socket"),
            "ours_top_level": ours["connect"]["cpu_ms_per_socket"], "top_level_calls": ours["calls"],
            "target": TARGET_CPU_MS_PER_SOCKET,
            "met": (first["connect"]["cpu_ms_per_socket"] or 1e9) <= TARGET_CPU_MS_PER_SOCKET}
        if ours.get("heartbeat_only"):
            hb, fhb = ours["heartbeat_only"], (floor or {}).get("heartbeat_only") or {}
            out["heartbeat_cost"] = {
                "sockets": ours["sockets"], "floor_sockets": (floor or {}).get("sockets"),
                "ours_cpu_cores": hb["server_cpu_cores"], "floor_cpu_cores": fhb.get("server_cpu_cores"),
                "ours_cpu_ms_per_heartbeat": hb.get("cpu_ms_per_heartbeat"),
                "floor_cpu_ms_per_heartbeat": fhb.get("cpu_ms_per_heartbeat"),
                "ours_heartbeats": hb["heartbeats"], "ours_heartbeats_per_s": hb["heartbeats_per_s"],
                "ours_acks_per_s": hb.get("acks_per_s"),
                "ours_rtt_p50_ms": hb["heartbeat_rtt_p50_ms"], "ours_rtt_p99_ms": hb["heartbeat_rtt_p99_ms"],
                "floor_rtt_p99_ms": fhb.get("heartbeat_rtt_p99_ms"),
                "at_2000_sockets_cores": (hb.get("cpu_ms_per_heartbeat") or 0) * 200 / 1000,
            }
            cost = hb.get("cpu_ms_per_heartbeat")
            targets["cpu_ms_per_heartbeat"] = {
                "calls": ours["calls"], "ours": cost, "floor": fhb.get("cpu_ms_per_heartbeat"),
                "samples": hb["heartbeats"], "target": TARGET_CPU_MS_PER_HEARTBEAT,
                "met": cost is not None and cost <= TARGET_CPU_MS_PER_HEARTBEAT}
    else:
        targets["note"] = "the Redis configuration did not run"
    ceiling = results.get("ceiling")
    if ceiling:
        ours_c, floor_c = ceiling["ceiling_per_s"].get("redis"), ceiling["ceiling_per_s"].get("floor")
        ratio = ours_c / floor_c if ours_c and floor_c else None
        costs = ceiling.get("cpu_ms_per_message", {})
        spread = ceiling.get("ceiling_spread", {})
        targets["ceiling"] = {
            "ours": ours_c, "floor": floor_c, "ratio": ratio, "target_ratio": CEILING_SHARE,
            "met": ratio is not None and ratio >= CEILING_SHARE,
            "ours_spread": spread.get("redis"), "floor_spread": spread.get("floor"),
            "repeats": ceiling.get("repeats"),
            "floor_load_generator_bound": ceiling["load_generator_bound"].get("floor"),
            "ours_cpu_ms_per_message": costs.get("redis"), "floor_cpu_ms_per_message": costs.get("floor"),
            "one_free_core_ours_per_s": 1000 / costs["redis"] if costs.get("redis") else None,
            "one_free_core_floor_per_s": 1000 / costs["floor"] if costs.get("floor") else None,
        }
    return out


def _cores(values):
    return "+".join(f"{c:.2f}" for c in values) if values else "–"


def _range(spread: dict | None, digits: int = 0) -> str:
    if not spread:
        return "–"
    return f"{fmt(spread['min'], digits)}–{fmt(spread['max'], digits)}"


def report(results: dict) -> str:
    summary = results["summary"]
    rows = []
    for row in summary["levels"]:
        floor = next((r for r in summary["levels"] if r["config"] == row["floor"] and r["calls"] == row["calls"]), None)
        ratio = None
        if floor and floor["steady_p99_ms"] and row["steady_p99_ms"]:
            ratio = row["steady_p99_ms"] / floor["steady_p99_ms"]
        samples = row["samples"]
        rows.append([
            row["config"] + (" *" if row["saturated"] else ""), row["calls"], fmt(row["connect_sockets_per_s"]),
            fmt(row["connect_cpu_ms_per_socket"], 1), fmt(row["new_call_connect_p99_ms"]),
            fmt(row["setup_burst_p99_ms"], 1), fmt(row["steady_p50_ms"], 1),
            _p99_note(row["steady_p99_ms"], samples["relay"]),
            f"{ratio:.1f}×" if ratio else "–", _p99_note(row["heartbeat_rtt_p99_ms"], samples["heartbeat_rtt"]),
            f"{samples['relay']}/{samples['heartbeat_rtt']}", fmt(row["relayed_per_s"]),
            _cores(row["cpu_cores"]), fmt(row["cpu_ms_per_heartbeat"], 2), fmt(row["rss_per_socket_kb"], 1),
            f"{row['lost']}/{row['misrouted']}/{row['errors']}",
        ])
    params = results["parameters"]
    title = (f"Signaling capacity ({params['database']}; levels {params['levels']}, ours and the floor taking turns "
             f"at each: connect, then new calls at {params['new_calls_per_s']:.0f}/s for {params['window_s']:.0f} s on "
             f"top; * = saturated (heartbeat p99 > {TARGET_HEARTBEAT_P99_MS:.0f} ms or not connected); "
             f"† = p99 on fewer than {MIN_P99_SAMPLES} samples; CPU = daphne + redis for ours"
             + (f"; LOADED: {params['burn_one_core']} took one core" if params.get("burn_one_core") else "") + ")")
    text = [title,
            table(["config", "calls", "connect sock/s", "CPU ms/sock", "new-call connect p99 ms", "burst p99 ms",
                   "p50 ms", "p99 ms", "p99 vs floor", "heartbeat p99 ms", "samples relay/hb", "relayed/s",
                   "cpu cores", "CPU ms/heartbeat", "KB/socket", "lost/misrouted/errors"], rows)]
    for config, note in summary.get("saturation", {}).items():
        text.append(f"  {config}: {note}")
    cost = summary.get("heartbeat_cost")
    if cost:
        text.append(f"Heartbeats alone: ours at {cost['sockets']} sockets {_cores(cost['ours_cpu_cores'])} cores "
                    f"(daphne+redis), {fmt(cost['ours_cpu_ms_per_heartbeat'], 2)} ms CPU per heartbeat over "
                    f"{cost['ours_heartbeats']} (≈ {cost['at_2000_sockets_cores']:.2f} cores at 2,000 sockets); floor at "
                    f"{cost['floor_sockets']} sockets {_cores(cost['floor_cpu_cores'])} cores, "
                    f"{fmt(cost['floor_cpu_ms_per_heartbeat'], 3)} ms each; round trip p99 ours "
                    f"{fmt(cost['ours_rtt_p99_ms'])} ms, floor {fmt(cost['floor_rtt_p99_ms'], 1)} ms")
    targets = summary["targets"]
    lines = []
    for key, label, digits in (("p99_ms", "relay p99, 1,000 calls + 10 new/s (ms)", 1),
                               ("heartbeat_rtt_p99_ms", "heartbeat round trip p99, same window (ms)", 0),
                               ("cpu_ms_per_heartbeat", "CPU per heartbeat, daphne + redis (ms)", 2),
                               ("cpu_ms_per_socket", "CPU per socket connect, daphne + redis (ms)", 1),
                               ("rss_per_socket_kb", "RSS per idle socket (KB)", 1),
                               ("lost_or_misrouted", "lost or misrouted frames", 0)):
        if key in targets:
            t = targets[key]
            ours = f"{fmt(t['ours'], digits)} at {t['calls']} calls"
            if t.get("samples") is not None:
                ours += f" ({t['samples']} samples{'' if t['samples'] >= MIN_P99_SAMPLES else ', too few'})"
            if key == "cpu_ms_per_socket":
                ours += f"; {fmt(t['ours_top_level'], 1)} connecting to {t['top_level_calls']}"
            lines.append([label, ours, fmt(t.get("floor"), digits + 1), f"≤ {t['target']}",
                          ("met" if t["met"] else "NOT met") + t.get("note", "")])
    if "ceiling" in targets:
        t = targets["ceiling"]
        spread = ""
        if t.get("ours_spread") or t.get("floor_spread"):
            spread = (f" (× {t['repeats']}: ours {_range((t['ours_spread'] or {}).get('relayed_per_s'))}, floor "
                      f"{_range((t['floor_spread'] or {}).get('relayed_per_s'))})")
        lines.append(["ceiling, one process, p99 ≤ 100 ms (msgs/s)", fmt(t["ours"]) + spread, fmt(t["floor"]),
                      f"≥ 1/3 of floor (is {t['ratio']:.2f})" if t["ratio"] else "≥ 1/3 of floor",
                      ("met" if t["met"] else "NOT met") + (" (floor bound by the load generator)" if t["floor_load_generator_bound"] else "")])
        per_core = (f"one free core: ours ≈ {fmt(t['one_free_core_ours_per_s'])}/s, "
                    f"floor ≈ {fmt(t['one_free_core_floor_per_s'])}/s")
        lines.append(["relay CPU per message, daphne + redis (ms)", fmt(t["ours_cpu_ms_per_message"], 3),
                      fmt(t["floor_cpu_ms_per_message"], 3), "", per_core])
    if lines:
        text.append(table(["figure", "ours", "floor", "target", ""], lines))
    return "\n".join(text)


# The figures compared between the quiet and the loaded run: (label, where
# in summary["targets"]).
LOADED_FIGURES = [
    ("relay p99 at the top level (ms)", "p99_ms"),
    ("heartbeat round trip p99 (ms)", "heartbeat_rtt_p99_ms"),
    ("CPU per heartbeat (ms)", "cpu_ms_per_heartbeat"),
    ("CPU per socket connect (ms)", "cpu_ms_per_socket"),
    ("relay ceiling (msgs/s)", "ceiling"),
]


def compare_loaded(quiet: dict, loaded: dict) -> dict:
    """Loaded / quiet for each figure, ours and the floor, and for the ratio
    ours / floor: graceful is within 2×."""
    rows = []
    for label, key in LOADED_FIGURES:
        q, l = quiet["summary"]["targets"].get(key) or {}, loaded["summary"]["targets"].get(key) or {}
        row = {"figure": label}
        for side in ("ours", "floor"):
            row[f"quiet_{side}"], row[f"loaded_{side}"] = q.get(side), l.get(side)
            row[f"{side}_loaded_over_quiet"] = (l[side] / q[side]) if q.get(side) and l.get(side) else None
        q_ratio = q["ours"] / q["floor"] if q.get("ours") and q.get("floor") else None
        l_ratio = l["ours"] / l["floor"] if l.get("ours") and l.get("floor") else None
        row["quiet_ours_over_floor"], row["loaded_ours_over_floor"] = q_ratio, l_ratio
        row["ratio_loaded_over_quiet"] = l_ratio / q_ratio if q_ratio and l_ratio else None
        # Within 2× either way (a ceiling falls, a latency rises).
        worst = [v for v in (row["ours_loaded_over_quiet"], row["ratio_loaded_over_quiet"]) if v]
        row["within_2x"] = bool(worst) and all(0.5 <= v <= 2.0 for v in worst)
        rows.append(row)
    return {"figures": rows, "burner": loaded["parameters"].get("burn_one_core"),
            "load_quiet": [quiet["load_before"]["loadavg_1_5_15"], quiet["load_after"]["loadavg_1_5_15"]],
            "load_loaded": [loaded["load_before"]["loadavg_1_5_15"], loaded["load_after"]["loadavg_1_5_15"]]}


def report_loaded(comparison: dict) -> str:
    rows = []
    for row in comparison["figures"]:
        def r(v):
            return f"{v:.2f}×" if v else "–"
        rows.append([row["figure"], f"{fmt(row['quiet_ours'], 2)} / {fmt(row['loaded_ours'], 2)}",
                     r(row["ours_loaded_over_quiet"]), f"{fmt(row['quiet_floor'], 3)} / {fmt(row['loaded_floor'], 3)}",
                     r(row["floor_loaded_over_quiet"]),
                     f"{r(row['quiet_ours_over_floor'])} / {r(row['loaded_ours_over_floor'])}",
                     "yes" if row["within_2x"] else "NO"])
    return "\n".join([
        f"Signaling, quiet vs one core taken ({comparison['burner']}); load average before/after: quiet "
        f"{comparison['load_quiet']}, loaded {comparison['load_loaded']}",
        table(["figure", "ours quiet / loaded", "loaded/quiet", "floor quiet / loaded", "loaded/quiet",
               "ours/floor quiet / loaded", "within 2×"], rows)])


def run_quiet_and_loaded(**kwargs) -> dict:
    """`make bench`: the run as it is, then again with one core taken."""
    quiet = run(**kwargs)
    print(report(quiet), flush=True)
    print("\n  again with one core taken", flush=True)
    loaded = run(burn_one_core=True, **kwargs)
    print(report(loaded), flush=True)
    comparison = compare_loaded(quiet, loaded)
    write_results(NAME + ".loaded_vs_quiet", comparison)
    return {"quiet": quiet, "loaded": loaded, "comparison": comparison}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="100,500,1000")
    parser.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
                        help="redis, floor, memory, redis-2, redis-reuse (one daphne + Redis, DB connections kept)")
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--ceiling-configs", default="redis,floor",
                        help="one daphne (redis or memory) beside the floor; both with one process")
    parser.add_argument("--ceiling-calls", type=int, default=200)
    parser.add_argument("--ceiling-rates", default=",".join(map(str, CEILING_RATES)))
    parser.add_argument("--step", type=float, default=3.0, help="seconds per ceiling step")
    parser.add_argument("--window", type=float, default=8.0, help="seconds of new calls per level")
    parser.add_argument("--level-budget", type=float, default=45.0,
                        help="seconds to connect up to a level before calling it saturated")
    parser.add_argument("--database", choices=["auto", "postgresql", "sqlite"], default="sqlite")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_S)
    parser.add_argument("--repeats", type=int, default=CEILING_REPEATS, help="tries of each ceiling step")
    parser.add_argument("--burn-one-core", action="store_true",
                        help="take one core with a CPU burner for the whole run (stress-ng, else a busy loop)")
    parser.add_argument("--quiet-and-loaded", action="store_true",
                        help="run as it is, then with --burn-one-core, and compare (what make bench does)")
    args = parser.parse_args(argv)
    kwargs = dict(
        levels=[int(x) for x in args.levels.split(",")], configs=[c for c in args.configs.split(",") if c],
        ceiling=not args.no_ceiling, ceiling_configs=args.ceiling_configs.split(","),
        ceiling_calls=args.ceiling_calls, ceiling_rates=[int(x) for x in args.ceiling_rates.split(",")],
        step_s=args.step, window_s=args.window, database=args.database, profile=not args.no_profile,
        level_budget_s=args.level_budget, time_limit_s=args.time_limit, repeats=args.repeats,
    )
    if args.quiet_and_loaded:
        both = run_quiet_and_loaded(**kwargs)
        print(report_loaded(both["comparison"]))
        return
    print(report(run(burn_one_core=args.burn_one_core, **kwargs)))


if __name__ == "__main__":
    main()
