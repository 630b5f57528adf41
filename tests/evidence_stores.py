"""Evidence stores for tests: the filesystem (EVIDENCE_ROOT in the test's
tmp_path) and an S3-compatible server on loopback (moto in server mode, which
speaks the S3 protocol over HTTP, started by the tests; nothing is mocked
inside the process: boto3 talks HTTP to it as it would to MinIO or AWS).

``evidence_store`` is parametrised over both; ``EvidenceStoreUnderTest``
reads and changes what is at rest, past the encryption, as an intruder with
access to the disk or the bucket would.
"""

import socket
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from kyc.storage import evidence_storage

S3_REGION = "us-east-1"
S3_ACCESS_KEY = "verity-test"
S3_SECRET_KEY = "verity-test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MotoS3:
    """A moto server in a thread of this process, on a loopback port. Its
    objects live in moto's memory, which outlives a stop(): start() again on
    the same port is the store coming back after an outage."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = None

    def start(self):
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )


@pytest.fixture(scope="session")
def moto_s3():
    server = MotoS3()
    server.start()
    yield server
    server.stop()


@dataclass
class EvidenceStoreUnderTest:
    kind: str
    root: Path | None = None
    bucket: str | None = None
    moto: MotoS3 | None = None

    def raw(self, name: str) -> bytes:
        """The bytes at rest, read past Verity."""
        if self.kind == "filesystem":
            return (self.root / name).read_bytes()
        return self.moto.client().get_object(Bucket=self.bucket, Key=name)["Body"].read()

    def write_raw(self, name: str, data: bytes) -> None:
        if self.kind == "filesystem":
            (self.root / name).write_bytes(data)
        else:
            self.moto.client().put_object(Bucket=self.bucket, Key=name, Body=data)

    def tamper(self, name: str, offset: int) -> None:
        """Flip one bit of the file at rest, ``offset`` bytes in (negative: from the end)."""
        data = bytearray(self.raw(name))
        data[offset] ^= 0x01
        self.write_raw(name, bytes(data))

    def exists(self, name: str) -> bool:
        if self.kind == "filesystem":
            return (self.root / name).exists()
        listed = self.moto.client().list_objects_v2(Bucket=self.bucket, Prefix=name)
        return any(item["Key"] == name for item in listed.get("Contents", ()))

    def names(self) -> list[str]:
        if self.kind == "filesystem":
            return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file()) if self.root.exists() else []
        listed = self.moto.client().list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in listed.get("Contents", ()))


def use_s3_store(settings, moto: MotoS3) -> EvidenceStoreUnderTest:
    bucket = f"verity-{uuid.uuid4().hex[:12]}"
    moto.client().create_bucket(Bucket=bucket)
    settings.EVIDENCE_STORE = "s3"
    settings.EVIDENCE_S3_BUCKET = bucket
    settings.EVIDENCE_S3_ENDPOINT_URL = moto.endpoint
    settings.EVIDENCE_S3_REGION = S3_REGION
    settings.EVIDENCE_S3_ACCESS_KEY_ID = S3_ACCESS_KEY
    settings.EVIDENCE_S3_SECRET_ACCESS_KEY = S3_SECRET_KEY
    settings.EVIDENCE_S3_PREFIX = ""
    settings.EVIDENCE_S3_TIMEOUT_SECONDS = 3
    return EvidenceStoreUnderTest(kind="s3", bucket=bucket, moto=moto)


@pytest.fixture(params=["filesystem", "s3"])
def evidence_store(request, settings) -> EvidenceStoreUnderTest:
    if request.param == "filesystem":
        return EvidenceStoreUnderTest(kind="filesystem", root=Path(settings.EVIDENCE_ROOT))
    return use_s3_store(settings, request.getfixturevalue("moto_s3"))


def plaintext_copy(field_file, folder: Path) -> Path:
    """A local, decrypted copy of a stored file, for tools that want a path (ffprobe)."""
    target = Path(tempfile.mkstemp(dir=folder, suffix=Path(field_file.name).suffix)[1])
    with field_file.open("rb") as source, open(target, "wb") as out:
        for block in iter(lambda: source.read(1024 * 1024), b""):
            out.write(block)
    return target


def at_rest_path(name: str) -> Path:
    """Where the filesystem store keeps a file's ciphertext."""
    return Path(evidence_storage().blobs().path(name))
