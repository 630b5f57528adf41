"""Request bodies: refused before they are read, not after.

Without this, one anonymous 60 MB POST held ~700 MB of the server for
seconds before the view's 403: every layer buffers the whole body before the
next one looks at it. Twisted (daphne's HTTP parser) writes it to a temporary
file as it arrives (``Request.gotLength`` picks the file,
``handleContentChunk`` fills it); when the last byte is in, daphne's
``WebRequest.process`` reads the file back and queues the whole of it for the
application in 8 KB messages, all at once; Django's ASGIHandler then spools
it again, and multipart parsing reads it once more. None of them asks who is
sending or how much the route could ever accept.

So the check sits where the headers end, before the first byte of body:
``BodyLimitedRequest.gotLength`` (Twisted calls it once the headers are in,
with the declared Content-Length, or None for a chunked body) looks up the
route's cap and credential in settings.REQUEST_BODY_LIMITS, answers 413 (or
403/401 when the credential the route needs is missing) and closes the
connection, so the body is never read. A chunked body declares no length:
``handleContentChunk`` counts it and stops at the cap. Only the presence of
the credential is checked here (a cookie, a bearer key: the reactor thread
must not wait on the database); ``RequestBodyLimitMiddleware`` checks that it
is valid, and repeats the whole check for servers other than daphne
(runserver, uvicorn), before any view or CSRF check touches request.POST.

kyc/serve.py installs the daphne part: ``python -m kyc.serve`` (not plain
daphne) is how Verity is served.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from urllib.parse import unquote

from daphne import http_protocol
from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Credentials a route may need before its body is read (settings.REQUEST_BODY_LIMITS).
CUSTOMER = "customer"
STAFF = "staff"
API_KEY = "api_key"


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    credential: str | None


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    api: bool

    def content_type(self) -> str:
        return "application/problem+json" if self.api else "application/json"

    def body(self) -> bytes:
        # The API speaks problem+json (operators/api/problems.py), the rest
        # kyc.http.json_error's shape: a client sees the error it expects.
        if self.api:
            document = {
                "type": f"urn:verity:problem:{self.code}",
                "code": self.code,
                "title": self.message,
                "detail": self.message,
                "status": self.status,
                "errors": {},
            }
        else:
            document = {"error": {"code": self.code, "message": self.message}}
        return json.dumps(document).encode()


def body_limit_for(path: str) -> BodyLimit:
    """The cap and credential of the longest prefix of settings.REQUEST_BODY_LIMITS
    that the (decoded) path starts with."""
    table = settings.REQUEST_BODY_LIMITS
    prefix = max((p for p in table if path.startswith(p)), key=len, default=None)
    if prefix is None:
        return BodyLimit(settings.REQUEST_MAX_FORM_BYTES, None)
    max_bytes, credential = table[prefix]
    return BodyLimit(max_bytes, credential)


def credential_present(credential: str | None, *, session_cookie: str | None, authorization: str | None) -> bool:
    if credential is None:
        return True
    if credential == API_KEY:
        scheme, _, key = (authorization or "").strip().partition(" ")
        return scheme.lower() == "bearer" and bool(key.strip())
    return bool(session_cookie)  # customers and staff both hold Django's session cookie


def body_refusal(
    *, path: str, length: int | None, session_cookie: str | None, authorization: str | None
) -> Refusal | None:
    """Why a request with a body of ``length`` bytes (None: not declared,
    chunked) may not send it to ``path``; None when it may. Asked only for
    requests that have a body."""
    limit = body_limit_for(path)
    api = limit.credential == API_KEY
    if not credential_present(limit.credential, session_cookie=session_cookie, authorization=authorization):
        # The credential first: an anonymous client learns nothing about the route.
        if api:
            return Refusal(401, "not_authenticated", "Send your API key: Authorization: Bearer <key>.", api)
        return Refusal(403, "not_signed_in", "Sign in, or open your link, before sending anything here.", api)
    if length is not None and length > limit.max_bytes:
        return too_large(limit, api=api)
    return None


def too_large(limit: BodyLimit, *, api: bool) -> Refusal:
    return Refusal(413, "too_large", f"This request may carry at most {limit.max_bytes} bytes.", api)


# --- daphne (Twisted) -------------------------------------------------------------------


def _raw_response(refusal: Refusal) -> bytes:
    body = refusal.body()
    reason = HTTPStatus(refusal.status).phrase
    head = (
        f"HTTP/1.1 {refusal.status} {reason}\r\n"
        f"Content-Type: {refusal.content_type()}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        + ('WWW-Authenticate: Bearer realm="api"\r\n' if refusal.status == 401 else "")
        + "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class BodyLimitedRequest(http_protocol.WebRequest):
    """daphne's request with the body checks of this module."""

    body_refused = False
    body_limit: BodyLimit | None = None
    body_received = 0

    def gotLength(self, length):
        # Twisted has parsed the request line and every header (cookies
        # included), and not one byte of the body yet.
        if length == 0:
            return super().gotLength(length)
        raw_path = self.channel._path.split(b"?", 1)[0]
        # As daphne decodes it for the application, so a percent-encoded
        # path is matched against the route it will reach.
        path = unquote(raw_path.decode("latin-1"))
        refusal = body_refusal(
            path=path,
            length=length,
            session_cookie=self.received_cookies.get(settings.SESSION_COOKIE_NAME.encode()),
            authorization=(self.requestHeaders.getRawHeaders(b"authorization") or [b""])[0].decode("latin-1"),
        )
        if refusal is not None:
            return self._refuse(refusal)
        self.body_limit = body_limit_for(path)
        return super().gotLength(length)

    def handleContentChunk(self, data):
        if self.body_refused:
            return  # what was already in the socket's buffer with the headers
        self.body_received += len(data)
        if self.body_limit is not None and self.body_received > self.body_limit.max_bytes:
            # Only a chunked body gets here: a declared length over the cap
            # was refused in gotLength.
            return self._refuse(too_large(self.body_limit, api=self.body_limit.credential == API_KEY))
        return super().handleContentChunk(data)

    def process(self):
        if self.body_refused:
            return None  # the body's end arrived in the same read as the refusal
        return super().process()

    def _refuse(self, refusal: Refusal) -> None:
        self.body_refused = True
        self.content = BytesIO()  # never a temporary file for a refused body
        # Twisted would otherwise answer "100 Continue" right after our 413.
        self.requestHeaders.removeHeader(b"expect")
        channel = self.channel
        channel.transport.write(_raw_response(refusal))
        # Stops reading at once (the rest of the body stays in the
        # client's socket) and closes once the answer is written.
        channel.loseConnection()


def install_in_daphne() -> None:
    """Make daphne's HTTP factory build BodyLimitedRequest for every request
    (daphne.http_protocol.HTTPFactory.buildProtocol reads the module's
    WebRequest each time it builds a connection)."""
    http_protocol.WebRequest = BodyLimitedRequest


# --- Django: the second line, and the validity of the credential -------------------------

# Whether the request carries a valid credential of a kind, registered by the
# app that owns the kind (sessions_app: customers; accounts: staff) in ready():
# a check returns None, or the answer its own views give a visitor without
# one (the customer's "open your link" page, the sign-in redirect). The API's
# key is left to DRF, which authenticates before it parses a body.
credential_checks: dict[str, Callable[[HttpRequest], HttpResponse | None]] = {}


def register_credential_check(credential: str, check: Callable[[HttpRequest], HttpResponse | None]) -> None:
    credential_checks[credential] = check


def _declared_length(request) -> int | None:
    """Declared body length; None for a chunked body; -1 for nonsense."""
    if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    value = request.META.get("CONTENT_LENGTH") or "0"
    return int(value) if value.isdigit() else -1


class RequestBodyLimitMiddleware:
    """Before anything reads request.body or request.POST (CSRF checks do, in
    process_view): the route's cap and credential, and that the credential
    is valid. Under daphne the body arrived already, within its cap; under
    another server this is the only line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = _declared_length(request)
        if length == -1:
            return HttpResponse(
                json.dumps({"error": {"code": "bad_length", "message": "Content-Length must be a number."}}),
                status=400,
                content_type="application/json",
            )
        if length != 0:
            # The credential first, as in daphne: its owner's check when it
            # has one, else its presence.
            check = credential_checks.get(body_limit_for(request.path).credential)
            answer = check(request) if check is not None else None
            if answer is not None:
                return answer
            refusal = body_refusal(
                path=request.path,
                length=length,
                session_cookie=request.COOKIES.get(settings.SESSION_COOKIE_NAME),
                authorization=request.META.get("HTTP_AUTHORIZATION"),
            )
            if refusal is not None:
                return HttpResponse(refusal.body(), status=refusal.status, content_type=refusal.content_type())
        return self.get_response(request)
