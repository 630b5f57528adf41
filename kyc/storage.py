import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage
from django.db.models import QuerySet

from kyc.evidence_crypto import (
    HEADER_SIZE,
    DecryptingReader,
    EncryptedFile,
    EvidenceIntegrityError,
    encrypt_stream,
    rewrapped_header,
)

__all__ = ["EvidenceIntegrityError", "EvidenceStoreUnavailable", "EvidenceStorage", "evidence_storage"]


class VerityStaticFilesStorage(ManifestStaticFilesStorage):
    """Hashed file names for cache-busting, including the `import` lines of
    the plain ES modules in static/js (no bundler rewrites them for us)."""

    support_js_module_import_aggregation = True


class EvidenceStoreUnavailable(OSError):
    """The object store did not answer (down, unreachable, refusing us). An
    OSError, like a full or missing disk, so every caller that copes with a
    file it cannot reach copes with this too; an upload answers 503 and the
    browser sends it again."""


class _FileSystemBlobs(FileSystemStorage):
    """Ciphertext under EVIDENCE_ROOT, readable only by our process (0600)."""

    def __init__(self, root):
        super().__init__(location=root, base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700)

    def open_span(self, name: str, start: int, end: int):
        source = open(self.path(name), "rb")  # noqa: SIM115 - closed by the reader
        source.seek(start)
        return source

    def replace(self, name: str, content) -> None:
        """Write ``content`` over ``name`` atomically (a temporary file in the
        same folder, then a rename): a crash leaves the old file or the new."""
        target = self.path(name)
        os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".replace-")
        try:
            with os.fdopen(handle, "wb") as out:
                shutil.copyfileobj(content, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _s3_blobs_class():
    # Imported only when the object store is chosen: boto3 costs a second of
    # start-up that the embedded default does not need to pay.
    from botocore.exceptions import BotoCoreError, ClientError
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name

    class _S3Blobs(S3Storage):
        """Ciphertext in an S3-compatible bucket. Never overwrites on save (a
        chunk raced in on two connections gets two names, and the loser
        deletes its own, not the winner's)."""

        def key(self, name: str) -> str:
            return self._normalize_name(clean_name(name))

        def open_span(self, name: str, start: int, end: int):
            try:
                return self.bucket.Object(self.key(name)).get(Range=f"bytes={start}-{end}")["Body"]
            except ClientError as error:
                if error.response["ResponseMetadata"]["HTTPStatusCode"] in (404, 416):
                    raise FileNotFoundError(name) from None
                raise

        def replace(self, name: str, content) -> None:
            # One PUT (or multipart upload) replaces an object atomically.
            self.bucket.Object(self.key(name)).upload_fileobj(content, Config=self.transfer_config)

    return _S3Blobs, (BotoCoreError, ClientError)


class EvidenceStorage(Storage):
    """Private storage for evidence (captures, recording chunks and segments,
    composed calls), behind Django's storage API: a folder on this machine
    (EVIDENCE_STORE=filesystem, the embedded default) or an S3-compatible
    bucket (EVIDENCE_STORE=s3), every file encrypted (kyc/evidence_crypto.py)
    before it leaves the process. No URL: evidence is streamed by views that
    check who is asking, never served as static or media files.

    Whatever opens a file gets the plaintext, decrypted as it is read;
    ``open_range`` decrypts only the chunks under a range, for the players."""

    def __init__(self):
        self._backends = {}

    # The backend is chosen from the settings on every use (and kept per
    # choice), so tests and deployments can point EVIDENCE_ROOT or the bucket
    # elsewhere without re-importing models.
    def _choice(self) -> tuple:
        if settings.EVIDENCE_STORE == "s3":
            return (
                "s3",
                settings.EVIDENCE_S3_BUCKET,
                settings.EVIDENCE_S3_ENDPOINT_URL,
                settings.EVIDENCE_S3_REGION,
                settings.EVIDENCE_S3_ACCESS_KEY_ID,
                settings.EVIDENCE_S3_SECRET_ACCESS_KEY,
                settings.EVIDENCE_S3_PREFIX,
            )
        return ("filesystem", os.path.abspath(settings.EVIDENCE_ROOT))

    def blobs(self):
        """The store of the ciphertext itself (no decryption): for the
        operations commands and for tests that must see what is at rest."""
        choice = self._choice()
        backend = self._backends.get(choice)
        if backend is None:
            backend = self._backends[choice] = self._make_backend(choice)
        return backend

    @staticmethod
    def _make_backend(choice: tuple):
        if choice[0] == "filesystem":
            return _FileSystemBlobs(choice[1])
        from botocore.config import Config

        s3_blobs, _ = _s3_blobs_class()
        _, bucket, endpoint, region, access_key, secret_key, prefix = choice
        return s3_blobs(
            bucket_name=bucket,
            endpoint_url=endpoint or None,
            region_name=region or None,
            access_key=access_key or None,
            secret_key=secret_key or None,
            location=prefix,
            file_overwrite=False,
            default_acl=None,
            querystring_auth=False,
            # A store that is down must fail an upload in seconds, not hold
            # the request for botocore's default minute: the browser retries.
            client_config=Config(
                connect_timeout=settings.EVIDENCE_S3_TIMEOUT_SECONDS,
                read_timeout=settings.EVIDENCE_S3_TIMEOUT_SECONDS,
                retries={"max_attempts": 3, "mode": "standard"},
                signature_version="s3v4",
            ),
        )

    @contextlib.contextmanager
    def _store_errors(self):
        if settings.EVIDENCE_STORE != "s3":
            yield
            return
        _, errors = _s3_blobs_class()
        try:
            yield
        except errors as error:
            raise EvidenceStoreUnavailable(f"the evidence store failed: {error}") from error

    # --- Django's storage API ---------------------------------------------

    def _save(self, name, content):
        # Encrypted into a spooled file: memory holds at most a few MB, the
        # rest goes to a temporary file, whatever the size of the evidence.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sealed:
            if hasattr(content, "seek"):
                content.seek(0)
            encrypt_stream(content, sealed)
            sealed.seek(0)
            with self._store_errors():
                return self.blobs().save(name, File(sealed, name=name))

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Evidence files are written once, with save().")
        return _EvidenceFile(self, name)

    def delete(self, name):
        with self._store_errors():
            self.blobs().delete(name)

    def exists(self, name):
        with self._store_errors():
            return self.blobs().exists(name)

    def listdir(self, path):
        with self._store_errors():
            return self.blobs().listdir(path)

    def size(self, name):
        return self.open_encrypted(name).size

    def get_available_name(self, name, max_length=None):
        with self._store_errors():
            return self.blobs().get_available_name(name, max_length=max_length)

    def url(self, name):
        raise ValueError("Evidence has no public URL.")

    # --- beyond the API ---------------------------------------------------

    def open_encrypted(self, name: str) -> "_OpenedEvidence":
        """The file's header read and its data key unwrapped (raises
        FileNotFoundError, EvidenceIntegrityError, EvidenceStoreUnavailable)."""
        blobs = self.blobs()
        with self._store_errors():
            ciphertext_size = blobs.size(name)
            with contextlib.closing(blobs.open_span(name, 0, HEADER_SIZE - 1)) as head:
                header = head.read(HEADER_SIZE)

        def open_span(start: int, end: int):
            with self._store_errors():
                return _StoreErrorsReader(blobs.open_span(name, start, end), self._store_errors)

        return _OpenedEvidence(EncryptedFile(header_bytes=header, ciphertext_size=ciphertext_size, open_span=open_span))

    def open_range(self, name: str, start: int, length: int) -> Iterator[bytes]:
        """Plaintext bytes [start, start + length) of a file, decrypting only
        the chunks that cover them."""
        return self.open_encrypted(name).encrypted.iter_range(start, length)

    def rewrap(self, name: str, *, key_id: str | None = None) -> bool:
        """Wrap the file's data key with ``key_id`` (the current key by
        default); the content's ciphertext is copied as it is, never
        re-encrypted. False when it already was."""
        blobs = self.blobs()
        with self._store_errors():
            with contextlib.closing(blobs.open_span(name, 0, blobs.size(name) - 1)) as source:
                header = rewrapped_header(source.read(HEADER_SIZE), key_id=key_id)
                if header is None:
                    return False
                with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as copy:
                    copy.write(header)
                    shutil.copyfileobj(source, copy, 1024 * 1024)
                    copy.seek(0)
                    blobs.replace(name, copy)
        return True

    def replace_ciphertext(self, name: str, sealed) -> None:
        """Put a file that is already encrypted (by this keyring) at
        ``name`` as it is. For evidence_migrate."""
        with self._store_errors():
            self.blobs().replace(name, sealed)

    def replace_encrypted(self, name: str, plaintext) -> tuple[int, str]:
        """Encrypt ``plaintext`` over the file ``name`` (atomically); returns
        the plaintext's size and SHA-256. For evidence_migrate."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sealed:
            size, sha256 = encrypt_stream(plaintext, sealed)
            sealed.seek(0)
            with self._store_errors():
                self.blobs().replace(name, sealed)
        return size, sha256


SPOOL_BYTES = 4 * 1024 * 1024


class _EvidenceFile(File):
    """A decrypted evidence file that can be opened again once closed (a
    FieldFile keeps its File and reopens it), as a local file can."""

    def __init__(self, storage: EvidenceStorage, name: str):
        self._storage = storage
        super().__init__(storage.open_encrypted(name).reader(), name=name)

    def open(self, mode=None, *args, **kwargs):
        if not self.closed:
            self.seek(0)
        else:
            self.file = self._storage.open_encrypted(self.name).reader()
        return self


class _OpenedEvidence:
    def __init__(self, encrypted: EncryptedFile):
        self.encrypted = encrypted

    @property
    def size(self) -> int:
        return self.encrypted.size

    def reader(self) -> DecryptingReader:
        return DecryptingReader(self.encrypted)


class _StoreErrorsReader:
    """A ciphertext stream whose store failures surface as
    EvidenceStoreUnavailable (an S3 body can fail halfway)."""

    def __init__(self, source, store_errors):
        self._source = source
        self._store_errors = store_errors

    def read(self, size=-1):
        with self._store_errors():
            return self._source.read(size)

    def close(self):
        self._source.close()


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
