import logging
import os

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage
from django.db.models import QuerySet


class VerityStaticFilesStorage(ManifestStaticFilesStorage):
    """Hashed file names for cache-busting, including the `import` lines of
    the plain ES modules in static/js (no bundler rewrites them for us)."""

    support_js_module_import_aggregation = True


class EvidenceStorage(FileSystemStorage):
    """Private storage for evidence: files under EVIDENCE_ROOT, readable only
    by our process (0600), with no URL: they are streamed by views that check
    who is asking, never served as static or media files."""

    def __init__(self):
        super().__init__(base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700)

    # Read on every use (not cached) so tests and deployments can point
    # EVIDENCE_ROOT elsewhere without re-importing models.
    @property
    def base_location(self):
        return settings.EVIDENCE_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Evidence has no public URL.")


_evidence_storage = EvidenceStorage()


def evidence_storage() -> EvidenceStorage:
    return _evidence_storage


def stored_files_delete(rows: QuerySet, *, logger: logging.Logger, failure: str) -> int:
    """Delete the file of every row (its ``file`` field) and blank the field,
    one row at a time. A file that cannot be deleted stays, name and all, for
    the next run, and is logged as ``failure % row.pk`` on the caller's
    logger. Returns how many files went.

    Callers run this after their transaction commits: a rollback must never
    leave a row pointing at a deleted file."""
    deleted = 0
    for row in rows.iterator():
        try:
            row.file.storage.delete(row.file.name)  # a missing file is no error
        except OSError:
            logger.exception(failure, row.pk)
            continue
        rows.model._default_manager.filter(pk=row.pk).update(file="")
        deleted += 1
    return deleted
