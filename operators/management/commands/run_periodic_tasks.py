"""Run the periodic tasks once (for cron in embedded mode, where no Celery
beat runs): the outbox sweep (webhooks and link e-mails that are due), the
booked calls' notices (reminders, and booking e-mails a lost task did not
send), the retention job and the audit chains' checkpoint."""

from django.core.management.base import BaseCommand

from operators import tasks
from sessions_app.tasks import audit_checkpoint


class Command(BaseCommand):
    help = "Run the outbox sweep, the booking notices, the retention job and the audit checkpoint once."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=["outbox", "bookings", "retention", "checkpoint"], help="Run just one of them.")

    def handle(self, *args, only=None, **options):
        # Called as plain functions, now. The sweep hands each due item to
        # Celery: to the workers with Redis, inline in embedded mode.
        if only in (None, "outbox"):
            self.stdout.write(f"outbox sweep: {tasks.outbox_sweep()}")
        if only in (None, "bookings"):
            self.stdout.write(f"booking notices: {tasks.booking_notices()}")
        if only in (None, "retention"):
            self.stdout.write(f"retention: {tasks.retention_erase_due()}")
        if only in (None, "checkpoint"):
            self.stdout.write(f"audit checkpoint: {audit_checkpoint()}")
