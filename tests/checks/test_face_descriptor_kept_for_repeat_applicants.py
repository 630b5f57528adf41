"""The face-match check hands the live face's descriptor to the repeat-applicant
matching (no second model run), and it is never stored in the check's details,
which the operator's panel and the webhooks read."""

import numpy as np

from operators.models import ApplicantFingerprint
from sessions_app.models import Evidence
from tests.checks import fakes
from tests.fraud.conftest import applicant
from workflows.check_services import check_result_store
from workflows.checks import faces


def test_face_match_gives_the_live_descriptor(astronaut_frame, passport, hopper_frame):
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport)
    assert outcome.status == "passed"
    assert len(outcome.face_descriptor) == 128
    again = faces.check_face_match(live_face=astronaut_frame, document=None, liveness_frames=[astronaut_frame])
    other = faces.check_face_match(live_face=hopper_frame, document=passport)
    same = np.linalg.norm(np.subtract(outcome.face_descriptor, again.face_descriptor))
    different = np.linalg.norm(np.subtract(outcome.face_descriptor, other.face_descriptor))
    assert same < 0.1 < faces.DEFAULT_THRESHOLD < different
    assert "face_descriptor" not in outcome.to_dict()


def test_the_stored_result_keeps_it_only_in_the_fingerprint(db, business_a, workflow_a, astronaut_frame, passport):
    _, participant = applicant(business_a, workflow_a)
    outcome = faces.check_face_match(live_face=astronaut_frame, document=passport)
    result = check_result_store(subject=fakes.capture(participant, Evidence.Kind.FACE), kind="face_match",
                                engine_version="test-face", outcome=outcome)
    assert "face_descriptor" not in result.details and "descriptor" not in str(result.details)
    stored = np.frombuffer(bytes(ApplicantFingerprint.objects.get(participant=participant).face_descriptor), dtype="<f4")
    assert np.allclose(stored, outcome.face_descriptor, atol=1e-6)
