"""The four-eyes review (kyc.regulations.FOUR_EYES_REVIEW: RBI's concurrent
audit, ETSI TS 119 461 extended): an approval recorded under the rule is
provisional (operators.services.decision_record) until a second, different
staff member confirms or overturns it here.

Who may review is accounts.selectors.review_scope (reviewers and compliance
officers, scoped like the compliance pages); the operator who made the
decision never may, whatever their groups.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import review_scope
from operators.models import Decision, Review
from operators.webhooks import PARTICIPANT_REVIEWED, webhook_emit
from sessions_app import locks
from sessions_app.audit import Actor, audit_record


class ReviewRefused(PermissionDenied):
    """This person may not review this decision (the message says why)."""


def may_review_decisions(user, business_id) -> bool:
    """Whether ``user`` reviews provisional decisions of this business at all
    (not whether they may review one decision: they may be its operator)."""
    return review_scope(user).allows(business_id)


def decisions_awaiting_review(user):
    """The review queue: provisional decisions without a review, of the
    businesses this user reviews, oldest first."""
    scope = review_scope(user)
    decisions = Decision.objects.filter(provisional=True, review__isnull=True)
    if not scope.everything:
        if scope.business_id is None:
            return decisions.none()
        decisions = decisions.filter(participant__session__business_id=scope.business_id)
    return decisions.select_related(
        "participant__session__business", "participant__session__workflow", "operator__user"
    ).order_by("created_at", "pk")


def decisions_awaiting_review_count(user) -> int:
    return decisions_awaiting_review(user).count()


def decision_review(*, decision: Decision, reviewer, outcome: str, reason_code: str = "", comment: str = "") -> Review:
    """A second person confirms or overturns a provisional decision. Overturning
    replaces the approval with a rejection: it names the rejection's reason
    and says why in the comment. Two reviewers racing for the same decision
    are serialised by the decision's row lock (taken after its session's and
    participant's, the product's lock order): the second finds it reviewed."""
    if outcome not in Review.Outcome.values:
        raise ValidationError({"outcome": _("Choose whether you confirm or overturn the decision.")})
    overturn = outcome == Review.Outcome.OVERTURN
    if overturn:
        if reason_code not in Decision.REASONS_BY_OUTCOME[Decision.Outcome.REJECT]:
            raise ValidationError({"reason_code": _("Choose the reason the participant is rejected.")})
        if not comment.strip():
            raise ValidationError({"comment": _("Say why you overturn the decision.")})
    with transaction.atomic():
        decision = locks.participant_row_lock(Decision.objects, decision.pk)
        participant = decision.participant
        session = participant.session
        # Scope first: to someone outside the business the decision does not
        # exist, so they learn nothing else about it.
        if not may_review_decisions(reviewer, session.business_id):
            raise ReviewRefused(_("You do not review this business's decisions."))
        if decision.operator.user_id == reviewer.pk:
            raise ReviewRefused(_("The operator who made the decision cannot review it: a second person must."))
        if not decision.provisional:
            raise ValidationError(_("This decision is final: it needs no review."))
        if Review.objects.filter(decision=decision).exists():
            raise ValidationError(_("This decision has already been reviewed."))
        review = Review.objects.create(
            decision=decision,
            reviewer=reviewer,
            outcome=outcome,
            final_outcome=Decision.Outcome.REJECT if overturn else decision.outcome,
            final_reason_code=reason_code if overturn else decision.reason_code,
            comment=comment.strip(),
        )
        audit_record(
            business=session.business,
            session=session,
            participant=participant,
            actor=Actor.staff(reviewer),
            action="decision.reviewed",
            data={
                "decision": decision.pk,
                "review": review.pk,
                "outcome": outcome,
                "final_outcome": review.final_outcome,
                "final_reason_code": review.final_reason_code,
            },
        )
        webhook_emit(
            business=session.business,
            event_type=PARTICIPANT_REVIEWED,
            session=session,
            participant=participant,
            data={"review": review_webhook_data(review)},
        )
    return review


def review_webhook_data(review: Review) -> dict:
    """What the business is told of a review: the decision that stands, never
    who reviewed it or their comment (no other event names staff either)."""
    return {
        "outcome": review.final_outcome,
        "reason_code": review.final_reason_code,
        "overturned": review.overturned,
        "decided_at": review.decision.created_at.isoformat(),
        "reviewed_at": review.created_at.isoformat(),
    }


def waiting_seconds(decision: Decision, now=None) -> int:
    return max(0, int(((now or timezone.now()) - decision.created_at).total_seconds()))
