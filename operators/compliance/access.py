"""Who may review, and the audit of every look at personal data.

The compliance group (accounts.models.COMPLIANCE_GROUP) reads sessions,
participants, step results, evidence, decisions, terms acceptances and the
audit trail; only superusers change or delete. A compliance reviewer linked
to a business (accounts.models.BusinessStaff: the business's own compliance
officer) reads that business only; an unlinked one reads every business
(accounts.selectors.staff_scope).

Each admin page that shows personal data writes an audit event to the trail
of the business whose data it showed: who (the staff user), what (model and
ids), when. Those events hold ids only, never the data itself, like every audit
event, so erasure under retention never has to touch the trail.
"""

from collections import defaultdict

from django.db import transaction

from accounts.models import COMPLIANCE_GROUP
from accounts.selectors import staff_scope
from operators.admin_scope import BusinessScopedAdmin, request_is_business_admin
from sessions_app.audit import Actor, audit_record
from sessions_app.models import Participant, VerificationSession

# How many row ids one list-view audit event names; a page shows at most 100
# by default, so this is only a bound.
LIST_AUDIT_MAX_IDS = 200


def is_compliance_reviewer(user) -> bool:
    """Compliance staff or a superuser; which businesses they read is
    accounts.selectors.staff_scope's answer."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or user.groups.filter(name=COMPLIANCE_GROUP).exists()


def may_review_session(user, session) -> bool:
    """A compliance reviewer whose scope holds the session's business."""
    return is_compliance_reviewer(user) and staff_scope(user).allows(session.business_id)


# --- the audit of looks -------------------------------------------------------------------


def _subject(obj):
    """(business, session, participant) an admin object belongs to."""
    if isinstance(obj, VerificationSession):
        return obj.business, obj, None
    if isinstance(obj, Participant):
        return obj.session.business, obj.session, obj
    participant = getattr(obj, "participant", None)
    session = getattr(obj, "session", None) or (participant.session if participant else None)
    if session is None:
        return None, None, None
    return session.business, session, participant


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def compliance_view_record(*, user, obj, view: str, data: dict | None = None) -> None:
    """One look at one object's personal data."""
    business, session, participant = _subject(obj)
    if business is None:
        return
    audit_record(
        business=business,
        session=session,
        participant=participant,
        actor=Actor.staff(user),
        action=f"compliance.{view}",
        data={"model": _label(type(obj)), "object": obj.pk, **(data or {})},
    )


def compliance_list_record(*, user, model, objects, searched: bool, filtered: bool) -> None:
    """A list page showed these rows: one event per business on the page. The
    search text is not kept (it may be a name); only that there was one."""
    by_business = defaultdict(list)
    for obj in objects:
        business, _session, _participant = _subject(obj)
        if business is not None:
            by_business[business].append(obj.pk)
    with transaction.atomic():
        for business, ids in by_business.items():
            audit_record(
                business=business,
                actor=Actor.staff(user),
                action="compliance.list_viewed",
                data={
                    "model": _label(model),
                    "objects": ids[:LIST_AUDIT_MAX_IDS],
                    "count": len(ids),
                    "searched": searched,
                    "filtered": filtered,
                },
            )


class ComplianceReadOnlyAdmin(BusinessScopedAdmin):
    """Compliance reviewers see the rows of the businesses in their scope
    (and a business admin those of ``business_admin_may``); only superusers
    add, change or delete. Every list and detail page is audited as a look at
    personal data."""

    audit_views = True

    def role_permits(self, request, action: str, obj=None) -> bool:
        # Not model permissions: reading personal data is the compliance
        # role's (or a business admin's, on the models that allow it).
        if action == "view":
            return is_compliance_reviewer(request.user) or (
                action in self.business_admin_may and request_is_business_admin(request)
            )
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        # Not "or change" as for other admins: a superuser is a reviewer anyway.
        return self._permits(request, "view", obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        if self.audit_views and changelist is not None:
            filters = {key for key in request.GET if key not in ("q", "p", "o", "_changelist_filters")}
            compliance_list_record(
                user=request.user,
                model=self.model,
                objects=list(changelist.result_list),
                searched=bool(request.GET.get("q")),
                filtered=bool(filters),
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original") if response.status_code == 200 else None
        if self.audit_views and original is not None and request.method == "GET":
            compliance_view_record(user=request.user, obj=original, view="record_viewed")
        return response
