"""Regulated deployments' people and things beyond tests/conftest.py: a
question bank for a business, and a workflow switched to a preset."""

from kyc import regulations
from tests.api.conftest import celery_eager  # noqa: F401  (autouse: codes and reviews send mail and webhooks through Celery)
from workflows.models import BankQuestion


def bank_for(business, *, categories=("Personal", "Contact", "Account"), per_category=3) -> list[BankQuestion]:
    """``per_category`` spoken questions in each category, texts in English and German."""
    return [
        BankQuestion.objects.create(
            business=business,
            category=category,
            ask={"en": f"{category} question {number}?", "de": f"{category} Frage {number}?"},
        )
        for category in categories
        for number in range(1, per_category + 1)
    ]


def with_preset(workflow, preset: str, *, questions_drawn: int | None = None):
    workflow.preset = preset
    workflow.rules = sorted(regulations.preset_rules(preset))
    workflow.recording_required = regulations.RECORDING in workflow.rules
    if questions_drawn is not None:
        workflow.questions_drawn = questions_drawn
    workflow.save()
    return workflow


def with_rules(workflow, *rules: str, questions_drawn: int | None = None):
    """A custom workflow with just ``rules`` on."""
    workflow.preset = regulations.CUSTOM
    workflow.rules = sorted(rules)
    workflow.recording_required = regulations.RECORDING in rules
    if questions_drawn is not None:
        workflow.questions_drawn = questions_drawn
    workflow.save()
    return workflow
