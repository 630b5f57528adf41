"""CPU time of the post-call checks of one participant, per check and in total.

    .venv/bin/python bench/checks_cpu.py                  # 3 participants, both cache modes
    .venv/bin/python bench/checks_cpu.py --participants 5

Issue #15's target: the checks of one participant (MRZ, face match and
liveness together, models already loaded) cost at most 1 s of CPU.

A participant here is what the product stores during a call: the front of a
TD3 passport (portrait and MRZ) and the back of a TD1 card (MRZ), both on a
table at 1280x720 as a webcam frames them, one live face capture at 640x480,
and five liveness bursts (turn left, turn right, look up, blink, move closer)
of five 640x480 frames each. Each capture is stored as the capture service
stores it (a JPEG in a temporary evidence root, a SQLite database of its own)
and checked by ``check_services.evidence_run_checks``, the function the
Celery task ``run_checks_for_evidence`` calls, in the order the captures
arrive: face, front, back, then every frame of every burst (the last frame
of a burst runs its liveness and person-swap checks).

CPU is ``time.process_time`` (every thread of the process, so onnxruntime's
worker threads count) around each planned check's run, summed per check kind
for the participant; "tasks" is the whole ``evidence_run_checks`` of every
capture, database writes included. Models are loaded and one participant is
checked before measuring. Two modes:

- ``worker``: one process checks the participant's captures one after the
  other, as one Celery worker process would, keeping what it holds in memory
  between tasks;
- ``cold``: whatever the engines keep in memory between calls is dropped
  before each task, as if every task ran on a different worker process.

Prints a table and writes bench/results/checks_cpu.json; medians over the
participants.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = ("quality", "mrz", "face_match", "liveness")
ACTIONS = ("turn_left", "turn_right", "look_up", "blink", "move_closer")
WORKFLOW_STEPS = [
    {"kind": "terms", "terms_version": "v1", "terms_text": "We verify you on a recorded video call."},
    {"kind": "document", "document_kinds": ["passport", "id_card"]},
    {"kind": "liveness", "action_count": 5},
]


def _django(var_dir: str) -> None:
    os.environ["VERITY_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kyc.settings")
    os.environ["CHECKS_EMBEDDED_MODE"] = "off"
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _captures(seed: int) -> dict:
    from tests.checks import testdata as td

    holder = td.random_holder(seed)
    front, _ = td.document_capture(holder, "TD3", portrait=td.astronaut(), seed=seed, variant=True)
    card_holder = td.random_holder(seed, layout="TD1")
    back, _ = td.document_capture(card_holder, "TD1", seed=seed + 1, variant=True)
    face = td.live_frame(td.astronaut(), seed=seed)
    from workflows.steps import LIVENESS_BURST_FRAMES

    # As many frames per burst as the customer's page sends.
    bursts = {action: td.challenge_frames(face, action, seed=seed + i, frames=LIVENESS_BURST_FRAMES)
              for i, action in enumerate(ACTIONS)}
    return {"holder": holder, "front": front, "back": back, "face": face, "bursts": bursts}


def _participant(business, workflow, holder):
    from sessions_app.audit import Actor
    from sessions_app.models import VerificationSession
    from sessions_app.services import ParticipantSpec, session_create

    created = session_create(
        business=business,
        workflow=workflow,
        kind=VerificationSession.Kind.ONE_ON_ONE,
        participants=[ParticipantSpec(name=holder.full_name, email="bench@example.com")],
        business_reference="BENCH",
        actor=Actor.api(),
    )
    participant = created.links[0][0]
    participant.date_of_birth = holder.birth_date
    participant.save(update_fields=["date_of_birth"])
    return participant


def _forget_between_tasks() -> None:
    """What a fresh worker process would not hold."""
    from workflows.checks import faces

    faces._cache.clear()
    forget = getattr(faces, "forget_analyses", None)
    if forget is not None:
        forget()


def check_participant(business, workflow, seed: int, *, cold: bool) -> dict:
    from sessions_app.models import Evidence
    from tests.checks import testdata as td
    from tests.checks.fakes import evidence_from_bytes
    from workflows import check_services

    captures = _captures(seed)
    participant = _participant(business, workflow, captures["holder"])

    def store(kind, image, label="", frame_index=0):
        return evidence_from_bytes(participant, kind, td.jpeg_bytes(image, 92), content_type="image/jpeg",
                                   width=image.shape[1], height=image.shape[0], label=label, frame_index=frame_index)

    cpu = dict.fromkeys(KINDS, 0.0)
    statuses = []
    planned_original = check_services.checks_planned

    def timed_plan(evidence):
        plan = planned_original(evidence)
        for planned in plan:
            run = planned.run

            def timed(run=run, kind=planned.kind):
                start = time.process_time()
                try:
                    return run()
                finally:
                    cpu[kind] += time.process_time() - start

            planned.run = timed
        return plan

    check_services.checks_planned = timed_plan
    tasks_cpu = 0.0
    try:
        order = [store(Evidence.Kind.FACE, captures["face"]),
                 store(Evidence.Kind.DOCUMENT_FRONT, captures["front"]),
                 store(Evidence.Kind.DOCUMENT_BACK, captures["back"])]
        for action, frames in captures["bursts"].items():
            order += [store(Evidence.Kind.LIVENESS_FRAME, frame, label=action, frame_index=i)
                      for i, frame in enumerate(frames)]
        for evidence in order:
            if cold:
                _forget_between_tasks()
            start = time.process_time()
            results = check_services.evidence_run_checks(evidence_id=evidence.pk)
            tasks_cpu += time.process_time() - start
            statuses += [(evidence.kind, evidence.label, r.kind, r.status) for r in results]
    finally:
        check_services.checks_planned = planned_original
    checks = sum(cpu[kind] for kind in KINDS)
    return {
        "seed": seed,
        "cpu_s": {kind: round(cpu[kind], 4) for kind in KINDS},
        "checks_cpu_s": round(checks, 4),
        "identity_checks_cpu_s": round(cpu["mrz"] + cpu["face_match"] + cpu["liveness"], 4),
        "tasks_cpu_s": round(tasks_cpu, 4),
        "results": sorted({f"{kind}/{label}:{check}={status}" for kind, label, check, status in statuses}),
    }


def _median(rows: list[dict], key) -> float:
    return round(statistics.median(key(row) for row in rows), 4)


def run(participants: int = 3, modes=("worker", "cold"), seed0: int = 12000) -> dict:
    with tempfile.TemporaryDirectory(prefix="verity-checks-cpu-") as var_dir:
        _django(var_dir)
        from accounts.models import Business
        from workflows.checks import faces, mrz, mrz_ocr, quality
        from workflows.checks import liveness as liveness_engine
        from workflows.models import WorkflowTemplate

        business = Business.objects.create(name="Bench Bank", slug="bench-bank")
        workflow = WorkflowTemplate.objects.create(business=business, name="Bench", steps=WORKFLOW_STEPS)
        started = time.process_time()
        faces.models()
        mrz_ocr.ocr_engine()
        loading = time.process_time() - started
        # One participant not counted: the first inference of each model
        # allocates what later ones reuse.
        check_participant(business, workflow, seed0 - 1, cold=False)
        report = {
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
            "engines": {"mrz": mrz.engine_version(), "faces": faces.engine_version(),
                        "liveness": liveness_engine.engine_version(), "quality": quality.engine_version()},
            "participant": "TD3 front 1280x720 (portrait, MRZ), TD1 back 1280x720 (MRZ), face 640x480, "
                           "5 liveness bursts x 10 frames 640x480, JPEG q92",
            "model_loading_cpu_s": round(loading, 3),
            "modes": {},
        }
        for mode in modes:
            rows = [check_participant(business, workflow, seed0 + k, cold=mode == "cold") for k in range(participants)]
            report["modes"][mode] = {
                "participants": participants,
                "median_cpu_s": {kind: _median(rows, lambda r, kind=kind: r["cpu_s"][kind]) for kind in KINDS},
                "median_identity_checks_cpu_s": _median(rows, lambda r: r["identity_checks_cpu_s"]),
                "median_checks_cpu_s": _median(rows, lambda r: r["checks_cpu_s"]),
                "median_tasks_cpu_s": _median(rows, lambda r: r["tasks_cpu_s"]),
                "rows": rows,
            }
            print(f"  {mode}: {[r['identity_checks_cpu_s'] for r in rows]}", file=sys.stderr)
        report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


def report_table(report: dict) -> str:
    from bench.common import table

    rows = []
    for mode, figures in report["modes"].items():
        cpu = figures["median_cpu_s"]
        rows.append([mode, *(f"{cpu[kind]:.3f}" for kind in KINDS), f"{figures['median_identity_checks_cpu_s']:.3f}",
                     f"{figures['median_checks_cpu_s']:.3f}", f"{figures['median_tasks_cpu_s']:.3f}"])
    return table(["mode", *KINDS, "MRZ+face+liveness", "all checks", "tasks"], rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--mode", choices=["worker", "cold"], nargs="*", help="only these modes")
    args = parser.parse_args(argv)
    report = run(args.participants, tuple(args.mode or ("worker", "cold")))
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "checks_cpu.json"
    import json

    path.write_text(json.dumps(report, indent=2, default=float) + "\n")
    print(f"CPU seconds per participant (median of {args.participants}; process_time; models loaded)")
    print(report_table(report))
    load = report["machine"]["load_average_at_start"][0]
    print(f"\nwritten to {path} (load average {load:.1f} at start; the target is MRZ+face+liveness <= 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
