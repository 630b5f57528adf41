"""Benchmark: composing a call's recording, per minute of call.

What the server does after a call, per stream: concatenate the uploaded
chunks while hashing them (SHA-256), remux them into a seekable WebM and
probe it; then compose every stream side by side with the audio mixed and the
clock burned in (sessions_app.recording_media.compose, the product's own
code). The inputs are WebM files like Chromium's MediaRecorder makes of a
webcam's stream (VP8 at ~1 Mbit/s, 1280x720 at 24 fps as the pages ask the
camera for, Opus; ``--input-size`` for others), cut into 3-second-sized
chunks; making them is not measured.

Figures: wall seconds of compose per minute of call, CPU seconds (ours plus
ffmpeg's) per minute of call, the cores that kept busy, ffmpeg's peak RSS.
Prints a table and writes bench/results/recording_compose.json.

    python bench/recording_compose.py                  # 1-minute calls, 2 and 3 streams
    python bench/recording_compose.py --minutes 2 --streams 2 --repeats 3
"""

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# recording_media reads FFMPEG_PATH from the settings at import.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
import django  # noqa: E402

django.setup()

from sessions_app import recording_media  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHUNK_SECONDS = 3
VIDEO_BITRATE = "1000k"
# What static/js/local-media.js asks the camera for (ideal 1280x720, 24 fps):
# the recorder gets what the camera gives, so compose is measured on that.
INPUT_SIZE = "1280x720"
INPUT_FPS = 24


def make_stream(path: Path, seconds: float, variant: int, size: str = INPUT_SIZE) -> Path:
    """A MediaRecorder-like WebM: moving test picture and a tone."""
    sources = ["testsrc2", "testsrc", "smptebars", "rgbtestsrc"]
    subprocess.run(
        [
            recording_media.FFMPEG, "-nostdin", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"{sources[variant % len(sources)]}=s={size}:r={INPUT_FPS}:d={seconds}",
            "-f", "lavfi", "-i", f"sine=f={330 + 110 * variant}:d={seconds}",
            "-c:v", "libvpx", "-b:v", VIDEO_BITRATE, "-deadline", "realtime", "-cpu-used", "8", "-g", "60",
            "-c:a", "libopus", "-b:a", "64k", "-ac", "1", str(path),
        ],
        check=True,
    )
    return path


def chunk(path: Path, folder: Path, seconds: float) -> list[Path]:
    """Cut the bytes into as many pieces as 3-second timeslices would make."""
    data = path.read_bytes()
    count = max(1, round(seconds / CHUNK_SECONDS))
    size = -(-len(data) // count)
    folder.mkdir()
    pieces = []
    for index in range(count):
        piece = folder / f"{index:06d}.part"
        piece.write_bytes(data[index * size : (index + 1) * size])
        pieces.append(piece)
    return pieces


def compose_once(streams: list[list[Path]], seconds: float, workdir: Path, threads: int) -> dict:
    """The server's work for one call; returns wall and CPU seconds."""
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    inputs = []
    for tile, pieces in enumerate(streams):
        raw = workdir / f"stream{tile}.webm"
        digest = hashlib.sha256()
        with open(raw, "wb") as out:
            for piece in pieces:
                data = piece.read_bytes()
                hashlib.sha256(data).hexdigest()  # each chunk re-verified
                digest.update(data)
                out.write(data)
        probe = recording_media.remux(raw, workdir / f"stream{tile}.remux.webm")
        inputs.append(recording_media.ComposeInput(path=workdir / f"stream{tile}.remux.webm", tile=tile, offset=0.5 * tile, probe=probe))
    assembled = time.monotonic()
    target = workdir / "call.mp4"
    result = recording_media.compose(
        inputs=inputs,
        tiles=len(streams),
        tile_labels=[f"Customer {i + 1}" for i in range(len(streams) - 1)] + ["Operator"],
        duration=seconds,
        t0=datetime.now(UTC),
        target=target,
        workdir=workdir,
        threads=threads,
    )
    digest = hashlib.sha256()
    with open(target, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    finished = time.monotonic()
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (
        (self_after.ru_utime - self_before.ru_utime)
        + (self_after.ru_stime - self_before.ru_stime)
        + (children_after.ru_utime - children_before.ru_utime)
        + (children_after.ru_stime - children_before.ru_stime)
    )
    return {
        "wall_s": finished - started,
        "assemble_s": assembled - started,
        "compose_s": finished - assembled,
        "cpu_s": cpu,
        "output_bytes": target.stat().st_size,
        "output_duration_s": result.probe.duration,
        "size": f"{result.width}x{result.height}",
    }


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0, help="length of the call composed")
    parser.add_argument("--streams", type=int, nargs="+", default=[2, 3], help="streams in the call (with the operator's)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="ffmpeg threads (0: ffmpeg decides)")
    parser.add_argument("--input-size", default=INPUT_SIZE, help="each stream's picture, WxH (the camera's by default)")
    args = parser.parse_args(argv)
    if not recording_media.media_tools_available():
        print("ffmpeg/ffprobe not found (Debian: apt-get install ffmpeg)", file=sys.stderr)
        return 2
    seconds = args.minutes * 60
    cores = os.cpu_count() or 1
    version = subprocess.run([recording_media.FFMPEG, "-version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    print(f"recording_compose: {args.minutes:g}-minute calls, {cores} cores, {version}; load {loadavg()}", flush=True)
    load_before = loadavg()
    configs = []
    with tempfile.TemporaryDirectory(prefix="verity-bench-compose-") as tmp:
        tmp = Path(tmp)
        sources = [make_stream(tmp / f"source{i}.webm", seconds, i, args.input_size) for i in range(max(args.streams))]
        for count in args.streams:
            runs = []
            for repeat in range(args.repeats):
                workdir = tmp / f"run-{count}-{repeat}"
                workdir.mkdir()
                streams = [chunk(sources[i], workdir / f"chunks{i}", seconds) for i in range(count)]
                runs.append(compose_once(streams, seconds, workdir, args.threads))
                shutil.rmtree(workdir)
            wall = statistics.median(r["wall_s"] for r in runs)
            cpu = statistics.median(r["cpu_s"] for r in runs)
            configs.append(
                {
                    "streams": count,
                    "call_seconds": seconds,
                    "runs": runs,
                    "compose_wall_s_per_call_minute": round(wall / args.minutes, 2),
                    "cpu_s_per_call_minute": round(cpu / args.minutes, 2),
                    "cores_busy": round(cpu / wall, 2) if wall else None,
                    "realtime_factor": round(seconds / wall, 1) if wall else None,
                    "output_mb_per_call_minute": round(statistics.median(r["output_bytes"] for r in runs) / 1e6 / args.minutes, 2),
                    "output_size": runs[0]["size"],
                }
            )
    peak_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    header = f"{'streams':>7}  {'wall s / call min':>17}  {'CPU s / call min':>16}  {'cores busy':>10}  {'× realtime':>10}  {'MB / call min':>13}  size"
    print(header)
    for c in configs:
        print(
            f"{c['streams']:>7}  {c['compose_wall_s_per_call_minute']:>17.2f}  {c['cpu_s_per_call_minute']:>16.2f}  "
            f"{c['cores_busy']:>10.2f}  {c['realtime_factor']:>10.1f}  {c['output_mb_per_call_minute']:>13.2f}  {c['output_size']}"
        )
    print(f"ffmpeg peak RSS {peak_rss_mb} MB; load before {load_before}, after {loadavg()}")
    first = configs[0]
    payload = {
        "name": "recording_compose",
        "machine": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cores": cores,
            "python": platform.python_version(),
            "ffmpeg": version,
            "load_before": load_before,
            "load_after": loadavg(),
        },
        "parameters": {
            "minutes": args.minutes,
            "streams": args.streams,
            "repeats": args.repeats,
            "threads": args.threads,
            "chunk_seconds": CHUNK_SECONDS,
            "input": f"VP8 {VIDEO_BITRATE}bit/s {args.input_size} {INPUT_FPS} fps + Opus 64k (MediaRecorder-like, made by ffmpeg)",
            "output": "H.264 veryfast CRF 26 + AAC 96k, 640x480 tiles at 15 fps, clock burned in",
        },
        "figures": configs,
        "ffmpeg_peak_rss_mb": peak_rss_mb,
        "headline": (
            f"{first['streams']} streams: {first['compose_wall_s_per_call_minute']} s wall and "
            f"{first['cpu_s_per_call_minute']} CPU-s per call minute"
        ),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "recording_compose.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {(RESULTS / 'recording_compose.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
