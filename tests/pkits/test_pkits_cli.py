"""PKITS 4.15 (delta CRLs), 4.4.2 (a revoked CA) and 4.1.1 through the command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from crlcheck.cli import main
from tests.pki import NOW
from tests.pkits.conftest import CASES, CERTS, CRLS, Case

AT = NOW.isoformat()


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory, signers_pem: Path) -> dict[str, Path]:
    """Every CRL the cases name, preprocessed by the CLI; a refused one has no document."""
    out = tmp_path_factory.mktemp("documents")
    made = {}
    for name in sorted({crl for case in CASES for crl in case.crls}):
        document = out / f"{name}.cache.json"
        argv = ["preprocess", str(CRLS / f"{name}.crl"), "--issuer", str(signers_pem)]
        if main([*argv, "-o", str(document), "--at", AT, "-q"]) == 0:
            made[name] = document
    return made


def test_the_stale_base_of_4_15_10_is_refused_and_the_deltas_are_published(
    documents: dict[str, Path],
) -> None:
    assert "deltaCRLCA3CRL" not in documents
    assert {"deltaCRLCA1deltaCRL", "deltaCRLCA3deltaCRL", "deltaCRLIndicatorNoBaseCACRL"} <= set(
        documents
    )


@pytest.mark.parametrize("case", CASES, ids=[c.section for c in CASES])
def test_pkits_case_through_the_cli(
    case: Case, documents: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", str(CERTS / f"{case.ee}.crt"), "--at", AT]
    for name in case.crls:
        if name in documents:
            argv += ["--cache", str(documents[name])]
    for name in case.chain:
        argv += ["--chain", str(CERTS / f"{name}.crt")]
    status = main(argv)
    out = capsys.readouterr().out
    assert status == (0 if case.valid else 1), out


def test_without_chain_only_the_leaf_is_checked(
    documents: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # 4.4.2's leaf is not revoked itself; its CA is. As before --chain: allowed.
    argv = ["check", str(CERTS / "InvalidRevokedCATest2EE.crt"), "--at", AT, "--json"]
    argv += ["--cache", str(documents["RevokedsubCACRL"]), "--cache", str(documents["GoodCACRL"])]
    assert main(argv) == 0
    capsys.readouterr()
    assert main([*argv, "--chain", str(CERTS / "RevokedsubCACert.crt")]) == 1
    decision = orjson.loads(capsys.readouterr().out)
    assert decision["reason"] == "revoked"
    assert decision["certificate"].startswith("intermediate 1 (CN=Revoked subCA")
