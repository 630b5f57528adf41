"""Who sees which business's dashboard, its live figures and its export.

Sam supervises Alpha Bank, Susi Beta Bank, Pia the whole platform. Alice
(Alpha Bank's operator), Carol (compliance), Oscar (signed in, no role) and
anybody not signed in must not get in; Susi must not see Alpha Bank's."""

import pytest
from django.test import Client

from accounts.selectors import supervisor_scope
from tests.conftest import make_user

PAGES = ("/supervisor/alpha-bank/", "/supervisor/alpha-bank/live", "/supervisor/alpha-bank/export.csv")


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_the_business_supervisor_gets_in(supervisor_a, url):
    assert browser_for(supervisor_a).get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_a_platform_supervisor_and_a_superuser_get_in(platform_supervisor, business_a, url):
    root = make_user("root", is_staff=True, is_superuser=True)
    assert browser_for(platform_supervisor).get(url).status_code == 200
    assert browser_for(root).get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_another_business_supervisor_finds_nothing(supervisor_a, supervisor_b, url):
    assert browser_for(supervisor_b).get(url).status_code == 404


@pytest.mark.parametrize("url", PAGES)
def test_operators_compliance_and_outsiders_are_refused(business_a, operator_a, compliance_user, outsider, url):
    for user in (operator_a.user, compliance_user, outsider):
        response = browser_for(user).get(url)
        assert response.status_code == 403, user
        assert b"supervisor" in response.content


@pytest.mark.parametrize("url", PAGES + ("/supervisor/",))
def test_nobody_signed_in_is_sent_to_the_sign_in(business_a, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/?next=/supervisor/")


def test_a_supervisor_lands_on_their_business_and_a_platform_one_picks(supervisor_a, platform_supervisor, business_b):
    response = browser_for(supervisor_a).get("/supervisor/")
    assert response.status_code == 302 and response["Location"] == "/supervisor/alpha-bank/"
    response = browser_for(platform_supervisor).get("/supervisor/")
    assert response.status_code == 200
    assert b"/supervisor/alpha-bank/" in response.content and b"/supervisor/beta-bank/" in response.content


def test_a_deactivated_or_unstaffed_supervisor_has_no_scope(supervisor_a):
    assert supervisor_scope(supervisor_a).business_id is not None
    supervisor_a.is_active = False
    supervisor_a.save()
    assert not supervisor_scope(supervisor_a).reaches_any


def test_a_supervisor_changes_nothing(supervisor_a):
    """The pages are read-only: a form post is not allowed."""
    assert browser_for(supervisor_a).post("/supervisor/alpha-bank/").status_code == 405


@pytest.mark.parametrize("url", PAGES)
def test_a_supervisor_who_lost_their_business_link_sees_no_business(supervisor_a, url):
    """Deleting Sam's business link (BusinessStaff) must not make him a
    platform-wide supervisor: that takes the platform staff group."""
    from accounts.models import BusinessStaff

    BusinessStaff.objects.filter(user=supervisor_a).delete()
    assert browser_for(supervisor_a).get(url).status_code == 403
    assert not supervisor_scope(supervisor_a).reaches_any
