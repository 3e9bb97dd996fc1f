"""The authorizer's S3 body is its final buffer: read once, whole, and (for a binary document)
searched in place by the loaded set. See crlcheck/aws/s3.py for the measurement behind it."""

from __future__ import annotations

from typing import Any

from crlcheck import RevocationSet, dump_document
from crlcheck.aws.s3 import S3DocumentSource
from crlcheck.cache import Fetched, RevocationCache
from crlcheck.revset import CRLInfo
from crlcheck.serial import encode_serial
from tests.pki import NEXT, T0


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[Any] = []

    def read(self, *args: Any) -> bytes:
        self.reads.append(args)
        return self.data

    def close(self) -> None:
        pass


class Client:
    def __init__(self, data: bytes) -> None:
        self.body = Body(data)

    def get_object(self, **_: Any) -> dict[str, Any]:
        return {"Body": self.body, "ETag": '"e"', "ContentLength": len(self.body.data)}


def binary_document() -> bytes:
    keys = b"".join(encode_serial(s, 3) or b"" for s in range(1000, 1100))
    info = CRLInfo("CN=b", b"0\x00", None, "CN=b", "00" * 32, 1, T0, NEXT, "00" * 32, "x")
    details = b"20251201000000Z\xff" * 100
    return dump_document(RevocationSet(info, 3, keys, details, ordered=True), format="binary")


def test_the_body_is_read_once_whole_and_kept_as_the_sets_storage() -> None:
    data = binary_document()
    client = Client(data)
    source = S3DocumentSource(client, "bench-bucket")  # type: ignore[arg-type]
    fetched = source.fetch("k", None)
    assert isinstance(fetched, Fetched)
    assert client.body.reads == [()]  # One read() of everything: one buffer (see s3.py).
    assert fetched.body is data
    cache = RevocationCache(source, ["k"])
    cache.refresh(0.0)
    (revset,) = cache.sets()
    assert revset._blob is data  # The keys are searched in the body itself, not a copy.
    assert 1050 in revset
