from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import events
from accounts.models import (
    BUSINESS_ADMINS_GROUP,
    COMPLIANCE_GROUP,
    OPERATORS_GROUP,
    REVIEWERS_GROUP,
    SUPERVISORS_GROUP,
    Business,
    BusinessStaff,
    Operator,
)
from accounts.selectors import OPERATOR_PRESENCE
from kyc import presence, realtime


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
    with transaction.atomic():
        changed = Operator.objects.filter(pk=operator.pk).exclude(presence=presence).update(presence=presence)
        Operator.objects.filter(pk=operator.pk).update(last_seen_at=timezone.now())
        operator.presence = presence
        realtime.queue_changed_on_commit(operator.business_id)
        if changed:
            events.operator_presence_changed.send(
                sender=Operator, business_id=operator.business_id, operator=operator
            )
    return operator


def operator_touch(*, operator_id: int) -> None:
    """The operator arrived (a socket opened): stamped in the database, once."""
    Operator.objects.filter(pk=operator_id).update(last_seen_at=timezone.now())
    presence.presence_beat(OPERATOR_PRESENCE, operator_id)


def operator_beat(*, operator_id: int) -> None:
    """A heartbeat of one of the operator's pages: a lease in the presence
    cache, no database (kyc/presence.py)."""
    presence.presence_beat(OPERATOR_PRESENCE, operator_id)


STAFF_ROLES = (BUSINESS_ADMINS_GROUP, COMPLIANCE_GROUP, SUPERVISORS_GROUP, REVIEWERS_GROUP)


def business_staff_add(*, user, business: Business, role: str) -> BusinessStaff:
    """Make ``user`` staff of ``business`` in ``role`` (its business admin,
    its own compliance officer, its supervisor or its four-eyes reviewer): staff, in the role's group, and linked to
    that one business, so the admin shows them nothing of any other."""
    if role not in STAFF_ROLES:
        raise ValidationError({"role": f"Unknown staff role {role!r}; one of {', '.join(STAFF_ROLES)}."})
    if user.is_superuser:
        raise ValidationError({"user": "A superuser sees every business; make a separate user for one business."})
    with transaction.atomic():
        link, created = BusinessStaff.objects.select_for_update().get_or_create(user=user, defaults={"business": business})
        if link.business_id != business.pk:
            raise ValidationError({"user": f"{user} is already staff of another business."})
        operator = Operator.objects.filter(user=user).first()
        if operator is not None and operator.business_id != business.pk:
            raise ValidationError({"user": f"{user} is an operator of another business."})
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        return link
