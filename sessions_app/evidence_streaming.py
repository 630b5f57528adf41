"""Serving an evidence file from private storage, with HTTP range requests.

Every view that hands evidence to a browser (the operator's console, the
compliance reviewer's recording player and the admin's evidence view) has
already decided that this user may see this evidence; this module only
sends the bytes: a range when one is asked for (a <video> seeks with them),
never cached, and a callback for the audit, once per look rather than once
per range.
"""

import asyncio
import mimetypes
import os
import re
from collections.abc import Callable

from django.http import Http404, HttpResponse, StreamingHttpResponse

from sessions_app.models import Evidence

STREAM_BLOCK_BYTES = 256 * 1024
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


def _read_blocks(path: str, start: int, length: int):
    with open(path, "rb") as source:
        source.seek(start)
        while length > 0:
            block = source.read(min(STREAM_BLOCK_BYTES, length))
            if not block:
                return
            length -= len(block)
            yield block


async def _read_blocks_async(path: str, start: int, length: int):
    # Under daphne a synchronous iterator would be read whole into memory
    # first (Django's ASGI handler lists it): read block by block in a thread.
    source = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(source.seek, start)
        while length > 0:
            block = await asyncio.to_thread(source.read, min(STREAM_BLOCK_BYTES, length))
            if not block:
                return
            length -= len(block)
            yield block
    finally:
        await asyncio.to_thread(source.close)


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
        path = evidence.file.path
        size = os.path.getsize(path)
    except (OSError, ValueError):
        raise Http404("The file is missing from storage.") from None
    etag = f'"{evidence.sha256}"'
    wanted = byte_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and if_range != etag:
        wanted = None  # the file the client has part of is not this one: send it whole
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
                _read_blocks_async(path, start, length) if hasattr(request, "scope") else _read_blocks(path, start, length)
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
