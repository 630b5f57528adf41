"""What the workflow floor announces to the floors above it (the
integration's outbox subscribes in OperatorsConfig.ready). Receivers run
inside the sender's transaction, like sessions_app.events."""

from django.dispatch import Signal

# session, participant, results, recommendation: a participant's automated
# checks are complete (workflows.check_services.participant_checks_completed_emit
# says when, and never twice for the same results).
checks_completed = Signal()

# session, participant, kind, outcome (a workflows.checks.results.CheckOutcome,
# with the live face's descriptor where the face match computed one): one
# check's result was stored, in the transaction that stored it. Sent once per
# stored result (workflows.check_services.check_result_store).
check_recorded = Signal()

# capture, evidence: one frame answering a capture request was stored, in the
# transaction that stored it (workflows.services.evidence_store_image): a
# security feature's tick is bound to it (workflows.security_features).
evidence_stored = Signal()
