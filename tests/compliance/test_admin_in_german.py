"""The admin speaks German to a German reader: model and field names, list
filters, the columns Verity adds and what their cells say, actions and their
messages, and the review page. Django's own words are Django's German; these
are Verity's.

``reviewed_call`` (tests/compliance/conftest.py): Max Mustermann's document
and face, approved by Alice; ``superuser`` (Root) and Carol
(``compliance_user``) read the admin with a browser that asks for German."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.checks import fakes
from workflows.models import CheckResult

GERMAN = {"accept-language": "de"}


def german_browser(user) -> Client:
    browser = Client(headers=GERMAN)
    browser.force_login(user)
    return browser


def page(browser, url, **params) -> str:
    response = browser.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def assert_german(html: str, *, german: tuple[str, ...], not_english: tuple[str, ...]):
    missing = [text for text in german if text not in html]
    english = [text for text in not_english if text in html]
    assert (missing, english) == ([], [])


def test_the_admin_index_names_apps_and_models_in_german(reviewed_call, superuser):
    html = page(german_browser(superuser), reverse("admin:index"))

    assert_german(
        html,
        german=(
            "Verity Compliance",
            "Sitzungen, Nachweise und Prüfpfad",
            "Unternehmen und Konten",
            "Verifizierungssitzungen",
            "Abläufe und Schritte",
            "Konsole des Ident-Teams, Integration und Compliance",
            "Teilnehmende",
            "Nachweise",
            "Prüfergebnisse",
            "Prüfpfad-Einträge",
            "Zustimmungen zu den Bedingungen",
            "Aufzeichnungsabschnitte",
            "Entscheidungen",
            "API-Schlüssel",
            "Webhook-Ereignisse",
            "Löschungen von Sitzungen",
            "TOTP-Geräte",
        ),
        not_english=(
            "Django-Verwaltung",
            "Businesses and accounts",
            "Workflows and steps",
            ">Participants<",
            ">Evidence<",
            "Check results",
            "Audit events",
            "Terms acceptances",
            "Session erasures",
            "Webhook events",
        ),
    )


def test_the_sessions_list_has_german_filters_columns_and_cells(reviewed_call, compliance_user):
    html = page(german_browser(compliance_user), reverse("admin:sessions_app_verificationsession_changelist"))

    assert_german(
        html,
        # Django's "Nach %(filter_title)s" around Verity's titles; the
        # outcome filter's own choice; the Review column and its link.
        german=("Nach Entscheidung", "Keine Entscheidung", "Nach Stand", "Referenz des Unternehmens", ">Prüfen</a>",
                "Angenommen am"),
        not_english=("No decision", "By decision", ">Review</a>", "Business reference", "Answered at"),
    )


def test_the_evidence_list_and_a_change_page_label_fields_in_german(reviewed_call, compliance_user):
    browser = german_browser(compliance_user)
    listing = page(browser, reverse("admin:sessions_app_evidence_changelist"))
    change = page(browser, reverse("admin:sessions_app_evidence_change", args=[reviewed_call.document.pk]))

    assert_german(
        listing,
        german=("Öffentliche ID", "Inhaltstyp", "Nach Quelle", "Ausweisdokument, Vorderseite", "Sitzung "),
        not_english=("Public id", "Content type", "By source", "Document, front", ">Session "),
    )
    assert_german(
        change,
        german=("Öffnen (autorisierte Ansicht)", "Größe (Bytes)", "Aufnahmeanforderung"),
        not_english=("Open (authorised view)", "Size (bytes)", "Capture request", "Recordings only."),
    )


def test_the_step_and_check_lists_name_kinds_and_states_in_german(reviewed_call, compliance_user):
    fakes.store(reviewed_call.document, fakes.quality_passed())
    browser = german_browser(compliance_user)

    steps = page(browser, reverse("admin:workflows_stepstate_changelist"))
    checks = page(browser, reverse("admin:workflows_checkresult_changelist"))

    assert_german(steps, german=("Ausweisdokument", "Begonnen am", "Nach Art"), not_english=("Started at", "By kind"))
    assert_german(
        checks,
        german=("Bildqualität", "Bestanden", "Engine-Version", "Dauer (ms)"),
        not_english=("Image quality", "Engine version", "Duration ms"),
    )


def test_the_audit_trail_names_actions_in_german(reviewed_call, compliance_user):
    html = page(german_browser(compliance_user), reverse("admin:sessions_app_auditevent_changelist"))

    assert_german(
        html,
        german=("Nach Aktion", "Sitzung angelegt", "Entscheidung erfasst", "Art des Akteurs"),
        not_english=("session.created<", "Session created", "Actor kind"),
    )


def test_the_session_change_page_and_the_review_page_are_german(reviewed_call, compliance_user):
    browser = german_browser(compliance_user)
    change = page(browser, reverse("admin:sessions_app_verificationsession_change", args=[reviewed_call.session.pk]))
    review = page(browser, reverse("admin:sessions_app_verificationsession_review", args=[reviewed_call.session.pk]))

    assert_german(
        change,
        german=("Exportieren (ZIP)", ">Prüfen</a>", "Wartet seit", "Versionsnummer des Stands", "Ident-Team"),
        not_english=("Export (zip)", ">Review</a>", "Waiting at", "State version"),
    )
    assert_german(
        review,
        # Max left the question unanswered.
        german=("Sitzungsprüfung", "Entscheidung", "(nicht beantwortet)"),
        not_english=("Session review", "No decision", "(not answered)"),
    )


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_business_changelist",
        "admin:accounts_operator_changelist",
        "admin:operators_apikey_changelist",
        "admin:operators_webhookevent_changelist",
        "admin:workflows_workflowtemplate_changelist",
    ],
)
def test_the_actions_of_the_integration_lists_are_german(reviewed_call, superuser, url_name):
    html = page(german_browser(superuser), reverse(url_name))

    english_actions = (
        "Rotate the webhook signing secret",
        "End this operator's sessions",
        "Revoke the selected keys",
        "Send again now",
    )
    assert not [action for action in english_actions if action in html]


def test_an_action_reports_in_german(reviewed_call, superuser, operator_a):
    browser = german_browser(superuser)
    response = browser.post(
        reverse("admin:accounts_operator_changelist"),
        {"action": "end_sessions", "_selected_action": [operator_a.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert "Abgemeldete Personen im Ident-Team: 1." in html
    assert "Ausgewählte Personen im Ident-Team löschen" in html
    assert "operator(s)" not in html


def test_an_english_reader_still_reads_english(reviewed_call, compliance_user):
    browser = Client(headers={"accept-language": "en"})
    browser.force_login(compliance_user)

    html = page(browser, reverse("admin:sessions_app_verificationsession_changelist"))

    assert "No decision" in html and ">Review</a>" in html and "By decision" in html


def test_the_check_result_admin_page_is_reachable_in_german(reviewed_call, compliance_user):
    """A stored result's change page (read-only) with German field names."""
    result = fakes.store(reviewed_call.document, fakes.quality_passed())
    result = result if isinstance(result, CheckResult) else CheckResult.objects.latest("pk")

    html = page(german_browser(compliance_user), reverse("admin:workflows_checkresult_change", args=[result.pk]))

    assert_german(html, german=("Prüfergebnis", "Öffentliche ID", "Wert"), not_english=("Public id", "Engine version"))


def test_the_operators_are_listed_as_the_ident_team(reviewed_call, superuser):
    html = page(german_browser(superuser), reverse("admin:accounts_operator_changelist"))
    assert "Anzeigename" in html and "Display name" not in html
