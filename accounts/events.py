"""What the accounts floor announces to the floors above it (they subscribe
in their ``AppConfig.ready()``; see sessions_app.events for the rules)."""

from django.dispatch import Signal

# business_id, operator: an operator's presence (available, busy, away)
# changed. Waiting customers' pages show whether anyone can answer them.
operator_presence_changed = Signal()
