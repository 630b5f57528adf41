"""The Content-Security-Policy lets pages open connections to this site
only. Reproduces the finding that ``connect-src`` allowed ``ws: wss:``: an
injected script could have opened a websocket to any host and sent it
whatever the page shows."""

import pytest
from django.test import Client

from tests.security.test_security_headers_on_real_responses import directives

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("public_base_url", "socket_origin"),
    [("https://kyc.example.com", "wss://kyc.example.com"), ("http://127.0.0.1:8000", "ws://127.0.0.1:8000")],
)
def test_connect_src_is_self_and_the_sites_own_websocket_origin(settings, public_base_url, socket_origin):
    settings.PUBLIC_BASE_URL = public_base_url

    policy = directives(Client().get("/console/login/"))

    assert policy["connect-src"] == ["'self'", socket_origin]


def test_api_docs_page_keeps_the_same_connect_src(settings):
    settings.PUBLIC_BASE_URL = "https://kyc.example.com"

    policy = directives(Client().get("/api/v1/docs/"))

    assert policy["connect-src"] == ["'self'", "wss://kyc.example.com"]
