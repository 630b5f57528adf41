"""The Celery task on stored evidence: which checks run, results kept once
per evidence, kind and engine version, and the recommendation read back.

The named people come from tests/conftest.py: ``live_call`` is Max
Mustermann's one-on-one call with business A, whose standard workflow has a
document step and a liveness step."""

import datetime as dt

import pytest

from sessions_app.models import AuditEvent, Evidence
from tests.checks import testdata as td
from workflows import check_selectors, check_services, tasks
from workflows.checks.recommendation import APPROVE, REJECT, REVIEW
from workflows.models import CheckResult
from workflows.steps import LIVENESS_BURST_FRAMES
from workflows.tasks import run_checks_for_evidence

from .conftest import holder
from .fakes import evidence_from_bytes

MAX = holder(surname="MUSTERMANN", given_names="MAX", birth_date=dt.date(1980, 5, 17), nationality="D")


def store(participant, kind, image, *, source=Evidence.Source.CUSTOMER_DEVICE, label="", frame_index=0):
    """A camera-like JPEG of ``image`` stored as the capture service stores it."""
    return evidence_from_bytes(participant, kind, td.jpeg_bytes(image, 92), content_type="image/jpeg",
                               width=image.shape[1], height=image.shape[0], source=source, label=label,
                               frame_index=frame_index)


@pytest.fixture(scope="session")
def max_passport():
    image, _ = td.document_capture(MAX, "TD3", portrait=td.astronaut(), seed=11)
    return image


def kinds(evidence):
    return sorted((r.kind, r.status) for r in CheckResult.objects.filter(evidence=evidence))


def test_document_front_gets_quality_and_mrz_results(live_call, max_passport):
    evidence = store(live_call.participant, Evidence.Kind.DOCUMENT_FRONT, max_passport)
    stored = run_checks_for_evidence(evidence.pk)
    assert sorted((r["kind"], r["status"]) for r in stored) == [("mrz", "passed"), ("quality", "passed")]
    mrz = CheckResult.objects.get(evidence=evidence, kind="mrz")
    assert mrz.details["name_match"] == "match"
    assert mrz.engine == "rapidocr" and mrz.duration_ms > 0
    assert mrz.participant == live_call.participant


def test_running_the_task_twice_stores_each_result_once(live_call, max_passport):
    evidence = store(live_call.participant, Evidence.Kind.DOCUMENT_BACK, max_passport)
    first = run_checks_for_evidence(evidence.pk)
    audited = AuditEvent.objects.filter(action="check.recorded").count()
    second = run_checks_for_evidence(evidence.pk)
    assert first == second
    assert CheckResult.objects.filter(evidence=evidence).count() == 2
    assert AuditEvent.objects.filter(action="check.recorded").count() == audited


def test_new_engine_version_checks_the_same_evidence_again(live_call, astronaut_frame, monkeypatch):
    from workflows.checks import quality

    evidence = store(live_call.participant, Evidence.Kind.FACE, astronaut_frame)
    run_checks_for_evidence(evidence.pk)
    monkeypatch.setattr(quality, "engine_version", lambda: "next+quality.2")
    run_checks_for_evidence(evidence.pk)
    versions = sorted(CheckResult.objects.filter(evidence=evidence).values_list("engine_version", flat=True))
    assert len(versions) == 2 and versions[1] == "next+quality.2"


def test_face_and_document_front_are_matched_on_whichever_arrives_second(live_call, astronaut_frame, max_passport):
    face = store(live_call.participant, Evidence.Kind.FACE, astronaut_frame)
    run_checks_for_evidence(face.pk)
    assert kinds(face) == [("quality", "passed")]
    document = store(live_call.participant, Evidence.Kind.DOCUMENT_FRONT, max_passport)
    run_checks_for_evidence(document.pk)
    match = CheckResult.objects.get(evidence=document, kind="face_match")
    assert match.status == "passed"
    assert match.details["threshold"] == live_call.session.workflow.face_match_threshold


def test_liveness_runs_once_the_burst_is_complete_and_is_stored_on_its_first_frame(
    live_call, astronaut_frame, astronaut_bursts
):
    store(live_call.participant, Evidence.Kind.FACE, astronaut_frame)
    frames = []
    for i, image in enumerate(astronaut_bursts["blink"]):
        frames.append(store(live_call.participant, Evidence.Kind.LIVENESS_FRAME, image, label="blink", frame_index=i))
        stored = run_checks_for_evidence(frames[-1].pk)
        assert stored == [] or i == LIVENESS_BURST_FRAMES - 1
    assert kinds(frames[0]) == [("face_match", "passed"), ("liveness", "passed")]
    assert not CheckResult.objects.filter(evidence__in=frames[1:]).exists()
    swap_check = CheckResult.objects.get(evidence=frames[0], kind="face_match")
    assert len(swap_check.details["liveness_frames"]) == LIVENESS_BURST_FRAMES


def test_frame_the_operator_received_is_only_checked_for_quality(live_call, max_passport):
    evidence = store(live_call.participant, Evidence.Kind.DOCUMENT_FRONT, td.downscale(max_passport, 640),
                     source=Evidence.Source.OPERATOR_VIEW)
    run_checks_for_evidence(evidence.pk)
    assert kinds(evidence) == [("quality", "needs_review")]


def test_erased_or_missing_evidence_is_not_checked(live_call, astronaut_frame):
    evidence = store(live_call.participant, Evidence.Kind.FACE, astronaut_frame)
    Evidence.objects.filter(pk=evidence.pk).update(erased_at=dt.datetime.now(dt.timezone.utc))
    assert run_checks_for_evidence(evidence.pk) == []
    assert run_checks_for_evidence(999_999) == []


def test_engine_exception_is_stored_as_an_error_and_reviews(live_call, max_passport, monkeypatch):
    from workflows.checks import mrz_ocr

    monkeypatch.setattr(mrz_ocr, "detect_text", lambda rgb: 1 / 0)
    evidence = store(live_call.participant, Evidence.Kind.DOCUMENT_FRONT, max_passport)
    run_checks_for_evidence(evidence.pk)
    result = CheckResult.objects.get(evidence=evidence, kind="mrz")
    assert result.status == "error"
    assert result.reasons[0]["code"] == "engine.exception"
    assert check_selectors.participant_recommendation(live_call.participant).decision == REVIEW


def test_failure_outside_the_engines_never_fails_the_upload_in_embedded_mode(live_call, monkeypatch):
    monkeypatch.setattr(tasks, "_inline", lambda: True)
    monkeypatch.setattr(check_services, "evidence_run_checks", lambda **kw: 1 / 0)
    assert run_checks_for_evidence(1) == []


def test_failure_outside_the_engines_fails_the_task_on_a_worker(live_call, monkeypatch):
    monkeypatch.setattr(tasks, "_inline", lambda: False)
    monkeypatch.setattr(check_services, "evidence_run_checks", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_checks_for_evidence(1)


def test_recommendation_approves_only_when_document_face_and_liveness_passed(
    live_call, astronaut_frame, max_passport, astronaut_bursts
):
    participant = live_call.participant
    recommendation = check_selectors.participant_recommendation(participant)
    assert recommendation.decision == REVIEW
    assert {r.code for r in recommendation.reasons} == {"check.missing"}

    for evidence in (store(participant, Evidence.Kind.FACE, astronaut_frame),
                     store(participant, Evidence.Kind.DOCUMENT_FRONT, max_passport)):
        run_checks_for_evidence(evidence.pk)
    assert check_selectors.participant_recommendation(participant).statuses["liveness"] == "missing"

    for i, image in enumerate(astronaut_bursts["turn_left"]):
        frame = store(participant, Evidence.Kind.LIVENESS_FRAME, image, label="turn_left", frame_index=i)
    run_checks_for_evidence(frame.pk)
    recommendation = check_selectors.participant_recommendation(participant)
    assert recommendation.decision == APPROVE, recommendation.reasons


def test_capture_not_yet_checked_counts_as_pending(live_call, max_passport):
    store(live_call.participant, Evidence.Kind.DOCUMENT_FRONT, max_passport)
    recommendation = check_selectors.participant_recommendation(live_call.participant)
    assert recommendation.decision == REVIEW
    assert recommendation.statuses["mrz"] == "pending"


def test_document_of_someone_else_recommends_reject(live_call, hopper_frame, max_passport, astronaut_challenges):
    participant = live_call.participant
    # Grace Hopper shows Max Mustermann's passport (with another woman's photo).
    for evidence in (store(participant, Evidence.Kind.FACE, hopper_frame),
                     store(participant, Evidence.Kind.DOCUMENT_FRONT, max_passport)):
        run_checks_for_evidence(evidence.pk)
    recommendation = check_selectors.participant_recommendation(participant)
    assert recommendation.decision in (REJECT, REVIEW)
    assert "face.mismatch" in {r.code for r in recommendation.reasons}


@pytest.mark.checks("background")
@pytest.mark.django_db(transaction=True)
def test_embedded_mode_runs_the_checks_off_the_request_thread(business_a, workflow_a, astronaut_frame, monkeypatch):
    """As after an upload under daphne with no broker: ``delay`` returns at
    once, the result arrives from the background thread (which hands the
    work to the worker process: run here instead, where the test's database
    is; tests/unit/test_worker_process.py tests that process)."""
    from kyc import background
    from tests.conftest import create_call

    monkeypatch.setattr(background, "in_worker_process", lambda function, *args, timeout=None: function(*args))

    _, links = create_call(business_a, workflow_a)
    participant = links[0][0]
    evidence = store(participant, Evidence.Kind.FACE, astronaut_frame)
    monkeypatch.setattr(tasks, "_inline", lambda: True)
    assert run_checks_for_evidence.apply(args=(evidence.pk,)).get() == []
    tasks.background_pool().submit(lambda: None).result(timeout=120)  # one thread: all before it are done
    assert kinds(evidence) == [("quality", "passed")]
