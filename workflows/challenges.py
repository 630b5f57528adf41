"""Operator challenges: short actions a replayed or synthetic picture cannot
follow (a hand over half the face, a document turned edge-on). The operator
asks for one when the capture-integrity risk panel suggests it; the customer
is told in their frame and their page takes a burst, like a liveness action
(workflows.services.challenge_request).

One registry: each challenge's code (stable: stored on the evidence and in
the audit trail), the operator's label and the customer's instruction."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from workflows.steps import LIVENESS_BURST_FRAMES


@dataclass(frozen=True)
class Challenge:
    code: str
    label: Promise  # the operator's button and the compliance review
    instruction: Promise  # shown in the customer's frame


COVER_HALF_FACE = "cover_half_face"
HAND_ACROSS_FACE = "hand_across_face"
DOCUMENT_EDGE_ON = "document_edge_on"

CHALLENGES = {
    challenge.code: challenge
    for challenge in (
        Challenge(COVER_HALF_FACE, _("Cover half your face"), _("Cover half of your face with your hand.")),
        Challenge(HAND_ACROSS_FACE, _("Hand across the face"), _("Move your hand slowly across your face.")),
        Challenge(
            DOCUMENT_EDGE_ON, _("Document edge-on"), _("Turn your document slowly until we see its edge.")
        ),
    )
}
CHALLENGE_LABELS = {code: challenge.label for code, challenge in CHALLENGES.items()}

# Frames the customer's page takes for one challenge: as many as for a
# liveness action, so the same burst path answers both.
CHALLENGE_BURST_FRAMES = LIVENESS_BURST_FRAMES
# A challenge's burst still under way blocks the next one this long: the
# customer is doing one thing at a time. A page that never answers does not
# lock the operator out for longer (the console's capture buttons wait as long).
CHALLENGE_BURST_SECONDS = 15

# Which challenges answer which capture-integrity sign (the risk panel's
# reason codes, sessions_app/integrity.py). A camera feed that is not a real
# camera, or a picture shown again, cannot show a hand passing in front of
# the face; a picture repeated may as well be a replayed document, and a
# printed or on-screen document has no edge. Weak signs and the test camera
# suggest nothing (tests/unit/test_integrity_signs_suggest_challenges.py
# holds every medium or strong sign to a suggestion).
_FACE_CHALLENGES = (COVER_HALF_FACE, HAND_ACROSS_FACE)
_SIGNAL_CHALLENGES = {
    "synthetic_track": _FACE_CHALLENGES,
    "virtual_camera_name": _FACE_CHALLENGES,
    "video_file_camera": _FACE_CHALLENGES,
    "api_replaced": _FACE_CHALLENGES,
    "unusual_capabilities": _FACE_CHALLENGES,
    "repeated_picture": (*_FACE_CHALLENGES, DOCUMENT_EDGE_ON),
    "still_picture": _FACE_CHALLENGES,
    "camera_switched": _FACE_CHALLENGES,
}


def challenges_for_signals(codes) -> list[str]:
    """The challenges to suggest for the signs that fired, each once, in the
    registry's order; a code the registry does not know suggests nothing."""
    suggested = set()
    for code in codes or ():
        suggested.update(_SIGNAL_CHALLENGES.get(str(code), ()))
    return [code for code in CHALLENGES if code in suggested]
