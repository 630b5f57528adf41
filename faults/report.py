"""Measured recovery times, printed at the end of ``make faults`` and kept in
test-artifacts/faults.json for the README's table."""

import json

from tests.e2e.harness import ARTIFACTS

MEASURED: dict[str, dict] = {}


def record(scenario: str, **numbers):
    MEASURED.setdefault(scenario, {}).update({k: round(v, 1) if isinstance(v, float) else v for k, v in numbers.items()})


def write_and_format() -> list[str]:
    if not MEASURED:
        return []
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "faults.json").write_text(json.dumps(MEASURED, indent=2, sort_keys=True))
    lines = ["measured recovery (seconds unless named):"]
    for scenario, numbers in MEASURED.items():
        lines.append(f"  {scenario}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()))
    return lines
