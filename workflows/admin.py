from django.contrib import admin

from operators.compliance import ComplianceReadOnlyAdmin
from workflows.models import CheckResult, StepState, WorkflowTemplate


@admin.register(WorkflowTemplate)
class WorkflowTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "business", "step_kinds", "minimum_age", "recording_required", "is_active"]
    list_filter = ["business", "is_active", "recording_required"]
    search_fields = ["name"]

    @admin.display(description="Steps")
    def step_kinds(self, obj):
        return " → ".join(step.get("kind", "?") for step in obj.steps or [])


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
