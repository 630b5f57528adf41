from django.core.management.base import BaseCommand, CommandError

from accounts.models import Business
from sessions_app.audit import audit_verify_chain


class Command(BaseCommand):
    help = "Verify every business's audit hash chain; exits non-zero if any row was changed or removed."

    def handle(self, *args, **options):
        broken = 0
        for business in Business.objects.order_by("pk"):
            problems = audit_verify_chain(business=business)
            if problems:
                broken += 1
                for problem in problems:
                    self.stderr.write(f"{business.slug}: event #{problem.sequence}: {problem.problem}")
            else:
                self.stdout.write(f"{business.slug}: audit chain intact")
        if broken:
            raise CommandError(f"{broken} audit chain(s) broken")
