"""The customer's link e-mail: HTML and text, their language, the link the
only secret in it, sent once however often the task runs."""

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from operators import tasks
from operators.integration import link_email_queue
from operators.models import LinkEmail
from sessions_app.audit import Actor
from sessions_app.models import AuditEvent, Participant
from sessions_app.services import participant_link_reissue, participant_link_revoke


def queue(call, *, language="") -> LinkEmail:
    Participant.objects.filter(pk=call.participant.pk).update(language=language)
    call.participant.refresh_from_db()
    return link_email_queue(participant=call.participant, link=call.link_url)


def test_email_has_text_and_html_with_the_link(live_call):
    row = queue(live_call)
    assert tasks.link_email_send(row.pk) == "sent"
    [message] = mail.outbox
    assert message.to == ["max@example.com"]
    assert "Alpha Bank" in message.subject
    assert live_call.link_url in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{live_call.link_url}"' in html
    assert "Max Mustermann" in message.body


def test_link_is_the_only_secret_in_the_email(live_call):
    queue(live_call)
    tasks.link_email_send(LinkEmail.objects.get().pk)
    [message] = mail.outbox
    participant = live_call.participant
    everything = message.subject + message.body + message.alternatives[0][0]
    assert participant.link_token_hash not in everything
    assert str(participant.public_id) not in everything
    assert str(live_call.session.public_id) not in everything


def test_email_is_in_the_participant_language(live_call):
    queue(live_call, language="de")
    tasks.link_email_send(LinkEmail.objects.get().pk)
    [message] = mail.outbox
    assert message.subject == "Ihre Video-Identifizierung bei Alpha Bank"
    assert "Hallo Max Mustermann" in message.body
    assert "Video-Identifizierung starten" in message.alternatives[0][0]


def test_running_the_task_twice_sends_once(live_call):
    row = queue(live_call)
    assert tasks.link_email_send(row.pk) == "sent"
    assert tasks.link_email_send(row.pk) == "not_due"
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.sent_at is not None
    assert row.link_encrypted == "", "the token is not kept once the e-mail is out"
    assert AuditEvent.objects.filter(action="participant.link_emailed", participant=live_call.participant).count() == 1


def test_a_replaced_link_is_never_sent(live_call):
    row = queue(live_call)
    participant_link_reissue(participant=live_call.participant, actor=Actor.api())
    assert tasks.link_email_send(row.pk) == "superseded"
    assert mail.outbox == []


def test_a_revoked_link_is_never_sent(live_call):
    row = queue(live_call)
    participant_link_revoke(participant=live_call.participant, actor=Actor.api())
    assert tasks.link_email_send(row.pk) == "link_revoked"
    assert mail.outbox == []


def test_the_link_is_stored_only_encrypted_while_waiting(live_call):
    row = queue(live_call)
    assert live_call.link_token not in row.link_encrypted


def test_a_failed_send_is_retried_by_the_sweep(live_call, settings):
    settings.EMAIL_BACKEND = "tests.api.test_link_email.BrokenBackend"
    row = queue(live_call)
    assert tasks.link_email_send(row.pk) == "failed"
    row.refresh_from_db()
    assert row.attempts == 1 and "SMTP down" in row.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.outbox_sweep()["link_emails"] == 0, "not due before its backoff"
    LinkEmail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert tasks.outbox_sweep()["link_emails"] == 1
    assert len(mail.outbox) == 1


def test_queued_email_waits_for_the_commit(live_call, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue(live_call)
    assert mail.outbox == [], "nothing is sent for a row that could still roll back"
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP down")
