"""Every capture-integrity sign that can raise the risk panel points the
operator at a challenge: the panel never warns without saying what to ask."""

import pytest

from sessions_app.integrity import REASONS, WEAK
from workflows.challenges import CHALLENGES, challenges_for_signals


@pytest.mark.parametrize("code", [code for code, reason in REASONS.items() if reason.strength != WEAK])
def test_a_medium_or_strong_sign_suggests_a_challenge(code):
    suggested = challenges_for_signals([code])
    assert suggested, f"{code} suggests no challenge"
    assert set(suggested) <= set(CHALLENGES)


def test_the_browsers_test_camera_alone_suggests_nothing():
    assert challenges_for_signals(["browser_test_camera"]) == []


def test_the_operators_page_gets_each_signs_challenges():
    from operators.ui_strings import call_strings

    strings = call_strings()
    assert strings["challengesForSign"]["synthetic_track"] == ["cover_half_face", "hand_across_face"]
    assert set(strings["challengesForSign"]) == set(REASONS)
