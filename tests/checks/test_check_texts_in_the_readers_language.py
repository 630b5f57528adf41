"""What the checks say reaches people in their language and in words: the
engines store a reason's template and values (codes stay codes there), and
the operator's state, the API and the review say it again in the active
language, with check kinds, challenge actions and MRZ fields by their names.

``answered_call`` (tests/conftest.py): Max Mustermann in a call with Alice."""

import pytest
from django.utils import translation

from sessions_app.selectors import call_state_for_operator
from tests.checks import fakes
from tests.consumers.helpers import Sockets
from workflows.check_texts import reason_text
from workflows.checks.results import CheckOutcome, Reason, reason


def operator_checks(call, language: str) -> dict:
    with translation.override(language):
        [participant] = call_state_for_operator(session_id=call.session.pk)["participants"]
    return participant["checks"]


def liveness_without_a_face() -> CheckOutcome:
    return CheckOutcome(
        kind="liveness", status="needs_review", score=0.0, engine="dlib", engine_version="test-liveness",
        reasons=[reason("liveness.no_face", "No face in frame %(frames)s of “%(action)s”.",
                        "Ask the customer to repeat the action slowly, face to the camera, alone in the picture, "
                        "in even light.", frames="1, 2", action="turn_right")],
        details={"actions": [{"action": "turn_right", "status": "needs_review"}]},
    )


def test_the_engine_keeps_codes_in_the_values_and_an_english_sentence():
    said = reason("liveness.no_face", "No face in frame %(frames)s of “%(action)s”.", frames="1", action="turn_right")
    assert said.params == {"frames": "1", "action": "turn_right"}
    assert said.message == "No face in frame 1 of “turn right”."


def test_a_reason_reads_in_english_and_german_with_the_action_by_its_name(answered_call):
    fakes.store(fakes.capture(answered_call.participant, fakes.Evidence.Kind.LIVENESS_FRAME, label="turn_right"),
                liveness_without_a_face())

    [english] = operator_checks(answered_call, "en")["results"]
    [german] = operator_checks(answered_call, "de")["results"]

    assert english["summary"] == "No face in frame 1, 2 of “Turn head right”."
    assert german["summary"] == "Kein Gesicht in Bild 1, 2 von „Kopf nach rechts drehen“."
    assert german["advice"] == [
        "Bitten Sie die Person, die Bewegung langsam zu wiederholen: mit dem Gesicht zur Kamera, allein im Bild, "
        "bei gleichmäßigem Licht."
    ]
    assert german["facts"] == [["Kopf nach rechts drehen", "Zu prüfen"]]
    assert german["details"]["reasons"][0]["code"] == "liveness.no_face"


def test_the_recommendation_names_the_checks_it_misses(answered_call):
    fakes.store(fakes.capture(answered_call.participant), fakes.quality_blurred())

    english = [r["message"] for r in operator_checks(answered_call, "en")["recommendation"]["reasons"]]
    german = [r["message"] for r in operator_checks(answered_call, "de")["recommendation"]["reasons"]]

    assert "Face match has no result: its capture is missing or was not checked." in english
    assert "Gesichtsabgleich hat kein Ergebnis: Die Aufnahme fehlt oder wurde nicht geprüft." in german
    assert "Die Aufnahme ist unscharf (Schärfe 12, mindestens 60 nötig)." in german
    # Nothing of a code in what the operator reads.
    assert not any("face_match" in message or "_" in message for message in english)


def test_a_reason_stored_before_templates_keeps_its_sentence():
    legacy = {"code": "mrz.name_mismatch", "message": "The name on the document (MAX) is not the name sent (ERIKA)."}
    with translation.override("de"):
        assert reason_text(legacy) == legacy["message"]


def test_a_translation_that_lost_a_value_falls_back_to_the_stored_sentence():
    stored = Reason("x.y", "Stored sentence.", template="%(missing)s and %(other)s", params={"other": 1}).__dict__
    assert reason_text(stored) == "Stored sentence."


@pytest.mark.django_db(transaction=True)
async def test_the_operators_socket_gets_the_checks_in_its_browsers_language(answered_call, operator_a):
    from channels.db import database_sync_to_async

    await database_sync_to_async(lambda: fakes.store(fakes.capture(answered_call.participant),
                                                     fakes.quality_blurred()))()
    sockets = Sockets()
    try:
        operator = await sockets.operator(operator_a, answered_call.session, language="de-DE,de;q=0.9,en;q=0.5")
        [participant] = operator.state["participants"]
        [quality] = participant["checks"]["results"]
        assert quality["summary"] == "Die Aufnahme ist unscharf (Schärfe 12, mindestens 60 nötig)."
        english = await sockets.operator(operator_a, answered_call.session, language="en-GB,en")
        [participant] = english.state["participants"]
        assert participant["checks"]["results"][0]["summary"].startswith("The capture is blurred")
    finally:
        await sockets.close_all()
