"""What a delta CRL costs on top of its base: load and decision (issue 11's benchmark).

Usage::

    python bench/delta.py [--size 1m] [--delta 1000] [--key rsa]

Builds (with ``cryptography``, signed by the benchmark CA of ``bench/gen_crl.py``) a delta CRL of
``--delta`` entries over the generated ``--size`` base, preprocesses both, and measures in one
run: loading the base document alone, the delta document alone, and both; and ``decide()`` on
the good client certificate against the base alone and against base plus delta, next to one
lookup in the delta alone (the delta's own cost). Claim: base + delta costs the base plus
the delta itself, nothing more. Writes ``bench/results/delta.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import gen_crl  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402

from crlcheck import (  # noqa: E402
    decide,
    dump_document,
    load_certificate,
    load_crl,
    load_document,
    verify_crl,
)

RESULTS = BENCH / "results"


def _delta_crl(gen: gen_crl.Generated, entries: int, base: int) -> bytes:
    key = serialization.load_pem_private_key((gen.ca_pem.parent / "ca.key").read_bytes(), None)
    ca = x509.load_pem_x509_certificate(gen.ca_pem.read_bytes())
    rng = random.Random(11)
    now = dt.datetime.now(dt.UTC)
    revoked = [
        x509.RevokedCertificateBuilder()
        .serial_number(rng.getrandbits(150) | 1 << 152)
        .revocation_date(now - dt.timedelta(hours=1))
        .build()
        for _ in range(entries)
    ]
    builder = (
        x509.CertificateRevocationListBuilder(revoked_certificates=revoked)
        .issuer_name(ca.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=1))
        .add_extension(x509.CRLNumber(base + 1), critical=False)
        .add_extension(x509.DeltaCRLIndicator(base), critical=True)
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]


def _best(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def _p50_us(fn: object, n: int) -> float:
    samples = []
    for _ in range(200):
        fn()  # type: ignore[operator]
    for _ in range(n):
        t0 = time.perf_counter_ns()
        fn()  # type: ignore[operator]
        samples.append(time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--delta", type=int, default=1000)
    parser.add_argument("--key", default="rsa")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    gen = gen_crl.generate(args.key, args.size)
    now = dt.datetime.now(dt.UTC)
    signers = [x509.load_pem_x509_certificate(gen.ca_pem.read_bytes())]
    base_set = verify_crl(load_crl(gen.crl.read_bytes()), signers, now=now)
    assert base_set.info.crl_number is not None
    delta_crl = _delta_crl(gen, args.delta, base_set.info.crl_number)
    delta_set = verify_crl(load_crl(delta_crl), signers, now=now, allow_delta=True)
    base_doc, delta_doc = dump_document(base_set), dump_document(delta_set)
    load = {
        "base_ms": 1000 * _best(lambda: load_document(base_doc, check_order="lazy"), args.repeat),
        "delta_ms": 1000 * _best(lambda: load_document(delta_doc, check_order="lazy"), args.repeat),
        "both_ms": 1000
        * _best(
            lambda: (
                load_document(base_doc, check_order="lazy"),
                load_document(delta_doc, check_order="lazy"),
            ),
            args.repeat,
        ),
    }
    good = load_certificate(gen.good_pem.read_bytes())
    base_only = [load_document(base_doc)]
    pair = [*base_only, load_document(delta_doc)]
    assert decide(good, pair, now=now).allowed
    n = 20_000
    decision = {
        "base_us": _p50_us(lambda: decide(good, base_only, now=now), n),
        "base_plus_delta_us": _p50_us(lambda: decide(good, pair, now=now), n),
        "delta_lookup_us": _p50_us(lambda: pair[1].contains(gen.good_serial), n),
    }
    result = {
        "machine": {"python": sys.version.split()[0], "date": now.isoformat(timespec="seconds")},
        "params": {"size": args.size, "delta": args.delta, "key": args.key},
        "load": load,
        "decide": decision,
        "load_overhead_ms": load["both_ms"] - load["base_ms"] - load["delta_ms"],
        "decide_overhead_us": decision["base_plus_delta_us"] - decision["base_us"],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "delta.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
