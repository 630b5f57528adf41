"""Document security features (kyc.regulations.SECURITY_FEATURES): drawn at
random for each call from different categories, the business's own entries
first; ticked only after the customer's page showed the tilt prompt, each tick
bound to a captured frame; approval refused below the minimum."""

import pytest
from django.core.exceptions import ValidationError

from kyc import regulations
from operators.approval_gates import approval_problem, approval_requirements
from operators.services import decision_record
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Evidence
from sessions_app.services import participant_prompt_confirm, participant_set_prompt
from tests.console.helpers import image_file, operator_browser, operator_capture_url, step_post
from tests.console.images import jpeg
from tests.conftest import LiveCall, create_call
from workflows import security_features as sf
from workflows.models import SecurityFeature, SecurityFeatureCheck
from workflows.selectors import security_features_for_operator
from workflows.services import evidence_store_image

CATEGORIES = set(SecurityFeature.Category.values)


def regulated(workflow, minimum=3):
    """``workflow`` switched to the custom preset with SECURITY_FEATURES on."""
    workflow.preset = regulations.CUSTOM
    workflow.rules = [regulations.SECURITY_FEATURES]
    workflow.security_features_minimum = minimum
    workflow.save()
    return workflow


@pytest.fixture
def features_call(business_a, workflow_a, operator_a, request) -> LiveCall:
    """Alice's answered call of a workflow that checks three security features."""
    regulated(workflow_a)
    return request.getfixturevalue("answered_call")


def document_step(call):
    return call.participant.steps.get(kind="document")


def tilt_shown(call):
    """The operator asks to tilt and the customer's page confirms showing it."""
    prompt = participant_set_prompt(
        participant=call.participant, prompt={"code": sf.TILT_PROMPT}, actor=Actor.system()
    )
    participant_prompt_confirm(participant_id=call.participant.pk, prompt_id=prompt["id"])


def tick(call, operator, check, *, source=Evidence.Source.OPERATOR_VIEW):
    capture = sf.security_feature_tick(step=document_step(call), operator=operator, check_id=check.public_id.hex)
    return evidence_store_image(capture=capture, source=source, data=jpeg())


# --- the draw ------------------------------------------------------------------------


def test_the_minimum_of_features_is_drawn_each_from_a_different_category(features_call, operator_a):
    checks = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")
    assert len(checks) == 3
    assert len({check.category for check in checks}) == 3
    assert all(check.feature.document_kind == "id_card" and check.feature.category == check.category for check in checks)
    assert [check.position for check in checks] == [0, 1, 2]
    event = AuditEvent.objects.get(participant=features_call.participant, action="security_features.chosen")
    assert event.data["document_kind"] == "id_card" and len(event.data["features"]) == 3


def test_the_draw_varies_between_calls(business_a, workflow_a, operator_a):
    """Forty draws of three of the default catalogue's 8 id card features never all come out alike."""
    regulated(workflow_a)
    seen = set()
    for _ in range(40):
        seen.add(tuple(sorted(f.pk for f in sf._draw(business_a, "id_card", 3))))
    assert len(seen) > 5


def test_the_business_own_entries_are_preferred_over_the_defaults(features_call, operator_a, business_a):
    own = {
        category: SecurityFeature.objects.create(
            business=business_a, document_kind="id_card", category=category,
            name={"en": f"Alpha {category}"}, instruction={"en": "Look closely."},
        )
        for category in CATEGORIES
    }
    checks = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")
    assert {check.feature_id for check in checks} <= {feature.pk for feature in own.values()}


def test_another_business_entries_are_never_drawn(business_a, business_b):
    theirs = {
        SecurityFeature.objects.create(
            business=business_b, document_kind="passport", category=category,
            name={"en": "Beta only"}, instruction={"en": "—"},
        ).pk
        for category in CATEGORIES
    }
    for _ in range(20):
        assert not {f.pk for f in sf._draw(business_a, "passport", 4)} & theirs


def test_too_few_categories_in_the_catalogue_is_said_clearly(features_call, operator_a):
    SecurityFeature.objects.filter(document_kind="passport", category__in=["material", "security_printing"]).update(
        active=False
    )
    with pytest.raises(ValidationError) as refused:
        sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="passport")
    assert refused.value.code == "not_enough_features"
    assert "2 categories" in refused.value.messages[0] and "needs 3" in refused.value.messages[0]
    assert not SecurityFeatureCheck.objects.exists()


def test_asking_again_for_the_same_document_keeps_the_draw(features_call, operator_a):
    step = document_step(features_call)
    first = sf.security_features_choose(step=step, operator=operator_a, document_kind="id_card")
    again = sf.security_features_choose(step=step, operator=operator_a, document_kind="id_card")
    assert [c.pk for c in first] == [c.pk for c in again]


def test_switching_document_and_back_keeps_the_first_draw(features_call, operator_a):
    """Identity card, passport, identity card again: the first identity card
    draw comes back; an operator cannot redraw by switching documents."""
    step = document_step(features_call)
    first = sf.security_features_choose(step=step, operator=operator_a, document_kind="id_card")
    for _ in range(5):
        passport = sf.security_features_choose(step=step, operator=operator_a, document_kind="passport")
        assert security_features_for_operator(features_call.participant)["document_kind"] == "passport"
        again = sf.security_features_choose(step=step, operator=operator_a, document_kind="id_card")
        assert [(c.pk, c.feature_id) for c in again] == [(c.pk, c.feature_id) for c in first]
        assert [c.pk for c in sf.security_features_choose(step=step, operator=operator_a, document_kind="passport")] == [
            c.pk for c in passport
        ]
        sf.security_features_choose(step=step, operator=operator_a, document_kind="id_card")
    # One draw per document, kept for good; only the current one is shown and counts.
    assert SecurityFeatureCheck.objects.filter(participant=features_call.participant).count() == 6
    panel = security_features_for_operator(features_call.participant)
    assert panel["document_kind"] == "id_card"
    assert [f["id"] for f in panel["features"]] == [c.public_id.hex for c in first]


def test_a_feature_of_a_document_switched_away_from_cannot_be_ticked(features_call, operator_a):
    step = document_step(features_call)
    id_card = sf.security_features_choose(step=step, operator=operator_a, document_kind="id_card")
    sf.security_features_choose(step=step, operator=operator_a, document_kind="passport")
    tilt_shown(features_call)
    with pytest.raises(ValidationError) as refused:
        sf.security_feature_tick(step=step, operator=operator_a, check_id=id_card[0].public_id.hex)
    assert refused.value.code == "unknown_feature"


def test_a_document_the_workflow_does_not_accept_is_refused(features_call, operator_a):
    with pytest.raises(ValidationError) as refused:
        sf.security_features_choose(
            step=document_step(features_call), operator=operator_a, document_kind="driving_licence"
        )
    assert refused.value.code == "unknown_document"


def test_nothing_is_drawn_for_a_call_without_the_rule(answered_call, operator_a):
    with pytest.raises(ValidationError) as refused:
        sf.security_features_choose(step=document_step(answered_call), operator=operator_a, document_kind="id_card")
    assert refused.value.code == "not_required"
    assert security_features_for_operator(answered_call.participant) is None
    assert [r.code for r in approval_requirements(answered_call.participant)] == []


# --- the ticks -----------------------------------------------------------------------


def test_a_tick_before_the_tilt_prompt_was_shown_is_refused(features_call, operator_a):
    check = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")[0]
    with pytest.raises(ValidationError) as refused:
        sf.security_feature_tick(step=document_step(features_call), operator=operator_a, check_id=check.public_id.hex)
    assert refused.value.code == "tilt_first"
    # Sent but not yet shown by the customer's page is still too early.
    participant_set_prompt(participant=features_call.participant, prompt={"code": sf.TILT_PROMPT}, actor=Actor.system())
    with pytest.raises(ValidationError):
        sf.security_feature_tick(step=document_step(features_call), operator=operator_a, check_id=check.public_id.hex)


def test_a_tilt_shown_before_the_draw_does_not_unlock_the_ticks(features_call, operator_a):
    """The customer tilted before the features were drawn: the operator asks
    again, and only a tilt confirmed after the draw lets them tick."""
    tilt_shown(features_call)
    participant_set_prompt(participant=features_call.participant, prompt=None, actor=Actor.system())
    assert not security_features_for_operator(features_call.participant)["tilt_shown"]
    check = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")[0]
    assert not security_features_for_operator(features_call.participant)["tilt_shown"]
    with pytest.raises(ValidationError) as refused:
        sf.security_feature_tick(step=document_step(features_call), operator=operator_a, check_id=check.public_id.hex)
    assert refused.value.code == "tilt_first"
    tilt_shown(features_call)
    assert security_features_for_operator(features_call.participant)["tilt_shown"]
    tick(features_call, operator_a, check)
    check.refresh_from_db()
    assert check.checked


def test_a_tick_is_bound_to_its_frame_and_the_time_in_the_call(features_call, operator_a):
    check = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")[0]
    tilt_shown(features_call)
    evidence = tick(features_call, operator_a, check)
    check.refresh_from_db()
    assert check.checked and check.evidence == evidence and check.checked_by == operator_a
    assert evidence.kind == Evidence.Kind.SECURITY_FEATURE and evidence.label == check.public_id.hex
    assert check.offset_seconds is not None and check.offset_seconds >= 0
    event = AuditEvent.objects.get(action="security_feature.checked")
    assert event.data["evidence"] == str(evidence.public_id) and event.actor_user_id == operator_a.user_id
    # The customer's full-resolution frame of the same capture replaces the operator's.
    full = evidence_store_image(capture=check.capture, source=Evidence.Source.CUSTOMER_DEVICE, data=jpeg())
    check.refresh_from_db()
    assert check.evidence == full
    assert AuditEvent.objects.filter(action="security_feature.checked").count() == 1


def test_a_feature_is_ticked_once(features_call, operator_a):
    check = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")[0]
    tilt_shown(features_call)
    tick(features_call, operator_a, check)
    with pytest.raises(ValidationError) as refused:
        tick(features_call, operator_a, check)
    assert refused.value.code == "already_checked"


def test_another_participant_feature_is_refused(features_call, operator_a, business_b, workflow_b, operator_b):
    """Bob's call of Beta Bank: his feature's id sent in Alice's call is not found."""
    regulated(workflow_b)
    session_b, links = create_call(business_b, workflow_b, names=("Erika Musterfrau",))
    participant_b = links[0][0]
    foreign = SecurityFeatureCheck.objects.create(
        participant=participant_b, feature=SecurityFeature.objects.filter(business=None).first(),
        document_kind="id_card", category="material", position=0, chosen_at=session_b.created_at,
    )
    sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")
    tilt_shown(features_call)
    with pytest.raises(ValidationError) as refused:
        sf.security_feature_tick(step=document_step(features_call), operator=operator_a, check_id=foreign.public_id.hex)
    assert refused.value.code == "unknown_feature"


def test_an_operator_not_of_this_call_cannot_tick(features_call, operator_a, operator_a2):
    check = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")[0]
    tilt_shown(features_call)
    with pytest.raises(ValidationError):
        sf.security_feature_tick(step=document_step(features_call), operator=operator_a2, check_id=check.public_id.hex)


# --- the gate ------------------------------------------------------------------------


def test_approval_is_refused_until_the_minimum_is_ticked(features_call, operator_a):
    participant = features_call.participant
    checks = sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="passport")
    tilt_shown(features_call)
    tick(features_call, operator_a, checks[0])
    tick(features_call, operator_a, checks[1])
    assert approval_problem(participant) == "2 of 3 security features checked."
    with pytest.raises(ValidationError) as refused:
        decision_record(
            participant=participant, operator=operator_a, outcome="approve", reason_code="verified",
            comment="", override_confirmed=True,
        )
    assert "2 of 3 security features checked." in " ".join(refused.value.messages)

    tick(features_call, operator_a, checks[2])
    assert approval_problem(participant) is None
    decision_record(
        participant=participant, operator=operator_a, outcome="approve", reason_code="verified",
        comment="", override_confirmed=True,
    )


def test_the_operator_panel_shows_the_features_and_the_tilt(features_call, operator_a):
    participant = features_call.participant
    assert security_features_for_operator(participant) == {
        "minimum": 3, "document_kind": None, "tilt_shown": False, "features": []
    }
    sf.security_features_choose(step=document_step(features_call), operator=operator_a, document_kind="id_card")
    tilt_shown(features_call)
    panel = security_features_for_operator(participant)
    assert panel["document_kind"] == "id_card" and panel["tilt_shown"]
    assert len(panel["features"]) == 3
    assert all(f["name"]["en"] and f["name"]["de"] and f["instruction"]["de"] for f in panel["features"])
    assert not any(f["checked"] for f in panel["features"])


def test_the_default_catalogue_has_two_features_per_category_and_document(db):
    for kind in ("passport", "id_card", "residence_permit", "driving_licence"):
        for category in CATEGORIES:
            assert SecurityFeature.objects.filter(
                business=None, document_kind=kind, category=category, active=True
            ).count() >= 2, (kind, category)


# --- the operator's console, over HTTP --------------------------------------------------


def test_the_console_draws_and_ticks_through_the_document_step(features_call, operator_a, operator_b):
    """Alice draws and ticks; Bob of Beta Bank cannot reach her call's step."""
    session, participant = features_call.session, features_call.participant
    alice = operator_browser(operator_a.user)
    assert step_post(alice, session, participant, "document", "features", document_kind="id_card").status_code == 200
    check = participant.security_feature_checks.first()
    refused = step_post(alice, session, participant, "document", "feature_tick", feature=check.public_id.hex)
    assert refused.status_code == 409 and "tilt the document first" in refused.json()["error"]["message"]

    tilt_shown(features_call)
    answer = step_post(alice, session, participant, "document", "feature_tick", feature=check.public_id.hex)
    assert answer.status_code == 200 and answer.json()["kind"] == "security_feature"
    upload = alice.post(operator_capture_url(session, answer.json()["capture"]), {"image": image_file(jpeg())})
    assert upload.status_code == 201
    check.refresh_from_db()
    assert check.checked and check.evidence.source == Evidence.Source.OPERATOR_VIEW

    bob = operator_browser(operator_b.user)
    other = participant.security_feature_checks.filter(checked_at__isnull=True).first()
    assert step_post(bob, session, participant, "document", "feature_tick", feature=other.public_id.hex).status_code in (403, 404)
    other.refresh_from_db()
    assert other.capture_id is None
