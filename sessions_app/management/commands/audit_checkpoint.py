import base64

from django.core.management.base import BaseCommand, CommandError

from sessions_app.audit import audit_checkpoint_all
from sessions_app.audit_checkpoints import checkpoint_public_keys


class Command(BaseCommand):
    help = (
        "Sign every business's audit chain head into the checkpoint log (AUDIT_CHECKPOINT_LOG and the "
        "verity.audit.checkpoint logger). Refuses, and exits non-zero, for a chain that no longer verifies."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key", action="store_true", help="Print the public key auditors check checkpoints with, and stop."
        )

    def handle(self, *args, public_key=False, **options):
        if public_key:
            for key_id, key in checkpoint_public_keys().items():
                self.stdout.write(f"{key_id} {base64.b64encode(key).decode()}")
            return
        refused = 0
        for outcome in audit_checkpoint_all():
            slug = outcome.business.slug
            if outcome.problems:
                refused += 1
                first = min(outcome.problems, key=lambda problem: problem.sequence)
                self.stderr.write(
                    f"{slug}: not checkpointed, the chain does not verify since #{first.sequence}: {first.problem}"
                )
            elif outcome.written:
                self.stdout.write(f"{slug}: checkpoint #{outcome.written.sequence} {outcome.written.head_hash}")
            else:
                self.stdout.write(f"{slug}: nothing new to checkpoint")
        if refused:
            raise CommandError(f"{refused} audit chain(s) not checkpointed; run audit_verify")
