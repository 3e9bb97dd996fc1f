"""Many documents: catalog mode against per-document revalidation (issue 10's benchmark).

Usage::

    python bench/catalog.py [--partitions 1000] [--cas 50] [--entries 1000]

Builds, with ``cryptography`` and real signatures, ``--partitions`` partition CRLs of one CA
(each with a critical issuingDistributionPoint) and one CRL for each of ``--cas`` other CAs, all
of ``--entries`` entries, and their documents in an in-process store that counts calls. Then, in
one run, for both ways of configuring the authorizer (a catalog under a prefix; every key in a
fixed list): the cold first request (store calls, objects downloaded, ms), the warm request with
revalidation on every request (p50/p99 µs, store calls per request), and the memory the loaded
sets hold. Writes ``bench/results/catalog.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from crlcheck import Authorizer, RevocationCache, dump_document, verify_crl  # noqa: E402
from crlcheck.cache import NOT_MODIFIED, CatalogCache, Fetched, NotModified  # noqa: E402
from crlcheck.catalog import Catalog, CatalogEntry, catalog_key, dump_catalog  # noqa: E402

RESULTS = BENCH / "results"
NOW = dt.datetime.now(dt.UTC)
PREFIX = "crl/"


class CountingSource:
    """An in-memory store honouring If-None-Match; counts calls and downloads."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.calls = 0
        self.downloads = 0

    def put(self, key: str, body: bytes) -> str:
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
        self.objects[key] = (body, etag)
        return etag

    def fetch(self, key: str, etag: str | None) -> NotModified | Fetched:
        self.calls += 1
        body, current = self.objects[key]
        if etag == current:
            return NOT_MODIFIED
        self.downloads += 1
        return Fetched(body, current)


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _crl(
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    entries: int,
    rng: random.Random,
    url: str | None,
) -> bytes:
    revoked = [
        x509.RevokedCertificateBuilder()
        .serial_number(rng.getrandbits(150) | 1 << 152)
        .revocation_date(NOW - dt.timedelta(days=1))
        .build()
        for _ in range(entries)
    ]
    builder = (
        x509.CertificateRevocationListBuilder(revoked_certificates=revoked)
        .issuer_name(cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=1))
        .add_extension(x509.CRLNumber(1), critical=False)
    )
    if url is not None:
        point = x509.IssuingDistributionPoint(
            full_name=[x509.UniformResourceIdentifier(url)],
            relative_name=None,
            only_contains_user_certs=True,
            only_contains_ca_certs=False,
            only_some_reasons=None,
            indirect_crl=False,
            only_contains_attribute_certs=False,
        )
        builder = builder.add_extension(point, critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _leaf(key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, url: str | None) -> bytes:
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")]))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(0x5EED)
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
    )
    if url is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _p(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))]


def _run(authorizer: Authorizer, source: CountingSource, pems: list[bytes], n: int) -> dict:
    before = source.calls, source.downloads
    t0 = time.perf_counter()
    verdict = authorizer.check(pems[0], NOW)
    cold_ms = (time.perf_counter() - t0) * 1000
    assert verdict.decision.allowed, verdict.decision
    cold = {
        "ms": cold_ms,
        "calls": source.calls - before[0],
        "downloads": source.downloads - before[1],
    }
    samples = []
    before_calls = source.calls
    for i in range(n):
        t0 = time.perf_counter_ns()
        authorizer.check(pems[i % len(pems)], NOW)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    held = sum(s.size_bytes() for s in authorizer.cache.sets())
    return {
        "cold_first_request": cold,
        "warm_p50_us": statistics.median(samples),
        "warm_p99_us": _p(samples, 0.99),
        "warm_calls_per_request": (source.calls - before_calls) / n,
        "sets_held": len(authorizer.cache.sets()),
        "memory_held_mb": held / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--cas", type=int, default=50)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    rng = random.Random(5)
    started = time.perf_counter()
    source = CountingSource()
    catalog = Catalog()
    keys: list[str] = []
    pems: list[bytes] = []

    def publish(key: str, crl: bytes, signer: x509.Certificate) -> None:
        nonlocal catalog
        revset = verify_crl(crl, [signer], now=NOW)
        etag = source.put(key, dump_document(revset))
        updated = catalog.with_entry(CatalogEntry.of(key, etag, revset.info))
        catalog = updated if updated is not None else catalog
        keys.append(key)

    pca_key, pca = _ca("Partitioned CA")
    for n in range(args.partitions):
        url = f"http://crl.example.com/crl/pca/{n}.crl"
        publish(f"{PREFIX}pca/{n}.cache.json", _crl(pca_key, pca, args.entries, rng, url), pca)
        if n % max(1, args.partitions // 20) == 0:
            pems.append(_leaf(pca_key, pca, url))
    for c in range(args.cas):
        key, cert = _ca(f"CA {c}")
        publish(f"{PREFIX}ca{c}.cache.json", _crl(key, cert, args.entries, rng, None), cert)
        if c % 5 == 0:
            pems.append(_leaf(key, cert, None))
    source.put(catalog_key(PREFIX), dump_catalog(catalog))
    print(f"built {len(keys)} documents in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    results = {}
    catalog_source = source
    results["catalog"] = _run(
        Authorizer(CatalogCache(catalog_source, catalog_key(PREFIX))),
        catalog_source,
        pems,
        args.requests,
    )
    results["fixed_keys"] = _run(
        Authorizer(RevocationCache(source, keys)), source, pems, max(50, args.requests // 20)
    )
    out = {
        "machine": {"python": sys.version.split()[0], "date": NOW.isoformat(timespec="seconds")},
        "params": vars(args),
        "documents": len(keys),
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "catalog.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
