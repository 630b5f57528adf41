"""What the call floor announces to the floors above it.

sessions_app knows nothing of workflows, webhooks or compliance; they
subscribe to these signals in their ``AppConfig.ready()``. Receivers run
synchronously inside the sender's transaction (``Signal.send``, not
``send_robust``): what they write (a step completed, a webhook in the
outbox) commits or rolls back with the change itself, and a receiver's error
fails the change rather than losing its consequence. Work that must wait for
the commit (tasks, pushes) is the receiver's to put in ``on_commit``.
"""

from django.dispatch import Signal

# participant, workflow: a participant was created with the session
# (their own copy of the workflow's steps is made from this).
participant_created = Signal()

# participant, previous, target, actor, data: a participant moved between
# states (Participant.MACHINE); the participant's session is locked.
participant_moved = Signal()

# session, previous, target, actor, data: a session moved between states
# (VerificationSession.MACHINE); the session is locked.
session_moved = Signal()

# booking, change ("scheduled", "rescheduled", "cancelled" or "no_show"),
# previous_starts_at: a session's booked call changed (sessions_app.scheduling_services);
# the booking row is locked and saved. The integration floor e-mails the
# customer and tells the business's webhook.
booking_changed = Signal()
