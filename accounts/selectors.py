from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import (
    BUSINESS_ADMINS_GROUP,
    COMPLIANCE_GROUP,
    OPERATORS_GROUP,
    PLATFORM_STAFF_GROUP,
    REVIEWERS_GROUP,
    SUPERVISORS_GROUP,
    BusinessStaff,
    Operator,
)
from kyc.presence import presence_seen_at


def operator_for_user(user) -> Operator | None:
    """The operator profile of a logged-in user in the operators group, or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    # One query: the profile, and the group membership in the same join.
    return Operator.objects.select_related("business").filter(user=user, user__groups__name=OPERATORS_GROUP).first()


# The operators' leases in kyc.presence.
OPERATOR_PRESENCE = "operator"


def presence_cutoff():
    """Anyone (operator or waiting customer) not seen since then is gone."""
    return timezone.now() - timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)


def operators_seen_at(operators, *, now: float | None = None) -> dict:
    """When each operator was last heard from (database stamp or lease)."""
    return presence_seen_at(OPERATOR_PRESENCE, operators, now=now)


def operators_available(business) -> list[Operator]:
    """The business's operators who are available and were heard from within
    the presence timeout, with the skills routing reads (languages, trained
    workflows) loaded."""
    candidates = list(
        Operator.objects.for_business(business)
        .filter(presence=Operator.Presence.AVAILABLE, user__is_active=True)
        .prefetch_related("trained_workflows")
    )
    cutoff = presence_cutoff()
    seen = operators_seen_at(candidates)
    return [operator for operator in candidates if seen.get(operator.pk) is not None and seen[operator.pk] >= cutoff]


def operators_available_count(business) -> int:
    return len(operators_available(business))


@dataclass(frozen=True)
class StaffScope:
    """Which businesses' rows a staff user may see in the admin: every
    business, one business, or none. What the user may *do* with those rows
    is a separate question (model permissions, or the business admin role)."""

    everything: bool = False
    business_id: int | None = None

    @property
    def reaches_any(self) -> bool:
        return self.everything or self.business_id is not None

    def allows(self, business_id) -> bool:
        return self.everything or (business_id is not None and business_id == self.business_id)


EVERY_BUSINESS = StaffScope(everything=True)
NO_BUSINESS = StaffScope()


def staff_scope(user) -> StaffScope:
    """The one rule for whose rows a staff user sees in the admin.

    - superusers: every business;
    - staff linked to a business (BusinessStaff): that business only, whatever
      their groups or model permissions say, so a business's compliance
      officer or admin never reads another business;
    - unlinked staff in the platform staff or compliance group: every business
      (platform-wide compliance reviewers);
    - any other staff, whatever model permissions they hold: no business.
    """
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return NO_BUSINESS
    if user.is_superuser:
        return EVERY_BUSINESS
    business_id = BusinessStaff.objects.filter(user=user).values_list("business_id", flat=True).first()
    if business_id is not None:
        return StaffScope(business_id=business_id)
    if user.groups.filter(name__in=[PLATFORM_STAFF_GROUP, COMPLIANCE_GROUP]).exists():
        return EVERY_BUSINESS
    return NO_BUSINESS


def is_business_admin(user) -> bool:
    """Active staff in the business admins group who are linked to a business."""
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return False
    return (
        BusinessStaff.objects.filter(user=user).exists() and user.groups.filter(name=BUSINESS_ADMINS_GROUP).exists()
    )


def supervisor_scope(user) -> StaffScope:
    """The one rule for whose figures a user sees on the supervisor dashboard.

    - superusers: every business;
    - supervisors (active staff in SUPERVISORS_GROUP) linked to a business
      (BusinessStaff): that business only;
    - supervisors who are also platform staff (PLATFORM_STAFF_GROUP) and
      linked to no business: every business (platform-wide supervisors);
    - a supervisor neither linked nor platform staff: no business. Losing
      one's business link (an admin deleting the BusinessStaff row) must
      not make a business's supervisor platform-wide;
    - anyone else, operators and compliance included: no business. The
      dashboard is not the admin, so staff_scope's platform staff do not
      reach it by being staff.
    """
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return NO_BUSINESS
    if user.is_superuser:
        return EVERY_BUSINESS
    if not user.groups.filter(name=SUPERVISORS_GROUP).exists():
        return NO_BUSINESS
    business_id = BusinessStaff.objects.filter(user=user).values_list("business_id", flat=True).first()
    if business_id is not None:
        return StaffScope(business_id=business_id)
    return EVERY_BUSINESS if user.groups.filter(name=PLATFORM_STAFF_GROUP).exists() else NO_BUSINESS


def review_scope(user) -> StaffScope:
    """The one rule for whose provisional decisions a user may confirm or
    overturn (the four-eyes review, operators.reviews).

    - reviewers (REVIEWERS_GROUP) and compliance officers (COMPLIANCE_GROUP):
      exactly the compliance pages' scope (staff_scope): linked to a business,
      that business only; unlinked compliance or platform staff, every
      business; an unlinked reviewer who is not platform staff, none;
    - superusers: every business;
    - anyone else, operators, supervisors and business admins included: none.
      Being the operator of the decision is refused by the service, whatever
      the role.
    """
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return NO_BUSINESS
    if not (user.is_superuser or user.groups.filter(name__in=[REVIEWERS_GROUP, COMPLIANCE_GROUP]).exists()):
        return NO_BUSINESS
    return staff_scope(user)
