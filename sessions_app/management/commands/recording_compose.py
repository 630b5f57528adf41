"""Compose call recordings now: for given sessions, or every ended session
whose recording is not composed yet (--pending). The same work as the
Celery task; for operations, and for a stack without a worker."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from kyc.ids import uuid_or_none
from sessions_app import recordings
from sessions_app.models import VerificationSession


class Command(BaseCommand):
    help = "Assemble and compose call recordings (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("sessions", nargs="*", help="session public ids")
        parser.add_argument("--pending", action="store_true", help="every ended session not composed yet")
        parser.add_argument("--force", action="store_true", help="do not wait for open segments")
        parser.add_argument("--wait", type=float, default=0, help="seconds to wait for open segments first")

    def handle(self, *args, **options):
        if options["pending"]:
            session_ids = recordings.recording_sessions_pending()
        else:
            session_ids = []
            for value in options["sessions"]:
                pk = VerificationSession.objects.filter(public_id=uuid_or_none(value)).values_list("pk", flat=True).first()
                if pk is None:
                    raise CommandError(f"No session {value}.")
                session_ids.append(pk)
        for session_id in session_ids:
            deadline = time.monotonic() + options["wait"]
            while True:
                outcome = recordings.recording_compose_session(session_id=session_id, force=options["force"])
                if outcome not in (recordings.WAITING, recordings.NOT_ENDED) or time.monotonic() >= deadline:
                    break
                time.sleep(0.5)
            public_id = VerificationSession.objects.values_list("public_id", flat=True).get(pk=session_id)
            self.stdout.write(json.dumps({"session": public_id.hex, "outcome": outcome}))
