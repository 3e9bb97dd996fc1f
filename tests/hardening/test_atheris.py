"""A bounded atheris campaign on the CRL loader and verifier (``fuzz/fuzz_crl.py``).

Seeded with every openssl-made CRL vector (PEM and DER) and the example CRL; libFuzzer then
mutates them under coverage guidance for ``CRLCHECK_ATHERIS_RUNS`` iterations (default 20 000,
about 15 s). Any exception other than a CRLCheckError is a crash: atheris exits non-zero and
writes the input to the artifact directory, which the failure message points to.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crlcheck import load_crl
from tests.hardening.conftest import budget

ROOT = Path(__file__).resolve().parents[2]
RUNS = budget("CRLCHECK_ATHERIS_RUNS", 20_000)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None, reason="atheris is not installed"
)


def test_atheris_campaign_finds_no_crash(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    artifacts = tmp_path / "artifacts"
    corpus.mkdir()
    artifacts.mkdir()
    seeds = [*sorted((ROOT / "tests/data/openssl").glob("*.crl*")), ROOT / "examples/ca.crl"]
    for seed in seeds:
        shutil.copy(seed, corpus / seed.name)
        (corpus / f"{seed.name}.der").write_bytes(load_crl(seed.read_bytes()).der)
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz/fuzz_crl.py"),
            f"-runs={RUNS}",
            "-seed=1",
            "-max_len=16384",
            "-timeout=10",
            f"-artifact_prefix={artifacts}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=max(120, RUNS // 200),
        cwd=ROOT,
    )
    crashes = sorted(p.name for p in artifacts.iterdir())
    tail = "\n".join(result.stderr.splitlines()[-30:])
    assert result.returncode == 0, f"crashes: {crashes} (in {artifacts})\n{tail}"
    assert crashes == []
    done = re.search(r"Done (\d+) runs in (\d+) second", result.stderr)
    assert done is not None, tail
    assert int(done.group(1)) == RUNS
