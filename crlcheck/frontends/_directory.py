"""A :class:`~crlcheck.cache.DocumentSource` over a local directory, for long-running front doors.

Theory of operation
-------------------
A document's ETag here is its file's identity and version as ``stat`` reports them: device,
inode, size and modification time in nanoseconds. Revalidating a key costs one ``stat`` (about a
microsecond) and downloads nothing while the ETag is unchanged, so a front door can revalidate on
every request, as the Lambda authorizer does against S3.

``crlcheck preprocess`` (and ``crlcheck fetch``) replace a document by writing a temporary file
and renaming it over the old one: the new file has a new inode, so the change is always seen, and
a reader opens either the old file or the new one, never a half-written one. A file rewritten in
place changes its size or mtime; if a reader catches it half-written, the body fails to load and
the cache keeps the last good set until the file's ETag changes again (see
:mod:`crlcheck.cache`).

The ETag is taken with ``fstat`` on the descriptor the body is read from, so ETag and body always
belong to the same file, even when a rename happens between the ``stat`` and the ``open``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Final

from crlcheck.cache import NOT_MODIFIED, Fetched, NotModified
from crlcheck.errors import DocumentNotFoundError, DocumentTooLargeError, StorageError

__all__ = ["MAX_DOCUMENT_BYTES", "DirectoryDocumentSource"]

# The same bound as the S3 source's (crlcheck.aws.s3.MAX_DOCUMENT_BYTES): about 2.5 million
# entries, and a document this large takes about three times its size in memory once loaded.
MAX_DOCUMENT_BYTES: Final = 128 << 20

_MISSING = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.ELOOP})


def _etag(st: os.stat_result) -> str:
    return f'"{st.st_dev:x}-{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'


class DirectoryDocumentSource:
    """Documents read from files in one directory; a key is a file name relative to it.

    Args:
        directory: The directory holding the documents.
        max_bytes: The largest document read; a larger file is refused before it is read.

    Keys are resolved inside ``directory``: a key that is absolute, or that leads outside it
    (``..``, a symbolic link out), is refused as missing.
    """

    def __init__(self, directory: str | Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"DirectoryDocumentSource({str(self.directory)!r})"

    def _path(self, key: str) -> Path:
        root = self.directory.resolve()
        path = (root / key).resolve()
        if Path(key).is_absolute() or not path.is_relative_to(root) or path == root:
            raise DocumentNotFoundError(f"{key!r} is not a file inside {str(root)!r}", key=key)
        return path

    def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
        """Read ``key`` unless its file still has ``etag`` (see the module notes).

        Raises:
            DocumentNotFoundError: The file is missing, not a regular file, or not readable.
            DocumentTooLargeError: The file is larger than ``max_bytes``.
            StorageError: Any other I/O failure (not retryable: a local disk fault does not
                pass by asking again within the same refresh).
        """
        try:
            path = self._path(key)
            if etag is not None and _etag(path.stat()) == etag:
                return NOT_MODIFIED
            with path.open("rb") as handle:
                st = os.fstat(handle.fileno())
                if not stat.S_ISREG(st.st_mode):
                    raise DocumentNotFoundError(f"{key!r} is not a regular file", key=key)
                current = _etag(st)
                if current == etag:
                    return NOT_MODIFIED
                if st.st_size > self.max_bytes:
                    raise DocumentTooLargeError(
                        f"{key!r} is {st.st_size} bytes, over the limit of {self.max_bytes}",
                        key=key,
                        etag=current,
                        size=st.st_size,
                    )
                # Read one byte more than the limit: a file that grew since fstat is caught.
                body = handle.read(self.max_bytes + 1)
        except OSError as exc:
            if exc.errno in _MISSING or isinstance(exc, IsADirectoryError):
                raise DocumentNotFoundError(
                    f"cannot read {key!r}: {exc.strerror or exc}", key=key
                ) from exc
            raise StorageError(
                f"cannot read {key!r}: {exc.strerror or exc}", retryable=False
            ) from exc
        if len(body) > self.max_bytes:
            raise DocumentTooLargeError(
                f"{key!r} grew over the limit of {self.max_bytes} bytes while being read",
                key=key,
                etag=current,
                size=len(body),
            )
        return Fetched(body, current)
