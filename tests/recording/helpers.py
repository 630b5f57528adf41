"""Uploads as the operator's page sends them."""

import hashlib
import uuid

from django.urls import reverse


def start_url(session) -> str:
    return reverse("operators:recording_start", args=[session.public_id.hex])


def start(client, session, stream: str, *, recording_id: str | None = None, mime_type="video/webm;codecs=vp8,opus", elapsed_ms=0):
    return client.post(
        start_url(session),
        {"id": recording_id or str(uuid.uuid4()), "stream": stream, "mime_type": mime_type, "elapsed_ms": elapsed_ms},
    )


def chunk_url(session, recording_id: str, index: int) -> str:
    return reverse("operators:recording_chunk", args=[session.public_id.hex, recording_id, index])


def put_chunk(client, session, recording_id: str, index: int, data: bytes, *, sha256: str | None = None):
    return client.put(
        chunk_url(session, recording_id, index),
        data=data,
        content_type="application/octet-stream",
        headers={"X-Chunk-SHA256": sha256 if sha256 is not None else hashlib.sha256(data).hexdigest()},
    )


def status(client, session, recording_id: str):
    return client.get(reverse("operators:recording", args=[session.public_id.hex, recording_id]))


def finish(client, session, recording_id: str, chunks: int):
    return client.post(reverse("operators:recording_finish", args=[session.public_id.hex, recording_id]), {"chunks": chunks})


def split(data: bytes, parts: int) -> list[bytes]:
    """Cut anywhere, as a page splitting a big blob may: the server only ever
    concatenates."""
    size = -(-len(data) // parts)
    return [data[i : i + size] for i in range(0, len(data), size)]


def error_code(response) -> str:
    return response.json()["error"]["code"]


def customer_stream(participant) -> str:
    return participant.public_id.hex
