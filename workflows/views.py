"""What the customer's page sends for the workflow: the full-resolution frame
that answers a capture request (and, through the console, the frame the
operator received), and an answer typed or chosen in the call's frame."""

import logging

from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils.translation import gettext as _

from kyc.http import json_error
from kyc.ids import uuid_or_none
from sessions_app.images import MAX_UPLOAD_BYTES, InvalidImage
from sessions_app.models import Evidence, Participant
from sessions_app.views import customer_view
from workflows.models import CaptureRequest
from workflows.services import evidence_store_image, question_customer_answer

logger = logging.getLogger(__name__)


def evidence_upload_response(request, *, capture: CaptureRequest, source: str):
    """Store the image in the request's field ``image`` as evidence for the
    capture, and answer JSON: 201 with its id and SHA-256, or a clear error."""
    upload = request.FILES.get("image")
    if upload is None:
        return json_error("missing_file", "Send the image in the field 'image'.", 400)
    if upload.size > MAX_UPLOAD_BYTES:  # refused before it is read into memory
        return json_error("too_large", "The image is too large.", 400)
    try:
        frame = int(request.POST.get("frame", "0"))
        evidence = evidence_store_image(capture=capture, source=source, data=upload.read(), frame_index=frame)
    except ValueError:
        return json_error("invalid", "frame must be a number.", 400)
    except InvalidImage as error:
        return json_error(error.code, error.message, 400)
    except ValidationError as error:
        return json_error("rejected", " ".join(error.messages), 409)
    except OSError:
        # The evidence store is down or full: nothing was kept (the row
        # rolled back with the file), and the page may send it again.
        logger.exception("a capture for %s could not be stored", capture.public_id)
        return json_error("storage_unavailable", "The image could not be stored just now; send it again.", 503)
    return JsonResponse({"evidence": evidence.public_id.hex, "sha256": evidence.sha256}, status=201)


@customer_view
def capture_upload(request, participant: Participant, capture_id: str):
    """The customer's page sends the frame it grabbed from its own camera.
    Only a capture requested of this very participant is accepted."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    capture = CaptureRequest.objects.filter(public_id=uuid_or_none(capture_id), participant=participant).first()
    if capture is None:
        return json_error("unknown_capture", "No such capture was requested of you.", 404)
    return evidence_upload_response(request, capture=capture, source=Evidence.Source.CUSTOMER_DEVICE)


@customer_view
def question_answer(request, participant: Participant):
    """The customer's answer to the question in their frame: ``prompt`` (the
    id of the prompt that asked it), ``question`` (its number) and ``answer``
    (typed) or ``choice`` (the choice's number). Only the question shown to
    this very participant now is accepted."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        prompt_id = int(request.POST.get("prompt", ""))
        question = int(request.POST.get("question", ""))
        choice = int(request.POST["choice"]) if "choice" in request.POST else None
    except ValueError:
        return json_error("invalid", _("prompt, question and choice must be numbers."), 400)
    try:
        question_customer_answer(
            participant=participant,
            prompt_id=prompt_id,
            question=question,
            text=request.POST.get("answer"),
            choice=choice,
        )
    except ValidationError as error:
        return json_error(error.code or "rejected", " ".join(error.messages), 409)
    return JsonResponse({"ok": True})
