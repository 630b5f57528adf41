"""A workflow's preset switches its rules on together; a session keeps the rule set it was made under."""

import pytest
from django.core.exceptions import ValidationError

from kyc import regulations
from kyc.regulations import RuleSet
from tests.conftest import create_call
from tests.regulated.conftest import bank_for


def test_a_preset_workflow_cannot_be_saved_with_one_of_its_rules_switched_off(workflow_a):
    workflow_a.preset = regulations.BAFIN_VIDEOIDENT
    workflow_a.recording_required = True
    workflow_a.rules = sorted(regulations.preset_rules(regulations.BAFIN_VIDEOIDENT) - {regulations.TAN_AT_END})
    with pytest.raises(ValidationError) as refused:
        workflow_a.full_clean()
    assert "rules" in refused.value.message_dict
    assert "One-time code at the end" in refused.value.message_dict["rules"][0]


def test_a_preset_workflow_with_all_its_rules_on_is_saved(workflow_a):
    workflow_a.preset = regulations.BAFIN_VIDEOIDENT
    workflow_a.recording_required = True
    workflow_a.rules = sorted(regulations.preset_rules(regulations.BAFIN_VIDEOIDENT))
    workflow_a.full_clean()


def test_the_recording_rule_needs_the_recording_required(workflow_a):
    workflow_a.rules = [regulations.RECORDING]
    workflow_a.recording_required = False
    with pytest.raises(ValidationError) as refused:
        workflow_a.full_clean()
    assert "recording_required" in refused.value.message_dict


def test_a_session_keeps_the_rule_set_it_was_created_under(business_a, workflow_a):
    bank_for(business_a)  # RBI V-CIP draws randomised questions from it
    workflow_a.preset = regulations.RBI_VCIP
    workflow_a.recording_required = True
    workflow_a.rules = sorted(regulations.preset_rules(regulations.RBI_VCIP))
    workflow_a.save()
    session, _ = create_call(business_a, workflow_a)

    workflow_a.preset = regulations.CUSTOM
    workflow_a.rules = []
    workflow_a.save()
    session.refresh_from_db()

    rules = RuleSet.of(session)
    assert session.preset == regulations.RBI_VCIP
    assert rules.has(regulations.FOUR_EYES_REVIEW) and rules.has(regulations.LIVE_LOCATION)
    assert not rules.has(regulations.TAN_AT_END)
    assert rules.setting("allowed_countries") == ["IN"]


def test_an_unknown_rule_is_refused(workflow_a):
    workflow_a.rules = ["no_such_rule"]
    with pytest.raises(ValidationError):
        workflow_a.full_clean()
