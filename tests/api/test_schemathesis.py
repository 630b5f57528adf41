"""Schemathesis against the published schema: generated requests to every
operation, with Alpha Bank's key, never make a server error, and every answer
matches the schema (status code, content type, body). Bounded to a few
hundred examples in all, so it stays well under a minute.

(Schemathesis' pytest plugin does not run under pytest 9 yet, so the
operations are walked here with its Hypothesis strategies directly.)"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 60
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_schema(db):
    # Django's WSGI handler closes the database connection around each
    # request, which would end the test's transaction; its test client
    # disconnects the same signal handler.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _aim_at_real_objects(case, *, workflow, call):
    """Now and then point a generated request at a real workflow, session and
    participant, so the happy paths are fuzzed too, not only the 404s."""
    if case.method == "POST" and case.path == "/api/v1/sessions" and isinstance(case.body, dict):
        if hash(repr(case.body)) % 2:
            case.body["workflow"] = workflow.pk
    if case.path_parameters and hash(repr(case.path_parameters)) % 2:
        case.path_parameters["session_id"] = str(call.session.public_id)
        if "participant_id" in case.path_parameters:
            case.path_parameters["participant_id"] = str(call.participant.public_id)


def test_api_never_fails_on_generated_requests(api_schema, key_a, live_call, workflow_a):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            _aim_at_real_objects(case, workflow=workflow_a, call=live_call)
            response = case.call(headers={"Authorization": f"Bearer {key_a.raw}"})
            case.validate_response(response, checks=CHECKS)

        run()
