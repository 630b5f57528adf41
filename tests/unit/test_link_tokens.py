"""Customer link tokens: made, hashed, stored, expired, revoked and reissued."""

import base64
import hashlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from sessions_app.audit import Actor
from sessions_app.links import link_token_hash, link_token_new, link_url
from sessions_app.models import AuditEvent, Participant, VerificationSession
from sessions_app.selectors import LinkInvalid, participant_access_problem, participant_resolve_link
from sessions_app.services import (
    participant_decline_terms,
    participant_link_reissue,
    participant_link_revoke,
    session_cancel,
    session_end,
)
from tests.conftest import create_call


def _token(url: str) -> str:
    return url.rsplit("/v/", 1)[1]


def _resolve_problem(raw_token: str) -> str:
    with pytest.raises(LinkInvalid) as raised:
        participant_resolve_link(raw_token=raw_token)
    return raised.value.reason


# --- making and hashing ----------------------------------------------------------


def test_token_carries_at_least_128_random_bits():
    raw, _hash = link_token_new()
    decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    assert len(decoded) * 8 >= 128


def test_every_token_is_different():
    raws = {link_token_new()[0] for _ in range(1000)}
    assert len(raws) == 1000


def test_token_is_url_safe():
    raw, _hash = link_token_new()
    assert raw.replace("-", "").replace("_", "").isalnum()


def test_stored_hash_is_the_sha256_of_the_token_and_not_the_token():
    raw, token_hash = link_token_new()
    assert token_hash == hashlib.sha256(raw.encode()).hexdigest() == link_token_hash(raw)
    assert raw not in token_hash


def test_link_is_built_from_the_public_base_url(settings):
    settings.PUBLIC_BASE_URL = "https://kyc.example.com"
    assert link_url("abc") == "https://kyc.example.com/v/abc"


def test_raw_token_is_nowhere_in_the_database(live_call, operator_a):
    """Not in the participant row, not in the audit trail, not in any table."""
    raw = live_call.link_token
    participant_link_revoke(participant=live_call.participant, actor=Actor.operator(operator_a))
    rows_with_token = []
    for model in apps.get_models():
        for row in model.objects.all().values():
            if any(raw in str(value) for value in row.values()):
                rows_with_token.append((model.__name__, row))
    assert rows_with_token == []
    assert Participant.objects.get(pk=live_call.participant.pk).link_token_hash == link_token_hash(raw)


# --- resolving ----------------------------------------------------------------------


def test_live_link_resolves_to_its_participant(live_call):
    assert participant_resolve_link(raw_token=live_call.link_token) == live_call.participant


@pytest.mark.parametrize("raw_token", ["", "not-a-token", "x" * 129])
def test_unknown_empty_or_overlong_token_is_unknown(live_call, raw_token):
    assert _resolve_problem(raw_token) == LinkInvalid.UNKNOWN


def test_link_token_hash_itself_does_not_open_the_link(live_call):
    """Somebody who read the database cannot use what is stored there."""
    stored = Participant.objects.get(pk=live_call.participant.pk).link_token_hash
    assert _resolve_problem(stored) == LinkInvalid.UNKNOWN


# --- expiry -------------------------------------------------------------------------


def _expire(participant, *, ago=timedelta(seconds=1)):
    Participant.objects.filter(pk=participant.pk).update(link_expires_at=timezone.now() - ago)
    participant.refresh_from_db()


def test_expired_link_no_longer_resolves(live_call):
    _expire(live_call.participant)
    assert _resolve_problem(live_call.link_token) == LinkInvalid.EXPIRED


def test_link_is_expired_at_the_very_moment_of_expiry(live_call):
    now = timezone.now()
    live_call.participant.link_expires_at = now
    assert participant_access_problem(live_call.participant, now=now) == LinkInvalid.EXPIRED
    assert participant_access_problem(live_call.participant, now=now - timedelta(microseconds=1)) is None


def test_expiry_never_cuts_off_a_running_call(answered_call):
    _expire(answered_call.participant)
    assert participant_access_problem(answered_call.participant) is None


def test_expiry_keeps_a_waiting_customer_out_once_it_passes(waiting_call):
    _expire(waiting_call.participant)
    assert participant_access_problem(waiting_call.participant) == LinkInvalid.EXPIRED


def test_link_of_an_expired_session_is_expired(live_call):
    VerificationSession.objects.filter(pk=live_call.session.pk).update(state=VerificationSession.State.EXPIRED)
    assert _resolve_problem(live_call.link_token) == LinkInvalid.EXPIRED


# --- revocation ---------------------------------------------------------------------


def test_revoked_link_no_longer_resolves(live_call, operator_a):
    participant_link_revoke(participant=live_call.participant, actor=Actor.operator(operator_a))
    assert _resolve_problem(live_call.link_token) == LinkInvalid.REVOKED


def test_revocation_cuts_off_even_a_running_call(answered_call, operator_a):
    participant_link_revoke(participant=answered_call.participant, actor=Actor.operator(operator_a))
    participant = Participant.objects.get(pk=answered_call.participant.pk)
    assert participant_access_problem(participant) == LinkInvalid.REVOKED


def test_revocation_is_audited_once(live_call, operator_a):
    participant_link_revoke(participant=live_call.participant, actor=Actor.operator(operator_a))
    revoked_at = Participant.objects.get(pk=live_call.participant.pk).link_revoked_at
    participant_link_revoke(participant=live_call.participant, actor=Actor.operator(operator_a))
    assert Participant.objects.get(pk=live_call.participant.pk).link_revoked_at == revoked_at
    [event] = AuditEvent.objects.filter(participant=live_call.participant, action="participant.link_revoked")
    assert event.actor_user_id == operator_a.user_id


def test_link_of_a_cancelled_session_is_revoked(live_call):
    session_cancel(session=live_call.session, actor=Actor.api())
    assert _resolve_problem(live_call.link_token) == LinkInvalid.REVOKED


def test_link_of_a_finished_call_is_finished(answered_call, operator_a):
    session_end(session=answered_call.session, actor=Actor.operator(operator_a))
    assert _resolve_problem(answered_call.link_token) == LinkInvalid.FINISHED


def test_link_of_a_customer_who_declined_is_finished(business_a, workflow_a):
    _session, [(anna, anna_url), (_ben, _ben_url)] = create_call(
        business_a, workflow_a, names=("Anna Schmidt", "Ben Schmidt")
    )
    participant_decline_terms(participant=anna)
    assert _resolve_problem(_token(anna_url)) == LinkInvalid.FINISHED


# --- reissue --------------------------------------------------------------------------


def test_reissued_link_works_and_the_old_one_stops_at_once(live_call):
    new_url = participant_link_reissue(participant=live_call.participant, actor=Actor.api())
    assert _token(new_url) != live_call.link_token
    assert participant_resolve_link(raw_token=_token(new_url)) == live_call.participant
    assert _resolve_problem(live_call.link_token) == LinkInvalid.UNKNOWN


def test_reissue_stores_only_the_new_hash(live_call):
    new_url = participant_link_reissue(participant=live_call.participant, actor=Actor.api())
    assert Participant.objects.get(pk=live_call.participant.pk).link_token_hash == link_token_hash(_token(new_url))


def test_reissue_gives_a_revoked_or_expired_customer_a_fresh_link(live_call, operator_a):
    participant_link_revoke(participant=live_call.participant, actor=Actor.operator(operator_a))
    _expire(live_call.participant, ago=timedelta(days=1))
    new_url = participant_link_reissue(
        participant=live_call.participant, actor=Actor.operator(operator_a), link_ttl=timedelta(hours=2)
    )
    participant = participant_resolve_link(raw_token=_token(new_url))
    assert participant.link_revoked_at is None
    assert participant.link_expires_at > timezone.now() + timedelta(hours=1, minutes=59)


def test_reissue_is_audited(live_call, operator_a):
    participant_link_reissue(participant=live_call.participant, actor=Actor.operator(operator_a))
    event = AuditEvent.objects.get(participant=live_call.participant, action="participant.link_reissued")
    assert event.actor_user_id == operator_a.user_id
