"""The fraud flag over HTTP: who may raise one from the console, compliance's
queue filter and badge, clearing in the admin by a second staff member, no
delete; and "Seen before" on compliance's review page."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import COMPLIANCE_GROUP, BusinessStaff
from accounts.services import business_staff_add
from operators.models import FraudFlag, NegativeListEntry
from tests.checks import fakes
from tests.conftest import make_user
from tests.fraud.conftest import applicant, reject

pytestmark = pytest.mark.django_db


def flag_url(call):
    return reverse("operators:flag", args=[call.session.public_id.hex])


def post_flag(client, call, **data):
    return client.post(flag_url(call), {"reason": "forged_document", "note": "Laminate lifts at the corner.", **data})


def test_an_operator_of_the_business_flags_a_session(client, answered_call, operator_a):
    client.force_login(operator_a.user)
    answer = post_flag(client, answered_call)
    assert answer.status_code == 201
    flag = FraudFlag.objects.get()
    assert (flag.session, flag.raised_by, flag.reason, flag.note) == (
        answered_call.session, operator_a.user, "forged_document", "Laminate lifts at the corner.")
    assert answer.json() == {"flag": str(flag.public_id), "reason": "forged_document"}


def test_a_second_operator_of_the_business_may_flag_after_the_call(client, answered_call, operator_a2):
    client.force_login(operator_a2.user)
    assert post_flag(client, answered_call).status_code == 201


def test_a_bad_reason_is_a_clear_error(client, answered_call, operator_a):
    client.force_login(operator_a.user)
    answer = post_flag(client, answered_call, reason="<script>")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Choose a reason from the list."
    assert not FraudFlag.objects.exists()


@pytest.mark.parametrize("who", ["operator_b", "outsider", "customer", "nobody"])
def test_nobody_else_flags(client, answered_call, operator_b, outsider, who):
    if who == "operator_b":
        client.force_login(operator_b.user)
    elif who == "outsider":
        client.force_login(outsider)
    elif who == "customer":
        client.get(answered_call.link_url)  # the customer's own cookie
    answer = post_flag(client, answered_call)
    assert answer.status_code in {"operator_b": (404,), "outsider": (403,)}.get(who, (302,))
    assert not FraudFlag.objects.exists()


def test_a_forged_session_id_is_not_found(client, operator_a, answered_call):
    client.force_login(operator_a.user)
    assert client.post(reverse("operators:flag", args=["not-a-uuid"]), {"reason": "other"}).status_code == 404


def raised(call, operator):
    return FraudFlag.objects.create(session=call.session, raised_by=operator.user, reason="suspected_injection",
                                    note="The picture froze but the voice went on.")


def test_compliance_queue_shows_flagged_sessions(client, answered_call, other_call, operator_a, compliance_user):
    raised(answered_call, operator_a)
    client.force_login(compliance_user)
    changelist = reverse("admin:sessions_app_verificationsession_changelist")
    html = client.get(changelist, {"flagged": "open"}).content.decode()
    assert str(answered_call.session.public_id) in html
    assert str(other_call.session.public_id) not in html
    assert '<span class="badge flagged">Flagged</span>' in html
    html = client.get(changelist, {"flagged": "none"}).content.decode()
    assert str(answered_call.session.public_id) not in html


def test_compliance_clears_a_flag_in_the_admin(client, answered_call, operator_a, compliance_user):
    flag = raised(answered_call, operator_a)
    client.force_login(compliance_user)
    url = reverse("admin:operators_fraudflag_change", args=[flag.pk])
    page = client.post(url, {"clear_note": ""})
    assert page.status_code == 200 and "Say in a note why the flag is cleared." in page.content.decode()
    page = client.post(url, {"clear_note": "Network freeze; the recording shows one person."})
    assert page.status_code == 302
    flag.refresh_from_db()
    assert flag.cleared_by == compliance_user and flag.cleared_at is not None


def test_the_reviewer_who_raised_it_cannot_clear_it_in_the_admin(client, answered_call, compliance_user):
    flag = FraudFlag.objects.create(session=answered_call.session, raised_by=compliance_user, reason="other", note="x")
    client.force_login(compliance_user)
    page = client.post(reverse("admin:operators_fraudflag_change", args=[flag.pk]), {"clear_note": "Fine."})
    assert "a second staff member must clear it" in page.content.decode()
    flag.refresh_from_db()
    assert flag.cleared_at is None


def test_nobody_deletes_a_flag(client, answered_call, operator_a):
    flag = raised(answered_call, operator_a)
    root = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert client.post(reverse("admin:operators_fraudflag_delete", args=[flag.pk]), {"post": "yes"}).status_code == 403
    assert FraudFlag.objects.filter(pk=flag.pk).exists()


def test_review_page_shows_seen_before_and_the_flag(client, business_a, workflow_a, operator_a, compliance_user):
    first_session, first = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    reject(first, operator_a)
    second_session, _ = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    FraudFlag.objects.create(session=second_session, raised_by=operator_a.user, reason="forged_document")
    client.force_login(compliance_user)
    html = client.get(reverse("admin:sessions_app_verificationsession_review", args=[second_session.pk])).content.decode()
    assert "Seen before: 1 session, 1 rejected." in html
    assert "same document number, name and date of birth" in html
    assert "Rejected (Document suspected forged)" in html
    assert reverse("admin:sessions_app_verificationsession_review", args=[first_session.pk]) in html
    assert "Fraud flags" in html and "Forged document" in html


def test_the_business_compliance_officer_keeps_the_negative_list_in_the_admin(client, business_a):
    officer = make_user("cora", is_staff=True)
    business_staff_add(user=officer, business=business_a, role=COMPLIANCE_GROUP)
    client.force_login(officer)
    answer = client.post(reverse("admin:operators_negativelistentry_add"), {
        "business": business_a.pk, "kind": "document_number", "document_number": "c01x 00t47",
        "name": "", "birth_date": "", "source_session": "", "reason": "Forged passport seen in March",
    })
    assert answer.status_code == 302, answer.content.decode()[:2000]
    entry = NegativeListEntry.objects.get()
    assert (entry.document_number, entry.added_by) == ("C01X00T47", officer)
    answer = client.post(reverse("admin:operators_negativelistentry_add"), {
        "business": business_a.pk, "kind": "name_birth_date", "document_number": "", "name": "Max Mustermann",
        "birth_date": "", "source_session": "", "reason": "x",
    })
    assert answer.status_code == 200 and "Enter the name and the date of birth." in answer.content.decode()


def test_platform_compliance_reads_the_list_and_changes_none(client, business_a, compliance_user):
    """Carol reviews every business; a business's list is its own staff's to keep."""
    entry = NegativeListEntry.objects.create(business=business_a, kind="document_number", document_number="C01X00T47",
                                             reason="A's own")
    client.force_login(compliance_user)
    assert "C01X00T47" in client.get(reverse("admin:operators_negativelistentry_changelist")).content.decode()
    assert client.get(reverse("admin:operators_negativelistentry_add")).status_code == 403
    assert client.post(reverse("admin:operators_negativelistentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert NegativeListEntry.objects.filter(pk=entry.pk).exists()


def test_another_business_staff_does_not_see_the_list(client, business_a, business_b, operator_b):
    NegativeListEntry.objects.create(business=business_a, kind="document_number", document_number="C01X00T47",
                                     reason="A's own")
    reviewer_b = make_user("rita", is_staff=True)
    reviewer_b.groups.add(Group.objects.get_or_create(name=COMPLIANCE_GROUP)[0])
    BusinessStaff.objects.create(user=reviewer_b, business=business_b)
    client.force_login(reviewer_b)
    html = client.get(reverse("admin:operators_negativelistentry_changelist")).content.decode()
    assert "C01X00T47" not in html and "A&#x27;s own" not in html
    entry = NegativeListEntry.objects.get()
    assert client.get(reverse("admin:operators_negativelistentry_change", args=[entry.pk])).status_code in (302, 404)


def _flag_status(page) -> str:
    return re.search(r'<p class="flag-status" id="flag-status" role="status">(.*?)</p>', page, re.S).group(1).strip()


def test_the_call_page_still_says_it_is_flagged_after_a_reload(client, answered_call, operator_a):
    client.force_login(operator_a.user)
    call_url = reverse("operators:call", args=[answered_call.session.public_id.hex])
    assert _flag_status(client.get(call_url).content.decode()) == ""
    post_flag(client, answered_call)
    assert _flag_status(client.get(call_url).content.decode()) == "Flagged for compliance: Forged document."
