"""Generate realistic large CRLs for the benchmark (written to bench/data/, which git ignores).

Usage::

    python bench/gen_crl.py [--sizes 1k,100k,1m] [--keys rsa,ec] [--force]

For each issuer key type (RSA-2048 with sha256WithRSAEncryption, P-256 with ecdsa-with-SHA256)
and each size this writes, under ``bench/data/<key>/``:

- ``ca.pem`` / ``ca.key`` (the issuing CA, shared by all sizes of that key type),
- ``<size>.crl`` (DER) and ``<size>.json`` (the parameters plus a few revoked serials),
- ``<size>-revoked.pem`` (a client certificate whose serial is in the CRL) and
  ``<size>-good.pem`` (one that is not), both issued by the CA, for end-to-end decisions.

What the entries look like
--------------------------
Serials are random positive integers of 16 to 20 octets (DER contents of exactly that length:
the first octet is 0x01-0x7f), as issued by CAs that follow the CA/Browser Forum's 64-bit
entropy rule with margin (AWS Private CA, EJBCA, Vault). Revocation dates are spread over the
year before thisUpdate, as UTCTime. About 60 % of the entries carry a reasonCode (keyCompromise,
superseded, cessationOfOperation, affiliationChanged, unspecified, certificateHold) and about 5 %
an invalidityDate, which gives the four entry shapes seen in practice (no extensions, reason,
invalidityDate, both). The CRL has a cRLNumber and an authorityKeyIdentifier.

How 1M entries are built
------------------------
``CertificateRevocationListBuilder.add_revoked_certificate`` returns a new builder holding a copy
of the list, so adding n entries one by one costs O(n^2): 0.53 s for 20k entries on the
benchmark machine, ~20 minutes for 1M by extrapolation. Passing the whole list to the
constructor, ``CertificateRevocationListBuilder(revoked_certificates=[...])``, builds it once;
what remains is one ``RevokedCertificateBuilder().build()`` per entry (~18 s for 1M, with the
random draws) and one signature by the real key. Every CRL here is therefore signed by
``cryptography`` with the CA's key, exactly as a CA would, with nothing hand-made in its DER.

Caching
-------
A 1M-entry CRL takes ~20 s to make. Files are reused when their ``<size>.json`` records the same
parameters (generator version, size, key type, seed) and the CRL is still fresh for at least a
week: thisUpdate is the generation time minus one day and nextUpdate a year later, so the
authorizer handler (which reads the real clock) accepts them. ``--force`` regenerates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DATA = Path(__file__).resolve().parent / "data"
GENERATOR_VERSION = 1
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
KEYS = ("rsa", "ec")
UTC = dt.UTC

# (reason or None, weight): the mix of reasonCode values.
_REASONS: list[tuple[x509.ReasonFlags | None, int]] = [
    (None, 40),
    (x509.ReasonFlags.key_compromise, 15),
    (x509.ReasonFlags.superseded, 15),
    (x509.ReasonFlags.cessation_of_operation, 15),
    (x509.ReasonFlags.affiliation_changed, 8),
    (x509.ReasonFlags.unspecified, 5),
    (x509.ReasonFlags.certificate_hold, 2),
]
_INVALIDITY_DATE_SHARE = 0.05

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Generated:
    """Paths and facts of one generated CRL."""

    key: str
    size: str
    count: int
    crl: Path
    ca_pem: Path
    revoked_pem: Path
    good_pem: Path
    meta: dict[str, object]

    @property
    def good_serial(self) -> int:
        """A serial that the CRL does not list (the good client certificate's)."""
        return int(str(self.meta["good_serial"]))

    @property
    def revoked_sample(self) -> list[int]:
        """A few serials listed in the CRL (decimal strings in the metadata)."""
        sample = self.meta["revoked_sample"]
        assert isinstance(sample, list)
        return [int(s) for s in sample]


def parse_sizes(text: str) -> list[str]:
    """Parse ``1k,100k,1m`` into known size labels."""
    labels = [s.strip().lower() for s in text.split(",") if s.strip()]
    for label in labels:
        if label not in SIZES:
            raise SystemExit(f"unknown size {label!r} (known: {', '.join(SIZES)})")
    return labels


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "crlcheck bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _new_key(kind: str) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _ca(kind: str) -> tuple[PrivateKey, x509.Certificate]:
    """Load the CA of this key type from bench/data, or make and store it."""
    directory = DATA / kind
    key_path, cert_path = directory / "ca.key", directory / "ca.pem"
    if key_path.exists() and cert_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return key, x509.load_pem_x509_certificate(cert_path.read_bytes())
    directory.mkdir(parents=True, exist_ok=True)
    key = _new_key(kind)
    subject = _name(f"crlcheck Bench {kind.upper()} Issuing CA")
    start = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=30)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert


def _leaf(ca_key: PrivateKey, ca_cert: x509.Certificate, serial: int, cn: str) -> bytes:
    """A client certificate with ``serial``, issued by the CA, as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = ca_cert.not_valid_before_utc
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _random_serial(rng: random.Random) -> int:
    """A positive serial whose DER content is exactly 16-20 octets (first octet 0x01-0x7f)."""
    octets = rng.randint(16, 20)
    bits = 8 * octets - 1
    return rng.getrandbits(bits) | (1 << (bits - 7))


def _params(kind: str, size: str, seed: int) -> dict[str, object]:
    return {"generator": GENERATOR_VERSION, "key": kind, "size": size, "seed": seed}


def _fresh(meta: dict[str, object]) -> bool:
    next_update = meta.get("next_update")
    if not isinstance(next_update, str):
        return False
    expiry = dt.datetime.fromisoformat(next_update)
    return expiry > dt.datetime.now(UTC) + dt.timedelta(days=7)


def generate(kind: str, size: str, *, seed: int = 1, force: bool = False) -> Generated:
    """Return the CRL of ``size`` entries for issuer key ``kind``, making it if needed.

    Args:
        kind: ``"rsa"`` (RSA-2048) or ``"ec"`` (P-256).
        size: A label of :data:`SIZES`.
        seed: Seed of the serials, dates and reasons.
        force: Regenerate even when a matching file exists.
    """
    count = SIZES[size]
    directory = DATA / kind
    crl_path = directory / f"{size}.crl"
    meta_path = directory / f"{size}.json"
    revoked_pem = directory / f"{size}-revoked.pem"
    good_pem = directory / f"{size}-good.pem"
    params = _params(kind, size, seed)
    ca_key, ca_cert = _ca(kind)
    if not force and meta_path.exists() and crl_path.exists() and revoked_pem.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("params") == params and _fresh(meta):
            return Generated(
                kind, size, count, crl_path, directory / "ca.pem", revoked_pem, good_pem, meta
            )

    started = time.perf_counter()
    rng = random.Random(f"{seed}:{kind}:{size}")
    this_update = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=1)
    next_update = this_update + dt.timedelta(days=365)
    serials: set[int] = set()
    while len(serials) < count:
        serials.add(_random_serial(rng))
    ordered = list(serials)
    rng.shuffle(ordered)  # CAs list entries in revocation order, not serial order.
    reasons, weights = zip(*_REASONS, strict=True)
    chosen = rng.choices(reasons, weights=weights, k=count)
    year = 365 * 24 * 3600
    entries = []
    for serial, reason in zip(ordered, chosen, strict=True):
        revoked_at = this_update - dt.timedelta(seconds=rng.randrange(year))
        builder = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
        if reason is not None:
            builder = builder.add_extension(x509.CRLReason(reason), critical=False)
        if rng.random() < _INVALIDITY_DATE_SHARE:
            builder = builder.add_extension(
                x509.InvalidityDate(revoked_at - dt.timedelta(hours=rng.randrange(1, 72))),
                critical=False,
            )
        entries.append(builder.build())
    # The whole list goes to the constructor: add_revoked_certificate is O(n) per call.
    crl_builder = x509.CertificateRevocationListBuilder(
        issuer_name=ca_cert.subject,
        last_update=this_update,
        next_update=next_update,
        revoked_certificates=entries,
    )
    crl_builder = crl_builder.add_extension(
        x509.CRLNumber(rng.randrange(1, 1 << 40)), critical=False
    )
    crl_builder = crl_builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
    )
    der = crl_builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    del entries
    directory.mkdir(parents=True, exist_ok=True)
    crl_path.write_bytes(der)
    sample = ordered[:: max(1, count // 64)][:64]
    revoked_pem.write_bytes(_leaf(ca_key, ca_cert, sample[0], "bench revoked client"))
    good = _random_serial(rng)
    while good in serials:
        good = _random_serial(rng)
    good_pem.write_bytes(_leaf(ca_key, ca_cert, good, "bench good client"))
    meta = {
        "params": params,
        "count": count,
        "crl_bytes": len(der),
        "this_update": this_update.isoformat(),
        "next_update": next_update.isoformat(),
        "revoked_sample": [str(s) for s in sample],
        "good_serial": str(good),
        "seconds_to_generate": round(time.perf_counter() - started, 2),
    }
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return Generated(kind, size, count, crl_path, directory / "ca.pem", revoked_pem, good_pem, meta)


def main(argv: list[str] | None = None) -> int:
    """Generate the requested CRLs (reusing cached ones) and list them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1k,100k,1m", help="comma list of 1k,10k,100k,1m")
    parser.add_argument("--keys", default="rsa,ec", help="comma list of rsa,ec")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    kinds = [k.strip() for k in args.keys.split(",") if k.strip()]
    for kind in kinds:
        if kind not in KEYS:
            raise SystemExit(f"unknown key type {kind!r} (known: {', '.join(KEYS)})")
    for kind in kinds:
        for size in parse_sizes(args.sizes):
            started = time.perf_counter()
            gen = generate(kind, size, seed=args.seed, force=args.force)
            took = time.perf_counter() - started
            print(
                f"{gen.crl.relative_to(DATA.parent.parent)}: {gen.count:,} entries, "
                f"{gen.crl.stat().st_size / 1e6:.1f} MB ({took:.1f} s)",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
