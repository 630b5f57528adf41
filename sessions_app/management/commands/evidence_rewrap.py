from django.core.management.base import BaseCommand, CommandError

from sessions_app.evidence_operations import evidence_rewrap


class Command(BaseCommand):
    help = (
        "Re-wrap every evidence file's data key with the current key (EVIDENCE_KEY_ID) or --key-id, "
        "after a key rotation. The content is not re-encrypted. Resumable; exits non-zero on a problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key-id", help="The key id of EVIDENCE_KEYS to wrap with (default: EVIDENCE_KEY_ID).")

    def handle(self, *args, key_id=None, verbosity=1, **options):
        from django.conf import settings

        if key_id is not None and key_id not in settings.EVIDENCE_KEYS:
            raise CommandError(f"{key_id!r} is not a key id of EVIDENCE_KEYS")

        def progress(name, outcome):
            if verbosity > 1:
                self.stdout.write(f"{outcome:9} {name}")

        report = evidence_rewrap(key_id=key_id, progress=progress)
        self.stdout.write(f"rewrapped {report.rewrapped}, already {report.already}, problems {len(report.problems)}")
        for problem in report.problems:
            self.stderr.write(problem)
        if report.problems:
            raise CommandError(f"{len(report.problems)} file(s) not re-wrapped")
