"""``inspect --entries`` lists the same entries for a CRL and for its documents in both formats."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from cryptography import x509

from crlcheck.cli import main
from tests.pki import CA, NOW, Revoked


def test_entries_are_the_same_in_every_form(
    tmp_path: Path, ca: CA, capsys: pytest.CaptureFixture[str]
) -> None:
    crl = tmp_path / "ca.crl"
    crl.write_bytes(
        ca.make_crl([Revoked(7), Revoked(2**150, reason=x509.ReasonFlags.key_compromise)])
    )
    issuer = tmp_path / "ca.pem"
    issuer.write_bytes(ca.pem)
    at = ["--at", NOW.isoformat()]
    listings = []
    for fmt in ("json", "binary"):
        out = tmp_path / f"ca.{fmt}"
        argv = ["preprocess", str(crl), "--issuer", str(issuer), "-o", str(out), "-q"]
        assert main([*argv, "--format", fmt, *at]) == 0
        capsys.readouterr()
        assert main(["inspect", str(out), "--entries", "--json", *at]) == 0
        listings.append(orjson.loads(capsys.readouterr().out)["revoked"])
    assert main(["inspect", str(crl), "--entries", "--json", *at]) == 0
    listings.append(orjson.loads(capsys.readouterr().out)["revoked"])
    assert listings[0] == listings[1] == listings[2]
    assert [e["reason"] for e in listings[0]] == [None, "keyCompromise"]
