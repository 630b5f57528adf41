"""A customer's page can only answer captures requested of that very
customer: a capture of another session, or of another customer in the same
group call, does not exist for them."""

from sessions_app.models import Evidence
from tests.conftest import create_call
from tests.console import images
from tests.console.helpers import (
    customer_browser,
    customer_capture_url,
    customer_joins,
    error_code,
    upload,
)
from workflows import services as workflow_services


def test_customer_of_one_session_gets_404_uploading_to_capture_of_another(
    customer, business_a, workflow_a, operator_a2
):
    """Max (in Alice's call) tries a capture Anton requested in another Alpha Bank call."""
    from sessions_app.services import session_assign_operator

    session, links = create_call(business_a, workflow_a, names=("Jonas Weber",))
    other_customer = links[0][0]
    customer_joins(other_customer)
    session_assign_operator(session_id=session.pk, operator=operator_a2)
    step = other_customer.steps.get(kind="document")
    capture = workflow_services.capture_request_create(
        step=step, operator=operator_a2, kind=Evidence.Kind.DOCUMENT_FRONT
    )

    response = upload(customer, customer_capture_url(capture.public_id.hex), images.jpeg())

    assert response.status_code == 404
    assert error_code(response) == "unknown_capture"
    assert not Evidence.objects.filter(capture=capture).exists()


def test_customer_gets_404_uploading_to_capture_of_another_customer_in_the_same_call(group_call, operator_a):
    max_, erika = group_call.participants
    step = erika.steps.get(kind="document")
    capture = workflow_services.capture_request_create(
        step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT
    )
    max_browser = customer_browser(group_call.tokens[0])

    response = upload(max_browser, customer_capture_url(capture.public_id.hex), images.jpeg())

    assert response.status_code == 404
    assert not Evidence.objects.filter(capture=capture).exists()
    erika_browser = customer_browser(group_call.tokens[1])
    assert upload(erika_browser, customer_capture_url(capture.public_id.hex), images.jpeg()).status_code == 201


def test_browser_without_a_customer_cookie_cannot_upload(anonymous, document_capture):
    response = upload(anonymous, customer_capture_url(document_capture.public_id.hex), images.jpeg())

    assert response.status_code == 403
    assert not Evidence.objects.filter(capture=document_capture).exists()


def test_operator_login_is_not_a_customer_cookie(alice, document_capture):
    """Alice's own browser cannot use the customer's upload endpoint either."""
    response = upload(alice, customer_capture_url(document_capture.public_id.hex), images.jpeg())

    assert response.status_code == 403
    assert not Evidence.objects.filter(capture=document_capture).exists()
