"""Training attestations (OPERATOR_TRAINING): a session whose rule set has
the rule is offered only to operators with a current attestation for the
session's preset — not after a fallback, not when the business routes
nothing; the console's queue and the answer service follow from the one rule
(operators.routing.session_offered_to). Attestations are kept in the admin,
on the operator, by whoever may change the operator."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import BUSINESS_ADMINS_GROUP, OperatorTraining
from accounts.services import business_staff_add
from kyc import regulations
from operators import routing
from operators.selectors import queue_snapshot
from operators.services import SessionNotOffered, session_answer
from sessions_app.models import VerificationSession
from tests.regulated.conftest import with_preset, with_rules
from tests.routing.conftest import available, waiting

BAFIN = regulations.BAFIN_VIDEOIDENT


def _attest(operator, preset=BAFIN, *, days_ago=0, valid_days=365):
    attested_on = timezone.localdate() - timedelta(days=days_ago)
    return OperatorTraining.objects.create(
        operator=operator, preset=preset, attested_on=attested_on, valid_until=attested_on + timedelta(days=valid_days)
    )


@pytest.fixture
def bafin_call(business_a, workflow_a):
    """A BaFin VideoIdent call waiting in business A's queue, which routes nothing (fallback 0)."""
    with_preset(workflow_a, BAFIN)
    return waiting(business_a, workflow_a, language="de", waited=3600)


def _offer(session, operator):
    return routing.session_offered_to(session=session, operator=operator, now=timezone.now())


def test_an_operator_without_an_attestation_is_not_offered_the_call(bafin_call, operator_a):
    offer = _offer(bafin_call, operator_a)
    assert (offer.offered, offer.reason, offer.fallback_at) == (False, routing.NOT_ATTESTED, None)
    assert offer.label == "no current training for BaFin VideoIdent (Germany)"


def test_an_operator_whose_attestation_expired_is_not_offered_the_call(bafin_call, operator_a):
    _attest(operator_a, days_ago=400, valid_days=365)
    assert not _offer(bafin_call, operator_a).offered


def test_an_operator_with_a_current_attestation_is_offered_the_call(bafin_call, operator_a):
    _attest(operator_a, days_ago=30)
    assert (_offer(bafin_call, operator_a).offered, _offer(bafin_call, operator_a).reason) == (True, routing.OPEN)


def test_an_attestation_for_another_preset_does_not_count(bafin_call, operator_a):
    _attest(operator_a, regulations.RBI_VCIP)
    assert not _offer(bafin_call, operator_a).offered


def test_an_attestation_not_yet_begun_does_not_count(bafin_call, operator_a):
    _attest(operator_a, days_ago=-3)
    assert not _offer(bafin_call, operator_a).offered


def test_a_session_without_the_rule_needs_no_attestation(business_a, workflow_a, operator_a):
    with_rules(workflow_a, regulations.TAN_AT_END)
    session = waiting(business_a, workflow_a)
    assert _offer(session, operator_a).offered


def test_the_rule_is_read_from_the_sessions_snapshot_not_the_workflow(bafin_call, workflow_a, operator_a):
    with_rules(workflow_a)  # the workflow dropped its preset after the call was made
    assert not _offer(bafin_call, operator_a).offered


def test_the_untrained_operator_cannot_answer_and_the_trained_one_can(bafin_call, operator_a, operator_a2):
    _attest(operator_a2)
    with pytest.raises(SessionNotOffered):
        session_answer(session_id=bafin_call.pk, operator=operator_a)
    answered = session_answer(session_id=bafin_call.pk, operator=operator_a2)
    assert (answered.state, answered.operator_id) == (VerificationSession.State.IN_CALL, operator_a2.pk)


def test_the_queue_holds_the_call_back_from_the_untrained_operator_for_good(bafin_call, operator_a, operator_a2):
    _attest(operator_a2)
    untrained = queue_snapshot(operator=available(operator_a))
    trained = queue_snapshot(operator=available(operator_a2))
    assert (untrained["entries"], untrained["held_back"], untrained["reevaluate_in"]) == ([], 1, None)
    assert [call["id"] for call in trained["entries"]] == [bafin_call.public_id.hex]


def test_an_attestation_lasts_a_year_by_default(operator_a):
    training = OperatorTraining.objects.create(operator=operator_a, preset=BAFIN)
    assert training.attested_on == timezone.localdate()
    assert (training.valid_until - training.attested_on).days in (365, 366)


# --- admin -------------------------------------------------------------------------------


def _admin_of(business):
    user = get_user_model().objects.create_user("bea-admin", password="admin-pass-123456")
    business_staff_add(user=user, business=business, role=BUSINESS_ADMINS_GROUP)
    client = Client()
    client.force_login(user)
    return client, user


def _form(operator, **trainings) -> dict:
    return {
        "display_name": operator.display_name,
        "presence": operator.presence,
        "working_hours-TOTAL_FORMS": "0",
        "working_hours-INITIAL_FORMS": "0",
        "working_hours-MIN_NUM_FORMS": "0",
        "working_hours-MAX_NUM_FORMS": "1000",
        "trainings-TOTAL_FORMS": str(1 if trainings else 0),
        "trainings-INITIAL_FORMS": "0",
        "trainings-MIN_NUM_FORMS": "0",
        "trainings-MAX_NUM_FORMS": "1000",
        **{f"trainings-0-{name}": value for name, value in trainings.items()},
    }


def test_the_business_admin_records_an_attestation_on_their_operator(business_a, operator_a):
    client, user = _admin_of(business_a)
    url = reverse("admin:accounts_operator_change", args=[operator_a.pk])
    assert "trainings-TOTAL_FORMS" in client.get(url).content.decode()

    response = client.post(
        url, _form(operator_a, preset=BAFIN, attested_on="2026-12-01", valid_until="2027-12-01")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    [training] = OperatorTraining.objects.filter(operator=operator_a)
    assert (training.preset, str(training.valid_until), training.recorded_by) == (BAFIN, "2027-12-01", user)


def test_an_attestation_ending_before_it_began_is_refused(business_a, operator_a):
    client, _user = _admin_of(business_a)
    url = reverse("admin:accounts_operator_change", args=[operator_a.pk])
    response = client.post(url, _form(operator_a, preset=BAFIN, attested_on="2026-12-01", valid_until="2026-01-01"))
    assert response.status_code == 200
    assert "cannot end before it was given" in response.content.decode()
    assert not OperatorTraining.objects.exists()


def test_the_business_admin_cannot_reach_another_businesss_operator_trainings(business_a, operator_b):
    client, _user = _admin_of(business_a)
    url = reverse("admin:accounts_operator_change", args=[operator_b.pk])
    assert client.get(url).status_code in (302, 404)
    client.post(url, _form(operator_b, preset=BAFIN, attested_on="2026-12-01", valid_until="2027-12-01"))
    assert not OperatorTraining.objects.filter(operator=operator_b).exists()
