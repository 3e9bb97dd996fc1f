"""A bounded soak of the decision core: a 100 000-entry revocation set, a million membership
decisions checked against a Python ``set`` oracle, then the warm authorizer's loop (ETag
revalidation, periodic document changes, ``decide`` on real certificates) with memory traced.

Scale with ``CRLCHECK_SOAK_LOOKUPS`` (default 1 000 000; the ``decide`` part runs a hundredth of
it). At the default the module takes ~15 s.
"""

from __future__ import annotations

import gc
import itertools
import random
import tracemalloc
from dataclasses import dataclass

import pytest
from cryptography import x509

from crlcheck import Reason, RevocationSet, decide, dump_document, load_crl, verify_crl
from crlcheck.cache import NOT_MODIFIED, Fetched, NotModified, RevocationCache
from crlcheck.codec import load_document
from tests.hardening.conftest import budget
from tests.pki import CA, NOW, crl_with_entries, raw_entry

LOOKUPS = budget("CRLCHECK_SOAK_LOOKUPS", 1_000_000)
DECISIONS = max(LOOKUPS // 100, 1000)
ENTRIES = 100_000
ROTATE_EVERY = 1_000  # decide() calls between two document changes (a new ETag each time)

# Allowed growth of traced memory between two equivalent points of the loop. A leak of one
# small object per decision would be >1 MB here.
MAX_GROWTH = 256 << 10

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Versions:
    """Two successive CRLs of one CA, as documents, with their oracles."""

    documents: tuple[bytes, bytes]
    revoked: tuple[frozenset[int], frozenset[int]]


def _serials(rng: random.Random, count: int) -> list[int]:
    """Distinct serials of mixed lengths (1 to 20 octets) and a few negative ones."""
    out: set[int] = set()
    while len(out) < count:
        bits = rng.choice((7, 16, 32, 64, 64, 127, 159, 159))
        value = rng.getrandbits(bits) + 1
        out.add(-value if rng.random() < 0.01 else value)
    return sorted(out)


@pytest.fixture(scope="module")
def soak_ca() -> CA:
    return CA("crlcheck Soak CA")


@pytest.fixture(scope="module")
def versions(soak_ca: CA) -> Versions:
    rng = random.Random(20260115)  # noqa: S311 (reproducible test data)
    base = _serials(rng, ENTRIES + 1000)
    first = frozenset(base[:ENTRIES])
    # The next CRL: 1000 holds released, 1000 new revocations.
    second = frozenset(base[1000:])
    documents = []
    for number, revoked in ((1, first), (2, second)):
        crl = crl_with_entries(soak_ca, [raw_entry(s) for s in sorted(revoked)], number=number)
        revset = verify_crl(load_crl(crl), [soak_ca.cert], now=NOW)
        assert len(revset) == ENTRIES
        documents.append(dump_document(revset))
    return Versions((documents[0], documents[1]), (first, second))


@pytest.fixture(scope="module")
def lazy_set(versions: Versions) -> RevocationSet:
    return load_document(versions.documents[0], check_order="lazy")


def test_a_million_lookups_agree_with_a_set_oracle(
    versions: Versions, lazy_set: RevocationSet
) -> None:
    revoked = versions.revoked[0]
    members = sorted(revoked)
    rng = random.Random(1)  # noqa: S311
    # Members, their neighbours (the cases a bisection gets wrong), and random serials.
    wrong = []
    for i in range(LOOKUPS):
        pick = i % 4
        serial = members[rng.randrange(len(members))]
        if pick == 1:
            serial += 1
        elif pick == 2:
            serial -= 1
        elif pick == 3:
            serial = rng.getrandbits(rng.choice((8, 64, 160))) - 2**7
        if lazy_set.contains(serial) is not (serial in revoked):
            wrong.append(serial)
    assert wrong == []
    assert lazy_set.serials() == members


def test_lookups_do_not_grow_memory(versions: Versions, lazy_set: RevocationSet) -> None:
    members = sorted(versions.revoked[0])
    probes = [s + d for s in members[: LOOKUPS // 20] for d in (-1, 0)]
    for serial in probes[:1000]:  # Warm every code path before tracing.
        lazy_set.contains(serial)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for serial in probes:
            lazy_set.contains(serial)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 16 << 10, after - before


class RotatingSource:
    """A DocumentSource serving one of two documents; ``version`` picks which, and each
    version has its own ETag, so a change of version is a new ETag to the cache."""

    def __init__(self, documents: tuple[bytes, bytes]) -> None:
        self.documents = documents
        self.version = 0
        self.downloads = 0
        self.not_modified = 0

    def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
        current = f'"v{self.version}"'
        if etag == current:
            self.not_modified += 1
            return NOT_MODIFIED
        self.downloads += 1
        return Fetched(self.documents[self.version], current)


@pytest.fixture(scope="module")
def pool(soak_ca: CA, versions: Versions) -> list[x509.Certificate]:
    """Certificates revoked in both versions, in one only, and in neither (neighbours)."""
    first, second = versions.revoked
    both = sorted(first & second)
    rng = random.Random(2)  # noqa: S311
    serials = rng.sample(both, 60) + sorted(first - second)[:40] + sorted(second - first)[:40]
    serials += [s + 1 for s in rng.sample(both, 200) if s + 1 not in first | second][:60]
    serials = [s for s in serials if s > 0]  # The builder refuses non-positive serials.
    return [soak_ca.issue_cert(serial=s).cert for s in serials]


def test_warm_authorizer_loop_with_document_changes(
    versions: Versions, pool: list[x509.Certificate]
) -> None:
    """DECISIONS x (refresh + decide), the document changing every ROTATE_EVERY decisions:
    every decision matches the oracle of the version the cache holds, and traced memory does
    not grow between two points that hold the same version."""
    source = RotatingSource(versions.documents)
    cache = RevocationCache(source, ["soak.cache.json"])
    certs = itertools.cycle(pool)
    rounds = max(DECISIONS // ROTATE_EVERY, 4)
    rounds += rounds % 2  # Even: the last round holds the version the first one did.
    wrong: list[tuple[int, int]] = []
    marks: list[int] = []

    def run_round(version: int) -> None:
        source.version = version
        revoked = versions.revoked[version]
        for _ in range(ROTATE_EVERY):
            report = cache.refresh(0.0)
            assert report.failures == ()
            cert = next(certs)
            decision = decide(cert, cache.sets(), now=NOW)
            expected = Reason.REVOKED if cert.serial_number in revoked else Reason.NOT_REVOKED
            if decision.reason is not expected:
                wrong.append((version, cert.serial_number))

    run_round(0)  # Warm up (untraced): first load, first miss's whole-order check.
    run_round(1)
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(rounds):
            run_round(i % 2)
            if i % 2 == 1:
                gc.collect()
                marks.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert wrong == []
    assert source.downloads == rounds + 2  # One download per change, none otherwise.
    assert source.not_modified == (rounds + 2) * (ROTATE_EVERY - 1)
    # marks[0] is taken after the first traced reload of each version: the steady state.
    print("traced memory at equivalent points:", marks)
    assert marks[-1] - marks[0] < MAX_GROWTH, marks
