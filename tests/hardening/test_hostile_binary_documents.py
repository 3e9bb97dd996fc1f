"""Hostile binary documents (format version 2): whatever the bytes, load_document returns a set
that answers exactly as the CRL did, or raises CacheFormatError.

The binary layout leaves no byte unchecked (docs/FORMAT.md): the header has a digest, the
layout follows from the header, padding must be zero, and the keys and details have digests. So
random edits are refused at load, except edits of the details, which a lazy load finds on the
first hit (the entry stays revoked; its date and reason are dropped). Forged documents (digests
recomputed) are covered in tests/unit/test_document_binary.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crlcheck import (
    CacheFormatError,
    RevocationSet,
    dump_document,
    load_crl,
    load_document,
    verify_crl,
)
from tests.hardening.conftest import fuzz_settings
from tests.pki import CA, NOW

SERIALS = [1000 + 7 * i for i in range(200)]
PROBES = [*SERIALS[::13], SERIALS[0] + 1, SERIALS[-1] + 1, 5, -1000]


@pytest.fixture(scope="module")
def revset(hca: CA) -> RevocationSet:
    return verify_crl(load_crl(hca.make_crl(SERIALS, number=12)), [hca.cert], now=NOW)


@pytest.fixture(scope="module")
def document(revset: RevocationSet) -> bytes:
    return dump_document(revset, format="binary")


def answers_as_the_crl(loaded: RevocationSet, revset: RevocationSet) -> None:
    assert loaded.info == revset.info
    for serial in PROBES:
        entry, expected = loaded.lookup(serial), revset.lookup(serial)
        assert (entry is None) == (expected is None)
        if entry is not None and entry != expected:
            assert (entry.revocation_date, entry.reason) == (None, None)  # Details dropped.
    assert loaded.serials() == revset.serials()


edits = st.lists(
    st.tuples(
        st.sampled_from(["overwrite", "insert", "delete"]),
        st.floats(min_value=0, max_value=1),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=4,
)


@fuzz_settings
@given(edits=edits, mode=st.sampled_from(["eager", "lazy"]))
def test_edited_documents_are_refused_or_answer_as_the_crl(
    document: bytes,
    revset: RevocationSet,
    edits: list[tuple[str, float, bytes]],
    mode: Literal["eager", "lazy"],
) -> None:
    data = bytearray(document)
    for kind, where, chunk in edits:
        at = int(where * len(data))
        if kind == "overwrite":
            data[at : at + len(chunk)] = chunk[: len(data) - at]
        elif kind == "insert":
            data[at:at] = chunk
        else:
            del data[at : at + len(chunk)]
    try:
        loaded = load_document(bytes(data), check_order=mode)
    except CacheFormatError:
        return
    answers_as_the_crl(loaded, revset)


@fuzz_settings
@given(data=st.binary(max_size=300), mode=st.sampled_from(["eager", "lazy"]))
def test_garbage_after_the_magic_is_refused(data: bytes, mode: Literal["eager", "lazy"]) -> None:
    with pytest.raises(CacheFormatError):
        load_document(b"\x89CRLCHK\n" + data, check_order=mode)


_PEAK_SCRIPT = """
import gc, random, sys
from crlcheck import RevocationSet, dump_document, load_document
from crlcheck.revset import CRLInfo
from crlcheck.serial import encode_serial
from tests.pki import NEXT, T0

mode, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
serials = sorted({rng.getrandbits(159) | (1 << 152) for _ in range(count)})
blob = b"".join(encode_serial(s, 21) for s in serials)
details = b"20251201000000Z\\xff" * len(serials)
info = CRLInfo("CN=big", b"0\\x00", None, "CN=big", "00" * 32, 1, T0, NEXT, "00" * 32, "x")
data = dump_document(RevocationSet(info, 21, blob, details, ordered=True), format="binary")
probe = serials[len(serials) // 3]
del blob, details, serials
gc.collect()


def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])


with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = peak_kb()
revset = load_document(data, check_order=mode)
assert revset.lookup(probe) is not None and probe + 1 not in revset
print(len(data), (peak_kb() - before) * 1024)
"""


@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc to read peak memory"
)
@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_loading_a_binary_document_copies_nothing_large(mode: str) -> None:
    """A ~9 MB document (250 000 entries): the set is the document plus its sparse index
    (JSON documents need ~1 N more, tests/hardening/test_hostile_documents.py)."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, mode, "250000"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
        check=True,
    )
    size, growth = map(int, result.stdout.split())
    assert size > 9_000_000
    assert growth < 0.1 * size, growth / size
