"""Serving an evidence file from private storage, with HTTP range requests.

Every view that hands evidence to a browser (the operator's console, the
compliance reviewer's recording player and the admin's evidence view) has
already decided that this user may see this evidence; this module only
sends the bytes: a range when one is asked for (a <video> seeks with them),
never cached, and a callback for the audit, once per look rather than once
per range.
"""

import asyncio
import logging
import mimetypes
import re
from collections.abc import Callable

from django.http import Http404, HttpResponse, StreamingHttpResponse

from kyc.evidence_crypto import EvidenceIntegrityError
from sessions_app.models import Evidence

logger = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
UNSATISFIABLE = "unsatisfiable"


def byte_range(header: str, size: int):
    """(start, end) inclusive for one satisfiable range; None to send the
    whole file (no header, a malformed one, or several ranges, which RFC 9110
    lets a server ignore); UNSATISFIABLE for 416."""
    match = _RANGE.match(header.strip()) if header else None
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
        if last and int(last) < start:
            return None
        if start >= size:
            return UNSATISFIABLE
        return start, end
    suffix = int(last)
    if suffix == 0 or size == 0:
        return UNSATISFIABLE
    return max(0, size - suffix), size - 1


def _blocks(opened, evidence: Evidence, start: int, length: int):
    """The plaintext of [start, start + length) in blocks, decrypted chunk by
    chunk as they come from the store. A file that fails authentication
    after the answer's head was sent cannot change its status any more: the
    body stops short (the browser sees a failed download, never wrong
    bytes), and the log says why."""
    try:
        yield from opened.encrypted.iter_range(start, length)
    except (EvidenceIntegrityError, OSError):
        logger.exception("evidence %s could not be sent whole", evidence.public_id)
        raise


async def _in_thread(blocks):
    # Under daphne a synchronous iterator would be read whole into memory
    # first (Django's ASGI handler lists it): read block by block in a thread.
    done = object()
    try:
        while (block := await asyncio.to_thread(next, blocks, done)) is not done:
            yield block
    finally:
        if hasattr(blocks, "close"):
            await asyncio.to_thread(blocks.close)


def _file_blocks(source):
    try:
        yield from iter(lambda: source.read(DOWNLOAD_BLOCK_BYTES), b"")
    finally:
        source.close()


DOWNLOAD_BLOCK_BYTES = 1024 * 1024


def file_download_response(request, source, *, file_name: str, content_type: str) -> StreamingHttpResponse:
    """A file made for this request (an export), sent as an attachment block
    by block and closed (a temporary file: deleted) when sent."""
    blocks = _file_blocks(source)
    response = StreamingHttpResponse(
        _in_thread(blocks) if hasattr(request, "scope") else blocks, content_type=content_type
    )
    source.seek(0, 2)
    response["Content-Length"] = str(source.tell())
    source.seek(0)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def evidence_integrity_failure(evidence: Evidence, error: Exception) -> HttpResponse:
    """The answer for a file that fails its integrity check: a plain
    statement for the person asking (no traceback, no content), the details
    in the log for the people who run Verity."""
    logger.error("evidence %s failed its integrity check: %s", evidence.public_id, error)
    return HttpResponse(
        "This evidence file failed its integrity check (it was changed or damaged at rest) "
        "and is not shown. The incident was logged.",
        status=409,
        content_type="text/plain; charset=utf-8",
    )


def _first_chunk_checked(opened, evidence: Evidence, start: int, length: int):
    # The first chunk of the range is decrypted before the answer's head
    # goes out, so a tampered file met where a player starts is refused with
    # a clear 409 instead of a stream that breaks off.
    if length <= 0:
        return None
    try:
        for _ in opened.encrypted.iter_range(start, 1):
            pass
    except EvidenceIntegrityError as error:
        return evidence_integrity_failure(evidence, error)
    return None


def _file_name(evidence: Evidence) -> str:
    content_type = evidence.content_type.split(";")[0].strip().lower()
    extension = {"image/jpeg": ".jpg", "video/webm": ".webm", "audio/webm": ".webm"}.get(content_type) or (
        mimetypes.guess_extension(content_type) or ".bin"
    )
    return f"{evidence.public_id.hex}{extension}"


def evidence_file_response(
    request, evidence: Evidence, *, on_look: Callable[[], None] | None = None, attachment: bool = False
) -> HttpResponse:
    """The evidence's file, whole or the one range asked for (206), 416 for a
    range past its end. ``on_look`` runs once per look: for a GET of the
    whole file or of a range from its first byte (where a player starts),
    not for the ranges a seeking player asks for next, nor for HEAD."""
    try:
        # Reads the header and unwraps the data key: a file that is not
        # Verity's ciphertext is refused here, before anything is sent.
        opened = evidence.file.storage.open_encrypted(evidence.file.name)
        size = opened.size
    except (FileNotFoundError, ValueError):
        raise Http404("The file is missing from storage.") from None
    except EvidenceIntegrityError as error:
        return evidence_integrity_failure(evidence, error)
    except OSError:
        logger.exception("the store of evidence %s did not answer", evidence.public_id)
        return HttpResponse(
            "The evidence store is not reachable just now. Try again in a moment.",
            status=503,
            content_type="text/plain; charset=utf-8",
            headers={"Retry-After": "5"},
        )
    etag = f'"{evidence.sha256}"'
    wanted = byte_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and if_range != etag:
        wanted = None  # the file the client has part of is not this one: send it whole
    if request.method == "GET" and wanted != UNSATISFIABLE:
        first, last = wanted if wanted else (0, size - 1)
        refused = _first_chunk_checked(opened, evidence, first, last - first + 1)
        if refused is not None:
            return refused  # before on_look: nothing was shown
    if on_look and request.method == "GET" and wanted != UNSATISFIABLE and (wanted is None or wanted[0] == 0):
        on_look()
    if wanted == UNSATISFIABLE:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = wanted if wanted else (0, size - 1)
        length = max(0, end - start + 1)
        if request.method == "HEAD":
            response = HttpResponse(status=206 if wanted else 200)
        else:
            blocks = (
                _in_thread(_blocks(opened, evidence, start, length))
                if hasattr(request, "scope")
                else _blocks(opened, evidence, start, length)
            )
            response = StreamingHttpResponse(blocks, status=206 if wanted else 200)
        response["Content-Length"] = str(length)
        if wanted:
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Type"] = evidence.content_type
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{_file_name(evidence)}"'
    return response
