"""Compliance sees in which language's text the customer accepted the terms:
on the review page and in the export's record."""

import io
import json
import zipfile

from django.urls import reverse

from sessions_app.models import TermsAcceptance


def test_review_page_names_the_language_of_the_accepted_text(reviewed_call, carol_browser):
    TermsAcceptance.objects.filter(participant=reviewed_call.participant).update(terms_language="de")
    page = carol_browser.get(reverse("admin:sessions_app_verificationsession_review", args=[reviewed_call.session.pk]))
    assert "version v1, text in German (de), accepted" in page.content.decode()


def test_review_page_of_an_acceptance_without_language_says_the_version_only(reviewed_call, carol_browser):
    """Acceptances recorded before texts had languages: no language is made up."""
    TermsAcceptance.objects.filter(participant=reviewed_call.participant).update(terms_language="")
    html = carol_browser.get(
        reverse("admin:sessions_app_verificationsession_review", args=[reviewed_call.session.pk])
    ).content.decode()
    assert "version v1 accepted" in html
    assert "text in" not in html


def test_export_record_holds_the_language_of_the_accepted_text(reviewed_call, carol_browser):
    response = carol_browser.get(reverse("admin:sessions_app_verificationsession_export", args=[reviewed_call.session.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    [participant] = json.loads(archive.read("record.json"))["participants"]
    assert participant["terms_acceptance"]["terms_version"] == "v1"
    assert participant["terms_acceptance"]["terms_language"] == "en"
