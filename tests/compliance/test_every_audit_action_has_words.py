"""Every action the product writes to the audit trail reads in words on
compliance's timeline, never as its code: a new action without a label
fails here (the timeline would show "session.flagged" to a reviewer)."""

import re
from pathlib import Path

from operators.compliance.review_display import ACTION_LABELS
from workflows.check_services import CHECKS_COMPLETED_ACTION

ROOT = Path(__file__).resolve().parents[2]
WRITTEN = re.compile(r'\baction="([a-z_]+\.[a-z_]+)"')


def _actions_written() -> set[str]:
    actions = {CHECKS_COMPLETED_ACTION}
    for app in ("accounts", "sessions_app", "operators", "workflows", "kyc"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                actions.update(WRITTEN.findall(path.read_text()))
    return actions


def test_every_action_written_has_a_label():
    actions = _actions_written()
    assert {"session.flagged", "challenge.requested", "integrity.reported"} <= actions  # the scan finds them
    assert sorted(action for action in actions if action not in ACTION_LABELS) == []
