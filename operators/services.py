from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Operator
from kyc.regulations import FOUR_EYES_REVIEW, RuleSet
from operators import routing
from operators.approval_gates import approval_problem
from operators.models import Decision
from operators.webhooks import PARTICIPANT_DECIDED, webhook_emit
from sessions_app import locks
from sessions_app.audit import Actor, audit_record
from sessions_app.models import Participant, VerificationSession
from sessions_app.services import SessionNotAvailable, participant_mark_decided, session_assign_operator
from workflows.check_selectors import participant_checks
from workflows.checks.recommendation import APPROVE, REJECT, REVIEW


RECOMMENDATION_LABELS = {APPROVE: gettext_lazy("Approve"), REVIEW: gettext_lazy("Review"), REJECT: gettext_lazy("Reject")}


def recommendation_shown(participant: Participant) -> str | None:
    """The recommendation the operator's panel shows, or None where it shows
    none (no capture has been checked or is being checked)."""
    checks = participant_checks(participant)
    if not (checks["results"] or checks["pending"]):
        return None
    return checks["recommendation"]["decision"]


def overrides_recommendation(outcome: str, advice: str | None) -> bool:
    if advice is None:
        return False
    if outcome == Decision.Outcome.APPROVE:
        return advice != APPROVE
    if outcome == Decision.Outcome.REJECT:
        return advice == APPROVE
    return False  # a retry asks for another try, whatever the checks say


def decision_record(
    *,
    participant: Participant,
    operator: Operator,
    outcome: str,
    reason_code: str,
    comment: str = "",
    share_with_customer: bool = False,
    override_confirmed: bool = False,
) -> Decision:
    """Record the operator's decision on one participant. A decision against
    the system's recommendation (approving what it would not approve,
    rejecting what it would approve) needs ``override_confirmed`` and a
    comment saying why; both are in the audit trail."""
    if outcome not in Decision.Outcome.values:
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if reason_code not in Decision.Reason.values:
        raise ValidationError({"reason_code": f"Unknown reason code {reason_code!r}."})
    if reason_code not in Decision.REASONS_BY_OUTCOME[outcome]:
        raise ValidationError(
            {
                "reason_code": _("“%(reason)s” is not a reason for “%(outcome)s”.")
                % {"reason": Decision.Reason(reason_code).label, "outcome": Decision.Outcome(outcome).label}
            }
        )
    with transaction.atomic():
        participant = locks.participant_lock(participant.pk)
        session = participant.session
        if session.operator_id != operator.pk:
            raise ValidationError(_("Only the operator of this call can decide."))
        if participant.state != Participant.State.IN_CALL:
            raise ValidationError(_("A decision needs the participant in the call."))
        advice = recommendation_shown(participant)
        overrides = overrides_recommendation(outcome, advice)
        if overrides and not (override_confirmed and comment.strip()):
            raise ValidationError(
                {
                    "override": _(
                        "The system recommends “%(advice)s”. To decide “%(outcome)s” against it, "
                        "confirm that you do and say why in the comment."
                    )
                    % {"advice": RECOMMENDATION_LABELS[advice], "outcome": Decision.Outcome(outcome).label}
                }
            )
        if outcome == Decision.Outcome.APPROVE:
            # The workflow and its preset's rules may hold approval back (a recording,
            # a one-time code, security features…): operators.approval_gates.
            problem = approval_problem(participant)
            if problem:
                raise ValidationError(problem)
        if reason_code == Decision.Reason.POOR_CONDITIONS:
            # The customer must learn the call was cut for its picture or line,
            # not for who they are, and be offered a new try: always shown to them.
            share_with_customer = True
        # Four-eyes review holds back an approval only: it is what opens the
        # account (RBI's concurrent audit "before the account goes live"; ETSI's
        # risk is a false acceptance). A rejection or a retry opens nothing, and
        # a second look at it would keep the customer waiting for no one's
        # protection, so they stay final as the operator records them.
        provisional = outcome == Decision.Outcome.APPROVE and RuleSet.of(session).has(FOUR_EYES_REVIEW)
        decision = Decision.objects.create(
            participant=participant,
            outcome=outcome,
            reason_code=reason_code,
            comment=comment,
            shared_with_customer=share_with_customer,
            operator=operator,
            provisional=provisional,
        )
        participant_mark_decided(
            participant=participant,
            actor=Actor.operator(operator),
            data={
                "outcome": outcome,
                "reason_code": reason_code,
                "shared": share_with_customer,
                **({"provisional": True} if provisional else {}),
            },
        )
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=Actor.operator(operator),
            action="decision.recorded",
            data={
                "decision": decision.pk,
                "outcome": outcome,
                "reason_code": reason_code,
                **({"provisional": True} if provisional else {}),
                **({"recommendation": advice, "overrides_recommendation": True, "comment": comment} if overrides else {}),
            },
        )
        webhook_emit(
            business=session.business,
            event_type=PARTICIPANT_DECIDED,
            session=session,
            participant=participant,
            data={
                "decision": {
                    "outcome": outcome,
                    "reason_code": reason_code,
                    "decided_at": decision.created_at.isoformat(),
                    # True: a second person still confirms or overturns it
                    # (participant.reviewed says which).
                    "provisional": provisional,
                }
            },
        )
    return decision


class SessionNotOffered(SessionNotAvailable):
    """The queue does not offer this call to this operator (yet)."""


def session_answer(*, session_id: int, operator: Operator) -> VerificationSession:
    """The operator answered from the console: refused unless the queue
    offers them the call now (operators.routing), then assigned. The check
    and the assignment happen under the session's row lock, so nobody takes
    or changes the call between them."""
    with transaction.atomic():
        try:
            session = locks.session_lock(session_id)
        except VerificationSession.DoesNotExist:
            raise SessionNotAvailable(_("This call no longer exists.")) from None
        # A call that is not waiting any more (taken, left) or not of the
        # operator's business gets the assignment's own refusal below.
        still_waiting = session.state == VerificationSession.State.WAITING and session.operator_id is None
        if still_waiting and session.business_id == operator.business_id:
            operator = Operator.objects.select_related("business").prefetch_related("trained_workflows").get(pk=operator.pk)
            offer = routing.session_offered_to(session=session, operator=operator, now=timezone.now())
            if not offer.offered:
                raise SessionNotOffered(
                    _(
                        "This call is waiting for an operator who fits it (%(why)s). "
                        "It is offered to you too after %(seconds)s seconds."
                    )
                    % {"why": offer.label, "seconds": session.business.routing_fallback_seconds}
                )
        # The business check and the race with other operators are the call's own.
        return session_assign_operator(session_id=session.pk, operator=operator)
