"""When the operator asks again (a retake) before the customer's page
answered, the older request is cancelled: a late upload to it is refused with
409 and stored nowhere."""

from sessions_app.models import Evidence
from tests.console import images
from tests.console.helpers import error_code, evidence_files
from workflows import services as workflow_services
from workflows.models import CaptureRequest


def test_upload_to_a_capture_superseded_by_a_newer_one_is_409(
    uploader, answered_call, operator_a, document_capture, settings
):
    step = answered_call.participant.steps.get(kind="document")
    newer = workflow_services.capture_request_create(step=step, operator=operator_a, kind=Evidence.Kind.DOCUMENT_FRONT)
    document_capture.refresh_from_db()
    assert document_capture.state == CaptureRequest.State.CANCELLED

    response = uploader.send(document_capture, images.jpeg())

    assert response.status_code == 409
    assert error_code(response) == "rejected"
    assert not Evidence.objects.filter(capture=document_capture).exists()
    assert evidence_files(settings) == []
    assert uploader.send(newer, images.jpeg()).status_code == 201
