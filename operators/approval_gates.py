"""What must be true before an operator may approve a participant.

Each gate looks at one participant under its session's rule set
(kyc.regulations.RuleSet) and returns a Requirement when it applies to the call,
or None when it does not. ``decision_record`` refuses an approval while any
requirement is unmet, with that requirement's message; the operator's panel
lists the same requirements, so the operator sees what is missing before they
click. A rule's gate lives beside the rule's own code; this list is the one
place that says which gates there are.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kyc.regulations import RECORDING, TAN_AT_END, RuleSet
from sessions_app.call_conditions import REQUIREMENT_LABEL, call_conditions_problem_for_approval
from sessions_app.models import Participant
from sessions_app.one_time_codes import one_time_code_problem_for_approval
from sessions_app.recordings import recording_problem_for_approval
from workflows.security_features import security_features_progress


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str  # what the panel's checklist shows
    met: bool
    problem: str = ""  # why approval is refused while it is unmet


def _recording_gate(participant: Participant) -> Requirement | None:
    session = participant.session
    if not (session.workflow.recording_required or RuleSet.of(session).has(RECORDING)):
        return None
    problem = recording_problem_for_approval(participant)
    return Requirement("recording", _("Recording of the call received"), met=problem is None, problem=problem or "")


def _one_time_code_gate(participant: Participant) -> Requirement | None:
    if not RuleSet.of(participant.session).has(TAN_AT_END):
        return None
    problem = one_time_code_problem_for_approval(participant)
    return Requirement(
        "one_time_code", _("One-time code confirmed by the customer"), met=problem is None, problem=problem or ""
    )


def _call_conditions_gate(participant: Participant) -> Requirement | None:
    # The latest measurement from the operator's page, read from the cache:
    # missing, stale or below the minimum holds approval back.
    applies, problem = call_conditions_problem_for_approval(participant)
    if not applies:
        return None
    return Requirement("call_conditions", REQUIREMENT_LABEL, met=problem is None, problem=problem or "")


def _security_features_gate(participant: Participant) -> Requirement | None:
    progress = security_features_progress(participant)
    if progress is None:
        return None
    counts = {"checked": progress.checked, "required": progress.required}
    return Requirement(
        "security_features",
        _("%(required)s document security features checked") % {"required": progress.required},
        met=progress.met,
        problem=_("%(checked)s of %(required)s security features checked.") % counts,
    )


GATES = [
    _recording_gate,
    _security_features_gate,
    _one_time_code_gate,
    _call_conditions_gate,
]


def approval_requirements(participant: Participant) -> list[Requirement]:
    """Every requirement that applies to approving ``participant``, met or not."""
    return [requirement for gate in GATES if (requirement := gate(participant)) is not None]


def approval_problem(participant: Participant) -> str | None:
    """The first unmet requirement's message, or None when the participant may be approved."""
    return next((str(r.problem) for r in approval_requirements(participant) if not r.met), None)
