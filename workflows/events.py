"""What the workflow floor announces to the floors above it (the
integration's outbox subscribes in OperatorsConfig.ready). Receivers run
inside the sender's transaction, like sessions_app.events."""

from django.dispatch import Signal

# session, participant, results, recommendation: a participant's automated
# checks are complete (workflows.check_services.participant_checks_completed_emit
# says when, and never twice for the same results).
checks_completed = Signal()
