"""A questions step's texts per language: what validation says, what the
customer's prompt carries, and what the compliance review shows."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from operators.compliance.review_display import step_data_rows
from sessions_app.models import Participant
from workflows.models import WorkflowTemplate
from workflows.services import question_answer_record, step_start

BIRTH = {"en": "What is your date of birth?", "de": "Wie lautet Ihr Geburtsdatum?"}


def workflow_asking(question, business, default_language="en") -> WorkflowTemplate:
    return WorkflowTemplate(
        business=business,
        name="Questions",
        default_language=default_language,
        steps=[{"kind": "questions", "questions": ["Where were you born?", question]}],
    )


def test_a_question_in_two_languages_is_valid(business_a):
    workflow_asking(BIRTH, business_a).full_clean()


def test_a_question_without_the_default_languages_text_is_refused_and_named(business_a):
    with pytest.raises(ValidationError) as raised:
        workflow_asking({"de": BIRTH["de"]}, business_a).full_clean()
    assert "step 1: question 2 needs a text in the workflow's default language (en)." in raised.value.message_dict["steps"]


def test_a_question_in_a_language_the_service_does_not_offer_is_refused(business_a):
    with pytest.raises(ValidationError) as raised:
        workflow_asking({**BIRTH, "xx": "?"}, business_a).full_clean()
    assert "step 1: question 2: xx is not a language of this service; use en, de." in raised.value.messages


@pytest.fixture
def bilingual_questions(answered_call):
    step = answered_call.participant.steps.get(kind="questions")
    step.config = {**step.config, "questions": [BIRTH]}
    step.save(update_fields=["config"])
    return step


def test_a_german_participant_is_prompted_in_german(answered_call, bilingual_questions, operator_a):
    Participant.objects.filter(pk=answered_call.participant.pk).update(language="de")
    step_start(step=bilingual_questions, operator=operator_a)
    prompt = Participant.objects.get(pk=answered_call.participant.pk).current_prompt
    shown = {key: prompt[key] for key in ("code", "text", "lang", "texts")}
    assert shown == {"code": "question", "text": BIRTH["de"], "lang": "de", "texts": BIRTH}


def test_without_a_participant_language_the_prompt_carries_every_text_for_the_page(
    answered_call, bilingual_questions, operator_a
):
    """The server does not know the browser's language: the customer's page picks from ``texts``."""
    step_start(step=bilingual_questions, operator=operator_a)
    prompt = Participant.objects.get(pk=answered_call.participant.pk).current_prompt
    assert (prompt["text"], prompt["lang"], prompt["texts"]) == (BIRTH["en"], "en", BIRTH)


def test_the_step_snapshot_carries_the_workflows_default_language(answered_call):
    assert answered_call.participant.steps.get(kind="questions").config["default_language"] == "en"


def test_the_review_shows_the_question_in_the_reviewers_language(answered_call, bilingual_questions, operator_a):
    step_start(step=bilingual_questions, operator=operator_a)
    question_answer_record(step=bilingual_questions, operator=operator_a, question=0, answer="17.05.1980")
    bilingual_questions.refresh_from_db()
    with translation.override("de"):
        german = step_data_rows(bilingual_questions)
    with translation.override("en"):
        english = step_data_rows(bilingual_questions)
    assert (BIRTH["de"], "17.05.1980") in german
    assert (BIRTH["en"], "17.05.1980") in english
