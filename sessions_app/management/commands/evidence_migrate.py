from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sessions_app.evidence_operations import evidence_migrate


class Command(BaseCommand):
    help = (
        "Move existing evidence from a folder (EVIDENCE_ROOT by default) into the configured store "
        "(EVIDENCE_STORE), encrypting what is not, each file verified against its SHA-256. "
        "Resumable: run it again after an interruption. Exits non-zero if a file could not be moved."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source", metavar="DIR", help="The folder the evidence is in now (default: EVIDENCE_ROOT).")
        parser.add_argument(
            "--delete-source",
            action="store_true",
            help="Delete each source file once its copy in the store is verified (not when the store is that folder).",
        )

    def handle(self, *args, source=None, delete_source=False, verbosity=1, **options):
        def progress(name, outcome):
            if verbosity > 1:
                self.stdout.write(f"{outcome:8} {name}")

        report = evidence_migrate(
            source=Path(source or settings.EVIDENCE_ROOT), delete_source=delete_source, progress=progress
        )
        self.stdout.write(f"moved {report.moved}, already in the store {report.already}, problems {len(report.problems)}")
        for problem in report.problems:
            self.stderr.write(problem)
        if report.problems:
            raise CommandError(f"{len(report.problems)} file(s) not moved; run again once resolved")
