"""A customer's browser for the language tests: it opens the personal link
with a chosen Accept-Language, as a real browser sends it on every request."""

import pytest
from django.test import Client


@pytest.fixture
def customer_browser():
    def open_link(link_url: str, *, accept_language: str) -> Client:
        browser = Client(headers={"accept-language": accept_language})
        response = browser.get(link_url)
        assert response.status_code == 302, "the link should be exchanged for a session cookie"
        return browser

    return open_link
