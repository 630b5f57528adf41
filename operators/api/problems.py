"""Every error of the integration API is a JSON problem (RFC 9457 style):

    {"type": "urn:verity:problem:<code>", "code": "<code>", "title": "...",
     "detail": "...", "status": 400, "errors": {"participants.0.email": ["..."]}}

``code`` is stable: clients branch on it, never on the human text.
``errors`` names each invalid field by its dotted path (empty otherwise).
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from kyc.state_machine import IllegalTransition

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# DRF's own codes, renamed where ours say more.
_CODES = {
    "invalid": "validation_error",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "authentication_failed",
    "permission_denied": "permission_denied",
    "not_found": "not_found",
    "method_not_allowed": "method_not_allowed",
    "not_acceptable": "not_acceptable",
    "unsupported_media_type": "unsupported_media_type",
    "parse_error": "malformed_json",
    "throttled": "throttled",
}
_TITLES = {
    "validation_error": "The request is not valid.",
    "not_authenticated": "An API key is needed.",
    "authentication_failed": "The API key is not valid.",
    "permission_denied": "Not allowed.",
    "not_found": "Not found.",
    "method_not_allowed": "Method not allowed.",
    "not_acceptable": "Cannot answer in the requested format.",
    "unsupported_media_type": "Send JSON (Content-Type: application/json).",
    "malformed_json": "The body is not valid JSON.",
    "throttled": "Too many requests.",
    "server_error": "Something went wrong on our side.",
}


class Problem(exceptions.APIException):
    """An API error with a stable code of our own."""

    def __init__(self, *, status_code: int, code: str, title: str, detail: str = "", errors: dict | None = None):
        super().__init__(detail or title, code)
        self.status_code = status_code
        self.problem_code = code
        self.title = title
        self.errors = errors or {}


def problem_response(*, status_code: int, code: str, title: str, detail: str = "", errors=None, headers=None):
    body = {
        "type": f"urn:verity:problem:{code}",
        "code": code,
        "title": title,
        "detail": detail or title,
        "status": status_code,
        "errors": errors or {},
    }
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"participants.0.email": ["..."]}."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            path = str(key) if not prefix else f"{prefix}.{key}"
            if key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
                path = prefix
            flat.update(_flatten(value, path))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(item) for item in detail]} if detail else {}
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(detail)]}


def _first_message(errors: dict[str, list[str]]) -> str:
    for field, messages in errors.items():
        if messages:
            return messages[0] if field == api_settings.NON_FIELD_ERRORS_KEY else f"{field}: {messages[0]}"
    return _TITLES["validation_error"]


def problem_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        # A service refused (e.g. a state the session is no longer in).
        detail = exc.message_dict if hasattr(exc, "error_dict") else {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, IllegalTransition):
        set_rollback()
        return problem_response(
            status_code=status.HTTP_409_CONFLICT,
            code="invalid_state",
            title="The session is not in a state that allows this.",
            detail=f"Not possible while the {exc.machine} is {exc.current}.",
        )

    if isinstance(exc, Problem):
        set_rollback()
        return problem_response(
            status_code=exc.status_code, code=exc.problem_code, title=exc.title, detail=str(exc.detail), errors=exc.errors
        )

    if isinstance(exc, exceptions.APIException):
        set_rollback()
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = "%d" % exc.wait
        code = _CODES.get(exc.default_code, exc.default_code)
        if isinstance(exc, exceptions.ValidationError):
            errors = _flatten(exc.detail)
            return problem_response(
                status_code=exc.status_code,
                code="validation_error",
                title=_TITLES["validation_error"],
                detail=_first_message(errors),
                errors=errors,
                headers=headers,
            )
        detail = exc.detail if isinstance(exc.detail, str) else _first_message(_flatten(exc.detail))
        return problem_response(
            status_code=exc.status_code,
            code=code,
            title=_TITLES.get(code, str(exc.default_detail)),
            detail=str(detail),
            headers=headers,
        )

    # Anything else is our bug: log it whole, answer a problem without internals.
    logger.exception("unhandled error in the integration API", exc_info=exc)
    set_rollback()
    return problem_response(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR, code="server_error", title=_TITLES["server_error"]
    )
