from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import OPERATORS_GROUP, Operator


def operator_for_user(user) -> Operator | None:
    """The operator profile of a logged-in user in the operators group, or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    operator = Operator.objects.select_related("business").filter(user=user).first()
    if operator is None or not user.groups.filter(name=OPERATORS_GROUP).exists():
        return None
    return operator


def presence_cutoff():
    """Anyone (operator or waiting customer) not seen since then is gone."""
    return timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)


def operators_available_count(business) -> int:
    return (
        Operator.objects.for_business(business)
        .filter(presence=Operator.Presence.AVAILABLE, last_seen_at__gte=presence_cutoff(), user__is_active=True)
        .count()
    )
