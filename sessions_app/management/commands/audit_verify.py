import base64
import json
import zipfile

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Business
from sessions_app.audit import audit_chain_report, audit_proof_problems
from sessions_app.audit_checkpoints import checkpoint_public_keys, checkpoints_read, signing_key_id


def _when(value) -> str:
    return value.isoformat() if value else "unknown (the event is gone)"


class Command(BaseCommand):
    help = (
        "Verify every business's audit chain (hashes, links, MACs, the signed checkpoints); "
        "exits non-zero if any row was changed, removed or rebuilt, or a checkpoint is forged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--export",
            metavar="ZIP_OR_JSON",
            help="Check a session export offline instead (no database): its events, links and signed checkpoints.",
        )
        parser.add_argument(
            "--public-key",
            action="append",
            default=[],
            metavar="BASE64",
            help="With --export: a checkpoint public key to trust (`audit_checkpoint --public-key` prints it); "
            "repeatable. Default: this installation's keys.",
        )

    def handle(self, *args, export=None, public_key=(), **options):
        if export:
            return self._verify_export(export, public_key)
        checkpoints, rejected = checkpoints_read()
        broken = 0
        for line in rejected:
            # A line that does not verify is not used as an anchor, and is
            # itself a sign that somebody wrote to the log.
            self.stderr.write(f"checkpoint log line {line.line}: rejected, {line.reason}")
        for business in Business.objects.order_by("pk"):
            report = audit_chain_report(business=business, checkpoints=checkpoints.get(str(business.public_id), []))
            anchor = report.last_matching_checkpoint
            anchor_text = (
                f"last checkpoint that still matches: #{anchor.sequence} signed {anchor.at}"
                if anchor
                else "no checkpoint matches"
            )
            if report.problems:
                broken += 1
                for problem in sorted(report.problems, key=lambda problem: problem.sequence):
                    self.stderr.write(f"{business.slug}: event #{problem.sequence}: {problem.problem}")
                first = report.first_problem
                self.stderr.write(
                    f"{business.slug}: TAMPERED since event #{first.sequence} (written {_when(first.at)}); "
                    f"{anchor_text}"
                )
                continue
            notes = [f"{report.head_sequence} events", anchor_text]
            if report.unkeyed_events:
                keyed = f"before {report.keyed_since.isoformat()}" if report.keyed_since else "so far"
                notes.append(f"#1-#{report.unkeyed_events} unkeyed {keyed} (plain hash chain only)")
            self.stdout.write(f"{business.slug}: audit chain intact ({'; '.join(notes)})")
        if broken or rejected:
            raise CommandError(
                f"{broken} audit chain(s) broken, {len(rejected)} checkpoint log line(s) rejected"
            )

    def _verify_export(self, path, public_keys):
        try:
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    record = json.loads(archive.read("record.json"))
            else:
                with open(path, encoding="utf-8") as record_file:
                    record = json.load(record_file)
            trail, proof = record["audit_trail"], record["audit_proof"]
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise CommandError(f"{path}: not a session export with an audit proof ({exc})") from exc
        try:
            keys = {signing_key_id(key): key for key in (base64.b64decode(k, validate=True) for k in public_keys)}
        except ValueError as exc:
            raise CommandError(f"--public-key: not base64 ({exc})") from exc
        try:
            problems = audit_proof_problems(trail=trail, proof=proof, public_keys=keys or checkpoint_public_keys())
        except (KeyError, TypeError, AttributeError) as exc:
            raise CommandError(f"{path}: its audit trail or proof is incomplete ({exc!r})") from exc
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in the export's audit trail")
        pending = proof.get("not_yet_checkpointed", [])
        anchored = len(trail) - len(pending)
        self.stdout.write(
            f"{anchored} event(s) anchored to signed checkpoints"
            + (f"; {len(pending)} written after the newest checkpoint (not anchored yet)" if pending else "")
        )
