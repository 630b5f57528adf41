"""Run the benchmarks: every one (`make bench`) or one by name
(`make bench NAME=mesh`); `--burn-one-core` runs them with a CPU burner
taking one core (signaling_capacity runs quiet and loaded by itself). Each measures Verity and its floor in the same run,
alternating, prints its table and writes bench/results/<name>.json; this
prints a summary at the end and writes bench/results/summary.json.

Names: call_setup, signaling_capacity, mesh, checks_accuracy, checks_cpu,
recording_compose, booking_slots, dashboard_queries (the last five are stand-alone scripts run if present).
"""

import importlib
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import RESULTS, CpuBurner, fmt, load_snapshot, machine_info, table, write_results  # noqa: E402

# Ours, in the order `make bench` runs them.
MODULES = ["call_setup", "signaling_capacity", "mesh"]
# Written by other engineers as stand-alone scripts that print their figures
# and write bench/results/*.json: run if present, skipped with a note if not.
SCRIPTS = ["checks_accuracy", "checks_cpu", "recording_compose", "booking_slots", "dashboard_queries"]
SCRIPT_TIMEOUT_S = 10 * 60
# In the whole suite, smaller samples than the scripts' own defaults (210
# documents take ~10 min here), so `make bench` stays near 15 minutes. Run
# one alone (make bench NAME=checks_accuracy) for its full default.
SUITE_ARGS = {"checks_accuracy": ["--docs", "40", "--heldout-docs", "60", "--faces-per-person", "10", "--liveness-customers", "8"]}
ALIASES = {
    "call": "call_setup", "setup": "call_setup", "signaling": "signaling_capacity", "capacity": "signaling_capacity",
    "checks": "checks_accuracy", "cpu": "checks_cpu", "recording": "recording_compose", "compose": "recording_compose",
    "slots": "booking_slots", "booking": "booking_slots",
    "dashboard": "dashboard_queries",
}


def headline(name: str, payload: dict) -> list:
    """[figure, ours, floor, ratio, target, met] for the summary table."""
    if name == "call_setup":
        f = payload["figures"]["decoded_ms"]
        g = payload["figures"]["socket_open_to_decoded_ms"]
        return [["Answer → both decoding (ms)", fmt(f["ours"]["median"]), fmt(f["floor"]["median"]),
                 f"{f['ratio']:.2f}×", "≤ 1.25× floor", payload["targets"]["met"]],
                ["operator's socket open → both decoding (ms)", fmt(g["ours"]["median"]), fmt(g["floor"]["median"]),
                 f"{g['ratio']:.2f}×", "like for like", None]]
    if name == "mesh":
        f = payload["figures"]["decoded_s"]
        return ["last Join → all decoding, 4-way (s)", fmt(f["ours"]["median"], 2), fmt(f["floor"]["median"], 2),
                f"{f['ratio']:.2f}×", f"≤ {payload['targets']['decoded_ratio_max']}× floor", payload["targets"]["met"]]
    if name == "signaling_capacity":
        if "quiet" in payload:
            # `make bench`: quiet, then with one core taken; each figure's
            # loaded / quiet (ours, and ours / floor) beside it.
            rows = [[f"quiet: {row[0]}", *row[1:]] for row in headline(name, payload["quiet"])]
            rows += [[f"one core taken: {row[0]}", *row[1:]] for row in headline(name, payload["loaded"])]
            for figure in payload["comparison"]["figures"]:
                ours, ratio = figure["ours_loaded_over_quiet"], figure["ratio_loaded_over_quiet"]
                rows.append([f"loaded / quiet: {figure['figure']}", f"{ours:.2f}×" if ours else "–",
                             "", f"ours/floor {ratio:.2f}×" if ratio else "–", "within 2×", figure["within_2x"]])
            return rows
        targets = payload["summary"]["targets"]
        rows = []
        if "p99_ms" in targets:
            t = targets["p99_ms"]
            ratio = t["ours"] / t["floor"] if t["ours"] and t["floor"] else None
            rows.append(["relay p99, 1,000 calls + 10 new/s (ms)", fmt(t["ours"], 1), fmt(t["floor"], 1),
                         f"{ratio:.1f}×" if ratio else "–", "≤ 20 ms", t["met"]])
            t = targets["rss_per_socket_kb"]
            rows.append(["RSS per idle socket (KB)", fmt(t["ours"], 1), fmt(t["floor"], 1),
                         f"{t['ours'] / t['floor']:.1f}×" if t["floor"] else "–", "≤ 50 KB", t["met"]])
            t = targets["lost_or_misrouted"]
            rows.append(["lost or misrouted frames", fmt(t["ours"]), "–", "–", "0", t["met"]])
        for key, label, target, digits in (
            ("heartbeat_rtt_p99_ms", "heartbeat round trip p99 (ms)", "≤ 100 ms", 0),
            ("cpu_ms_per_heartbeat", "CPU per heartbeat, daphne + redis (ms)", "≤ 0.5 ms", 2),
            ("cpu_ms_per_socket", "CPU per socket connect, daphne + redis (ms)", "≤ 5 ms", 1),
        ):
            if key in targets:
                t = targets[key]
                ratio = t["ours"] / t["floor"] if t["ours"] and t["floor"] else None
                rows.append([label, fmt(t["ours"], digits), fmt(t["floor"], digits + 1),
                             f"{ratio:.1f}×" if ratio else "–", target, t["met"]])
        if "ceiling" in targets:
            t = targets["ceiling"]
            rows.append(["ceiling, one process (msgs/s, p99 ≤ 100 ms)", fmt(t["ours"]), fmt(t["floor"]),
                         f"{t['ratio']:.2f}×" if t["ratio"] else "–", "≥ 1/3 floor", t["met"]])
        return rows
    return [payload.get("headline", "see its output"), "", "", "", "", None]


def run_module(name: str, burn_one_core: bool = False) -> dict:
    module = importlib.import_module(f"bench.{name}")
    started = time.monotonic()
    if burn_one_core:
        with CpuBurner() as burner:
            print(f"  one core taken by {burner.tool}", flush=True)
            payload = module.run()
        print(module.report(payload), flush=True)
    elif name == "signaling_capacity":
        # Quiet, then with one core taken (the loaded machine).
        payload = module.run_quiet_and_loaded()
        print(module.report_loaded(payload["comparison"]), flush=True)
    else:
        payload = module.run()
        print(module.report(payload), flush=True)
    rows = headline(name, payload)
    return {"name": name, "status": "ok", "seconds": round(time.monotonic() - started),
            "rows": rows if rows and isinstance(rows[0], list) else [rows]}


def run_script(name: str, args: list[str]) -> dict:
    path = ROOT / "bench" / f"{name}.py"
    if not path.exists():
        return {"name": name, "status": "skipped", "note": f"bench/{name}.py is not there (yet)", "rows": []}
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, capture_output=True, text=True,
                                timeout=SCRIPT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"name": name, "status": "failed", "note": f"timed out after {SCRIPT_TIMEOUT_S} s", "rows": []}
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        print("\n".join(tail), flush=True)
        return {"name": name, "status": "failed", "note": f"exit {result.returncode}: {tail[-1] if tail else ''}",
                "seconds": round(time.monotonic() - started), "rows": []}
    return {"name": name, "status": "ok", "seconds": round(time.monotonic() - started), "rows": [],
            "note": "figures: see its output and bench/results/" + (f" (run with {' '.join(args)})" if args else "")}


def main(argv: list[str]) -> int:
    # --burn-one-core: every benchmark named runs with a CPU burner taking one
    # core (stress-ng, else a busy loop). Without it, signaling_capacity runs
    # both ways by itself.
    burn_one_core = "--burn-one-core" in argv
    argv = [a for a in argv if a != "--burn-one-core"]
    wanted = [ALIASES.get(a, a) for a in argv if a]
    known = MODULES + SCRIPTS
    unknown = [n for n in wanted if n not in known]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    names = wanted or known
    started = time.monotonic()
    machine = machine_info()
    print(f"Verity benchmarks on {machine['cpu_model']}, {machine['cores']} cores, {machine['ram_gib']} GiB, "
          f"Python {machine['python']}, {machine['chromium']}, Django {machine['django']}, "
          f"Channels {machine['channels']}; load average {load_snapshot()['loadavg_1_5_15']}", flush=True)
    done = []
    for name in names:
        print(f"\n=== {name}", flush=True)
        try:
            if name in MODULES:
                done.append(run_module(name, burn_one_core))
            elif burn_one_core:
                with CpuBurner():
                    done.append(run_script(name, SUITE_ARGS.get(name, []) if len(names) > 1 else []))
            else:
                done.append(run_script(name, SUITE_ARGS.get(name, []) if len(names) > 1 else []))
        except Exception as error:
            traceback.print_exc()
            done.append({"name": name, "status": "failed", "note": f"{type(error).__name__}: {error}", "rows": []})
    rows = []
    for item in done:
        if not item["rows"]:
            rows.append([item["name"], item["status"] + (f": {item['note']}" if item.get("note") else ""),
                         "", "", "", "", ""])
        for row in item["rows"]:
            met = {True: "met", False: "NOT met", None: ""}[row[5]]
            rows.append([item["name"], *row[:5], met])
    print("\n=== summary (ours and the floor measured in the same run, alternating)")
    print(table(["benchmark", "figure", "ours", "floor", "ratio", "target", ""], rows))
    print(f"\n{time.monotonic() - started:.0f} s; results in {RESULTS.relative_to(ROOT)}/")
    if len(names) == len(known):
        write_results("summary", {"machine": machine, "seconds": round(time.monotonic() - started),
                                  "benchmarks": done, "load_after": load_snapshot()})
    return 1 if any(item["status"] == "failed" and item["name"] in MODULES for item in done) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
