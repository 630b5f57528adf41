from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import OPERATORS_GROUP, Business, Operator
from kyc import realtime


def operator_create(*, user, business: Business, display_name: str = "") -> Operator:
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=OPERATORS_GROUP)
        user.groups.add(group)
        return Operator.objects.create(
            user=user, business=business, display_name=display_name or user.get_full_name() or user.username
        )


def operator_set_presence(*, operator: Operator, presence: str) -> Operator:
    if presence not in Operator.Presence.values:
        raise ValidationError({"presence": f"Unknown presence {presence!r}."})
    Operator.objects.filter(pk=operator.pk).update(presence=presence, last_seen_at=timezone.now())
    operator.presence = presence
    realtime.queue_changed_on_commit(operator.business_id)
    return operator


def operator_touch(*, operator_id: int) -> None:
    Operator.objects.filter(pk=operator_id).update(last_seen_at=timezone.now())
