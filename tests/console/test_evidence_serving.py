"""GET /console/evidence/<id> streams a captured image to an operator of the
business that owns it, and to nobody else, and asks every cache to forget it."""

import pytest
from django.utils import timezone

from tests.console.helpers import stored_bytes


def _url(evidence) -> str:
    return f"/console/evidence/{evidence.public_id.hex}"


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_operator_of_the_business_gets_the_stored_bytes_uncached(alice, stored_evidence):
    response = alice.get(_url(stored_evidence))

    assert response.status_code == 200
    assert _body(response) == stored_bytes(stored_evidence)
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"].replace(" ", "").split(",")
    assert response["Content-Disposition"] == f'inline; filename="{stored_evidence.public_id.hex}.jpg"'


def test_colleague_of_the_same_business_may_look_at_the_evidence(anton, stored_evidence):
    """Anton (same business, not on the call) reviews Alpha Bank's evidence: allowed."""
    response = anton.get(_url(stored_evidence))

    assert response.status_code == 200
    _body(response)


def test_operator_of_another_business_gets_404(bob, stored_evidence):
    response = bob.get(_url(stored_evidence))

    assert response.status_code == 404
    assert stored_bytes(stored_evidence) not in response.content


def test_anonymous_browser_is_sent_to_login(anonymous, stored_evidence):
    response = anonymous.get(_url(stored_evidence))

    assert response.status_code == 302
    assert response.url.startswith("/console/login/")


def test_outsider_is_refused(oscar, stored_evidence):
    response = oscar.get(_url(stored_evidence))

    assert response.status_code == 403
    assert stored_bytes(stored_evidence) not in response.content


def test_the_customer_who_took_the_picture_cannot_download_it(customer, stored_evidence):
    response = customer.get(_url(stored_evidence))

    assert response.status_code == 302
    assert response.url.startswith("/console/login/")


def test_erased_evidence_is_404_even_for_its_business(alice, stored_evidence):
    stored_evidence.erased_at = timezone.now()
    stored_evidence.save(update_fields=["erased_at"])

    assert alice.get(_url(stored_evidence)).status_code == 404


@pytest.mark.parametrize("evidence_id", ["00000000000000000000000000000000", "nope", "1"])
def test_unknown_evidence_id_is_404(evidence_id, alice, stored_evidence):
    assert alice.get(f"/console/evidence/{evidence_id}").status_code == 404


def test_evidence_is_not_reachable_under_static_or_media_urls(alice, stored_evidence):
    for prefix in ("/static/", "/media/"):
        assert alice.get(prefix + stored_evidence.file.name).status_code == 404
