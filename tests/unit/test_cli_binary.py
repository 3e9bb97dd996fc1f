"""``crlcheck preprocess --format binary`` and the commands that read either format."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from crlcheck import RevocationSet, dump_document, load_document
from crlcheck.cli import main
from crlcheck.codec import sniff
from tests.pki import CA, NOW, Revoked

AT = ["--at", NOW.isoformat()]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pki-binary")
    ca = CA("crlcheck CLI Binary CA")
    revoked = ca.issue_cert("revoked")
    paths = {name: root / f"{name}.pem" for name in ("ca", "good", "revoked")}
    paths["crl"] = root / "ca.crl"
    paths["ca"].write_bytes(ca.pem)
    paths["good"].write_bytes(ca.issue_cert("good").pem)
    paths["revoked"].write_bytes(revoked.pem)
    paths["crl"].write_bytes(ca.make_crl([Revoked(revoked.serial)], number=42))
    return paths


def preprocess(pki: dict[str, Path], *extra: str) -> int:
    return main(["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-q", *AT, *extra])


# --- refusals first --------------------------------------------------------------------------


def test_an_unknown_format_is_a_usage_error(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        preprocess(pki, "--format", "xml")
    assert info.value.code == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_a_truncated_binary_document_is_unreadable(pki: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "ca.cache.bin"
    assert preprocess(pki, "--format", "binary", "-o", str(out)) == 0
    out.write_bytes(out.read_bytes()[:-1])
    assert main(["check", str(pki["good"]), "--cache", str(out), *AT]) == 2
    assert main(["inspect", str(out), *AT]) == 2


# --- what it does ----------------------------------------------------------------------------


def test_binary_goes_to_cache_bin_and_check_and_inspect_read_it(
    pki: dict[str, Path], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert preprocess(pki, "--format", "binary") == 0
    out = pki["crl"].with_suffix(".cache.bin")
    assert sniff(out.read_bytes()) == "binary"
    cache = ["--cache", str(out), *AT]
    assert main(["check", str(pki["good"]), *cache]) == 0
    assert main(["check", str(pki["revoked"]), *cache]) == 1
    capsysbinary.readouterr()
    assert main(["inspect", str(out), "--json", *AT]) == 0
    view = orjson.loads(capsysbinary.readouterr().out)
    assert (view["kind"], view["format"], view["entries"]) == ("revocation-document", "binary", 1)


def test_json_stays_the_default_and_both_formats_decide_alike(
    pki: dict[str, Path], tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    crl = tmp_path / "ca.crl"
    shutil.copy(pki["crl"], crl)
    for fmt in ((), ("--format", "json"), ("--format", "binary")):
        assert main(["preprocess", str(crl), "--issuer", str(pki["ca"]), *AT, *fmt]) == 0
    assert sniff((tmp_path / "ca.cache.json").read_bytes()) == "json"
    views = []
    for suffix in (".cache.json", ".cache.bin"):
        capsysbinary.readouterr()
        cache = ["--cache", str(crl.with_suffix(suffix)), "--json", *AT]
        assert main(["check", str(pki["revoked"]), *cache]) == 1
        views.append(capsysbinary.readouterr().out)
    assert views[0] == views[1]


def test_binary_to_stdout(pki: dict[str, Path], capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert preprocess(pki, "--format", "binary", "-o", "-") == 0
    assert capsysbinary.readouterr().out.startswith(b"\x89CRLCHK\n")


def test_the_same_crl_is_rewritten_in_the_format_asked_for(
    pki: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "doc"
    assert preprocess(pki, "-o", str(out)) == 0
    assert preprocess(pki, "-o", str(out)) == 0
    assert "unchanged" in capsys.readouterr().err
    assert preprocess(pki, "--format", "binary", "-o", str(out)) == 0
    assert sniff(out.read_bytes()) == "binary"
    assert "unchanged" not in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["json", "binary"])
def test_check_loads_lazily_and_an_unsorted_document_denies(
    pki: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    """Keys out of order (digest recomputed, as a buggy writer would): never an allow."""
    ca = CA("crlcheck CLI Unsorted CA")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    leaves = [ca.issue_cert(serial=s) for s in (100, 200, 300)]
    (tmp_path / "ca.crl").write_bytes(ca.make_crl([Revoked(100), Revoked(200)], number=1))
    pre = ["preprocess", str(tmp_path / "ca.crl"), "--issuer", str(tmp_path / "ca.pem")]
    out = tmp_path / "doc"
    assert main([*pre, "--format", fmt, "-o", str(out), "-q", *AT]) == 0
    revset = load_document(out.read_bytes())
    keys = revset.keys_blob()
    width = revset.width
    swapped = keys[width:] + keys[:width]
    forged = RevocationSet(revset.info, width, swapped, revset.details_blob(), ordered=True)
    out.write_bytes(dump_document(forged, format=fmt))  # type: ignore[arg-type]
    capsys.readouterr()
    for leaf in leaves:
        (tmp_path / "leaf.pem").write_bytes(leaf.pem)
        assert main(["check", str(tmp_path / "leaf.pem"), "--cache", str(out), *AT]) == 1
        assert "document_invalid" in capsys.readouterr().out
