"""decide(): deny unless a fresh CRL of the certificate's own issuer covers it and does not list it.

Denies come first. Every decision is also checked for the invariant that only ``not_revoked``
allows.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from crlcheck import (
    Decision,
    Reason,
    RevocationSet,
    decide,
    dump_document,
    load_certificates,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck._time import format_utc
from crlcheck.revset import BLOCK
from tests.pki import (
    CA,
    NEXT,
    NOW,
    T0,
    Revoked,
    cert_with_duplicate_extension,
    cert_with_serial,
    crl_with_entries,
    raw_entry,
)

URL = "http://crl.example/partition-1.crl"
HOLD_DATE = dt.datetime(2025, 12, 2, tzinfo=dt.UTC)
REVOKED_AT = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)  # the default date in tests.pki


def check(
    certificate: x509.Certificate | bytes,
    sets: list[RevocationSet],
    *,
    now: dt.datetime = NOW,
    grace: dt.timedelta = dt.timedelta(0),
) -> Decision:
    decision = decide(certificate, sets, now=now, grace=grace)
    assert decision.allowed is (decision.reason is Reason.NOT_REVOKED)
    return decision


def revset_of(ca: CA, crl: bytes) -> RevocationSet:
    return verify_crl(load_crl(crl), [ca.cert], now=NOW)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def idp(
    full_name: list[str] | None = None, *, only_user: bool = False
) -> tuple[x509.IssuingDistributionPoint, bool]:
    value = x509.IssuingDistributionPoint(
        full_name=[x509.UniformResourceIdentifier(u) for u in full_name] if full_name else None,
        relative_name=None,
        only_contains_user_certs=only_user,
        only_contains_ca_certs=False,
        only_some_reasons=None,
        indirect_crl=False,
        only_contains_attribute_certs=False,
    )
    return value, True


@pytest.fixture(scope="module")
def crl_set(ca: CA) -> RevocationSet:
    """The test CA's CRL: 0x77 keyCompromise, 0x78 certificateHold, 0x79 without a reason."""
    revoked: list[int | Revoked] = [
        Revoked(0x77, reason=x509.ReasonFlags.key_compromise),
        Revoked(0x78, HOLD_DATE, reason=x509.ReasonFlags.certificate_hold),
        0x79,
    ]
    return revset_of(ca, ca.make_crl(revoked, number=42))


@pytest.fixture(scope="module")
def other_set(other_ca: CA) -> RevocationSet:
    """The other CA's CRL, which revokes 0x80 and not 0x77."""
    return revset_of(other_ca, other_ca.make_crl([0x80], number=7))


# =============================================================================================
# Denies: input
# =============================================================================================


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n",
        b"\x30\x03\x02\x01\x01",
    ],
    ids=["empty", "garbage", "bad-pem", "not-a-certificate"],
)
def test_bad_certificate_bytes_are_a_deny(crl_set: RevocationSet, data: bytes) -> None:
    decision = check(data, [crl_set])
    assert decision.reason is Reason.BAD_CERTIFICATE
    assert decision.serial is None


def test_truncated_certificate_is_a_deny(ca: CA, crl_set: RevocationSet) -> None:
    data = der(ca.issue_cert().cert)
    for end in (1, 10, len(data) // 2, len(data) - 1):
        assert check(data[:end], [crl_set]).reason is Reason.BAD_CERTIFICATE


def test_crl_given_as_certificate_is_a_deny(ca: CA, crl_set: RevocationSet) -> None:
    assert check(ca.make_crl([1]), [crl_set]).reason is Reason.BAD_CERTIFICATE


def test_certificate_with_malformed_extensions_is_a_deny_when_a_scope_reads_them(
    ca: CA, crl_set: RevocationSet
) -> None:
    # cryptography parses extensions on first use; when a covering CRL has a scope that reads
    # them, decide must deny, not raise, whether it got bytes or an object.
    scoped = revset_of(ca, ca.make_crl([1], extensions=[idp(only_user=True)]))
    data = cert_with_duplicate_extension(ca, ca.issue_cert().cert)
    lazily_parsed = x509.load_der_x509_certificate(data)
    for sets in ([scoped], [scoped, crl_set], [crl_set, scoped]):
        assert check(data, sets).reason is Reason.BAD_CERTIFICATE
        assert check(lazily_parsed, sets).reason is Reason.BAD_CERTIFICATE


def test_extensions_are_not_parsed_when_no_covering_crl_is_scoped(
    ca: CA, crl_set: RevocationSet
) -> None:
    # The documented trade-off (crlcheck.decision._read): without a scope, the extensions play
    # no part in the decision and are not parsed (~3 µs per request), so a malformed one does
    # not turn the decision into bad_certificate.
    data = cert_with_duplicate_extension(ca, ca.issue_cert().cert)
    lazily_parsed = x509.load_der_x509_certificate(data)
    assert check(data, [crl_set]).reason is Reason.NOT_REVOKED
    assert check(lazily_parsed, [crl_set]).reason is Reason.NOT_REVOKED
    assert check(lazily_parsed, []).reason is Reason.NO_COVERING_CRL
    assert check(data, []).reason is Reason.NO_COVERING_CRL
    # Bytes on the general route (CRLF line ends) alike.
    pem = x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM)
    assert check(pem.replace(b"\n", b"\r\n"), [crl_set]).reason is Reason.NOT_REVOKED


# =============================================================================================
# Denies: no covering CRL, issuer scoping
# =============================================================================================


def test_no_sets_is_a_deny(ca: CA) -> None:
    leaf = ca.issue_cert()
    decision = check(leaf.cert, [])
    assert decision.reason is Reason.NO_COVERING_CRL
    assert decision.serial == leaf.serial
    assert decision.issuer == ca.name.rfc4514_string()


def test_another_issuers_crl_does_not_cover(ca: CA, other_set: RevocationSet) -> None:
    assert check(ca.issue_cert().cert, [other_set]).reason is Reason.NO_COVERING_CRL


def test_serials_are_scoped_to_their_issuer(
    ca: CA, other_ca: CA, crl_set: RevocationSet, other_set: RevocationSet
) -> None:
    # Both CAs issue 0x77 and 0x80; each is revoked by one CA only.
    sets = [crl_set, other_set]
    assert check(ca.issue_cert(serial=0x77).cert, sets).reason is Reason.REVOKED
    assert check(other_ca.issue_cert(serial=0x77).cert, sets).reason is Reason.NOT_REVOKED
    assert check(other_ca.issue_cert(serial=0x80).cert, sets).reason is Reason.REVOKED
    assert check(ca.issue_cert(serial=0x80).cert, sets).reason is Reason.NOT_REVOKED


# =============================================================================================
# Denies: freshness
# =============================================================================================


@pytest.mark.parametrize("now", [NEXT, NEXT + dt.timedelta(seconds=1), NEXT + dt.timedelta(days=9)])
def test_stale_crl_is_a_deny(ca: CA, crl_set: RevocationSet, now: dt.datetime) -> None:
    decision = check(ca.issue_cert().cert, [crl_set], now=now)
    assert decision.reason is Reason.CRL_STALE


def test_grace_allows_past_next_update(ca: CA, crl_set: RevocationSet) -> None:
    cert = ca.issue_cert().cert
    grace = dt.timedelta(hours=1)
    assert check(cert, [crl_set], now=NEXT, grace=grace).allowed
    assert check(cert, [crl_set], now=NEXT + dt.timedelta(minutes=59), grace=grace).allowed
    stale = check(cert, [crl_set], now=NEXT + grace, grace=grace)
    assert stale.reason is Reason.CRL_STALE


def test_revoked_stays_revoked_when_stale(ca: CA, crl_set: RevocationSet) -> None:
    decision = check(ca.issue_cert(serial=0x77).cert, [crl_set], now=NEXT + dt.timedelta(days=1))
    assert decision.reason is Reason.REVOKED


def test_not_yet_valid_crl_is_a_deny(ca: CA, crl_set: RevocationSet) -> None:
    cert = ca.issue_cert().cert
    early = T0 - dt.timedelta(minutes=5, seconds=1)  # before thisUpdate minus the clock skew
    assert check(cert, [crl_set], now=early).reason is Reason.CRL_NOT_YET_VALID
    assert check(cert, [crl_set], now=T0 - dt.timedelta(minutes=5)).allowed  # within skew


def test_one_fresh_covering_set_is_enough(ca: CA, crl_set: RevocationSet) -> None:
    this_update = NEXT - dt.timedelta(days=1)
    crl = ca.make_crl(
        [0x77], this_update=this_update, next_update=NEXT + dt.timedelta(days=30), number=43
    )
    later = verify_crl(load_crl(crl), [ca.cert], now=this_update)
    cert = ca.issue_cert().cert
    decision = check(cert, [crl_set, later], now=NEXT + dt.timedelta(days=1))
    assert decision.allowed
    assert decision.crl_number == 43
    # While both are fresh, the one with the latest thisUpdate is named.
    assert check(cert, [crl_set, later], now=this_update).crl_number == 43
    # Before the later one is valid, the earlier one answers alone.
    assert check(cert, [crl_set, later]).crl_number == 42


# =============================================================================================
# Denies: revoked
# =============================================================================================


@pytest.mark.parametrize(
    ("serial", "reason", "date"),
    [
        (0x77, "keyCompromise", REVOKED_AT),
        (0x78, "certificateHold", HOLD_DATE),  # a hold is a revocation while it lasts
        (0x79, None, REVOKED_AT),
    ],
)
def test_revoked_certificate_is_a_deny(
    ca: CA, crl_set: RevocationSet, serial: int, reason: str | None, date: dt.datetime
) -> None:
    decision = check(ca.issue_cert(serial=serial).cert, [crl_set])
    assert decision == Decision(
        False,
        Reason.REVOKED,
        "certificate is revoked",
        serial,
        ca.name.rfc4514_string(),
        42,
        date,
        reason,
        next_update=crl_set.info.next_update,
        this_update=crl_set.info.this_update,
    )


def test_listed_by_any_covering_set_is_a_deny(ca: CA, crl_set: RevocationSet) -> None:
    # A newer CRL that no longer lists 0x78 does not outvote a fresh one that does.
    newer = revset_of(ca, ca.make_crl([0x77], this_update=NOW, number=43))
    assert check(ca.issue_cert(serial=0x78).cert, [newer, crl_set]).reason is Reason.REVOKED


@pytest.mark.parametrize(
    ("revoked", "presented", "reason"),
    [
        (-1, -1, Reason.REVOKED),
        (-1, 255, Reason.NOT_REVOKED),
        (255, -1, Reason.NOT_REVOKED),
        (255, 255, Reason.REVOKED),
        (0, 0, Reason.REVOKED),
        (2**199 - 1, 2**199 - 1, Reason.REVOKED),
        (-(2**159), -(2**159), Reason.REVOKED),
        (-(2**159), 2**159, Reason.NOT_REVOKED),
    ],
)
def test_serials_any_sign_and_length(ca: CA, revoked: int, presented: int, reason: Reason) -> None:
    # The builders refuse such serials, so both the CRL and the certificate are raw DER.
    revset = revset_of(ca, crl_with_entries(ca, [raw_entry(revoked), raw_entry(revoked + 2)]))
    cert = cert_with_serial(ca, ca.issue_cert().cert, presented)
    decision = check(cert, [revset])
    assert decision.reason is reason
    assert decision.serial == presented


# =============================================================================================
# Denies: a document found corrupt by a lazy check
# =============================================================================================


def test_unsorted_document_block_is_a_deny(
    ca: CA, large_document: bytes, large_revset: RevocationSet
) -> None:
    doc = orjson.loads(large_document)
    width = doc["entries"]["width"]
    keys = bytearray(base64.b64decode(doc["entries"]["serials"]))
    a, b = (BLOCK + 3) * width, (BLOCK + 4) * width  # both inside index block 1
    keys[a : a + width], keys[b : b + width] = keys[b : b + width], keys[a : a + width]
    doc["entries"]["serials"] = base64.b64encode(bytes(keys)).decode()
    doc["entries"]["serials_sha256"] = hashlib.sha256(bytes(keys)).hexdigest()
    lazy = load_document(orjson.dumps(doc), check_order="lazy")
    serials = large_revset.serials()

    def presented(serial: int) -> bytes:
        return cert_with_serial(ca, ca.issue_cert().cert, serial)

    decision = check(presented(serials[BLOCK + 5]), [lazy])
    assert decision.reason is Reason.DOCUMENT_INVALID
    assert decision.reason.value == "document_invalid"
    assert decision.serial == serials[BLOCK + 5]
    assert decision.crl_number == 77
    # A hit needs only its own block, which is sound; an allow needs every block.
    assert check(presented(serials[0]), [lazy]).reason is Reason.REVOKED
    assert check(presented(serials[0] - 1), [lazy]).reason is Reason.DOCUMENT_INVALID


# =============================================================================================
# Scope: issuingDistributionPoint (RFC 5280 §6.3.3 (b)(2))
# =============================================================================================


def test_distribution_point_scope(ca: CA) -> None:
    partition = revset_of(ca, ca.make_crl([0x90], extensions=[idp([URL])]))
    inside_revoked = ca.issue_cert(serial=0x90, crl_distribution_points=[URL]).cert
    inside_good = ca.issue_cert(crl_distribution_points=["http://x/other.crl", URL]).cert
    outside = ca.issue_cert(crl_distribution_points=["http://x/other.crl"]).cert
    without_cdp = ca.issue_cert(serial=0x90).cert
    assert check(inside_revoked, [partition]).reason is Reason.REVOKED
    assert check(inside_good, [partition]).reason is Reason.NOT_REVOKED
    assert check(outside, [partition]).reason is Reason.NO_COVERING_CRL
    assert check(without_cdp, [partition]).reason is Reason.NO_COVERING_CRL


def test_full_crl_covers_what_a_partition_does_not(ca: CA, crl_set: RevocationSet) -> None:
    partition = revset_of(ca, ca.make_crl([0x77], extensions=[idp([URL])]))
    assert check(ca.issue_cert().cert, [partition, crl_set]).allowed
    assert check(ca.issue_cert(serial=0x77).cert, [partition, crl_set]).reason is Reason.REVOKED


def test_only_user_certs_does_not_cover_a_ca_certificate(ca: CA) -> None:
    users = revset_of(ca, ca.make_crl([0x91], extensions=[idp(only_user=True)]))
    assert check(ca.issue_cert().cert, [users]).allowed
    assert check(ca.issue_cert(serial=0x91).cert, [users]).reason is Reason.REVOKED
    assert check(ca.issue_cert(ca=True).cert, [users]).reason is Reason.NO_COVERING_CRL


# =============================================================================================
# Allows, and the shapes of input and output
# =============================================================================================


def test_good_certificate_is_allowed(
    ca: CA, crl_set: RevocationSet, other_set: RevocationSet
) -> None:
    leaf = ca.issue_cert()
    decision = check(leaf.cert, [other_set, crl_set])
    assert decision == Decision(
        True,
        Reason.NOT_REVOKED,
        "certificate is not revoked",
        leaf.serial,
        ca.name.rfc4514_string(),
        42,
        next_update=crl_set.info.next_update,
        this_update=crl_set.info.this_update,
    )


def test_certificate_as_object_pem_or_der(ca: CA, crl_set: RevocationSet) -> None:
    for serial in (0x77, 0x1234):
        leaf = ca.issue_cert(serial=serial)
        decisions = {check(c, [crl_set]) for c in (leaf.cert, leaf.pem, der(leaf.cert))}
        assert len(decisions) == 1


def test_decision_to_dict(ca: CA) -> None:
    revset = revset_of(ca, crl_with_entries(ca, [raw_entry(-1)], number=2**70))
    decision = check(cert_with_serial(ca, ca.issue_cert().cert, -1), [revset])
    assert decision.to_dict() == {
        "allowed": False,
        "reason": "revoked",
        "message": "certificate is revoked",
        "serial": "-01",
        "issuer": ca.name.rfc4514_string(),
        "crl_number": str(2**70),
        "revocation_date": "2025-12-01T00:00:00Z",
        "revocation_reason": None,
        "this_update": format_utc(revset.info.this_update),
        "next_update": format_utc(revset.info.next_update),
        "delta_crl_number": None,
        "certificate": None,
    }
    assert orjson.loads(orjson.dumps(decision.to_dict())) == decision.to_dict()
    assert Decision.deny(Reason.BAD_REQUEST, "no certificate").to_dict() == {
        "allowed": False,
        "reason": "bad_request",
        "message": "no certificate",
        "serial": None,
        "issuer": None,
        "crl_number": None,
        "revocation_date": None,
        "revocation_reason": None,
        "this_update": None,
        "next_update": None,
        "delta_crl_number": None,
        "certificate": None,
    }


# =============================================================================================
# openssl vectors, through the document
# =============================================================================================

_OPENSSL = [
    # (crl, signer files, certificate, reason, revocation reason, day of December 2025)
    ("rsa.crl", ["rsa-ca.pem"], "rsa-revoked-1.pem", Reason.REVOKED, "keyCompromise", 1),
    ("rsa.crl", ["rsa-ca.pem"], "rsa-revoked-2.pem", Reason.REVOKED, "certificateHold", 2),
    ("rsa.crl", ["rsa-ca.pem"], "rsa-revoked-3.pem", Reason.REVOKED, None, 3),
    ("rsa.crl", ["rsa-ca.pem"], "rsa-good.pem", Reason.NOT_REVOKED, None, None),
    ("rsa.crl.der", ["rsa-ca.pem"], "rsa-revoked-1.pem", Reason.REVOKED, "keyCompromise", 1),
    ("v1.crl", ["rsa-ca.pem"], "rsa-revoked-3.pem", Reason.REVOKED, None, 3),
    ("v1.crl", ["rsa-ca.pem"], "rsa-revoked-1.pem", Reason.NOT_REVOKED, None, None),
    ("ec.crl", ["ec-ca.pem"], "ec-revoked.pem", Reason.REVOKED, "keyCompromise", 1),
    ("ec.crl", ["ec-ca.pem"], "ec-good.pem", Reason.NOT_REVOKED, None, None),
    ("ec.crl", ["ec-ca.pem"], "rsa-revoked-1.pem", Reason.NO_COVERING_CRL, None, None),
    ("rsa-pss.crl", ["rsa-pss-ca.pem"], "rsa-pss-revoked.pem", Reason.REVOKED, "keyCompromise", 1),
    ("ed25519.crl", ["ed25519-ca.pem"], "ed25519-revoked.pem", Reason.REVOKED, "keyCompromise", 1),
    (
        "crlsigner.crl",
        ["crlsigner-ca.pem", "crlsigner.pem"],
        "crlsigner-revoked.pem",
        Reason.REVOKED,
        "keyCompromise",
        1,
    ),
]


@pytest.mark.parametrize(
    ("crl_file", "signer_files", "cert_file", "reason", "revocation_reason", "day"),
    _OPENSSL,
    ids=[f"{c}-{p}" for c, _, p, *_ in _OPENSSL],
)
def test_openssl_vectors(
    openssl_dir: Path,
    crl_file: str,
    signer_files: list[str],
    cert_file: str,
    reason: Reason,
    revocation_reason: str | None,
    day: int | None,
) -> None:
    signers = load_certificates(b"".join((openssl_dir / f).read_bytes() for f in signer_files))
    revset = verify_crl(load_crl((openssl_dir / crl_file).read_bytes()), signers, now=NOW)
    certificate = (openssl_dir / cert_file).read_bytes()
    for sets in ([revset], [load_document(dump_document(revset), check_order="lazy")]):
        decision = check(certificate, sets)
        assert decision.reason is reason
        assert decision.revocation_reason == revocation_reason
        expected_date = dt.datetime(2025, 12, day, tzinfo=dt.UTC) if day else None
        assert decision.revocation_date == expected_date
