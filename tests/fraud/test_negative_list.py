"""The business's negative list: entries written in one spelling, matched
against the participant's fingerprint, and a face entry's own copy of the
descriptor outliving the session it came from."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from operators.compliance.retention import session_erase
from operators.models import NegativeListEntry
from operators.repeat_applicants import negative_list_entry_normalise, seen_before_for
from tests.checks import fakes
from tests.fraud.conftest import applicant, descriptor

pytestmark = pytest.mark.django_db
Kind = NegativeListEntry.Kind


def entry(business, **fields) -> NegativeListEntry:
    item = NegativeListEntry(business=business, reason="Known fraudster", **fields)
    negative_list_entry_normalise(item)
    item.save()
    return item


def test_a_typed_document_number_is_written_as_the_mrz_writes_it(business_a):
    item = entry(business_a, kind=Kind.DOCUMENT_NUMBER, document_number=" c01x-00t47 ")
    assert item.document_number == fakes.DOCUMENT_NUMBER


def test_a_typed_name_matches_the_mrz_name_in_any_order_and_case(business_a, workflow_a):
    entry(business_a, kind=Kind.NAME_BIRTH_DATE, name="mustermann, Max", birth_date=dt.date(1980, 5, 17))
    _, participant = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    [hit] = seen_before_for([participant])[participant.pk]["negative_list"]
    assert (hit["kind"], hit["reason"]) == ("name_birth_date", "Known fraudster")


def test_a_document_number_on_the_list_is_reported(business_a, workflow_a):
    entry(business_a, kind=Kind.DOCUMENT_NUMBER, document_number="C01X00T47")
    _, participant = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    assert [hit["kind"] for hit in seen_before_for([participant])[participant.pk]["negative_list"]] == ["document_number"]


def test_another_business_list_does_not_apply(business_b, business_a, workflow_a):
    entry(business_b, kind=Kind.DOCUMENT_NUMBER, document_number="C01X00T47")
    _, participant = applicant(business_a, workflow_a, mrz_outcome=fakes.mrz_passed())
    assert seen_before_for([participant])[participant.pk]["negative_list"] == []


def test_a_face_entry_keeps_its_copy_after_the_session_is_erased(business_a, workflow_a):
    source, _ = applicant(business_a, workflow_a, face=descriptor(7))
    item = entry(business_a, kind=Kind.FACE, source_session=source)
    session_erase(session=source)
    item.refresh_from_db()
    assert item.face_descriptor
    _, participant = applicant(business_a, workflow_a, face=descriptor(7) + 0.005)
    _, stranger = applicant(business_a, workflow_a, face=descriptor(8))
    seen = seen_before_for([participant, stranger])
    assert [hit["kind"] for hit in seen[participant.pk]["negative_list"]] == ["face"]
    assert seen[stranger.pk]["negative_list"] == []


def test_a_face_entry_needs_a_session_of_the_business_with_a_face(business_a, business_b, workflow_b, workflow_a):
    elsewhere, _ = applicant(business_b, workflow_b, face=descriptor(7))
    with pytest.raises(ValidationError):
        entry(business_a, kind=Kind.FACE, source_session=elsewhere)
    faceless, _ = applicant(business_a, workflow_a)
    with pytest.raises(ValidationError):
        entry(business_a, kind=Kind.FACE, source_session=faceless)


def test_an_empty_entry_is_refused(business_a):
    with pytest.raises(ValidationError):
        entry(business_a, kind=Kind.DOCUMENT_NUMBER, document_number=" - ")
    with pytest.raises(ValidationError):
        entry(business_a, kind=Kind.NAME_BIRTH_DATE, name="Max Mustermann")


def test_a_name_with_umlauts_typed_by_a_person_matches_the_mrz_spelling(business_a, workflow_a):
    """ICAO writes Müller as MUELLER in the MRZ: the typed name is written so too."""
    entry(business_a, kind=Kind.NAME_BIRTH_DATE, name="Müller, Jörg", birth_date=dt.date(1980, 5, 17))
    _, participant = applicant(business_a, workflow_a, mrz_outcome=_mrz_named("MUELLER", "JOERG"))
    assert [hit["kind"] for hit in seen_before_for([participant])[participant.pk]["negative_list"]] == ["name_birth_date"]


def _mrz_named(surname, given_names):
    from tests.fraud.conftest import mrz

    return mrz(surname=surname, given_names=given_names)


def test_a_face_entry_from_a_session_of_several_participants_is_refused(business_a, workflow_a):
    """Whose face would it copy? A co-applicant must not land on the list."""
    from tests.conftest import create_call
    from tests.fraud.conftest import face_match
    from sessions_app.models import Evidence

    session, links = create_call(business_a, workflow_a, names=("Max Mustermann", "Erika Mustermann"))
    for seed, (participant, _link) in zip((7, 8), links):
        fakes.store(fakes.capture(participant, Evidence.Kind.FACE), face_match(descriptor(seed)))
    with pytest.raises(ValidationError, match="several participants"):
        entry(business_a, kind=Kind.FACE, source_session=session)


def test_copying_a_face_to_the_list_is_on_that_sessions_audit_trail(business_a, workflow_a, compliance_user):
    from operators.repeat_applicants import negative_list_entry_save
    from sessions_app.models import AuditEvent

    source, _ = applicant(business_a, workflow_a, face=descriptor(7))
    item = NegativeListEntry(business=business_a, kind=Kind.FACE, source_session=source, reason="Known fraudster")
    negative_list_entry_normalise(item)
    negative_list_entry_save(entry=item, user=compliance_user, created=True)

    event = AuditEvent.objects.get(session=source, action="negative_list.face_copied")
    assert (event.actor_kind, event.actor_user_id, event.data) == (AuditEvent.ActorKind.STAFF, compliance_user.pk, {"entry": item.pk})
    assert item.added_by == compliance_user
