"""What every benchmark shares: the machine, the figures, the servers.

A figure is measured for Verity ("ours") and for its floor in the same run,
alternating, so a machine that is busy with something else slows both; the
ratio of the two is what holds from run to run.
"""

import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, ProductServer, free_port  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


# --- the machine -------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def chromium_version() -> str | None:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout
        return out.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def load_snapshot() -> dict:
    """How busy the machine is apart from us: load averages and the processes
    using most CPU over one second (other engineers' test runs, typically)."""
    import psutil

    me = {os.getpid(), *(p.pid for p in psutil.Process().children(recursive=True))}
    procs = []
    for proc in psutil.process_iter(["name"]):
        try:
            proc.cpu_percent(None)
            procs.append(proc)
        except psutil.Error:
            pass
    time.sleep(1.0)
    busy = []
    for proc in procs:
        try:
            percent = proc.cpu_percent(None)
        except psutil.Error:
            continue
        if percent >= 10 and proc.pid not in me:
            busy.append({"name": proc.info["name"], "cpu_percent": round(percent)})
    busy.sort(key=lambda p: -p["cpu_percent"])
    return {
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "other_busy_processes": busy[:8],
        "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU a process has used, from /proc/<pid>/stat (None once
    it is gone): read before and after a window, for daphne, the floor relay
    and redis-server alike."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime 14, stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuBurner:
    """Takes one core for as long as it runs: the loaded-machine run
    (`--burn-one-core`). stress-ng when installed (`make bench` installs it),
    else a Python busy loop in its own process."""

    def __init__(self):
        self.proc = None
        self.tool = None

    def __enter__(self):
        stress = shutil.which("stress-ng")
        if stress:
            self.tool = "stress-ng --cpu 1"
            command = [stress, "--cpu", "1", "--cpu-method", "matrixprod", "--timeout", "3600s", "--quiet"]
        else:
            self.tool = "python busy loop"
            command = [sys.executable, "-c", "while True: pass"]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        time.sleep(1.0)  # let it take the core before anything is measured
        return self

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            # Its own session: stress-ng's worker child goes with it.
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
        return False


def machine_info() -> dict:
    import psutil

    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "os": platform.platform(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "chromium": chromium_version(),
        "django": _version("Django"),
        "channels": _version("channels"),
        "channels_redis": _version("channels-redis"),
        "daphne": _version("daphne"),
        "websockets": _version("websockets"),
        "playwright": _version("playwright"),
        "redis_server": _redis_server_version(),
    }


def _redis_server_version() -> str | None:
    path = shutil.which("redis-server")
    if not path:
        return None
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    return out.split("v=", 1)[1].split()[0] if "v=" in out else out.strip()


# --- figures -----------------------------------------------------------------------------


def summarize(values) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def compare(ours: list, floor: list, *, unit: str, lower_is_better: bool = True) -> dict:
    """One figure: ours and the floor over repeated runs, and their ratio
    (ours / floor of the medians; with paired runs also each pair's ratio)."""
    ours_summary, floor_summary = summarize(ours), summarize(floor)
    ratio = None
    if ours_summary and floor_summary and floor_summary["median"]:
        ratio = ours_summary["median"] / floor_summary["median"]
    pairs = [o / f for o, f in zip(ours, floor) if o is not None and f]
    return {
        "unit": unit,
        "lower_is_better": lower_is_better,
        "ours": ours_summary,
        "floor": floor_summary,
        "ratio": ratio,
        "paired_ratio": summarize(pairs) if len(pairs) == len(ours) == len(floor) and pairs else None,
        "ours_runs": ours,
        "floor_runs": floor,
    }


def results_dir() -> Path:
    """bench/results, or BENCH_RESULTS_DIR (the smoke test writes elsewhere,
    so a test run never overwrites the figures of a real one)."""
    return Path(os.environ.get("BENCH_RESULTS_DIR") or RESULTS)


def write_results(name: str, payload: dict) -> Path:
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def fmt(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(headers: list[str], rows: list[list]) -> str:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def figure_row(label: str, figure: dict, digits: int = 0, target: str = "") -> list:
    ours, floor = figure.get("ours") or {}, figure.get("floor") or {}

    def spread(s):
        if not s:
            return "–"
        return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}–{fmt(s['max'], digits)})"

    ratio = figure.get("ratio")
    return [label, figure.get("unit", ""), spread(ours), spread(floor), f"{ratio:.2f}×" if ratio else "–", target]


FIGURE_HEADERS = ["figure", "unit", "ours median (min–max)", "floor median (min–max)", "ratio", "target"]


# --- servers -------------------------------------------------------------------------------


class RedisServer:
    def __init__(self, url: str, pid: int):
        self.url, self.pid = url, pid


@contextmanager
def redis_server():
    """A private redis-server on a free port, so nobody else's keys or load
    are in the figures (and ours are in nobody's). Yields a RedisServer."""
    path = shutil.which("redis-server")
    if not path:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="verity-bench-redis-")
    proc = subprocess.Popen(
        [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("redis-server did not start")
        yield RedisServer(f"redis://127.0.0.1:{port}/0", proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


def postgres_available() -> bool:
    if not shutil.which("psql"):
        return False
    result = subprocess.run(
        ["psql", POSTGRES_ADMIN_URL, "-tAc", "select 1"], capture_output=True, text=True, timeout=10
    )
    return result.returncode == 0 and result.stdout.strip() == "1"


@contextmanager
def postgres_database():
    """A fresh PostgreSQL database for one benchmark, dropped afterwards."""
    name = f"verity_bench_{os.getpid()}_{int(time.time())}"
    subprocess.run(["psql", POSTGRES_ADMIN_URL, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        subprocess.run(
            ["psql", POSTGRES_ADMIN_URL, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True
        )


class BenchServer(ProductServer):
    """The e2e harness's product server (fresh database, real daphne
    processes), with the channel layer and database chosen by the benchmark
    instead of by the caller's environment, and daphne restartable."""

    def __init__(self, processes: int = 1, *, redis_url: str | None = None, database_url: str | None = None):
        saved = {k: os.environ.get(k) for k in ("REDIS_URL", "E2E_DATABASE_URL")}
        try:
            # The harness reads these while it is built.
            os.environ.pop("E2E_DATABASE_URL", None)
            os.environ["REDIS_URL"] = redis_url or ""
            if not redis_url:
                os.environ.pop("REDIS_URL")
            if database_url:
                os.environ["E2E_DATABASE_URL"] = database_url
            super().__init__(processes)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self.env["LOG_LEVEL"] = "WARNING"
        self.layer = "redis-pubsub" if redis_url else "in-memory"
        self.database = "postgresql" if database_url else "sqlite"

    def configure(self, *, processes: int, redis_url: str | None):
        """Serve with this many daphne processes and this channel layer (the
        in-memory one without Redis), on the same database."""
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        else:
            self.env.pop("REDIS_URL", None)
        self.layer = "redis-pubsub" if redis_url else "in-memory"
        self.restart_daphne(processes)

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs if proc.poll() is None]

    def restart_daphne(self, count: int | None = None):
        """Fresh daphne processes on the same ports and database: each
        configuration starts from the same memory and no leftovers."""
        import signal as signals

        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signals.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signals.SIGKILL)
                proc.wait(timeout=5)
        self.procs = []
        for port in self.ports[: count or len(self.ports)]:
            log = open(self.tmp / f"daphne-{port}.log", "a")
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "kyc.serve", "-b", "127.0.0.1", "-p", str(port), "kyc.asgi:application"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        for url in self.base_urls[: len(self.procs)]:
            self._wait_ready(url)

    def python(self, *args: str, timeout: int = 900, env: dict | None = None) -> str:
        """Run `python -m ...` inside the product's environment."""
        result = subprocess.run(
            [sys.executable, *args], cwd=ROOT, env={**self.env, **(env or {})}, capture_output=True, text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"python {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout


@contextmanager
def bench_server(processes: int = 1, *, redis_url: str | None = None, database_url: str | None = None):
    server = BenchServer(processes, redis_url=redis_url, database_url=database_url).start()
    try:
        yield server
    finally:
        server.stop()


def provision_calls(server: BenchServer, calls: int, *, business: str = "bench-signaling") -> dict:
    """Answered one-on-one calls (see bench/provision.py), made in the
    server's database. The channel layer is left out of it: nobody is
    connected yet, and the nudges the services send would only cost time."""
    out = server.tmp / f"calls-{time.monotonic_ns()}.json"
    server.python("-m", "bench.provision", "--calls", str(calls), "--business", business, "--out", str(out),
                  env={"REDIS_URL": ""})
    return json.loads(out.read_text())


def provision_links(server: BenchServer, *, business: str, one_on_one: int = 0, multi_user: int = 0,
                    participants: int = 3) -> dict:
    """Fresh customer links in the seeded business (see bench/provision.py)."""
    out = server.tmp / f"links-{time.monotonic_ns()}.json"
    server.python(
        "-m", "bench.provision", "--links", "--business", business, "--one-on-one", str(one_on_one),
        "--multi-user", str(multi_user), "--participants", str(participants), "--out", str(out),
        env={"REDIS_URL": ""},
    )
    return json.loads(out.read_text())


# --- browsers ------------------------------------------------------------------------------

# Loaded into every page of every benchmark context, ours and the floor's
# alike: when each RTCPeerConnection was made, connected and first decoded
# remote video, when getUserMedia and each websocket opened. Timestamps are
# wall-clock milliseconds (timeOrigin + now), comparable across pages.
# window.__pcs is kept as tests/e2e/conftest.py's INSTRUMENT has it, so the
# e2e flows' helpers work on these pages too.
TIMING_JS = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = (window.__bench = { pcs: [], sockets: [], media: [], marks: { start: now() } });
  window.__pcs = [];
  const NativePC = window.RTCPeerConnection;
  if (NativePC) {
    const Wrapped = function (...args) {
      const pc = new NativePC(...args);
      window.__pcs.push(pc);
      const entry = { created: now(), connected: null, decoded: null, closed: false };
      bench.pcs.push(entry);
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "connected" && entry.connected === null) entry.connected = now();
        if (pc.connectionState === "closed") entry.closed = true;
      });
      // First decoded remote video frame: polled, 5 ms apart, until seen.
      const poll = async () => {
        if (pc.connectionState === "closed") { entry.closed = true; return; }
        try {
          const stats = await pc.getStats();
          stats.forEach((s) => {
            if (s.type === "inbound-rtp" && s.kind === "video" && s.framesDecoded > 0 && entry.decoded === null) {
              entry.decoded = now();
            }
          });
        } catch (err) { /* closed underneath us */ }
        if (entry.decoded === null) setTimeout(poll, 5);
      };
      setTimeout(poll, 5);
      return pc;
    };
    Wrapped.prototype = NativePC.prototype;
    window.RTCPeerConnection = Wrapped;
  }
  const NativeWS = window.WebSocket;
  const WrappedWS = function (...args) {
    const ws = new NativeWS(...args);
    const entry = { url: String(args[0]), created: now(), open: null, firstSignal: null, received: {} };
    bench.sockets.push(entry);
    ws.addEventListener("open", () => { entry.open = now(); });
    // When each kind of frame first arrived (welcome, state, peer_joined...):
    // where the time between the socket opening and the first offer goes.
    ws.addEventListener("message", (event) => {
      const kind = typeof event.data === "string" ? (event.data.match(/"type": ?"([a-z_]+)"/) || [])[1] : null;
      if (kind && !(kind in entry.received)) entry.received[kind] = now();
    });
    const send = ws.send.bind(ws);
    ws.send = (data) => {
      if (entry.firstSignal === null && typeof data === "string" && data.includes('"signal"')) entry.firstSignal = now();
      return send(data);
    };
    return ws;
  };
  WrappedWS.prototype = NativeWS.prototype;
  Object.assign(WrappedWS, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = WrappedWS;
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const entry = { start: now(), end: null };
      bench.media.push(entry);
      const stream = await gum(constraints);
      entry.end = now();
      return stream;
    };
  }
  document.addEventListener("DOMContentLoaded", () => {
    bench.marks.dom = now();
    // timeOrigin is when this navigation started: for the operator's call
    // page, right after the answer request came back.
    const nav = performance.getEntriesByType("navigation")[0];
    bench.marks.navigationStart = performance.timeOrigin;
    if (nav) bench.marks.responseEnd = performance.timeOrigin + nav.responseEnd;
  });
})();
"""

NOW_JS = "() => performance.timeOrigin + performance.now()"
BENCH_STATE_JS = "() => window.__bench"


CAMERA_SIZE = (1280, 720)


def camera_file() -> Path:
    """What the benchmarks' fake camera shows: 1280×720 as a webcam gives
    (the constraints ask for it), moving every frame. Chromium's own fake
    device would hand out whatever size is asked, with a picture that costs
    the encoder little."""
    from tests.e2e.media import moving_scene, write_y4m

    path = Path(tempfile.gettempdir()) / f"verity-bench-camera-{CAMERA_SIZE[0]}x{CAMERA_SIZE[1]}.y4m"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.part")
        write_y4m(moving_scene(CAMERA_SIZE), partial, size=CAMERA_SIZE)
        partial.replace(path)
    return path


def launch_browser(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={camera_file()}"],
    )


def new_bench_context(browser, *, base_url: str | None = None):
    context = browser.new_context(
        viewport={"width": 1100, "height": 760}, permissions=["camera", "microphone"], base_url=base_url
    )
    context.add_init_script(TIMING_JS)
    context.set_default_timeout(30_000)
    return context


def browser_processes():
    """Chromium's processes started by this benchmark (through Playwright's driver)."""
    import psutil

    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "chrom" in child.name().lower():
                found.append(child)
        except psutil.Error:
            pass
    return found


def browser_usage(window_s: float = 5.0) -> dict:
    """CPU (in cores) of the browser over a window, and its memory: the sum of
    proportional set sizes (shared pages counted once)."""
    import psutil

    procs = browser_processes()

    def cpu_total():
        total = 0.0
        for proc in procs:
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                pass
        return total

    start_cpu, start = cpu_total(), time.monotonic()
    time.sleep(window_s)
    cores = (cpu_total() - start_cpu) / (time.monotonic() - start)
    pss = 0
    for proc in procs:
        try:
            pss += proc.memory_full_info().pss
        except psutil.Error:
            pass
    return {"cpu_cores": cores, "pss_mib": pss / 2**20, "processes": len(procs)}
