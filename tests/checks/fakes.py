"""Check results made by hand, for tests about where results go (the
operator's panel, the API, compliance, webhooks, retention) rather than
what the engines see: no OCR or face model runs, so these tests take
milliseconds. The outcomes have the shape the engines give."""

import hashlib
import io

from django.core.files.base import ContentFile
from PIL import Image

from sessions_app.models import Evidence
from workflows.check_services import check_result_store
from workflows.checks.results import CheckOutcome, Reason, reason

# Max Mustermann's passport, as the MRZ engine reads it.
DOCUMENT_NUMBER = "C01X00T47"
MRZ_FIELDS = {
    "layout": "TD3",
    "lines": ["P<D<<MUSTERMANN<<MAX<<<<<<<<<<<<<<<<<<<<<<<<", "C01X00T478D<<8005177M3101019<<<<<<<<<<<<<<<4"],
    "raw_lines": ["P<D<<MUSTERMANN<<MAX<<<<<<<<<<<<<<<<<<<<<<<<", "C01X00T478D<<8005177M3101019<<<<<<<<<<<<<<<4"],
    "document_code": "P",
    "issuing_state": "D",
    "surname": "MUSTERMANN",
    "given_names": "MAX",
    "document_number": DOCUMENT_NUMBER,
    "nationality": "D",
    "birth_date": "1980-05-17",
    "sex": "M",
    "expiry_date": "2031-01-01",
    "optional_data": "",
    "check_digits": {"document_number": True, "birth_date": True, "expiry_date": True, "composite": True},
    "repairs": [],
    "ambiguous": [],
    "name_uncertain": False,
}


def evidence_from_bytes(participant, kind, data: bytes, *, content_type: str, width: int, height: int,
                        source=Evidence.Source.CUSTOMER_DEVICE, label="", frame_index=0) -> Evidence:
    """An image stored as the capture service stores it (private storage, its SHA-256)."""
    extension = "png" if content_type == "image/png" else "jpg"
    evidence = Evidence(
        session=participant.session,
        participant=participant,
        kind=kind,
        source=source,
        label=label,
        frame_index=frame_index,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )
    evidence.file.save(f"{participant.session.public_id.hex}/{evidence.public_id.hex}.{extension}", ContentFile(data),
                       save=False)
    evidence.save()
    return evidence


def capture(participant, kind=Evidence.Kind.DOCUMENT_FRONT, *, source=Evidence.Source.CUSTOMER_DEVICE, label="",
            frame_index=0) -> Evidence:
    """A stored capture (a small PNG): for tests that never look at the pixels."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 130, 140)).save(buffer, format="PNG")
    return evidence_from_bytes(participant, kind, buffer.getvalue(), content_type="image/png", width=32, height=24,
                               source=source, label=label, frame_index=frame_index)


def mrz_passed() -> CheckOutcome:
    return CheckOutcome(
        kind="mrz", status="passed", score=0.97, engine="rapidocr", engine_version="test-mrz",
        details={"fields": dict(MRZ_FIELDS), "age": 45, "name_match": "match", "birth_date_match": True,
                 "ocr_confidence": 0.97, "rotation": 0, "text_seen": "P<D<<MUSTERMANN"},
    )


def mrz_name_mismatch() -> CheckOutcome:
    return CheckOutcome(
        kind="mrz", status="failed", score=0.9, engine="rapidocr", engine_version="test-mrz",
        reasons=[Reason("mrz.name_mismatch", "The name on the document (MAX MUSTERMANN) is not the name the "
                                             "business sent (Erika Musterfrau).")],
        details={"fields": dict(MRZ_FIELDS), "name_match": "mismatch"},
    )


def quality_passed() -> CheckOutcome:
    return CheckOutcome(
        kind="quality", status="passed", score=1.0, engine="opencv", engine_version="test-quality",
        details={"capture_kind": "document", "width": 1280, "height": 720, "sharpness": 900.0, "brightness": 130.0,
                 "glare_share": 0.0},
    )


def quality_blurred() -> CheckOutcome:
    return CheckOutcome(
        kind="quality", status="needs_review", score=0.75, engine="opencv", engine_version="test-quality",
        reasons=[reason("quality.blurred", "The capture is blurred (sharpness %(sharpness).0f, at least %(minimum).0f "
                                           "needed).",
                        "Ask the customer to hold still and let the camera focus, then capture again.",
                        sharpness=12.0, minimum=60.0)],
        details={"capture_kind": "document", "width": 1280, "height": 720, "sharpness": 12.0, "brightness": 130.0,
                 "glare_share": 0.0},
    )


def face_match_passed() -> CheckOutcome:
    return CheckOutcome(
        kind="face_match", status="passed", score=0.9, engine="dlib", engine_version="test-face",
        details={"threshold": 0.6, "distance": 0.12, "live_faces": 1, "document_faces": 1},
    )


def store(evidence: Evidence, outcome: CheckOutcome, *, version: str | None = None):
    """Keep an outcome the way the Celery task does."""
    return check_result_store(
        subject=evidence, kind=outcome.kind, engine_version=version or outcome.engine_version, outcome=outcome
    )
