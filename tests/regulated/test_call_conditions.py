"""Minimum call conditions (CALL_CONDITIONS): the evaluation at its edges,
the approval gate (missing, stale, below), the operator page's report over the
call socket (validated, only for this call's customers, rate-limited, cache
not database), the abort for poor conditions with the customer's new try, and
the history compliance reads."""

import datetime
import json
import time

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.backends.utils import CursorWrapper
from django.urls import reverse

from kyc import regulations
from operators.approval_gates import approval_problem, approval_requirements
from operators.compliance.review import session_record, session_review
from operators.models import Decision, WebhookEvent
from operators.services import decision_record
from operators.webhooks import PARTICIPANT_DECIDED
from sessions_app import call_conditions
from sessions_app.call_conditions import (
    BELOW_MINIMUM,
    RESTORED,
    STALE_AFTER_SECONDS,
    Measurement,
    MeasurementError,
    Minimum,
    conditions_shortfalls,
    measurement_clean,
    participant_try_again,
)
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.selectors import POOR_CONDITIONS_REASON, customer_session_bind
from sessions_app.audit import Actor
from sessions_app.services import (
    ParticipantSpec,
    participant_accept_terms,
    participant_join,
    session_assign_operator,
    session_create,
    session_end,
)
from tests.conftest import create_call
from tests.consumers.conftest import sockets  # noqa: F401  (the socket fixture)
from tests.consumers.helpers import peer_id

MINIMUM = Minimum(video_height=480, frame_rate=15, packet_loss_percent=5.0)
GOOD = {"video_height": 720, "frame_rate": 30, "packet_loss_percent": 0.1, "rtt_ms": 20}
LOW = {"video_height": 240, "frame_rate": 30, "packet_loss_percent": 0.1, "rtt_ms": 20}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _under_the_rule(workflow):
    workflow.rules = [regulations.CALL_CONDITIONS]
    workflow.min_video_height, workflow.min_frame_rate, workflow.max_packet_loss_percent = 480, 15, 5.0
    workflow.save()


@pytest.fixture
def call(business_a, workflow_a, operator_a):
    """Alice's answered call with Max, under the minimum call conditions."""
    _under_the_rule(workflow_a)
    session, links = create_call(business_a, workflow_a)
    participant = links[0][0]
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    participant_join(participant=participant)
    session_assign_operator(session_id=session.pk, operator=operator_a)
    session.refresh_from_db()
    participant.refresh_from_db()
    return session, participant


def _report(session, participant, figures, *, now=None):
    return call_conditions.call_conditions_report(
        session_id=session.pk,
        participant_public_hex=participant.public_id.hex,
        measurement=measurement_clean(figures),
        minimum=MINIMUM,
        now=now,
    )


# --- the evaluation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "figures, below",
    [
        ({"video_height": 480, "frame_rate": 15, "packet_loss_percent": 5.0}, []),  # exactly at the minimum meets it
        ({"video_height": 479, "frame_rate": 15, "packet_loss_percent": 5.0}, ["video_height"]),
        ({"video_height": 480, "frame_rate": 14.9, "packet_loss_percent": 5.0}, ["frame_rate"]),
        ({"video_height": 480, "frame_rate": 15, "packet_loss_percent": 5.01}, ["packet_loss"]),
        ({"video_height": 0, "frame_rate": 0, "packet_loss_percent": 100}, ["video_height", "frame_rate", "packet_loss"]),
    ],
)
def test_the_evaluation_at_its_edges(figures, below):
    assert [s.code for s in conditions_shortfalls(measurement_clean(figures), MINIMUM)] == below


def test_the_shortfall_reads_as_the_operator_needs_it():
    (shortfall,) = conditions_shortfalls(measurement_clean(LOW), MINIMUM)
    assert call_conditions.below_minimum_text([shortfall]) == "Call conditions are below the minimum: video 240p (minimum 480p)"
    assert call_conditions.measurement_summary(GOOD) == "Video 720p · 30 fps · loss 0.1 % · RTT 20 ms"


@pytest.mark.parametrize(
    "figures",
    [
        {**GOOD, "video_height": -1},
        {**GOOD, "video_height": 720.5},
        {**GOOD, "video_height": "720"},
        {**GOOD, "video_height": True},
        {**GOOD, "frame_rate": 241},
        {**GOOD, "frame_rate": float("nan")},
        {**GOOD, "packet_loss_percent": 100.5},
        {**GOOD, "packet_loss_percent": None},
        {**GOOD, "rtt_ms": -5},
        {k: v for k, v in GOOD.items() if k != "frame_rate"},
    ],
)
def test_a_measurement_out_of_range_or_of_the_wrong_kind_is_refused(figures):
    with pytest.raises(MeasurementError):
        measurement_clean(figures)


def test_the_round_trip_may_be_unknown():
    assert measurement_clean({**GOOD, "rtt_ms": None}).rtt_ms is None


def test_the_minimum_comes_from_the_sessions_rule_set_not_the_workflow(call, workflow_a):
    session, _participant = call
    workflow_a.min_video_height = 1080
    workflow_a.rules = []
    workflow_a.save()
    assert Minimum.of(regulations.RuleSet.of(session)) == MINIMUM


def test_no_minimum_without_the_rule(business_a, workflow_a):
    session, _links = create_call(business_a, workflow_a)
    assert Minimum.of(regulations.RuleSet.of(session)) is None


# --- the history: the database hears only of changes ------------------------------------


def _history_actions(participant):
    return list(
        AuditEvent.objects.filter(participant=participant, action__in=(BELOW_MINIMUM, RESTORED))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_only_changes_between_met_and_not_met_are_recorded(call):
    session, participant = call
    for figures in (GOOD, GOOD, LOW, LOW, LOW, GOOD, GOOD):
        _report(session, participant, figures)
    assert _history_actions(participant) == [BELOW_MINIMUM, RESTORED]
    below = AuditEvent.objects.get(participant=participant, action=BELOW_MINIMUM)
    assert below.data["measurement"]["video_height"] == 240
    assert below.data["minimum"]["video_height"] == 480
    assert below.data["below"] == ["video_height"]


def test_a_lost_cache_neither_repeats_nor_misses_a_change(call):
    session, participant = call
    _report(session, participant, LOW)
    cache.clear()  # a Redis restart
    _report(session, participant, LOW)
    assert _history_actions(participant) == [BELOW_MINIMUM]
    cache.clear()
    _report(session, participant, GOOD)
    assert _history_actions(participant) == [BELOW_MINIMUM, RESTORED]


def test_reports_after_the_first_touch_no_database(call, django_assert_num_queries):
    session, participant = call
    _report(session, participant, GOOD)
    with django_assert_num_queries(0):
        for _ in range(5):
            _report(session, participant, GOOD)


# --- the approval gate ------------------------------------------------------------


def test_approval_is_refused_while_nothing_was_measured(call):
    _session, participant = call
    assert "have not been measured yet" in approval_problem(participant)
    (requirement,) = [r for r in approval_requirements(participant) if r.code == "call_conditions"]
    assert requirement.met is False


def test_approval_is_refused_on_a_stale_measurement(call):
    session, participant = call
    _report(session, participant, GOOD, now=time.time() - STALE_AFTER_SECONDS - 1)
    assert "older than 15 seconds" in approval_problem(participant)


def test_a_measurement_just_inside_the_window_counts(call):
    session, participant = call
    _report(session, participant, GOOD, now=time.time() - STALE_AFTER_SECONDS + 2)
    assert approval_problem(participant) is None


def test_approval_is_refused_below_the_minimum_with_what_is_below(call, operator_a):
    session, participant = call
    _report(session, participant, LOW)
    with pytest.raises(ValidationError) as refused:
        decision_record(participant=participant, operator=operator_a, outcome="approve", reason_code="verified")
    assert refused.value.messages == ["Call conditions are below the minimum: video 240p (minimum 480p)"]
    assert not Decision.objects.filter(participant=participant).exists()


def test_approval_goes_ahead_when_the_conditions_meet_the_minimum(call, operator_a):
    session, participant = call
    _report(session, participant, GOOD)
    decision_record(participant=participant, operator=operator_a, outcome="approve", reason_code="verified")
    assert Decision.objects.get(participant=participant).outcome == "approve"


def test_without_the_rule_there_is_no_gate(answered_call):
    assert [r for r in approval_requirements(answered_call.participant) if r.code == "call_conditions"] == []


# --- abort for poor conditions, and the customer's new try --------------------------------


def test_the_abort_reason_is_a_retry_and_is_named_the_same_on_both_floors():
    assert Decision.Reason.POOR_CONDITIONS.value == POOR_CONDITIONS_REASON
    assert Decision.Reason.POOR_CONDITIONS in Decision.REASONS_BY_OUTCOME[Decision.Outcome.RETRY]
    assert Decision.Reason.POOR_CONDITIONS not in Decision.REASONS_BY_OUTCOME[Decision.Outcome.APPROVE]


def _abort(participant, operator):
    return decision_record(participant=participant, operator=operator, outcome="retry", reason_code="poor_conditions")


def test_the_abort_is_allowed_below_the_minimum_shared_with_the_customer_and_sent_to_the_business(call, operator_a, business_a):
    business_a.webhook_url = "https://hooks.example.com/verity"
    business_a.save()
    session, participant = call
    _report(session, participant, LOW)
    decision = _abort(participant, operator_a)
    assert decision.shared_with_customer is True
    event = WebhookEvent.objects.get(session=session, event_type=PARTICIPANT_DECIDED)
    assert json.loads(event.body)["data"]["decision"]["reason_code"] == "poor_conditions"


def _customer_client(client, participant):
    store = client.session
    customer_session_bind(store, participant)
    store.save()
    return client


def test_the_customers_ended_page_says_why_and_offers_a_new_try(call, operator_a, client):
    session, participant = call
    _abort(participant, operator_a)
    session_end(session=session, actor=Actor.operator(operator_a))
    page = _customer_client(client, participant).get(reverse("sessions_app:call"))
    assert page.status_code == 200
    assert page.context["page_data"]["result"]["poor_conditions"] is True
    assert b'id="ended-try-again"' in page.content


def test_a_new_try_is_one_new_session_however_often_it_is_asked_for(call, operator_a, client):
    session, participant = call
    _abort(participant, operator_a)
    _customer_client(client, participant)
    first = client.post(reverse("sessions_app:try_again"))
    assert first.status_code == 302 and first["Location"] == reverse("sessions_app:call")
    new = Participant.objects.get(retry_of=participant)
    assert new.session != session and new.session.workflow_id == session.workflow_id
    assert new.session.business_reference == session.business_reference and new.name == participant.name
    assert new.session.state == VerificationSession.State.CREATED
    # The browser is now the new participant's: its call page opens.
    assert client.get(reverse("sessions_app:call")).context["participant"] == new
    # The old page asked again (a second tab): the same new try.
    _customer_client(client, participant)
    client.post(reverse("sessions_app:try_again"))
    assert Participant.objects.filter(retry_of=participant).count() == 1
    assert AuditEvent.objects.filter(participant=participant, action="participant.new_try_started").count() == 1


def test_a_new_try_keeps_every_detail_of_the_customer_and_works_under_an_sms_code(business_a, workflow_a, operator_a):
    """Under an SMS one-time code the new session needs the phone: the new try
    copies it, with the e-mail, language, date of birth, reference and name."""
    _under_the_rule(workflow_a)
    workflow_a.rules = [regulations.CALL_CONDITIONS, regulations.TAN_AT_END]
    workflow_a.tan_channel = "sms"
    workflow_a.save()
    created = session_create(
        business=business_a, workflow=workflow_a, kind=VerificationSession.Kind.ONE_ON_ONE,
        participants=[ParticipantSpec(
            name="Max Mustermann", email="max@example.com", phone="+4915112345678", language="de",
            date_of_birth=datetime.date(1990, 5, 17), business_reference="CUST-7",
        )],
        business_reference="REF-1", actor=Actor.api(),
    )
    participant = created.links[0][0]
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    participant_join(participant=participant)
    session_assign_operator(session_id=created.session.pk, operator=operator_a)
    _abort(participant, operator_a)
    new = participant_try_again(participant=participant)
    for name in ("name", "email", "phone", "language", "date_of_birth", "business_reference"):
        assert getattr(new, name) == getattr(participant, name), name
    assert new.phone == "+4915112345678" and new.date_of_birth == datetime.date(1990, 5, 17)


def test_a_call_ended_for_another_reason_cannot_be_tried_again(call, operator_a, client):
    session, participant = call
    decision_record(participant=participant, operator=operator_a, outcome="retry", reason_code="poor_lighting")
    _customer_client(client, participant)
    assert client.post(reverse("sessions_app:try_again")).status_code == 410
    assert not Participant.objects.filter(retry_of=participant).exists()


def test_a_browser_without_a_link_cannot_start_a_new_try(call, operator_a, client):
    _session, participant = call
    _abort(participant, operator_a)
    assert client.post(reverse("sessions_app:try_again")).status_code == 403
    assert not Participant.objects.filter(retry_of=participant).exists()


# --- compliance --------------------------------------------------------------------


def test_compliance_sees_the_conditions_history_with_figures(call):
    session, participant = call
    for figures in (GOOD, LOW, GOOD):
        _report(session, participant, figures)
    (entry,) = session_review(session)["participants"]
    rows = entry["conditions_history"]
    assert [row["met"] for row in rows] == [False, True]
    assert rows[0]["below"] == ["video 240p (minimum 480p)"]
    assert rows[0]["summary"] == "Video 240p · 30 fps · loss 0.1 % · RTT 20 ms"
    record = session_record(session)
    assert [row["met"] for row in record["participants"][0]["call_conditions"]] == [False, True]


def test_the_review_page_shows_the_conditions_history(call, compliance_user, client):
    session, participant = call
    for figures in (GOOD, LOW):
        _report(session, participant, figures)
    client.force_login(compliance_user)
    page = client.get(reverse("admin:sessions_app_verificationsession_review", args=[session.pk]))
    assert page.status_code == 200
    assert "Below the minimum" in page.content.decode()
    assert "video 240p (minimum 480p)" in page.content.decode()


# --- the call socket ---------------------------------------------------------------


def _frame(participant_peer, figures=GOOD):
    return {"type": "call_conditions", "participant": participant_peer, **figures}


@pytest.fixture
def socket_call(transactional_db, business_a, workflow_a, operator_a):
    _under_the_rule(workflow_a)
    session, links = create_call(business_a, workflow_a)
    participant = links[0][0]
    participant_accept_terms(participant=participant, ip_address="192.0.2.10", user_agent="pytest")
    participant_join(participant=participant)
    session_assign_operator(session_id=session.pk, operator=operator_a)
    return session, participant


async def _in_call(sockets, session, participant, operator):  # noqa: F811
    customer = await sockets.customer(participant)
    operator_socket = await sockets.operator(operator, session)
    await operator_socket.receive_until("peer_joined")
    return customer, operator_socket


@pytest.mark.django_db(transaction=True)
async def test_the_operators_report_gets_the_verdict_and_lands_in_the_cache(sockets, socket_call, operator_a):  # noqa: F811
    session, participant = socket_call
    _customer, operator = await _in_call(sockets, session, participant, operator_a)
    await operator.send(_frame(peer_id(participant), LOW))
    answer = await operator.receive_until("call_conditions")
    assert answer == {
        "type": "call_conditions",
        "participant": peer_id(participant),
        "met": False,
        "summary": "Video 240p · 30 fps · loss 0.1 % · RTT 20 ms",
        "verdict": "below the minimum",
        "below": ["video 240p (minimum 480p)"],
    }
    latest = call_conditions.call_conditions_latest(peer_id(participant))
    assert latest["met"] is False and latest["measurement"]["video_height"] == 240
    assert await database_sync_to_async(_history_actions)(participant) == [BELOW_MINIMUM]


@pytest.mark.django_db(transaction=True)
async def test_a_report_in_german_reads_in_german(sockets, socket_call, operator_a):  # noqa: F811
    session, participant = socket_call
    await sockets.customer(participant)
    operator = await sockets.operator(operator_a, session, language="de")
    await operator.receive_until("peer_joined")
    await operator.send(_frame(peer_id(participant)))
    answer = await operator.receive_until("call_conditions")
    assert answer["met"] is True
    assert answer["verdict"] == "erfüllt die Mindestanforderungen"
    assert answer["summary"] == "Video 720p · 30 fps · Verlust 0,1 % · RTT 20 ms"


@pytest.mark.django_db(transaction=True)
async def test_reports_touch_the_database_only_on_a_change(sockets, socket_call, operator_a, monkeypatch):  # noqa: F811
    session, participant = socket_call
    _customer, operator = await _in_call(sockets, session, participant, operator_a)
    await operator.send(_frame(peer_id(participant)))
    await operator.receive_until("call_conditions")  # the first: the minimum read once, the history looked up
    statements = []
    original = CursorWrapper.execute

    def counting(self, sql, params=None):
        statements.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", counting)
    monkeypatch.setattr(call_conditions, "REPORT_MIN_INTERVAL_SECONDS", 0)
    for _ in range(5):
        await operator.send(_frame(peer_id(participant)))
        assert (await operator.receive_until("call_conditions"))["met"] is True
    assert statements == []
    await operator.send(_frame(peer_id(participant), LOW))
    await operator.receive_until("call_conditions")
    assert statements  # a change: written


@pytest.mark.django_db(transaction=True)
async def test_a_forged_participant_id_is_refused_and_nothing_is_stored(sockets, socket_call, operator_a):  # noqa: F811
    session, participant = socket_call
    _customer, operator = await _in_call(sockets, session, participant, operator_a)
    await operator.send(_frame("f" * 32, LOW))
    error = await operator.receive_until("error")
    assert error["code"] == "unknown_participant"
    assert call_conditions.call_conditions_latest("f" * 32) is None
    # The operator's own peer id is not a customer's either.
    await operator.send(_frame("operator", LOW))
    assert (await operator.receive_until("error"))["code"] == "unknown_participant"
    assert await operator.heartbeat_answered()


@pytest.mark.django_db(transaction=True)
async def test_a_customer_of_another_call_is_refused(sockets, socket_call, operator_a, other_call):  # noqa: F811
    session, participant = socket_call
    _customer, operator = await _in_call(sockets, session, participant, operator_a)
    await operator.send(_frame(peer_id(other_call.participant), LOW))
    assert (await operator.receive_until("error"))["code"] == "unknown_participant"
    assert call_conditions.call_conditions_latest(peer_id(other_call.participant)) is None


@pytest.mark.django_db(transaction=True)
async def test_a_malformed_report_gets_a_clear_error_and_changes_nothing(sockets, socket_call, operator_a):  # noqa: F811
    session, participant = socket_call
    _customer, operator = await _in_call(sockets, session, participant, operator_a)
    await operator.send(_frame(peer_id(participant), {**GOOD, "video_height": -240}))
    error = await operator.receive_until("error")
    assert error["code"] == "invalid"
    assert "video_height" in error["message"]
    assert call_conditions.call_conditions_latest(peer_id(participant)) is None
    assert await operator.heartbeat_answered()


@pytest.mark.django_db(transaction=True)
async def test_a_customer_may_not_report_call_conditions(sockets, socket_call, operator_a):  # noqa: F811
    session, participant = socket_call
    customer, _operator = await _in_call(sockets, session, participant, operator_a)
    await customer.send(_frame(peer_id(participant)))
    assert (await customer.receive_until("error"))["code"] == "forbidden"
    assert call_conditions.call_conditions_latest(peer_id(participant)) is None


@pytest.mark.django_db(transaction=True)
async def test_reports_faster_than_once_a_second_are_refused(sockets, socket_call, operator_a):  # noqa: F811
    session, participant = socket_call
    _customer, operator = await _in_call(sockets, session, participant, operator_a)
    await operator.send(_frame(peer_id(participant)))
    await operator.receive_until("call_conditions")
    await operator.send(_frame(peer_id(participant), LOW))
    assert (await operator.receive_until("error"))["code"] == "too_frequent"
    assert call_conditions.call_conditions_latest(peer_id(participant))["met"] is True


@pytest.mark.django_db(transaction=True)
async def test_a_call_without_the_rule_refuses_reports(sockets, answered_call, operator_a):  # noqa: F811
    _customer, operator = await _in_call(sockets, answered_call.session, answered_call.participant, operator_a)
    await operator.send(_frame(peer_id(answered_call.participant)))
    assert (await operator.receive_until("error"))["code"] == "not_required"
    assert call_conditions.call_conditions_latest(peer_id(answered_call.participant)) is None
