"""Which waiting calls the queue offers to which operator: the one rule.

A call is offered first to the operators who fit it: they speak its language
(sessions_app.selectors.session_language; a call whose language is unknown
fits every operator on that count) and are trained for its workflow (a
workflow nobody of the business is trained for yet restricts nobody). Once
the call has waited the business's ``routing_fallback_seconds`` it is
offered to every operator, so a call is never stranded because its best
operator is away. A fallback of 0 offers every call to everyone at once.

A booked call rings its booked operator first, before any of this
(sessions_app.scheduling.booked_operator_only).

Above all of it, a regulation: a session whose rule set has OPERATOR_TRAINING
is offered only to operators with a current training attestation for its
preset (accounts.OperatorTraining) — not after a fallback, not when booked.

The console's queue (operators.selectors.queue_snapshot), the answer service
(operators.services.session_answer) and the waiting customer's estimate all
ask ``session_offered_to``; nothing else decides it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Operator, OperatorTraining
from accounts.selectors import operators_available
from kyc import regulations
from kyc.languages import language_name
from sessions_app.models import VerificationSession
from sessions_app.scheduling import booked_operator_only
from sessions_app.selectors import session_language

# Why a call is (or is not yet) offered to an operator.
OPEN = "open"  # the business does not route: every call to every operator
FITS = "fits"  # the operator fits the call
FALLBACK = "fallback"  # waited long enough: every operator
BOOKED = "booked"  # a booked call ringing its booked operator first
BOOKED_ELSEWHERE = "booked_elsewhere"  # not yet: it rings its booked operator first
NOT_LANGUAGE = "language"  # not offered yet: does not speak its language
NOT_WORKFLOW = "workflow"  # not offered yet: not trained for its workflow
NOT_ATTESTED = "attestation"  # never offered: no current training attestation for its preset


@dataclass(frozen=True)
class Offer:
    offered: bool
    reason: str
    # What the console shows for it ("speaks German", "fallback after 60 s").
    label: str
    # When the call is offered to every operator; None when it already is
    # for a reason that will not change with time (OPEN, FITS).
    fallback_at: datetime | None = None


def workflows_with_trained_operators(business) -> set[int]:
    """The ids of the business's workflows somebody is trained for."""
    return set(
        Operator.trained_workflows.through.objects.filter(operator__business=business).values_list(
            "workflowtemplate_id", flat=True
        )
    )


def operator_attested_for(*, operator: Operator, preset: str, on) -> bool:
    """Whether ``operator`` holds a training attestation for ``preset`` valid on the date ``on``."""
    return OperatorTraining.objects.filter(operator=operator, preset=preset).current(on).exists()


def session_offered_to(
    *, session: VerificationSession, operator: Operator, now: datetime, trained_anywhere: set[int] | None = None
) -> Offer:
    """Whether the queue offers ``session`` to ``operator`` at ``now``, and
    why. ``trained_anywhere`` (workflows_with_trained_operators) may be passed
    by a caller asking for many sessions, to read it once."""
    business = session.business
    rule_set = regulations.RuleSet.of(session)
    if rule_set.has(regulations.OPERATOR_TRAINING) and not operator_attested_for(
        operator=operator, preset=rule_set.preset, on=timezone.localdate(now)
    ):
        # The regulation's, not the business's routing: no fallback lifts it.
        return Offer(
            False,
            NOT_ATTESTED,
            _("no current training for %(preset)s") % {"preset": regulations.PRESETS[rule_set.preset].label},
        )
    # A booked call rings its booked operator first (sessions_app.scheduling),
    # whatever the routing; after that the routing below decides.
    booked = booked_operator_only(session, now)
    if booked is not None:
        if booked.pk == operator.pk:
            return Offer(True, BOOKED, _("booked with you"))
        ring_ends = session.waiting_at + timedelta(seconds=business.booked_operator_ring_seconds)
        return Offer(False, BOOKED_ELSEWHERE, _("booked with %(name)s") % {"name": booked.display_name}, ring_ends)
    wait = business.routing_fallback_seconds
    if wait == 0:
        return Offer(True, OPEN, _("open to every operator"))
    language = session_language(session)
    if trained_anywhere is None:
        trained_anywhere = workflows_with_trained_operators(business)
    trained = {workflow.pk for workflow in operator.trained_workflows.all()}
    speaks = not language or operator.speaks(language)
    knows_workflow = session.workflow_id not in trained_anywhere or session.workflow_id in trained
    if speaks and knows_workflow:
        if language:
            label = _("speaks %(language)s") % {"language": language_name(language)}
        else:
            label = _("language unknown")
        if session.workflow_id in trained:
            label = _("%(fit)s, trained for %(workflow)s") % {"fit": label, "workflow": session.workflow.name}
        return Offer(True, FITS, label)
    fallback_at = (session.waiting_at or now) + timedelta(seconds=wait)
    if now >= fallback_at:
        return Offer(True, FALLBACK, _("fallback after %(seconds)s s") % {"seconds": wait}, fallback_at)
    if not speaks:
        return Offer(
            False, NOT_LANGUAGE, _("does not speak %(language)s") % {"language": language_name(language)}, fallback_at
        )
    return Offer(False, NOT_WORKFLOW, _("not trained for %(workflow)s") % {"workflow": session.workflow.name}, fallback_at)


def answerers_available_count(session: VerificationSession) -> int:
    """How many of the business's available operators the queue offers
    ``session`` to now: the waiting customer's estimate divides by it
    (registered with sessions_app in OperatorsConfig.ready)."""
    now = timezone.now()
    trained_anywhere = workflows_with_trained_operators(session.business)
    return sum(
        1
        for operator in operators_available(session.business)
        if session_offered_to(session=session, operator=operator, now=now, trained_anywhere=trained_anywhere).offered
    )


def operator_languages_label(operator: Operator) -> str:
    """The operator's languages by name, for their console."""
    return ", ".join(language_name(code) for code in operator.languages or ())

