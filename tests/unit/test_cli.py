"""The command line, in-process through ``main(argv)`` and once through ``python -m crlcheck``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from crlcheck.cli import main
from tests.pki import CA, NOW, Revoked, to_pem

AT = ["--at", NOW.isoformat()]
EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, its CRL revoking one certificate, a good and a revoked certificate, as files."""
    root = tmp_path_factory.mktemp("pki")
    ca = CA("crlcheck CLI CA")
    good = ca.issue_cert("good")
    revoked = ca.issue_cert("revoked")
    paths = {
        "ca": root / "ca.pem",
        "crl": root / "ca.crl",
        "good": root / "good.pem",
        "revoked": root / "revoked.pem",
        "stranger": root / "stranger.pem",
    }
    paths["ca"].write_bytes(ca.pem)
    paths["crl"].write_bytes(ca.make_crl([Revoked(revoked.serial)], number=42))
    paths["good"].write_bytes(good.pem)
    paths["revoked"].write_bytes(revoked.pem)
    paths["stranger"].write_bytes(CA("crlcheck Stranger CA").issue_cert().pem)
    return paths


@pytest.fixture(scope="module")
def cache(pki: dict[str, Path]) -> Path:
    out = pki["crl"].with_suffix(".cache.json")
    assert main(["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), *AT]) == 0
    return out


# --- refusals and usage errors first ---------------------------------------------------------


def test_preprocess_wrong_issuer_is_refused_with_reason(
    pki: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    rc = main(["preprocess", str(pki["crl"]), "--issuer", str(pki["good"]), "-o", str(out), *AT])
    err = capsys.readouterr().err
    assert rc == 1
    assert "crl_issuer_mismatch" in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_preprocess_stale_crl_is_refused(
    pki: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.json"
    rc = main(
        [
            "preprocess",
            str(pki["crl"]),
            "--issuer",
            str(pki["ca"]),
            "-o",
            str(out),
            "--at",
            "2027-01-01T00:00:00Z",
        ]
    )
    assert rc == 1
    assert "crl_stale" in capsys.readouterr().err
    assert not out.exists()


def test_preprocess_garbage_crl_is_refused(
    pki: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.crl"
    garbage.write_bytes(b"\x30\x82\xff\xffnot a crl")
    rc = main(["preprocess", str(garbage), "--issuer", str(pki["ca"]), *AT])
    assert rc == 1
    assert "crl_malformed" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["preprocess", "/nonexistent/ca.crl", "--issuer", "{ca}"],
        ["preprocess", "{crl}", "--issuer", "/nonexistent/ca.pem"],
        ["preprocess", "{crl}", "--issuer", "{crl}"],  # not a certificate
        ["preprocess", "{crl}", "--issuer", "{ca}", "--at", "yesterday"],
        ["preprocess", "{crl}"],
        ["check", "{good}"],
        ["check", "{good}", "--cache", "/nonexistent.json"],
        ["check", "{good}", "--cache", "{crl}"],  # a CRL is not a document
        ["check", "{crl}", "--cache", "{cache}"],  # a CRL is not a certificate
        ["inspect", "{good}"],  # neither a CRL nor a document
        ["bogus"],
        [],
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str],
    pki: dict[str, Path],
    cache: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = {k: str(v) for k, v in pki.items()} | {"cache": str(cache)}
    argv = [a.format(**names) for a in argv]
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse exits for its own usage errors
        rc = int(exc.code or 0)
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def test_preprocess_refuses_to_write_into_missing_directory(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "preprocess",
            str(pki["crl"]),
            "--issuer",
            str(pki["ca"]),
            "-o",
            "/nonexistent/x.json",
            *AT,
        ]
    )
    assert rc == 2
    assert capsys.readouterr().err.startswith("crlcheck: error:")


# --- the contract ----------------------------------------------------------------------------


def test_preprocess_default_output_replaces_suffix(pki: dict[str, Path], cache: Path) -> None:
    assert cache == pki["crl"].parent / "ca.cache.json"
    doc = orjson.loads(cache.read_bytes())
    assert doc["entries"]["count"] == 1
    assert doc["crl"]["number"] == "42"


def test_preprocess_stdin_to_stdout(
    pki: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    import io

    pem = to_pem(pki["crl"].read_bytes())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pem)))
    assert main(["preprocess", "-", "--issuer", str(pki["ca"]), *AT]) == 0
    doc = orjson.loads(capsysbinary.readouterr().out)
    assert doc["format"] == "crlcheck.revocation-set"


@pytest.mark.parametrize(
    ("cert", "rc", "reason"),
    [("good", 0, "not_revoked"), ("revoked", 1, "revoked"), ("stranger", 1, "no_covering_crl")],
)
def test_check_exit_codes_and_json(
    cert: str,
    rc: int,
    reason: str,
    pki: dict[str, Path],
    cache: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["check", str(pki[cert]), "--cache", str(cache), "--json", *AT]) == rc
    out = orjson.loads(capsysbinary.readouterr().out)
    assert out["reason"] == reason
    assert out["allowed"] is (rc == 0)


def test_check_stale_document_denies_and_grace_allows(pki: dict[str, Path], cache: Path) -> None:
    late = ["--at", "2026-02-01T01:00:00Z"]
    assert main(["check", str(pki["good"]), "--cache", str(cache), *late]) == 1
    assert main(["check", str(pki["good"]), "--cache", str(cache), *late, "--grace", "7200"]) == 0


def test_check_several_caches(pki: dict[str, Path], cache: Path, tmp_path: Path) -> None:
    other = CA("crlcheck Other CLI CA")
    (tmp_path / "o.crl").write_bytes(other.make_crl([]))
    (tmp_path / "o.pem").write_bytes(other.pem)
    assert (
        main(["preprocess", str(tmp_path / "o.crl"), "--issuer", str(tmp_path / "o.pem"), *AT]) == 0
    )
    (tmp_path / "c.pem").write_bytes(other.issue_cert().pem)
    argv = ["--cache", str(cache), "--cache", str(tmp_path / "o.cache.json"), *AT]
    assert main(["check", str(tmp_path / "c.pem"), *argv]) == 0
    assert main(["check", str(pki["revoked"]), *argv]) == 1


def test_inspect_crl_and_document(
    pki: dict[str, Path], cache: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["inspect", str(pki["crl"]), "--json", *AT]) == 0
    crl_view = orjson.loads(capsysbinary.readouterr().out)
    assert main(["inspect", str(cache), "--json", *AT]) == 0
    doc_view = orjson.loads(capsysbinary.readouterr().out)
    assert crl_view["kind"] == "crl"
    assert doc_view["kind"] == "revocation-document"
    for key in ("issuer", "crl_number", "this_update", "next_update", "entries"):
        assert crl_view[key] == doc_view[key]
    assert main(["inspect", str(cache), "--at", "2030-01-01T00:00:00Z"]) == 1


def test_python_dash_m_on_bundled_example(tmp_path: Path) -> None:
    out = tmp_path / "ca.cache.json"
    run = [sys.executable, "-m", "crlcheck"]
    pre = subprocess.run(
        [
            *run,
            "preprocess",
            str(EXAMPLES / "ca.crl"),
            "--issuer",
            str(EXAMPLES / "ca.pem"),
            "-o",
            str(out),
        ],
        capture_output=True,
        check=False,
    )
    assert pre.returncode == 0, pre.stderr
    good = subprocess.run(
        [*run, "check", str(EXAMPLES / "good.pem"), "--cache", str(out)],
        capture_output=True,
        check=False,
    )
    revoked = subprocess.run(
        [*run, "check", str(EXAMPLES / "revoked.pem"), "--cache", str(out)],
        capture_output=True,
        check=False,
    )
    assert (good.returncode, revoked.returncode) == (0, 1)
    assert revoked.stdout.startswith(b"DENY revoked")


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_preprocess_writes_documents_with_the_umask_mode(
    umask: int, mode: int, pki: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "doc.cache.json"
    old = os.umask(umask)
    try:
        rc = main(["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", str(out), *AT])
    finally:
        os.umask(old)
    assert rc == 0
    assert stat.S_IMODE(out.stat().st_mode) == mode
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # No temporary file left.


def test_preprocess_keeps_the_mode_of_the_document_it_replaces(
    pki: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "doc.cache.json"
    argv = ["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", str(out), *AT]
    assert main(argv) == 0
    out.chmod(0o640)
    assert main([*argv, "--force"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
