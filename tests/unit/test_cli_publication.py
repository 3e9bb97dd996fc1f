"""``crlcheck preprocess -o OUT`` over an existing document: the preprocessor's publication rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from crlcheck.cli import main
from tests.pki import CA, NOW


class Files:
    def __init__(self, root: Path, *cas: CA) -> None:
        self.root = root
        self.issuers = root / "issuers.pem"
        self.issuers.write_bytes(b"".join(ca.pem for ca in cas))
        self.out = root / "ca.cache.json"

    def preprocess(self, name: str, crl: bytes, *extra: str) -> int:
        path = self.root / name
        path.write_bytes(crl)
        argv = ["preprocess", str(path), "--issuer", str(self.issuers), "-o", str(self.out)]
        return main([*argv, "--at", NOW.isoformat(), "-q", *extra])


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    return err[0]


def test_another_issuer_then_a_rollback_are_refused(
    tmp_path: Path, ca: CA, other_ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    files = Files(tmp_path, ca, other_ca)
    assert files.preprocess("a2.crl", ca.make_crl([0x77], number=2)) == 0
    published = files.out.read_bytes()
    capsys.readouterr()
    assert files.preprocess("b.crl", other_ca.make_crl([], number=9)) == 1
    assert "document_identity_mismatch" in one_line(capsys)
    assert files.preprocess("a1.crl", ca.make_crl([], number=1)) == 1
    assert "crl_rollback" in one_line(capsys)
    assert files.out.read_bytes() == published


def test_a_rekeyed_ca_is_refused_and_force_replaces(
    tmp_path: Path, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    rekeyed = CA(ca.cn)
    files = Files(tmp_path, ca, rekeyed)
    assert files.preprocess("k1.crl", ca.make_crl([0x77], number=2)) == 0
    published = files.out.read_bytes()
    capsys.readouterr()
    assert files.preprocess("k2.crl", rekeyed.make_crl([], number=50)) == 1
    line = one_line(capsys)
    assert "another signing key" in line
    assert "delete the published document" in line
    assert files.out.read_bytes() == published
    assert files.preprocess("k2.crl", rekeyed.make_crl([], number=50), "--force") == 0
    assert files.out.read_bytes() != published


def test_an_unreadable_document_is_kept(
    tmp_path: Path, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    files = Files(tmp_path, ca)
    files.out.write_bytes(b'{"format":"crlcheck.revocation-set","version":3}')
    assert files.preprocess("a.crl", ca.make_crl([], number=1)) == 1
    assert "published_document_unsupported_version" in one_line(capsys)
    assert files.out.read_bytes() == b'{"format":"crlcheck.revocation-set","version":3}'


def test_the_same_crl_again_is_unchanged(
    tmp_path: Path, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    files = Files(tmp_path, ca)
    crl = ca.make_crl([], number=4)
    assert files.preprocess("a.crl", crl) == 0
    published = files.out.read_bytes()
    capsys.readouterr()
    assert files.preprocess("a.crl", crl) == 0
    assert "unchanged" in one_line(capsys)
    assert files.out.read_bytes() == published
