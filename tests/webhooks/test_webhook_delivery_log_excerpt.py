"""What the delivery log keeps of an answer: the status code and, of a
failed answer in text, its first 200 bytes as one printable line; nothing of
a 2xx answer nor of a binary one. On the code before, the log kept the first
500 bytes of any answer, so whatever a URL returned was readable in the
admin."""

import pytest

from tests.webhooks.conftest import deliver_once


@pytest.fixture
def send(hooked_business_a, live_call):
    return lambda: deliver_once(hooked_business_a, live_call.session)


def test_a_failed_text_answer_keeps_200_bytes_on_one_line(send, receiver):
    receiver.script = [400]
    receiver.reply_type = "application/problem+json"
    receiver.reply_body = b'{"detail":"bad\r\n\x1b[31msignature"}' + b"x" * 1000 + b"SECRET-AT-THE-END"
    delivery = send()
    assert delivery.status_code == 400 and delivery.error == "HTTP 400"
    assert delivery.response_excerpt.startswith('{"detail":"bad')
    assert "signature" in delivery.response_excerpt
    assert len(delivery.response_excerpt.encode()) <= 200
    assert "\x1b" not in delivery.response_excerpt and "\n" not in delivery.response_excerpt
    assert "SECRET-AT-THE-END" not in delivery.response_excerpt


def test_a_successful_answer_is_not_kept(send, receiver):
    receiver.reply_body = b"account 4711 balance 1.000.000"
    delivery = send()
    assert delivery.status_code == 200 and delivery.response_excerpt == ""


def test_a_binary_answer_is_not_kept(send, receiver):
    receiver.script = [500]
    receiver.reply_type = "application/octet-stream"
    receiver.reply_body = b"\x89PNG internal bytes"
    delivery = send()
    assert delivery.status_code == 500 and delivery.response_excerpt == ""
