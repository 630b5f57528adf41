"""The media side of call recording: probing, remuxing and composing with
ffmpeg (Debian's package). No models here: the functions take paths and
numbers, so the compose task, the tests and the benchmark share them.

Browser recordings are awkward inputs: MediaRecorder's WebM has no duration
in its header, a received stream changes resolution mid-file as bandwidth
estimation ramps up, and a segment may have audio only. Every segment is
therefore remuxed first (a seekable file with a duration, bytes untouched
otherwise), probed, and scaled into a fixed tile in the composition.
"""

import json
import math
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings

FFMPEG = settings.FFMPEG_PATH
FFPROBE = settings.FFPROBE_PATH
# fonts-dejavu-core; without it the clock is kept as metadata only.
CLOCK_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

TILE_WIDTH = 640
TILE_HEIGHT = 480
FPS = 15
AUDIO_RATE = 48000


class MediaError(Exception):
    """ffmpeg or ffprobe failed, or a file is not what it should be."""


@dataclass(frozen=True)
class Probe:
    duration: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None


@dataclass
class ComposeInput:
    """One segment of one stream: where its file is, which tile it belongs
    to, and when it started on the call's clock (seconds after t0)."""

    path: Path
    tile: int
    offset: float
    probe: Probe


@dataclass
class ComposeResult:
    path: Path
    probe: Probe
    width: int
    height: int
    clock_burned_in: bool
    command: list[str] = field(default_factory=list)


def media_tools_available() -> bool:
    return shutil.which(FFMPEG) is not None and shutil.which(FFPROBE) is not None


def _run(args: list[str], *, timeout: float) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as error:
        raise MediaError(f"{args[0]} is not installed (Debian: apt-get install ffmpeg)") from error
    except subprocess.TimeoutExpired as error:
        raise MediaError(f"{args[0]} took longer than {timeout:.0f} s") from error
    if result.returncode != 0:
        raise MediaError(f"{args[0]} failed: {result.stderr.strip()[-2000:]}")
    return result


def _run_with_progress(args: list[str], *, timeout: float, duration: float, on_progress) -> None:
    """Run ffmpeg telling ``on_progress`` the fraction of ``duration``
    encoded so far (ffmpeg's ``-progress`` key=value lines on stdout), at
    most once a second."""
    args = [args[0], "-progress", "pipe:1", "-nostats", *args[1:]]
    deadline = time.monotonic() + timeout
    try:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError as error:
        raise MediaError(f"{args[0]} is not installed (Debian: apt-get install ffmpeg)") from error
    # stderr is read on its own thread: a full pipe would block ffmpeg.
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    last_report = 0.0
    try:
        for line in process.stdout:
            if time.monotonic() > deadline:
                process.kill()
                raise MediaError(f"{args[0]} took longer than {timeout:.0f} s")
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit() and time.monotonic() - last_report >= 1:
                last_report = time.monotonic()
                on_progress(min(1.0, int(value) / 1_000_000 / duration))
        process.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired as error:
        process.kill()
        raise MediaError(f"{args[0]} took longer than {timeout:.0f} s") from error
    finally:
        reader.join(timeout=5)
    if process.returncode != 0:
        raise MediaError(f"{args[0]} failed: {''.join(errors).strip()[-2000:]}")


def probe(path: Path) -> Probe:
    result = _run(
        [
            FFPROBE, "-v", "error", "-show_entries",
            "format=duration:stream=codec_type,width,height,duration", "-of", "json", str(path),
        ],
        timeout=120,
    )
    data = json.loads(result.stdout or "{}")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    try:
        duration = float(data.get("format", {}).get("duration"))
    except (TypeError, ValueError):
        duration = 0.0
    return Probe(
        duration=duration,
        has_video=video is not None,
        has_audio=audio is not None,
        width=video.get("width") if video else None,
        height=video.get("height") if video else None,
    )


def remux(source: Path, target: Path) -> Probe:
    """Copy the packets into a seekable WebM with a duration (no re-encoding).
    A damaged stretch (a chunk lost in a crash) is skipped by the demuxer's
    resync to the next cluster, so what follows it still plays."""
    _run(
        [FFMPEG, "-nostdin", "-v", "error", "-y", "-fflags", "+genpts+discardcorrupt", "-i", str(source),
         "-map", "0", "-c", "copy", str(target)],
        timeout=600,
    )
    return probe(target)


def grid(count: int) -> tuple[int, int]:
    """(columns, rows): side by side for two, then a grid."""
    if count <= 2:
        return max(count, 1), 1
    columns = 2 if count <= 4 else 3
    return columns, math.ceil(count / columns)


def _clock_text_file(workdir: Path, t0: datetime, overlay_lines: list[str] = ()) -> Path:
    # In a text file the expansion needs no filtergraph escaping. Lines of
    # the overlay (a customer's live location) go above the clock, in its box;
    # a "%" in them would start an expansion, so they are not allowed one.
    path = workdir / "clock.txt"
    lines = [line.replace("%", "").replace("\\", "") for line in overlay_lines]
    path.write_text("\n".join([*lines, "%{pts:gmtime:" + f"{t0.timestamp():.3f}" + "} UTC   call %{pts:hms}"]))
    return path


def compose(
    *,
    inputs: list[ComposeInput],
    tiles: int,
    tile_labels: list[str],
    duration: float,
    t0: datetime,
    target: Path,
    workdir: Path,
    threads: int = 0,
    title: str = "",
    on_progress=None,
    overlay_lines: list[str] = (),
) -> ComposeResult:
    """One playable MP4 (H.264 + AAC, moov first) of the whole call: every
    stream in its tile, side by side, audio mixed, the call's clock burned
    in and kept as creation_time metadata. Time 0 is t0 (the answer).
    ``overlay_lines`` (the customers' live locations) are burned in above
    the clock."""
    if duration <= 0:
        raise MediaError("nothing to compose: the call has no duration")
    columns, rows = grid(tiles)
    width, height = TILE_WIDTH * columns, TILE_HEIGHT * rows
    font = Path(CLOCK_FONT)
    burn_clock = font.exists()
    args = [FFMPEG, "-nostdin", "-v", "error", "-y"]
    for item in inputs:
        # A received stream changes resolution mid-file; with reinit off the
        # graph is not rebuilt (which would restart the canvases at 0) and
        # the scale filter at the head of each chain adapts on its own.
        args += ["-reinit_filter", "0", "-i", str(item.path)]
    chains: list[str] = []
    audio_labels: list[str] = []
    tile_outputs: list[str] = []
    label_font = f":fontfile={font}" if burn_clock else ""
    for tile in range(tiles):
        chains.append(
            f"color=c=0x1a1a1a:s={TILE_WIDTH}x{TILE_HEIGHT}:r={FPS}:d={duration:.3f},format=yuv420p[base{tile}]"
        )
        current = f"base{tile}"
        for number, item in enumerate(inputs):
            if item.tile != tile or not item.probe.has_video:
                continue
            chains.append(
                f"[{number}:v]scale={TILE_WIDTH}:{TILE_HEIGHT}:force_original_aspect_ratio=decrease,"
                f"pad={TILE_WIDTH}:{TILE_HEIGHT}:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,"
                f"setpts=PTS+{item.offset:.3f}/TB[v{number}]"
            )
            chains.append(f"[{current}][v{number}]overlay=eof_action=pass:repeatlast=0[t{tile}_{number}]")
            current = f"t{tile}_{number}"
        if burn_clock and tile < len(tile_labels):
            label = tile_labels[tile].replace("\\", "").replace("'", "").replace(":", " ")
            chains.append(
                f"[{current}]drawtext=text='{label}'{label_font}:fontsize=18:fontcolor=white:"
                f"box=1:boxcolor=black@0.5:x=8:y=8[tl{tile}]"
            )
            current = f"tl{tile}"
        tile_outputs.append(current)
    for number, item in enumerate(inputs):
        if not item.probe.has_audio:
            continue
        delay_ms = max(0, round(item.offset * 1000))
        chains.append(
            f"[{number}:a]aresample={AUDIO_RATE}:async=1,aformat=channel_layouts=mono,"
            f"adelay=delays={delay_ms}:all=1[a{number}]"
        )
        audio_labels.append(f"a{number}")
    if tiles == 1:
        chains.append(f"[{tile_outputs[0]}]null[stack]")
    else:
        layout = "|".join(
            f"{(i % columns) * TILE_WIDTH}_{(i // columns) * TILE_HEIGHT}" for i in range(tiles)
        )
        # Empty grid cells stay black.
        chains.append(
            "".join(f"[{name}]" for name in tile_outputs)
            + f"xstack=inputs={tiles}:layout={layout}:fill=black[stack]"
        )
    if burn_clock:
        clock = _clock_text_file(workdir, t0, overlay_lines)
        chains.append(
            f"[stack]drawtext=textfile='{clock}':fontfile={font}:fontsize=20:fontcolor=white:"
            f"box=1:boxcolor=black@0.6:boxborderw=6:x=10:y=h-th-14,format=yuv420p[vout]"
        )
    else:
        chains.append("[stack]format=yuv420p[vout]")
    if audio_labels:
        chains.append(
            "".join(f"[{name}]" for name in audio_labels)
            + f"amix=inputs={len(audio_labels)}:duration=longest:normalize=0:dropout_transition=0,"
            f"apad=whole_dur={duration:.3f},atrim=end={duration:.3f}[aout]"
        )
    else:
        chains.append(f"anullsrc=r={AUDIO_RATE}:cl=mono,atrim=end={duration:.3f}[aout]")
    script = workdir / "compose.filter"
    script.write_text(";\n".join(chains))
    args += [
        "-filter_complex_script", str(script),
        "-map", "[vout]", "-map", "[aout]",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p", "-r", str(FPS),
        "-c:a", "aac", "-b:a", "96k", "-ar", str(AUDIO_RATE),
        "-t", f"{duration:.3f}",
        "-movflags", "+faststart",
        "-metadata", f"creation_time={t0.isoformat()}",
        "-metadata", f"title={title}",
        "-metadata", f"comment=Time 0 is {t0.isoformat()} (the call was answered).",
    ]
    if threads:
        args += ["-threads", str(threads), "-filter_complex_threads", str(threads)]
    args.append(str(target))
    if on_progress is None:
        _run(args, timeout=max(600, duration * 10))
    else:
        _run_with_progress(args, timeout=max(600, duration * 10), duration=duration, on_progress=on_progress)
    result_probe = probe(target)
    if not (result_probe.has_video and result_probe.has_audio):
        raise MediaError("the composed file lacks its audio or video stream")
    return ComposeResult(
        path=target, probe=result_probe, width=width, height=height, clock_burned_in=burn_clock, command=args
    )
