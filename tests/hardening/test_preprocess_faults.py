"""Faults while ``crlcheck preprocess`` writes its document: a failure, crash or timeout at any
point leaves either the previous document or none at the output path, never a partial one.

The CLI writes to a temporary file in the output directory, fsyncs it and renames it over the
output (``os.replace``, atomic on POSIX). The faults are injected at each of those steps, in
process with monkeypatch, and for real with SIGKILL in a child process.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from crlcheck import CacheFormatError, load_document
from crlcheck.cli import main
from tests.pki import CA, NOW

ROOT = Path(__file__).resolve().parents[2]


class Files:
    def __init__(self, root: Path, ca: CA) -> None:
        self.root = root
        self.issuer = root / "ca.pem"
        self.old_crl = root / "old.crl"
        self.new_crl = root / "new.crl"
        self.out = root / "ca.cache.json"
        self.issuer.write_bytes(ca.pem)
        self.old_crl.write_bytes(ca.make_crl([1, 2], number=1))
        self.new_crl.write_bytes(ca.make_crl(list(range(1, 5000)), number=2))

    def argv(self, crl: Path) -> list[str]:
        # --force: these tests rewrite the output with older CRLs on purpose (they are about
        # atomic writes, not about the publication rule).
        return [
            "preprocess",
            str(crl),
            "--issuer",
            str(self.issuer),
            "-o",
            str(self.out),
            "--force",
            "-q",
            "--at",
            NOW.isoformat(),
        ]

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def files(tmp_path: Path, hca: CA) -> Files:
    files = Files(tmp_path, hca)
    assert main(files.argv(files.old_crl)) == 0  # The published document: CRL number 1.
    return files


def number(path: Path) -> int | None:
    return load_document(path.read_bytes()).info.crl_number


def _enospc(*_: object, **__: object) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("step", ["os.replace", "os.fsync"])
def test_a_failing_step_keeps_the_old_document_and_no_temporary_file(
    files: Files,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    step: str,
) -> None:
    capsys.readouterr()
    monkeypatch.setattr(os, step.split(".")[1], _enospc)
    assert main(files.argv(files.new_crl)) == 2
    err = capsys.readouterr().err
    assert err.startswith("crlcheck: error: cannot write")
    assert "No space left on device" in err
    assert err.count("\n") == 1
    assert number(files.out) == 1
    assert files.leftovers() == []


def test_a_write_that_fails_half_way_keeps_the_old_document(
    files: Files, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.EIO, os.strerror(errno.EIO))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.handle, name)

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> HalfWriter:
        return HalfWriter(real_fdopen(fd, *args, **kwargs))

    monkeypatch.setattr(os, "fdopen", fdopen)
    capsys.readouterr()
    assert main(files.argv(files.new_crl)) == 2
    assert "Input/output error" in capsys.readouterr().err
    assert number(files.out) == 1
    assert files.leftovers() == []


class Crash(BaseException):
    """Stands for what no ``except Exception`` catches: a MemoryError-like abort, SystemExit."""


@pytest.mark.parametrize(
    ("fault", "expected"),
    [(KeyboardInterrupt, 130), (Crash, Crash)],
    ids=["interrupt", "crash"],
)
def test_an_interrupt_or_crash_at_the_rename_keeps_the_old_document(
    files: Files,
    monkeypatch: pytest.MonkeyPatch,
    fault: type[BaseException],
    expected: int | type[BaseException],
) -> None:
    def boom(*_: object) -> None:
        raise fault

    monkeypatch.setattr(os, "replace", boom)
    if isinstance(expected, int):
        assert main(files.argv(files.new_crl)) == expected
    else:
        with pytest.raises(expected):
            main(files.argv(files.new_crl))
    assert number(files.out) == 1
    assert files.leftovers() == []


# A child process that preprocesses, and dies (SIGKILL: no cleanup runs) or hangs at a chosen
# step: the model of a Lambda killed by its timeout or an out-of-memory kill.
_CHILD = """
import os, signal, sys, time
from crlcheck.cli import main
step, how = sys.argv[1], sys.argv[2]
real = getattr(os, step)

def fault(*args, **kwargs):
    if step == "fsync":
        real(*args, **kwargs)  # The whole document is in the temporary file.
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(600)

setattr(os, step, fault)
sys.exit(main(sys.argv[3:]))
"""


@pytest.mark.parametrize("step", ["fsync", "replace"])
@pytest.mark.parametrize("how", ["kill", "hang"])
def test_a_killed_or_hung_preprocessor_never_exposes_a_partial_document(
    files: Files, step: str, how: str
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, step, how, *files.argv(files.new_crl)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    try:
        if how == "hang":
            # Wait until the temporary file exists (the child is at the faulty step), then kill
            # it the way a Lambda timeout does.
            deadline = time.monotonic() + 30
            while not files.leftovers() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert files.leftovers(), "the child never reached the write"
            child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        assert child.stderr is not None
        child.stderr.close()
    # The published document is the old one, whole. What a SIGKILL can leave behind is a
    # hidden temporary file next to it, never a partial document at the published path.
    assert number(files.out) == 1
    assert all(name.startswith(".ca.cache.json.") for name in files.leftovers())


def test_readers_never_see_a_partial_document_while_it_is_rewritten(files: Files, hca: CA) -> None:
    """A reader polling the output while two CRLs are published over and over sees, on every
    read, one complete document (CRL number 1 or 2), never a truncated one."""
    stop = threading.Event()
    reading = threading.Event()
    seen: dict[int | None, int] = {}
    errors: list[BaseException] = []

    def reader() -> None:
        while not stop.is_set():
            try:
                found = number(files.out)
            except CacheFormatError as exc:
                errors.append(exc)
                return
            seen[found] = seen.get(found, 0) + 1
            reading.set()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert reading.wait(timeout=30)
        for i in range(12):
            assert main(files.argv(files.new_crl if i % 2 == 0 else files.old_crl)) == 0
    finally:
        stop.set()
        thread.join(timeout=30)
    assert errors == []
    assert set(seen) <= {1, 2}
    assert sum(seen.values()) > 0
    assert files.leftovers() == []


def test_concurrent_preprocessors_leave_one_complete_document(files: Files) -> None:
    """Six ``python -m crlcheck preprocess --force`` processes race to write the same output
    (last writer wins; without --force the CLI applies the publication rule, though not
    atomically against concurrent writers as the Lambda's conditional PUT does): what is
    guaranteed is one complete document and no debris."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "crlcheck", *files.argv(crl)],
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        for crl in [files.new_crl, files.old_crl] * 3
    ]
    assert [child.wait(timeout=120) for child in children] == [0] * 6
    assert number(files.out) in (1, 2)
    assert files.leftovers() == []
