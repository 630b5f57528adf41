"""A workflow's terms text per language: which text a customer is shown, the
fallback to the workflow's default language, and what validation says."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from workflows.models import WorkflowTemplate

pytestmark = pytest.mark.django_db

ENGLISH = "We verify you on a recorded video call."
GERMAN = "Wir prüfen Ihre Identität in einem aufgezeichneten Videoanruf."


def workflow_with(terms_text, *, business, default_language="en", **more) -> WorkflowTemplate:
    return WorkflowTemplate(
        business=business,
        name="Bilingual",
        default_language=default_language,
        steps=[{"kind": "terms", "terms_version": "v2", "terms_text": terms_text}, {"kind": "notes"}, *more.get("steps", [])],
    )


def messages(workflow) -> str:
    with pytest.raises(ValidationError) as raised:
        workflow.full_clean()
    return " ".join(raised.value.message_dict["steps"])


def test_german_reader_gets_the_german_text(business_a):
    terms = workflow_with({"en": ENGLISH, "de": GERMAN}, business=business_a).terms_for("de")
    assert (terms.text, terms.language, terms.fallback, terms.version) == (GERMAN, "de", False, "v2")


def test_english_reader_gets_the_english_text(business_a):
    terms = workflow_with({"en": ENGLISH, "de": GERMAN}, business=business_a).terms_for("en")
    assert (terms.text, terms.language, terms.fallback) == (ENGLISH, "en", False)


def test_a_regional_variant_finds_its_base_language(business_a):
    terms = workflow_with({"en": ENGLISH, "de": GERMAN}, business=business_a).terms_for("de-at")
    assert (terms.text, terms.language) == (GERMAN, "de")


def test_a_language_without_text_falls_back_to_the_default_and_says_so(business_a):
    terms = workflow_with({"en": ENGLISH}, business=business_a).terms_for("de")
    assert (terms.text, terms.language, terms.fallback) == (ENGLISH, "en", True)


def test_the_fallback_is_the_workflows_default_language_not_english(business_a):
    workflow = workflow_with({"en": ENGLISH, "de": GERMAN}, business=business_a, default_language="de")
    assert workflow.terms_for("fr").language == "de"


def test_a_plain_text_is_the_default_languages_text(business_a):
    """Workflows written before texts had languages keep working."""
    workflow = workflow_with(ENGLISH, business=business_a)
    workflow.full_clean()
    assert (workflow.terms_for("de").language, workflow.terms_for("de").fallback) == ("en", True)
    assert workflow.terms_for("en").fallback is False


def test_texts_in_offered_languages_with_the_default_are_valid(business_a):
    workflow_with({"en": ENGLISH, "de": GERMAN}, business=business_a).full_clean()


def test_missing_default_language_text_is_refused_and_named(business_a):
    text = messages(workflow_with({"de": GERMAN}, business=business_a))
    assert "step 1: terms_text needs a text in the workflow's default language (en)" in text


def test_german_only_terms_are_valid_when_german_is_the_default(business_a):
    workflow_with({"de": GERMAN}, business=business_a, default_language="de").full_clean()


def test_a_language_the_service_does_not_offer_is_refused_and_named(business_a):
    text = messages(workflow_with({"en": ENGLISH, "fr": "Nous vérifions."}, business=business_a))
    assert "step 1: terms_text: fr is not a language of this service; use en, de." in text


def test_an_empty_text_in_one_language_is_refused_and_named(business_a):
    text = messages(workflow_with({"en": ENGLISH, "de": "  "}, business=business_a))
    assert "step 1: terms_text: the text in de is empty." in text


def test_a_list_is_not_a_terms_text(business_a):
    text = messages(workflow_with([ENGLISH], business=business_a))
    assert 'step 1: terms_text must be a text, or texts by language code such as {"en": "…", "de": "…"}.' in text


def test_the_migration_moves_a_single_text_into_the_default_language(business_a):
    migration = importlib.import_module("workflows.migrations.0005_workflow_texts_per_language")
    workflow = WorkflowTemplate.objects.create(
        business=business_a, name="Old", default_language="de", steps=[{"kind": "terms", "terms_version": "1", "terms_text": GERMAN}]
    )
    migration.terms_text_per_language(apps, None)
    workflow.refresh_from_db()
    assert workflow.steps[0]["terms_text"] == {"de": GERMAN}
    migration.terms_text_single(apps, None)
    workflow.refresh_from_db()
    assert workflow.steps[0]["terms_text"] == GERMAN
