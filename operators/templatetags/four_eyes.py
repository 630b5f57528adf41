"""The admin's link to the four-eyes review queue, on every compliance page
for those who review (operators.reviews)."""

from django import template

from accounts.selectors import review_scope
from operators.reviews import decisions_awaiting_review_count

register = template.Library()


@register.simple_tag
def review_queue_count(user) -> int | None:
    """How many decisions wait for this user's review; None when they review none."""
    if not review_scope(user).reaches_any:
        return None
    return decisions_awaiting_review_count(user)
