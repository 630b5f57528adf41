"""The admin action "End this operator's sessions": every browser the
operator signed in with is signed out at its next request; nobody else is."""

from django.contrib.admin.sites import site
from django.contrib.auth import get_user_model
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import Client, RequestFactory

from accounts.models import LoginSession, Operator
from operators.admin import OperatorAdmin

PASSWORD = "correct-horse-battery-1"


def signed_in(username) -> Client:
    browser = Client()
    assert browser.post("/console/login/", {"username": username, "password": PASSWORD}).status_code == 302
    return browser


def run_action(admin_user, operators):
    request = RequestFactory().post("/admin/accounts/operator/")
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    OperatorAdmin(Operator, site).end_sessions(request, Operator.objects.filter(pk__in=[o.pk for o in operators]))


def test_every_browser_of_the_operator_is_signed_out(operator_a, operator_a2, db):
    admin_user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    office, laptop, colleague = signed_in("alice"), signed_in("alice"), signed_in("anton")
    assert LoginSession.objects.filter(user=operator_a.user).count() == 2

    run_action(admin_user, [operator_a])

    assert office.get("/console/").status_code == 302
    assert laptop.get("/console/").status_code == 302
    assert colleague.get("/console/").status_code == 200
    assert not LoginSession.objects.filter(user=operator_a.user).exists()


def test_the_action_is_offered_in_the_admin(operator_a):
    admin_user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/accounts/operator/").content.decode()
    assert "end_sessions" in page


def test_signing_out_forgets_the_session_record(operator_a):
    browser = signed_in("alice")
    browser.post("/console/logout/")
    assert not LoginSession.objects.filter(user=operator_a.user).exists()
