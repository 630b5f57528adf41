"""The review page: everything about a session on one screen, captures
through the authorised view, and every look at personal data in the audit
trail (who looked at what), which still verifies."""

import hashlib
import re

from django.urls import reverse

from sessions_app.audit import audit_verify_chain
from sessions_app.models import AuditEvent


def review_url(call):
    return reverse("admin:sessions_app_verificationsession_review", args=[call.session.pk])


def test_review_shows_everything_on_one_screen(reviewed_call, carol_browser):
    page = carol_browser.get(review_url(reviewed_call))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Max Mustermann" in html and "max@example.com" in html
    assert "Approved" in html and "Identity verified" in html and "by Alice at" in html
    assert "Passport matches; customer calm." in html
    for action in ("Session created", "Session state changed", "Decision recorded"):
        assert action in html, f"the timeline lacks {action}"
    assert "No automated check results." in html
    assert "Document, front" in html and "Face" in html
    inline_scripts = [body for body in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S) if body.strip()]
    assert inline_scripts == [], "the site's CSP refuses inline scripts"
    assert " style=" not in html, "nor inline styles"


def test_captures_are_images_served_only_through_the_authorised_view(reviewed_call, carol_browser):
    html = carol_browser.get(review_url(reviewed_call)).content.decode()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 2
    for source in sources:
        assert source.startswith("/admin/sessions_app/verificationsession/")
        response = carol_browser.get(source)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert "no-store" in response["Cache-Control"]
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\x89PNG")
    face = reviewed_call.face
    served = b"".join(carol_browser.get(sources[1]).streaming_content)
    assert hashlib.sha256(served).hexdigest() in {face.sha256, reviewed_call.document.sha256}


def test_evidence_of_another_session_is_not_served_under_this_one(reviewed_call, other_call, carol_browser):
    url = reverse(
        "admin:sessions_app_verificationsession_evidence", args=[other_call.session.pk, reviewed_call.face.public_id]
    )
    assert carol_browser.get(url).status_code == 404


def test_looking_is_audited_with_who_and_what(reviewed_call, carol_browser, compliance_user, business_a):
    carol_browser.get(review_url(reviewed_call))
    event = AuditEvent.objects.get(action="compliance.session_reviewed")
    assert event.actor_user == compliance_user
    assert event.actor_kind == AuditEvent.ActorKind.STAFF
    assert event.session == reviewed_call.session
    evidence_url = reverse(
        "admin:sessions_app_verificationsession_evidence",
        args=[reviewed_call.session.pk, reviewed_call.face.public_id],
    )
    b"".join(carol_browser.get(evidence_url).streaming_content)
    looked = AuditEvent.objects.get(action="compliance.evidence_viewed")
    assert looked.data["evidence"] == str(reviewed_call.face.public_id)
    assert looked.participant == reviewed_call.participant
    participant_url = reverse("admin:sessions_app_participant_change", args=[reviewed_call.participant.pk])
    carol_browser.get(participant_url)
    assert AuditEvent.objects.filter(action="compliance.record_viewed", participant=reviewed_call.participant).exists()
    assert audit_verify_chain(business=business_a) == []


def test_list_views_are_audited_per_business_without_the_search_text(
    reviewed_call, other_call, carol_browser, business_a, business_b
):
    carol_browser.get(reverse("admin:sessions_app_participant_changelist"), {"q": "Muster"})
    events = AuditEvent.objects.filter(action="compliance.list_viewed")
    assert {event.business for event in events} == {business_a, business_b}, "Max and Erika both match"
    for event in events:
        assert event.data["searched"] is True
        assert "Muster" not in str(event.data)
    assert audit_verify_chain(business=business_b) == []


def test_the_audit_trail_list_itself_shows_no_names(reviewed_call, carol_browser):
    html = carol_browser.get(reverse("admin:sessions_app_auditevent_changelist")).content.decode()
    assert "Max Mustermann" not in html


def _listed(browser, **params) -> str:
    return browser.get(reverse("admin:sessions_app_verificationsession_changelist"), params).content.decode()


def test_filters_by_business_state_decision_and_operator(reviewed_call, other_call, carol_browser, operator_a):
    alpha, beta = str(reviewed_call.session.public_id), str(other_call.session.public_id)
    by_business = _listed(carol_browser, business__id__exact=reviewed_call.session.business_id)
    assert alpha in by_business and beta not in by_business
    by_state = _listed(carol_browser, state__exact="created")
    assert beta in by_state and alpha not in by_state
    approved = _listed(carol_browser, decision="approve")
    assert alpha in approved and beta not in approved
    undecided = _listed(carol_browser, decision="none")
    assert beta in undecided and alpha not in undecided
    by_operator = _listed(carol_browser, operator__id__exact=operator_a.pk)
    assert alpha in by_operator and beta not in by_operator


def test_search_by_reference_name_and_email(reviewed_call, other_call, carol_browser):
    alpha, beta = str(reviewed_call.session.public_id), str(other_call.session.public_id)
    for query in ("Max Mustermann", "max@example.com", "REF-1"):
        listed = _listed(carol_browser, q=query)
        assert alpha in listed, query
    assert beta not in _listed(carol_browser, q="max@example.com")
    assert beta in _listed(carol_browser, q="Erika")


def test_date_hierarchy_filters_by_creation_date(reviewed_call, carol_browser):
    created = reviewed_call.session.created_at
    listed = _listed(carol_browser, created_at__year=created.year, created_at__month=created.month)
    assert str(reviewed_call.session.public_id) in listed
