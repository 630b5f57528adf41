"""Compliance review of sessions and their workflows in the admin: read-only
for the compliance group (operators.compliance.access.ComplianceReadOnlyAdmin),
every look at personal data audited, a review page per session with
everything on one screen, the session's captures streamed through an
authorised view, and an export. (The business's own records, keys and
webhooks: operators/admin.py.)"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import review_scope
from kyc import regulations
from kyc.ids import uuid_or_none
from operators.admin_scope import BusinessScopedAdmin, request_staff_scope
from operators.compliance.access import ComplianceReadOnlyAdmin, compliance_view_record
from operators.compliance.preset_admin import PRESET_SETTINGS_FIELDS, WorkflowTemplateForm
from operators.compliance.recording_views import recording_player_context
from operators.compliance.review_display import action_label, review_page
from operators.compliance.review import (
    session_export_zip,
    session_for_review,
    session_review,
)
from operators.models import Decision
from operators.reviews import ReviewRefused, decision_review, decisions_awaiting_review, waiting_seconds
from sessions_app.evidence_streaming import evidence_file_response, file_download_response
from sessions_app.models import (
    AuditEvent,
    Evidence,
    Participant,
    Recording,
    TermsAcceptance,
    VerificationSession,
)
from workflows.models import CheckResult, SecurityFeature, StepState, WorkflowTemplate
from workflows.steps import STEP_KIND_LABELS

# Compliance staff and business admins read these titles on every admin page.
admin.site.site_header = _("Verity compliance")
admin.site.site_title = _("Verity compliance")
admin.site.index_title = _("Sessions, evidence and audit trail")


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["name", "email", "business_reference", "language", "state", "link_expires_at", "link_revoked_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class FraudFlagFilter(admin.SimpleListFilter):
    """Compliance's queue of flagged sessions (operators.fraud_flags)."""

    title = _("fraud flag")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("open", _("Flagged")), ("cleared", _("Flag cleared")), ("none", _("Never flagged"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.filter(fraud_flags__cleared_at__isnull=True, fraud_flags__isnull=False).distinct()
        if value == "cleared":
            return queryset.filter(fraud_flags__isnull=False).exclude(fraud_flags__cleared_at__isnull=True).distinct()
        if value == "none":
            return queryset.filter(fraud_flags__isnull=True)
        return queryset


class DecisionOutcomeFilter(admin.SimpleListFilter):
    title = _("decision")
    parameter_name = "decision"

    def lookups(self, request, model_admin):
        return [*Decision.Outcome.choices, ("awaiting_review", _("Awaiting review")), ("none", _("No decision"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.exclude(participants__decision__isnull=False)
        if value == "awaiting_review":
            return queryset.filter(
                participants__decision__provisional=True, participants__decision__review__isnull=True
            ).distinct()
        if value in Decision.Outcome.values:
            # The outcome that stands: a provisional approval is not "approved"
            # until its four-eyes review confirms it, and an overturned one is
            # the reviewer's rejection (operators.reviews).
            return queryset.filter(
                Q(participants__decision__provisional=False, participants__decision__outcome=value)
                | Q(participants__decision__review__final_outcome=value)
            ).distinct()
        return queryset


@admin.register(VerificationSession)
class VerificationSessionAdmin(ComplianceReadOnlyAdmin):
    business_admin_may = frozenset({"view"})  # their own sessions, read-only
    list_display = [
        "public_id",
        # Next to the id: a flagged session must not hide past the table's edge.
        "flag_badge",
        "business",
        "kind",
        "state",
        "operator",
        "business_reference",
        "created_at",
        "answered_at",
        "ended_at",
        "review_link",
    ]
    list_filter = ["business", "state", FraudFlagFilter, DecisionOutcomeFilter, "operator", "kind", "created_at"]
    search_fields = [
        "business_reference",
        "participants__name",
        "participants__email",
        "participants__business_reference",
    ]

    def get_search_results(self, request, queryset, search_term):
        # The API names a session (and its participants) by public id, hex or
        # hyphenated; a text search of a uuid column would match only one form
        # on PostgreSQL, so an id is matched exactly, within what this user sees.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        public_id = uuid_or_none(search_term.strip())
        if public_id is None:
            return results, may_have_duplicates
        by_id = queryset.filter(Q(public_id=public_id) | Q(participants__public_id=public_id))
        return results | by_id, True
    readonly_fields = [
        "public_id",
        "state",
        "state_changed_at",
        "waiting_at",
        "answered_at",
        "ended_at",
        "state_version",
    ]
    list_select_related = ["business", "operator"]
    date_hierarchy = "created_at"
    inlines = [ParticipantInline]
    change_form_template = "admin/sessions_app/verificationsession/change_form.html"

    class Media:
        css = {"all": ["operators/flags.css"]}

    def role_permits(self, request, action: str, obj=None) -> bool:
        # A four-eyes reviewer reads the sessions of the businesses they review
        # (the recording, captures and checks they confirm against), nothing
        # more of the admin; in_scope still limits the rows to their business.
        if action == "view" and review_scope(request.user).reaches_any:
            return True
        return super().role_permits(request, action, obj)

    def get_queryset(self, request):
        # The flag badge of every row in one query.
        return super().get_queryset(request).annotate(
            open_fraud_flags=Count("fraud_flags", filter=Q(fraud_flags__cleared_at__isnull=True))
        )

    @admin.display(description=_("Fraud flag"), ordering="open_fraud_flags")
    def flag_badge(self, obj):
        if not getattr(obj, "open_fraud_flags", 0):
            return ""
        return format_html('<span class="badge flagged">{}</span>', gettext("Flagged"))

    @admin.display(description=_("Review"))
    def review_link(self, obj):
        url = reverse("admin:sessions_app_verificationsession_review", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Review"))

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/review/", wrap(self.review_view), name="sessions_app_verificationsession_review"),
            path("<int:object_id>/export/", wrap(self.export_view), name="sessions_app_verificationsession_export"),
            path("awaiting-review/", wrap(self.review_queue_view), name="sessions_app_verificationsession_review_queue"),
            path(
                "<int:object_id>/review/decisions/<int:decision_id>/",
                wrap(require_POST(self.decision_review_view)),
                name="sessions_app_verificationsession_decision_review",
            ),
            path(
                "<int:object_id>/evidence/<str:evidence_id>/",
                wrap(self.evidence_view),
                name="sessions_app_verificationsession_evidence",
            ),
            *super().get_urls(),
        ]

    def _session_or_404(self, request, object_id) -> VerificationSession:
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Scoped: another business's session is as absent as one that never was.
        session = get_object_or_404(self.get_queryset(request).values_list("pk", flat=True), pk=object_id)
        return session_for_review(session)

    def review_view(self, request, object_id):
        """Everything about one session on one screen."""
        session = self._session_or_404(request, object_id)
        review = session_review(session)
        compliance_view_record(user=request.user, obj=session, view="session_reviewed")
        player = recording_player_context(session=session, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            **review_page(review, call_start=player["t0"] if player else session.answered_at),
            "opts": self.model._meta,
            "title": _("Session review"),
            "original": session,
            "evidence_url_name": "admin:sessions_app_verificationsession_evidence",
            # The composed call and the audit timeline that seeks it, played
            # through the authorised, range-capable /recordings/<id> view.
            "recording_player": player,
            # The four-eyes form under each provisional decision this user may review.
            "may_review_decisions": review_scope(request.user).allows(session.business_id),
            "overturn_reasons": [
                (reason.value, reason.label) for reason in Decision.REASONS_BY_OUTCOME[Decision.Outcome.REJECT]
            ],
        }
        return TemplateResponse(request, "admin/sessions_app/verificationsession/review.html", context)

    def review_queue_view(self, request):
        """Provisional decisions waiting for a second person (the four-eyes
        rule), oldest first. Ids, the business's reference and the operator:
        no customer's personal data, so the list itself is no look at any."""
        if not review_scope(request.user).reaches_any:
            raise PermissionDenied
        now = timezone.now()
        waiting = [
            {
                "decision": decision,
                "session": decision.participant.session,
                "waiting_seconds": waiting_seconds(decision, now),
                "review_url": reverse(
                    "admin:sessions_app_verificationsession_review", args=[decision.participant.session_id]
                ),
            }
            for decision in decisions_awaiting_review(request.user)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Decisions awaiting review"),
            "waiting": waiting,
        }
        return TemplateResponse(request, "admin/sessions_app/verificationsession/review_queue.html", context)

    def decision_review_view(self, request, object_id, decision_id):
        """The reviewer's confirm/overturn form on the review page."""
        session = self._session_or_404(request, object_id)
        decision = get_object_or_404(Decision.objects.filter(participant__session=session), pk=decision_id)
        back = reverse("admin:sessions_app_verificationsession_review", args=[session.pk])
        try:
            review = decision_review(
                decision=decision,
                reviewer=request.user,
                outcome=request.POST.get("outcome", ""),
                reason_code=request.POST.get("reason_code", ""),
                comment=request.POST.get("comment", ""),
            )
        except ReviewRefused as refused:
            messages.error(request, str(refused))
            return HttpResponseRedirect(back)
        except ValidationError as invalid:
            messages.error(request, " ".join(invalid.messages))
            return HttpResponseRedirect(back)
        if review.overturned:
            messages.success(request, gettext("Decision overturned: the participant is rejected."))
        else:
            messages.success(request, gettext("Decision confirmed: it is final."))
        return HttpResponseRedirect(reverse("admin:sessions_app_verificationsession_review_queue"))

    def export_view(self, request, object_id):
        """The session's full record (record.json) and its evidence files in a zip."""
        session = self._session_or_404(request, object_id)
        return file_download_response(
            request,
            session_export_zip(session=session, user=request.user),
            file_name=f"session-{session.public_id}.zip",
            content_type="application/zip",
        )

    def evidence_view(self, request, object_id, evidence_id):
        """One capture, streamed from private storage to a compliance reviewer.
        Never a public URL: this view checks who asks and audits the look."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        public_id = uuid_or_none(evidence_id)
        evidence = (
            Evidence.objects.select_related("session__business", "participant")
            .filter(session__in=self.get_queryset(request), session_id=object_id, public_id=public_id, erased_at__isnull=True)
            .exclude(file="")
            .first()
            if public_id
            else None
        )
        if evidence is None:
            raise Http404("No such evidence.")

        def on_look():
            compliance_view_record(
                user=request.user, obj=evidence, view="evidence_viewed", data={"evidence": str(evidence.public_id)}
            )

        # Images and recordings show in the browser (a recording seeks with
        # range requests); anything else is downloaded.
        inline = evidence.content_type.startswith(("image/", "video/", "audio/"))
        return evidence_file_response(request, evidence, on_look=on_look, attachment=not inline)


@admin.register(Participant)
class ParticipantAdmin(ComplianceReadOnlyAdmin):
    list_display = ["name", "email", "session", "state", "language", "link_expires_at", "link_revoked_at"]
    list_filter = ["state", "language", "session__business"]
    search_fields = ["name", "email", "business_reference"]
    readonly_fields = ["public_id", "link_token_hash", "state", "state_changed_at", "last_seen_at"]
    raw_id_fields = ["session"]
    list_select_related = ["session__business"]


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(ComplianceReadOnlyAdmin):
    list_display = ["participant", "terms_version", "terms_language", "accepted_at", "ip_address"]
    list_filter = ["terms_version", "terms_language", "participant__session__business"]
    search_fields = ["participant__name", "participant__email"]
    raw_id_fields = ["participant"]
    list_select_related = ["participant__session__business"]


@admin.register(Evidence)
class EvidenceAdmin(ComplianceReadOnlyAdmin):
    list_display = [
        "public_id",
        "session",
        "participant",
        "kind",
        "source",
        "content_type",
        "size",
        "sha256",
        "created_at",
        "erased_at",
    ]
    list_filter = ["kind", "source", "session__business"]
    search_fields = ["sha256", "participant__name"]
    raw_id_fields = ["session", "participant", "step", "capture"]
    # The file has no public URL (the admin's file widget would ask for one):
    # it is linked through the authorised, audited evidence view instead.
    exclude = ["file"]
    readonly_fields = ["sha256", "size", "content_type", "file_link", "erased_at"]
    list_select_related = ["session__business", "participant"]

    @admin.display(description=_("file"))
    def file_link(self, evidence):
        if evidence.erased_at or not evidence.file:
            return gettext("erased") if evidence.erased_at else "—"
        url = reverse("admin:sessions_app_verificationsession_evidence", args=[evidence.session_id, evidence.public_id])
        return format_html('<a href="{}">{}</a>', url, gettext("Open (authorised view)"))


@admin.register(Recording)
class RecordingAdmin(ComplianceReadOnlyAdmin):
    """One recorded segment of one stream; its assembled file is an Evidence
    (played through the authorised view of the session's review page)."""

    list_display = ["session", "stream", "segment", "state", "mime_type", "started_at", "finished_at", "chunk_count"]
    list_filter = ["state", "session__business"]
    search_fields = ["session__public_id"]
    raw_id_fields = ["session", "participant", "evidence"]
    list_select_related = ["session__business"]


class AuditActionFilter(admin.SimpleListFilter):
    """The trail's actions by name (the review's words), not by code."""

    title = _("action")
    parameter_name = "action__exact"  # the field filter's, so links to it keep working

    def lookups(self, request, model_admin):
        codes = model_admin.get_queryset(request).order_by().values_list("action", flat=True).distinct()
        return sorted(((code, action_label(code)) for code in codes), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ComplianceReadOnlyAdmin):
    """The trail itself holds ids and codes, no personal data: reading it is not audited."""

    audit_views = False
    list_display = ["business", "sequence", "created_at", "action_name", "actor_kind", "actor_user", "session_id_", "participant_id_"]
    list_filter = ["business", AuditActionFilter, "actor_kind"]
    search_fields = ["action", "session__public_id"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    list_select_related = ["business", "actor_user", "session", "participant"]

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, event):
        return action_label(event.action)

    # Ids, not the participant's name: this list stays free of personal data.
    @admin.display(description=_("session"))
    def session_id_(self, event):
        return event.session.public_id if event.session else "—"

    @admin.display(description=_("participant"))
    def participant_id_(self, event):
        return event.participant.public_id if event.participant else "—"

    def get_fields(self, request, obj=None):
        # The action by name beside its code: the code is what the chain hashed.
        fields = [f for f in self.readonly_fields if f not in ("session", "participant")]
        fields.insert(fields.index("action"), "action_name")
        return fields + ["session_id_", "participant_id_"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    # Append-only, for superusers too.
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- workflows -------------------------------------------------------------------------


@admin.register(WorkflowTemplate)
class WorkflowTemplateAdmin(BusinessScopedAdmin):
    # Retired with is_active, never deleted: sessions keep pointing at them.
    business_admin_may = frozenset({"view", "add", "change"})
    form = WorkflowTemplateForm
    list_display = [
        "name", "business", "step_kinds", "preset", "default_language", "minimum_age", "recording_required", "is_active"
    ]
    list_filter = ["business", "is_active", "preset", "recording_required"]
    search_fields = ["name"]

    class Media:
        css = {"all": ["operators/preset_rules.css"]}
        js = ["operators/preset_rules.js"]

    def get_fieldsets(self, request, obj=None):
        presets_url = reverse("admin:workflows_workflowtemplate_presets")
        return [
            (
                None,
                {
                    "fields": [
                        "business", "name", "steps", "default_language", "minimum_age", "face_match_threshold",
                        "recording_required", "is_active",
                    ]
                },
            ),
            (
                _("Regulated deployment"),
                {
                    "fields": ["preset", "rules", *PRESET_SETTINGS_FIELDS],
                    "description": format_html(
                        '{} <a href="{}">{}</a>',
                        gettext("The preset switches its rules on together; a custom workflow picks its own."),
                        presets_url,
                        gettext("Every preset's rules and their sources"),
                    ),
                },
            ),
        ]

    def get_urls(self):
        return [
            path(
                "presets/",
                self.admin_site.admin_view(self.presets_view),
                name="workflows_workflowtemplate_presets",
            ),
            *super().get_urls(),
        ]

    def presets_view(self, request):
        """Every preset × rule × source, read-only: what compliance checks a
        workflow's preset against (the README has the same table). Public
        knowledge, no business's data: every admin user may read it
        (admin_view has already required a signed-in staff user)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Regulatory presets and their sources"),
            "presets": [
                {
                    "preset": preset,
                    "rows": [
                        {"rule": rule, "source": preset.rules[rule.code]}
                        for rule in regulations.RULES.values()
                        if rule.code in preset.rules
                    ],
                }
                for preset in regulations.PRESETS.values()
                if preset.rules
            ],
        }
        return TemplateResponse(request, "admin/workflows/workflowtemplate/presets.html", context)

    @admin.display(description=_("steps"))
    def step_kinds(self, obj):
        return " → ".join(str(STEP_KIND_LABELS.get(step.get("kind"), step.get("kind", "?"))) for step in obj.steps or [])


@admin.register(SecurityFeature)
class SecurityFeatureAdmin(BusinessScopedAdmin):
    """The catalogue the security features of a call are drawn from
    (workflows.security_features). A business's admins keep the business's
    own entries and read the product's defaults (no business), which only
    platform staff edit: every business draws from them."""

    business_admin_may = frozenset({"view", "add", "change", "delete"})
    list_display = ["__str__", "document_kind", "category", "business", "active"]
    list_filter = ["document_kind", "category", "active", "business"]

    def rows_of_business(self, queryset, business_id: int):
        return queryset.available_to(business_id)

    def role_permits(self, request, action: str, obj=None) -> bool:
        if obj is not None and obj.business_id is None and action != "view" and not request.user.is_superuser:
            return False
        return super().role_permits(request, action, obj)

    def get_exclude(self, request, obj=None):
        # A business's admin adds entries to their own business only: an
        # empty business would put them in every business's catalogue.
        if request_staff_scope(request).everything:
            return super().get_exclude(request, obj)
        return [*(super().get_exclude(request, obj) or []), "business"]

    def save_model(self, request, obj, form, change):
        scope = request_staff_scope(request)
        if not scope.everything:
            obj.business_id = scope.business_id
        super().save_model(request, obj, form, change)


@admin.register(StepState)
class StepStateAdmin(ComplianceReadOnlyAdmin):
    """A participant's step results (answers and notes in ``data``): read-only for compliance, audited."""

    list_display = ["participant", "position", "kind", "state", "started_at", "finished_at"]
    list_filter = ["kind", "state", "participant__session__business"]
    search_fields = ["participant__name", "participant__business_reference"]
    raw_id_fields = ["participant"]
    list_select_related = ["participant__session__business"]


@admin.register(CheckResult)
class CheckResultAdmin(ComplianceReadOnlyAdmin):
    """What each automated check saw (``details`` holds what the MRZ read:
    personal data): read-only for compliance, every look audited."""

    list_display = ["participant", "kind", "status", "score", "engine", "engine_version", "duration_ms", "created_at"]
    list_filter = ["kind", "status", "engine", "participant__session__business"]
    search_fields = ["participant__name", "participant__business_reference"]
    raw_id_fields = ["participant", "evidence"]
    readonly_fields = ["public_id", "created_at"]
    list_select_related = ["participant__session__business"]
