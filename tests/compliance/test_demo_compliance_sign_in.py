"""`make run` seeds a compliance officer and prints the admin's sign-in last,
beside the operator's; in the admin, compliance finds a session by the id the
API gave the business, hyphenated or not, and only among its own business's."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import COMPLIANCE_GROUP
from sessions_app.models import VerificationSession

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:sessions_app_verificationsession_changelist"


def signed_in(username: str) -> Client:
    """Through the sign-in form the printed admin URL leads to."""
    browser = Client()
    response = browser.post("/console/login/", {"username": username, "password": "demo-pass-1"})
    assert response.status_code == 302, response.content.decode()[:300]
    return browser


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--password", "demo-pass-1", *args, stdout=out)
    return out.getvalue()


def test_the_demo_prints_the_admin_and_its_compliance_sign_in_last(settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    lines = seed().strip().splitlines()

    assert any("customer link" in line for line in lines)
    sign_ins = [line for line in lines if "sign in as" in line]
    assert sign_ins == [
        "  Operator console:   http://127.0.0.1:8000/console/  sign in as operator / demo-pass-1",
        "  Compliance (admin): http://127.0.0.1:8000/admin/  sign in as compliance / demo-pass-1",
    ]
    assert lines.index(sign_ins[-1]) > max(i for i, line in enumerate(lines) if "link:" in line)


def test_the_demo_compliance_officer_is_staff_of_the_demo_business_only():
    seed()
    seed()  # `make run` again: the same users, nothing refused

    client = signed_in("compliance")
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert "ACCOUNT-OPEN-1001" in page.content.decode()
    reviewer = get_user_model().objects.get(username="compliance")
    assert reviewer.is_staff and not reviewer.is_superuser
    assert list(reviewer.groups.values_list("name", flat=True)) == [COMPLIANCE_GROUP]


@pytest.mark.parametrize("form", ["hex", "hyphenated"])
def test_compliance_finds_a_session_by_its_public_id(form):
    seed()
    seed("--business", "other-bank", "--username", "op-other", "--compliance-username", "compliance-other")
    mine = VerificationSession.objects.get(business__slug="demo-bank", business_reference="ACCOUNT-OPEN-1001")
    theirs = VerificationSession.objects.get(business__slug="other-bank", business_reference="ACCOUNT-OPEN-1001")
    client = signed_in("compliance")

    def found(session) -> list[str]:
        query = session.public_id.hex if form == "hex" else str(session.public_id)
        page = client.get(reverse(CHANGELIST), {"q": query})
        assert page.status_code == 200
        return [row.pk for row in page.context["cl"].result_list]

    assert found(mine) == [mine.pk]
    assert found(theirs) == []  # another business's session, by its exact id: not shown
