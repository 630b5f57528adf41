"""Reasons stored before reasons had templates (before 0bf5fa6: a code, an
English sentence, advice) are given the template and values of the sentence
they match (workflows migration 0007), so a German reader reads them in
German; a sentence that matches nothing stays, and is shown, as it was.

``answered_call`` (tests/conftest.py): Max Mustermann in a call with Alice."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import translation

from sessions_app.selectors import call_state_for_operator
from tests.checks import fakes
from workflows.check_texts import reason_text
from workflows.checks.results import reason
from workflows.models import CheckResult

migration = importlib.import_module("workflows.migrations.0007_check_reasons_as_templates")

RETAKE_LIVENESS = "Ask the customer to repeat the action slowly, face to the camera, alone in the picture, in even light."


def stored_before_templates(participant, kind, status, *reasons, details=None) -> CheckResult:
    """A result as the checks stored it before templates: code, message, advice."""
    return CheckResult.objects.create(
        evidence=fakes.capture(participant),
        participant=participant,
        kind=kind,
        status=status,
        score=None,
        details={**(details or {}), "reasons": [{"code": code, "message": message, "advice": advice} for code, message, advice in reasons]},
        engine="test",
        engine_version=f"test-{kind}-old",
    )


def migrate():
    migration.reasons_as_templates(django_apps, None)


def operator_summaries(call, language: str) -> list[str]:
    with translation.override(language):
        [participant] = call_state_for_operator(session_id=call.session.pk)["participants"]
    return [result["summary"] for result in participant["checks"]["results"]]


def test_an_old_liveness_sentence_gets_the_template_and_the_action_as_a_code(answered_call):
    result = stored_before_templates(
        answered_call.participant, "liveness", "needs_review",
        ("liveness.no_face", "No face in frame 1, 2 of turn_right.", RETAKE_LIVENESS),
    )

    migrate()

    [stored] = CheckResult.objects.get(pk=result.pk).reasons
    assert stored == {
        "code": "liveness.no_face",
        "message": "No face in frame 1, 2 of turn_right.",  # the English sentence stays as it was
        "advice": RETAKE_LIVENESS,
        "template": "No face in frame %(frames)s of “%(action)s”.",
        "params": {"frames": "1, 2", "action": "turn_right"},
    }


def test_a_german_reader_reads_a_converted_reason_in_german_and_an_unknown_one_as_it_was(answered_call):
    stored_before_templates(
        answered_call.participant, "quality", "needs_review",
        ("quality.too_dark", "The capture is too dark (mean brightness 31).", ""),
    )
    stored_before_templates(
        answered_call.participant, "mrz", "needs_review",
        ("mrz.someday", "A sentence no engine says any more.", ""),
    )

    migrate()

    assert operator_summaries(answered_call, "de") == [
        "Die Aufnahme ist zu dunkel (mittlere Helligkeit 31).",
        "A sentence no engine says any more.",
    ]


@pytest.mark.parametrize(
    ("code", "message", "template", "params"),
    [
        (
            "liveness.no_turn",
            "The head did not turn left enough: 4° of 15° needed (the head turned the other way).",
            "The head turned the other way, not as asked (“%(action)s”): %(change).0f° of %(minimum).0f° needed.",
            {"action": "turn_left", "change": 4.0, "minimum": 15.0},
        ),
        (
            "liveness.no_turn",
            "The head did not turn right enough: 7° of 15° needed.",
            "The head did not turn enough (“%(action)s”): %(change).0f° of %(minimum).0f° needed.",
            {"action": "turn_right", "change": 7.0, "minimum": 15.0},
        ),
        (
            "liveness.too_few_frames",
            "2 frame(s) for blink; at least 3 needed.",
            "%(count)s frames for “%(action)s”; at least %(minimum)s needed.",
            {"count": 2, "action": "blink", "minimum": 3},
        ),
        (
            "liveness.unknown_action",
            "'wave' is not a known challenge.",
            "“%(action)s” is not a known challenge.",
            {"action": "wave"},
        ),
        (
            "liveness.not_closer",
            "The face did not come closer: 8% larger, 15% needed.",
            "The face did not come closer: %(growth)s %% larger, %(minimum)s %% needed.",
            {"growth": 8, "minimum": 15},
        ),
        (
            "face.swap",
            "The person in liveness turn_left 3 is not the person of the live face capture (distance 0.71).",
            "The person in frame %(number)s of “%(action)s” is not the person of the live face capture (distance %(distance).2f).",
            {"number": "3", "action": "turn_left", "distance": 0.71},
        ),
        (
            "mrz.ambiguous",
            "The document number, birth date can be read more than one way that the check digits accept; they cannot tell which is right.",
            "These fields can be read more than one way that the check digits accept, and they cannot tell which is right: %(fields)s.",
            {"fields": ["document_number", "birth_date"]},
        ),
        (
            "mrz.ambiguous",
            "The reading of document_number could be repaired more than one way; the check digits cannot tell which is right.",
            "These fields can be read more than one way that the check digits accept, and they cannot tell which is right: %(fields)s.",
            {"fields": ["document_number"]},
        ),
        (
            "mrz.check_digit",
            "Check digit does not match: document number, composite.",
            "Check digit does not match: %(fields)s.",
            {"fields": ["document_number", "composite"]},
        ),
        (
            "mrz.specimen",
            "The issuing state D is ICAO's specimen state: not a real document.",
            "%(field)s %(country)s is ICAO's specimen state: not a real document.",
            {"field": "issuing_state", "country": "D"},
        ),
        (
            "mrz.unknown_country",
            "The nationality code (empty) is not a known code.",
            "%(field)s “%(country)s” is not a known country code.",
            {"field": "nationality", "country": ""},
        ),
        (
            "mrz.name_mismatch",
            "The name on the document (ERIKA MUSTERMANN) is not the name the business sent (Max Mustermann).",
            "The name on the document (%(read)s) is not the name the business sent (%(expected)s).",
            {"read": "ERIKA MUSTERMANN", "expected": "Max Mustermann"},
        ),
        (
            "quality.low_resolution",
            "The capture is 320x240 pixels; at least 600 on the short side are needed.",
            "The capture is %(width)s×%(height)s pixels; at least %(minimum)s on the short side are needed.",
            {"width": 320, "height": 240, "minimum": 600},
        ),
        (
            "quality.glare",
            "A reflection covers 12% of the capture.",
            "A reflection covers %(share)s %% of the capture.",
            {"share": 12},
        ),
        (
            "engine.timeout",
            "The face_match check took too long and was stopped.",
            "%(check)s took too long and was stopped.",
            {"check": "face_match"},
        ),
        (
            "engine.exception",
            "The mrz check could not run: RuntimeError.",
            "%(check)s could not run: %(error)s.",
            {"check": "mrz", "error": "RuntimeError"},
        ),
    ],
)
def test_an_older_wording_becomes_the_template_it_is_said_with_now(code, message, template, params):
    assert migration.template_and_params(code, message) == (template, params)


# Values as the engines give them, for every sentence they say today.
TODAY_VALUES = {
    "face.several_live": {"count": 2},
    "face.mismatch": {"distance": 0.7134, "threshold": 0.5},
    "face.borderline": {"distance": 0.48, "threshold": 0.5},
    "face.swap": {"number": "2", "action": "turn_left", "distance": 0.66},
    "face.swap_borderline": {"number": "1", "action": "blink", "distance": 0.49},
    "liveness.unknown_action": {"action": "wave_hand"},
    "liveness.too_few_frames": {"count": 1, "action": "look_up", "minimum": 3},
    "liveness.still_replay": {"count": 4, "action": "blink"},
    "liveness.no_face": {"frames": "1, 3", "action": "move_closer"},
    "liveness.several_faces": {"frames": "2", "action": "turn_right"},
    "liveness.no_turn": {"action": "turn_right", "change": 3.2, "minimum": 15.0},
    "liveness.no_nod": {"change": 2.0, "minimum": 10.0},
    "liveness.not_closer": {"growth": 4, "minimum": 15},
    "mrz.ambiguous": {"fields": ["document_number", "optional_data_2"]},
    "mrz.check_digit": {"fields": ["birth_date"]},
    "mrz.check_digit_unclear": {"fields": ["expiry_date", "composite"]},
    "mrz.specimen": {"field": "nationality", "country": "UTO"},
    "mrz.unknown_country": {"field": "issuing_state", "country": "XXA"},
    "mrz.expired": {"date": "2020-01-31"},
    "mrz.under_age": {"age": 16, "minimum": 18},
    "mrz.name_mismatch": {"read": "ERIKA MUSTER", "expected": "Max Mustermann"},
    "mrz.name_partial": {"read": "MAX MUSTER", "expected": "Max Mustermann"},
    "mrz.birth_date_mismatch": {"read": "1980-05-17", "expected": "1981-05-17"},
    "quality.low_resolution": {"width": 320, "height": 240, "minimum": 600},
    "quality.blurred": {"sharpness": 41.0, "minimum": 80.0},
    "quality.too_dark": {"brightness": 30.4},
    "quality.overexposed": {"brightness": 240.0},
    "quality.glare": {"share": 9},
    "engine.timeout": {"check": "liveness"},
    "engine.exception": {"check": "quality", "error": "MemoryError"},
    "evidence.unreadable": {"error": "UnidentifiedImageError"},
}


@pytest.mark.parametrize("known", migration.TODAY, ids=lambda known: f"{known.code}: {known.shape[:40]}")
def test_a_sentence_in_todays_words_reads_back_as_its_template_and_values(known):
    """Made as the engines make it (results.reason), read back by the migration."""
    values = TODAY_VALUES.get(known.code, {}) if "%(" in known.shape else {}
    said = reason(known.code, known.shape, "", **values)

    template, params = migration.template_and_params(known.code, said.message)

    assert template == known.shape
    assert reason(known.code, template, "", **params).message == said.message
    codes = ("check", "action", "field", "fields")
    assert {key: params[key] for key in codes if key in params} == {key: values[key] for key in codes if key in values}


@pytest.mark.parametrize("known", migration.BEFORE + migration.TODAY, ids=lambda known: known.code)
def test_every_template_the_migration_writes_has_its_german(known):
    template = known.template or known.shape
    with translation.override("de"):
        assert translation.gettext(template) != template


def test_a_reason_that_already_has_its_template_and_an_unknown_one_are_left_alone(answered_call):
    today = reason("quality.too_dark", "The capture is too dark (mean brightness %(brightness).0f).", "", brightness=30.0)
    result = stored_before_templates(
        answered_call.participant, "quality", "needs_review",
        ("quality.someday", "The capture is too dark (mean brightness 31).", ""),  # known words, unknown code
        ("mrz.not_found", "No zone at all, said in other words.", ""),
    )
    result.details["reasons"].append(
        {"code": today.code, "message": today.message, "advice": "", "template": today.template, "params": today.params}
    )
    result.save()
    before = CheckResult.objects.get(pk=result.pk).details

    migrate()

    assert CheckResult.objects.get(pk=result.pk).details == before


def test_a_liveness_results_reasons_per_action_are_converted_too(answered_call):
    result = stored_before_templates(
        answered_call.participant, "liveness", "failed",
        ("liveness.no_blink", "No blink was seen.", RETAKE_LIVENESS),
        details={"actions": [{"action": "blink", "status": "failed", "frames": 5, "measured": {},
                              "reasons": [{"code": "liveness.no_blink", "message": "No blink was seen.",
                                           "advice": RETAKE_LIVENESS}]}]},
    )

    migrate()

    details = CheckResult.objects.get(pk=result.pk).details
    assert details["reasons"][0]["template"] == "No blink was seen."
    assert details["actions"][0]["reasons"][0]["template"] == "No blink was seen."
    assert details["actions"][0]["measured"] == {} and details["actions"][0]["frames"] == 5


def test_the_reader_shows_a_legacy_text_it_cannot_match_as_it_is():
    legacy = {"code": "mrz.someday", "message": "Something an old engine said.", "advice": ""}
    with translation.override("de"):
        assert reason_text(legacy) == "Something an old engine said."
