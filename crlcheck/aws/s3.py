"""The S3 adapter: the only crlcheck module that uses boto3.

:class:`S3DocumentSource` implements :class:`crlcheck.cache.DocumentSource` with one conditional
``GetObject`` per revalidation (``IfNoneMatch`` = the cached ETag). boto3 reports the 304 of a
conditional hit as a ``ClientError`` whose code is ``"304"`` (moto does the same); that is
translated to :data:`crlcheck.store.NOT_MODIFIED`. Every other failure becomes a
:class:`crlcheck.StorageError` (``raise ... from`` the botocore exception):

* ``NoSuchKey``/404 and ``AccessDenied``/403 → :class:`crlcheck.store.DocumentNotFoundError`
  (without ``s3:ListBucket`` a missing key answers 403, so the two are indistinguishable);
* throttling (``SlowDown``, 503), other 5xx, timeouts and connection errors → retryable;
* anything else → not retryable.

A document larger than ``max_bytes`` (:data:`MAX_DOCUMENT_BYTES` by default) is refused from its
``Content-Length`` before its body is read (:class:`crlcheck.store.DocumentTooLargeError`).

A body is read with one ``read()`` of the whole object: urllib3 hands that to ``http.client``,
which reads ``Content-Length`` bytes straight from the socket into one ``bytes`` object, so the
body is in memory once (measured with tracemalloc against moto's server in another process: a
40 MiB object peaks at 1.00x its size). ``readinto`` would be worse: urllib3 implements it by
reading a temporary and copying it. That one object is the body's final buffer: a JSON document
is parsed from it, and a binary one (format version 2) *is* the loaded set, its keys searched in
place (:mod:`crlcheck.codec._binary`).

The preprocessor helpers read the CRL (by version, when the bucket is versioned), the truststore
and the published document, and write the new document with a *conditional* ``PutObject``:
``IfMatch`` = the ETag of the document the rollback check was made against, or
``IfNoneMatch: *`` when there was none. A PUT is atomic for readers (they see the old or the new
object, never a part), and the condition makes a concurrent preprocessor's write fail with 412
instead of being silently overwritten by an older CRL; the failed invocation is retried and
re-checks against what is now published.

Importing this module imports boto3; :mod:`crlcheck` itself never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from crlcheck.cache import NOT_MODIFIED, Fetched, NotModified
from crlcheck.errors import DocumentNotFoundError, DocumentTooLargeError, StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "AUTHORIZER_CONFIG",
    "FETCHER_CONFIG",
    "MAX_DOCUMENT_BYTES",
    "PREPROCESSOR_CONFIG",
    "ObjectHead",
    "S3DocumentSource",
    "StoredObject",
    "make_client",
    "read_document",
    "read_head",
    "read_object",
    "write_document",
]

# The authorizer answers API Gateway, which waits at most 10 s for it, on every request: fail
# fast and fall back on the last good set rather than stack retries. One retry ("standard" mode
# backs off with jitter and honours throttling). read_timeout bounds each socket read, not the
# whole download, so a large document still loads.
AUTHORIZER_CONFIG: Final = Config(
    connect_timeout=1.0,
    read_timeout=2.0,
    retries={"mode": "standard", "total_max_attempts": 2},
    user_agent_extra="crlcheck-authorizer",
)

# The preprocessor runs asynchronously with minutes of budget: be patient.
PREPROCESSOR_CONFIG: Final = Config(
    connect_timeout=5.0,
    read_timeout=30.0,
    retries={"mode": "standard", "total_max_attempts": 5},
    user_agent_extra="crlcheck-preprocessor",
)

# The fetcher runs on a schedule with minutes of budget, like the preprocessor.
FETCHER_CONFIG: Final = Config(
    connect_timeout=5.0,
    read_timeout=30.0,
    retries={"mode": "standard", "total_max_attempts": 5},
    user_agent_extra="crlcheck-fetcher",
)

# The largest document the authorizer downloads. A one-million-entry CRL makes a JSON document of
# about 44 MB, which takes about 130 MB once loaded; a reload briefly holds the old set, the new
# one and the body. 128 MiB (~2.5 million entries) keeps that within the authorizer's 512 MB.
# A binary document (format version 2) of the same CRL is ~37 MB and is itself the loaded set,
# so the same bound leaves it more room.
MAX_DOCUMENT_BYTES: Final = 128 << 20

_NOT_MODIFIED_CODES = frozenset({"304", "NotModified"})
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "AccessDenied", "403", "Forbidden"})
_RETRYABLE_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "503",
        "500",
        "PreconditionFailed",
        "ConditionalRequestConflict",
    }
)


def make_client(config: Config = AUTHORIZER_CONFIG) -> S3Client:
    """Create an S3 client with bounded timeouts and retries.

    The region, credentials and endpoint come from the environment as usual for boto3
    (``AWS_REGION``, the Lambda role, ``AWS_ENDPOINT_URL_S3``...).
    """
    return boto3.client("s3", config=config)


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object read from S3.

    Attributes:
        body: Its bytes.
        etag: Its ETag, exactly as S3 returned it (with the quotes).
        version_id: Its version, when the bucket is versioned.
    """

    body: bytes
    etag: str
    version_id: str | None = None


def _code(exc: ClientError) -> str:
    error: Any = exc.response.get("Error", {})
    code = error.get("Code") if isinstance(error, dict) else None
    if code:
        return str(code)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(status) if status else "Unknown"


def _status(exc: ClientError) -> int:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status if isinstance(status, int) else 0


def _translate(exc: ClientError, bucket: str, key: str, action: str) -> StorageError:
    code = _code(exc)
    where = f"s3://{bucket}/{key}"
    if code in _MISSING_CODES:
        return DocumentNotFoundError(
            f"{action} {where}: {code} (missing, or not readable by this function)", key=key
        )
    retryable = code in _RETRYABLE_CODES or _status(exc) >= 500
    return StorageError(f"{action} {where}: {code}", retryable=retryable)


def _transport(exc: BotoCoreError, bucket: str, key: str, action: str) -> StorageError:
    # Timeouts, connection failures, truncated bodies: all may pass.
    return StorageError(
        f"{action} s3://{bucket}/{key}: {type(exc).__name__}: {exc}", retryable=True
    )


class S3DocumentSource:
    """Documents in one S3 bucket, read with conditional GETs.

    Args:
        client: A boto3 S3 client (see :func:`make_client`).
        bucket: The bucket name.
        max_bytes: Larger documents are refused from their ``Content-Length``, unread.
    """

    def __init__(
        self, client: S3Client, bucket: str, *, max_bytes: int = MAX_DOCUMENT_BYTES
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.max_bytes = max_bytes

    def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
        """Read ``key`` unless it still has ``etag`` (see :class:`crlcheck.cache.DocumentSource`).

        Raises:
            DocumentNotFoundError: NoSuchKey, or AccessDenied.
            DocumentTooLargeError: The object is larger than ``max_bytes`` (it is not read).
            StorageError: Throttling, 5xx, timeouts (retryable) and other errors.
        """
        try:
            if etag is None:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            else:
                response = self.client.get_object(Bucket=self.bucket, Key=key, IfNoneMatch=etag)
            size = response.get("ContentLength", 0)
            if size > self.max_bytes:
                response["Body"].close()
                raise DocumentTooLargeError(
                    f"s3://{self.bucket}/{key} is {size} bytes, too large (limit {self.max_bytes})",
                    key=key,
                    etag=response["ETag"],
                    size=size,
                )
            body = response["Body"].read()
        except ClientError as exc:
            if etag is not None and _code(exc) in _NOT_MODIFIED_CODES:
                return NOT_MODIFIED
            raise _translate(exc, self.bucket, key, "GetObject") from exc
        except BotoCoreError as exc:
            raise _transport(exc, self.bucket, key, "GetObject") from exc
        return Fetched(body, response["ETag"])


def read_object(
    client: S3Client, bucket: str, key: str, *, version_id: str | None = None
) -> StoredObject:
    """Read a whole object (a CRL, the truststore), optionally one version of it.

    Raises:
        DocumentNotFoundError: NoSuchKey, NoSuchVersion or AccessDenied.
        StorageError: Any other failure.
    """
    try:
        if version_id is None:
            response = client.get_object(Bucket=bucket, Key=key)
        else:
            response = client.get_object(Bucket=bucket, Key=key, VersionId=version_id)
        body = response["Body"].read()
    except ClientError as exc:
        if _code(exc) == "NoSuchVersion":
            raise DocumentNotFoundError(
                f"GetObject s3://{bucket}/{key} version {version_id}: NoSuchVersion", key=key
            ) from exc
        raise _translate(exc, bucket, key, "GetObject") from exc
    except BotoCoreError as exc:
        raise _transport(exc, bucket, key, "GetObject") from exc
    return StoredObject(body, response["ETag"], response.get("VersionId"))


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """What ``HeadObject`` says about an object, without its body.

    Attributes:
        etag: Its ETag, exactly as S3 returned it (with the quotes).
        metadata: Its user metadata (``x-amz-meta-*``, names without the prefix, lowercase).
    """

    etag: str
    metadata: dict[str, str]


def read_head(client: S3Client, bucket: str, key: str) -> ObjectHead | None:
    """Read an object's ETag and user metadata, or None when there is no object.

    "None" includes 403 (a missing key without ``s3:ListBucket``), as in :func:`read_document`,
    and is as safe: a write after it uses ``IfNoneMatch: *``, which fails if the object exists.

    Raises:
        StorageError: Any failure other than the object being missing.
    """
    try:
        response = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        error = _translate(exc, bucket, key, "HeadObject")
        if isinstance(error, DocumentNotFoundError):
            return None
        raise error from exc
    except BotoCoreError as exc:
        raise _transport(exc, bucket, key, "HeadObject") from exc
    metadata = {str(k).lower(): str(v) for k, v in response.get("Metadata", {}).items()}
    return ObjectHead(response["ETag"], metadata)


def read_document(client: S3Client, bucket: str, key: str) -> StoredObject | None:
    """Read the currently published document, or None when there is none.

    "None" includes AccessDenied (a missing key without ``s3:ListBucket``). That is safe
    because :func:`write_document` then writes with ``IfNoneMatch: *``, which fails if a
    document does exist.

    Raises:
        StorageError: Any failure other than the document being missing.
    """
    try:
        return read_object(client, bucket, key)
    except DocumentNotFoundError:
        return None


def write_document(
    client: S3Client,
    bucket: str,
    key: str,
    body: bytes,
    *,
    replaces: str | None,
    metadata: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> str:
    """Publish a document with one conditional PUT.

    Args:
        client: The S3 client.
        bucket: The bucket.
        key: The document key.
        body: The document bytes.
        replaces: The ETag of the document the caller checked against (the write fails if the
            key no longer has it), or None to create (the write fails if the key exists).
        metadata: User metadata (``x-amz-meta-*``), ASCII values.
        content_type: The document's media type (:func:`crlcheck.codec.document_media_type`).

    Returns:
        The new object's ETag.

    Raises:
        StorageError: The write failed; retryable for a lost race (412 PreconditionFailed,
            409 ConditionalRequestConflict), throttling and 5xx.
    """
    try:
        if replaces is None:
            response = client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                Metadata=metadata or {},
                IfNoneMatch="*",
            )
        else:
            response = client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                Metadata=metadata or {},
                IfMatch=replaces,
            )
    except ClientError as exc:
        error = _translate(exc, bucket, key, "PutObject")
        if isinstance(error, DocumentNotFoundError):
            # 404 to a conditional write: the document was deleted since it was read (a lost
            # race, retry). 403: a permission problem, which retrying will not fix.
            lost_race = replaces is not None and _code(exc) in ("NoSuchKey", "404", "NotFound")
            raise StorageError(error.message, retryable=lost_race) from exc
        raise error from exc
    except ParamValidationError as exc:
        # IfMatch on PutObject needs botocore >= 1.35.69 (November 2024); older SDKs refuse the
        # parameter before sending anything. Say so rather than retry forever.
        raise StorageError(
            f"PutObject s3://{bucket}/{key}: this botocore cannot send conditional writes "
            f"(IfMatch/IfNoneMatch need botocore >= 1.35.69): {exc}",
            retryable=False,
        ) from exc
    except BotoCoreError as exc:
        raise _transport(exc, bucket, key, "PutObject") from exc
    return response["ETag"]
