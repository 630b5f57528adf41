"""Compliance's review page and export list each security feature drawn for
the call, the frame its tick is bound to and when in the call it was ticked;
the frame is served with the same permission check as every capture."""

import io
import json
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import COMPLIANCE_GROUP
from accounts.services import business_staff_add
from tests.conftest import make_user

from tests.regulated.test_security_features import document_step, regulated, tick, tilt_shown
from workflows import security_features as sf


@pytest.fixture
def ticked_call(workflow_a, operator_a, request):
    """Alice's call under SECURITY_FEATURES: two of three features ticked."""
    regulated(workflow_a)
    call = request.getfixturevalue("answered_call")
    checks = sf.security_features_choose(step=document_step(call), operator=operator_a, document_kind="passport")
    tilt_shown(call)
    tick(call, operator_a, checks[0])
    tick(call, operator_a, checks[1])
    return call, checks


def _section(html: str) -> str:
    return html[html.index("<h3>Document security features</h3>"):html.index("<h3>Captures</h3>")]


def test_the_review_page_lists_each_feature_with_its_frame_and_time(ticked_call, compliance_user):
    call, checks = ticked_call
    browser = Client()
    browser.force_login(compliance_user)
    page = browser.get(reverse("admin:sessions_app_verificationsession_review", args=[call.session.pk]))
    assert page.status_code == 200
    section = _section(page.content.decode())
    for check in checks:
        assert str(check.feature) in section
    assert section.count("Not ticked") == 1
    assert section.count("verity-offset") == 2
    for check in checks[:2]:
        check.refresh_from_db()
        url = reverse("admin:sessions_app_verificationsession_evidence", args=[call.session.pk, check.evidence.public_id])
        assert f'src="{url}"' in section
        assert browser.get(url).status_code == 200


def test_another_business_compliance_officer_gets_neither_page_nor_frame(ticked_call, business_b):
    call, checks = ticked_call
    officer = make_user("beate", is_staff=True)
    business_staff_add(user=officer, business=business_b, role=COMPLIANCE_GROUP)
    browser = Client()
    browser.force_login(officer)
    checks[0].refresh_from_db()
    evidence = checks[0].evidence
    assert browser.get(reverse("admin:sessions_app_verificationsession_review", args=[call.session.pk])).status_code in (302, 403, 404)
    url = reverse("admin:sessions_app_verificationsession_evidence", args=[call.session.pk, evidence.public_id])
    assert browser.get(url).status_code in (302, 403, 404)


def test_the_export_holds_the_features(ticked_call, compliance_user):
    call, checks = ticked_call
    browser = Client()
    browser.force_login(compliance_user)
    response = browser.get(reverse("admin:sessions_app_verificationsession_export", args=[call.session.pk]))
    record = json.loads(zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("record.json"))
    features = record["participants"][0]["security_features"]
    assert [f["position"] for f in features] == [0, 1, 2]
    assert [bool(f["checked_at"]) for f in features] == [True, True, False]
    assert features[0]["evidence"] and features[0]["checked_by"] == "Alice" and features[0]["offset_seconds"] >= 0
