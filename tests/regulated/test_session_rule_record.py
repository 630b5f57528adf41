"""A session's record shows the preset and rule set it ran under, from its own
snapshot (VerificationSession.rule_set), each rule with its label and source:
compliance's review page, the export's record.json, and the business's API."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from kyc import regulations
from operators.integration import api_key_create
from tests.api.conftest import client_with
from tests.conftest import create_call
from tests.regulated.conftest import with_preset, with_rules

BAFIN = regulations.BAFIN_VIDEOIDENT


@pytest.fixture
def bafin_session(business_a, workflow_a):
    """A BaFin VideoIdent session; its workflow has since gone back to custom, without rules."""
    with_preset(workflow_a, BAFIN)
    session, _links = create_call(business_a, workflow_a)
    with_rules(workflow_a)
    return session


@pytest.fixture
def carol(client, compliance_user):
    client.force_login(compliance_user)
    return client


def test_the_review_page_shows_the_preset_and_each_rule_with_its_source(bafin_session, carol):
    response = carol.get(reverse("admin:sessions_app_verificationsession_review", args=[bafin_session.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rules the session ran under" in body
    assert "BaFin VideoIdent (Germany)" in body
    source = regulations.PRESETS[BAFIN].rules[regulations.TAN_AT_END]
    assert "One-time code at the end" in body and source.section in body
    # Not a rule the session ran under.
    assert "Live location" not in body


def test_a_custom_rule_is_shown_as_chosen_not_as_required(business_a, workflow_a, carol):
    with_rules(workflow_a, regulations.FOUR_EYES_REVIEW)
    session, _links = create_call(business_a, workflow_a)
    body = carol.get(reverse("admin:sessions_app_verificationsession_review", args=[session.pk])).content.decode()
    assert "Four-eyes review" in body and "not required by its preset" in body


def test_the_export_records_the_rule_set_with_labels_and_sources(bafin_session, carol):
    response = carol.get(reverse("admin:sessions_app_verificationsession_export", args=[bafin_session.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    rule_set = json.loads(archive.read("record.json"))["session"]["rule_set"]

    assert rule_set["preset"] == BAFIN and rule_set["preset_label"] == "BaFin VideoIdent (Germany)"
    assert [rule["code"] for rule in rule_set["rules"]] == [
        code for code in regulations.RULE_CODES if code in regulations.preset_rules(BAFIN)
    ]
    tan = next(rule for rule in rule_set["rules"] if rule["code"] == regulations.TAN_AT_END)
    source = regulations.PRESETS[BAFIN].rules[regulations.TAN_AT_END]
    assert tan == {
        "code": "tan_at_end",
        "label": "One-time code at the end",
        "source": {"document": source.document, "section": source.section},
    }
    assert rule_set["settings"]["security_features_minimum"] == 3


def test_the_api_session_detail_includes_preset_and_rules(bafin_session, business_a):
    _key, raw = api_key_create(business=business_a, name="CRM")
    body = client_with(raw).get(f"/api/v1/sessions/{bafin_session.public_id}").json()
    assert body["preset"] == BAFIN
    assert body["rules"] == sorted(regulations.preset_rules(BAFIN))


def test_the_api_session_of_a_plain_workflow_says_custom_with_no_rules(live_call, business_a):
    _key, raw = api_key_create(business=business_a, name="CRM")
    body = client_with(raw).get(f"/api/v1/sessions/{live_call.session.public_id}").json()
    assert (body["preset"], body["rules"]) == ("custom", [])
