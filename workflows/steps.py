"""The kinds of step a workflow is made of, and the shape of their settings."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kyc.texts import ChosenText, text_for_language, validate_texts
from sessions_app.signaling import LIVENESS_PROMPT_CODES

TERMS = "terms"
DEVICE_CHECK = "device_check"
DOCUMENT = "document"
LIVENESS = "liveness"
QUESTIONS = "questions"
NOTES = "notes"

STEP_KINDS = (TERMS, DEVICE_CHECK, DOCUMENT, LIVENESS, QUESTIONS, NOTES)
STEP_KIND_LABELS = {
    TERMS: _("Terms"),
    DEVICE_CHECK: _("Device check"),
    DOCUMENT: _("Identity document"),
    LIVENESS: _("Liveness"),
    QUESTIONS: _("Questions"),
    NOTES: _("Notes"),
}
# Steps the customer completes on their own before the call; the rest are
# driven by the operator inside the call.
PRE_CALL_KINDS = (TERMS, DEVICE_CHECK)

DOCUMENT_KINDS = {
    # kind: sides that must be captured
    "passport": ("front",),
    "id_card": ("front", "back"),
    "residence_permit": ("front", "back"),
    "driving_licence": ("front", "back"),
}
DOCUMENT_KIND_LABELS = {
    "passport": _("Passport"),
    "id_card": _("Identity card"),
    "residence_permit": _("Residence permit"),
    "driving_licence": _("Driving licence"),
}
# Each action is prompted on the customer's page by its own name.
LIVENESS_ACTIONS = LIVENESS_PROMPT_CODES
LIVENESS_ACTION_LABELS = {
    "turn_left": _("Turn head left"),
    "turn_right": _("Turn head right"),
    "look_up": _("Look up"),
    "blink": _("Blink"),
    "move_closer": _("Move closer"),
}
# Frames the customer's page takes for one liveness action (a short burst),
# this far apart (static/js/customer-call.js takes them at this pace, then
# uploads them). A blink is 100-300 ms: frames 100 ms apart see nearly every
# blink with the lids at least half down, and ten of them span 0.9 s, time
# for a slow turn; bench/heldout/liveness.py measures both.
LIVENESS_BURST_FRAMES = 10
LIVENESS_BURST_INTERVAL_MS = 100

# How the customer answers a question: aloud (the operator notes what was
# said), typed into the call's frame, or by choosing one of the choices there.
ANSWER_SPOKEN = "spoken"
ANSWER_TYPED = "typed"
ANSWER_CHOICE = "choice"
ANSWER_KINDS = (ANSWER_SPOKEN, ANSWER_TYPED, ANSWER_CHOICE)
MAX_CHOICES = 10


@dataclass(frozen=True)
class Question:
    """One question of a questions step's settings. A question is a text,
    texts by language, or an object ``{"ask": texts, "answer": "typed"}`` /
    ``{"ask": texts, "answer": "choice", "choices": [texts, …]}``."""

    ask: object  # a text, or texts by language
    answer: str = ANSWER_SPOKEN
    choices: tuple = ()

    @classmethod
    def of(cls, value) -> "Question":
        if isinstance(value, dict) and "ask" in value:
            return cls(value["ask"], value.get("answer", ANSWER_SPOKEN), tuple(value.get("choices") or ()))
        return cls(value)

    @property
    def answered_in_frame(self) -> bool:
        return self.answer in (ANSWER_TYPED, ANSWER_CHOICE)


def validate_step_config(position: int, step: dict, *, default_language: str | None = None) -> None:
    """``default_language`` None checks the shape only (the steps field's own
    validator); WorkflowTemplate.clean() passes the workflow's."""
    where = f"step {position + 1}"
    if not isinstance(step, dict):
        raise ValidationError(f"{where}: must be an object")
    kind = step.get("kind")
    if kind not in STEP_KINDS:
        raise ValidationError(f"{where}: unknown kind {kind!r}; expected one of {', '.join(STEP_KINDS)}")
    if kind == TERMS:
        if not str(step.get("terms_version", "")).strip():
            raise ValidationError(f"{where}: terms need a terms_version")
        if not step.get("terms_text"):
            raise ValidationError(f"{where}: terms need a terms_text")
        validate_texts(step["terms_text"], where=f"{where}: terms_text", default_language=default_language)
    elif kind == DOCUMENT:
        kinds = step.get("document_kinds")
        if not kinds or not isinstance(kinds, list) or any(k not in DOCUMENT_KINDS for k in kinds):
            raise ValidationError(f"{where}: document_kinds must list some of {', '.join(DOCUMENT_KINDS)}")
    elif kind == LIVENESS:
        count = step.get("action_count", 3)
        if not isinstance(count, int) or not 1 <= count <= len(LIVENESS_ACTIONS):
            raise ValidationError(f"{where}: action_count must be 1 to {len(LIVENESS_ACTIONS)}")
    elif kind == QUESTIONS:
        questions = step.get("questions")
        # Each question is a text, or texts by language like the terms, or
        # an object that also says how the customer answers (Question).
        if not questions or not isinstance(questions, list) or not all(
            (isinstance(q, str) and q.strip()) or isinstance(q, dict) for q in questions
        ):
            raise ValidationError(f"{where}: questions must be a non-empty list of texts")
        for number, value in enumerate(questions, start=1):
            validate_question(value, where=f"{where}: question {number}", default_language=default_language)


def validate_question(value, *, where: str, default_language: str | None) -> None:
    question = Question.of(value)
    if isinstance(value, dict) and "ask" in value:
        unknown = sorted(set(value) - {"ask", "answer", "choices"})
        if unknown:
            raise ValidationError(f"{where}: unknown setting {', '.join(unknown)}; a question has ask, answer and choices")
        if question.answer not in ANSWER_KINDS:
            raise ValidationError(f"{where}: answer must be one of {', '.join(ANSWER_KINDS)}")
    validate_texts(question.ask, where=where, default_language=default_language)
    choices = value.get("choices") if isinstance(value, dict) else None
    if question.answer == ANSWER_CHOICE:
        if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_CHOICES:
            raise ValidationError(f"{where}: a choice question needs a list of 2 to {MAX_CHOICES} choices")
        for number, choice in enumerate(choices, start=1):
            validate_texts(choice, where=f"{where}: choice {number}", default_language=default_language)
    elif choices is not None:
        raise ValidationError(f'{where}: only a question answered by "choice" has choices')


def validate_workflow_steps(steps, *, default_language: str | None = None) -> None:
    if not isinstance(steps, list) or not steps:
        raise ValidationError("A workflow needs at least one step.")
    for position, step in enumerate(steps):
        validate_step_config(position, step, default_language=default_language)
    kinds = [step["kind"] for step in steps]
    if kinds.count(TERMS) > 1:
        raise ValidationError("A workflow has at most one terms step.")
    if TERMS in kinds and kinds[0] != TERMS:
        raise ValidationError("The terms step must come first.")


def question_text(config: dict, index: int, *, language: str | None) -> ChosenText:
    """Question ``index`` of a questions step's settings in ``language``, else
    in the workflow's default language (which the step's snapshot carries)."""
    return text_for_language(
        question_at(config, index).ask,
        language=language,
        default_language=config.get("default_language") or settings.LANGUAGE_CODE,
    )


def question_at(config: dict, index: int) -> Question:
    return Question.of(config.get("questions", [])[index])


def choice_text(config: dict, index: int, choice: int, *, language: str | None) -> ChosenText:
    """Choice ``choice`` of question ``index``, chosen as question_text does."""
    return text_for_language(
        question_at(config, index).choices[choice],
        language=language,
        default_language=config.get("default_language") or settings.LANGUAGE_CODE,
    )
