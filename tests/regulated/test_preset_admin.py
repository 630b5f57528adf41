"""The workflow admin's regulatory part: the preset and its rules as a
checklist with their sources, the settings the rules read beside them, a
preset rule switched off refused on the checklist, a preset chosen with the
rules left empty saved with its rules; the read-only page of every preset ×
rule × source, and the README's copy of it."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import BUSINESS_ADMINS_GROUP
from accounts.services import business_staff_add
from kyc import regulations
from tests.conftest import STANDARD_STEPS
from workflows.models import WorkflowTemplate

ROOT = Path(__file__).resolve().parents[2]
BAFIN = regulations.BAFIN_VIDEOIDENT


@pytest.fixture
def bea(business_a):
    """Business A's admin, signed in to the admin."""
    user = get_user_model().objects.create_user("bea-admin", password="admin-pass-123456")
    business_staff_add(user=user, business=business_a, role=BUSINESS_ADMINS_GROUP)
    client = Client()
    client.force_login(user)
    return client


def _form(workflow, **changes) -> dict:
    import json

    data = {
        "business": workflow.business_id,
        "name": workflow.name,
        "steps": json.dumps(workflow.steps),
        "default_language": workflow.default_language,
        "minimum_age": workflow.minimum_age,
        "face_match_threshold": workflow.face_match_threshold,
        "is_active": "on",
        "preset": workflow.preset,
        "rules": list(workflow.rules),
        "tan_channel": workflow.tan_channel,
        "security_features_minimum": workflow.security_features_minimum,
        "allowed_countries": json.dumps(workflow.allowed_countries),
        "questions_drawn": workflow.questions_drawn,
        "min_video_height": workflow.min_video_height,
        "min_frame_rate": workflow.min_frame_rate,
        "max_packet_loss_percent": workflow.max_packet_loss_percent,
    }
    data.update(changes)
    if not data.get("recording_required"):
        data.pop("recording_required", None)
    return data


def _change_url(workflow):
    return reverse("admin:workflows_workflowtemplate_change", args=[workflow.pk])


def test_the_checklist_shows_every_rule_with_what_it_does_and_the_presets_sources(bea, workflow_a):
    workflow_a.preset = BAFIN
    workflow_a.rules = sorted(regulations.preset_rules(BAFIN))
    workflow_a.recording_required = True
    workflow_a.save()

    response = bea.get(_change_url(workflow_a))
    body = response.content.decode()

    assert response.status_code == 200
    for rule in regulations.RULES.values():
        assert f'value="{rule.code}"' in body and str(rule.label) in body
    assert str(regulations.RULES[regulations.TAN_AT_END].description) in body
    tan_source = regulations.PRESETS[BAFIN].rules[regulations.TAN_AT_END]
    assert f"Required by the preset: {tan_source.document}: {tan_source.section}" in body
    # Every preset's sources for the script that ticks a chosen preset's rules.
    assert 'id="preset-rule-sources"' in body and "preset_rules.js" in body
    # The settings the rules read sit in the same fieldset.
    fieldset = body[body.index("Regulated deployment"):]
    for name in ("id_preset", "id_tan_channel", "id_questions_drawn", "id_min_frame_rate", "id_allowed_countries"):
        assert name in fieldset


def test_a_preset_rule_switched_off_is_refused_on_the_checklist(bea, workflow_a):
    rules = sorted(regulations.preset_rules(BAFIN) - {regulations.TAN_AT_END})
    response = bea.post(_change_url(workflow_a), _form(workflow_a, preset=BAFIN, rules=rules, recording_required="on"))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "One-time code at the end" in errors["rules"][0]
    workflow_a.refresh_from_db()
    assert workflow_a.preset == regulations.CUSTOM


def test_a_preset_chosen_with_the_rules_left_empty_is_saved_with_its_rules(bea, workflow_a):
    response = bea.post(_change_url(workflow_a), _form(workflow_a, preset=BAFIN, rules=[]))

    assert response.status_code == 302, response.context["adminform"].form.errors
    workflow_a.refresh_from_db()
    assert (workflow_a.preset, set(workflow_a.rules)) == (BAFIN, set(regulations.preset_rules(BAFIN)))
    assert workflow_a.recording_required  # the preset records the call


def test_a_custom_workflow_saves_the_rules_ticked(bea, workflow_a):
    response = bea.post(_change_url(workflow_a), _form(workflow_a, rules=[regulations.FOUR_EYES_REVIEW]))
    assert response.status_code == 302
    workflow_a.refresh_from_db()
    assert workflow_a.rules == [regulations.FOUR_EYES_REVIEW]


def test_randomised_questions_without_a_bank_is_refused_in_the_admin(bea, workflow_a):
    response = bea.post(_change_url(workflow_a), _form(workflow_a, rules=[regulations.RANDOMISED_QUESTIONS]))
    assert response.status_code == 200
    assert "question bank" in response.context["adminform"].form.errors["rules"][0]


def test_a_new_workflow_is_added_with_a_preset(bea, business_a):
    template = WorkflowTemplate(business=business_a, name="Neu", steps=STANDARD_STEPS)
    response = bea.post(reverse("admin:workflows_workflowtemplate_add"), _form(template, preset=regulations.NIST_IAL2_SUPERVISED, rules=[]))
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = WorkflowTemplate.objects.get(business=business_a, name="Neu")
    assert set(created.rules) == set(regulations.preset_rules(regulations.NIST_IAL2_SUPERVISED))


def test_the_presets_page_lists_every_preset_rule_and_source(bea):
    response = bea.get(reverse("admin:workflows_workflowtemplate_presets"))
    body = response.content.decode()
    assert response.status_code == 200
    for preset, rule, source in regulations.preset_rule_sources():
        assert str(preset.label) in body and str(rule.label) in body
        assert source.section.replace("'", "&#x27;") in body


def test_compliance_reads_the_presets_page_and_an_outsider_does_not(client, compliance_user, outsider):
    url = reverse("admin:workflows_workflowtemplate_presets")
    client.force_login(outsider)
    assert client.get(url).status_code == 302  # to the admin's sign-in
    client.force_login(compliance_user)
    assert client.get(url).status_code == 200


def test_the_readme_has_the_same_table():
    """The README's preset × rule × source table is kyc.regulations' own: regenerate it with
    kyc.regulations.preset_rules_markdown() when a source changes."""
    assert regulations.preset_rules_markdown() in (ROOT / "README.md").read_text()


def test_every_rule_of_a_preset_names_a_document_and_a_section():
    for _preset, _rule, source in regulations.preset_rule_sources():
        assert source.document and source.section


def test_the_demo_seed_has_the_two_regulated_workflows_a_bank_and_trained_operator(db):
    import json

    from django.core.management import call_command
    from io import StringIO

    from accounts.models import Operator, OperatorTraining
    from workflows.models import BankQuestion

    out = StringIO()
    call_command("seed_demo", "--json", "--password", "demo-pass-123456", stdout=out)
    call_command("seed_demo", "--json", "--password", "demo-pass-123456", stdout=StringIO())  # again: nothing doubled
    assert json.loads(out.getvalue())["regulated_workflows"] == ["BaFin VideoIdent", "RBI V-CIP"]
    for name, preset in (("BaFin VideoIdent", BAFIN), ("RBI V-CIP", regulations.RBI_VCIP)):
        workflow = WorkflowTemplate.objects.get(name=name)
        assert workflow.preset == preset and set(regulations.preset_rules(preset)) <= set(workflow.rules)
        workflow.full_clean()
    operator = Operator.objects.get(user__username="operator")
    assert sorted(OperatorTraining.objects.filter(operator=operator).values_list("preset", flat=True)) == [
        BAFIN, regulations.RBI_VCIP
    ]
    assert BankQuestion.objects.values("category").distinct().count() == 3
    assert BankQuestion.objects.count() == 6
