"""Genuinely signed CRLs the core must refuse by their values (issue 9, items 4-6): each is a
CRLCheckError subclass with its own reason, never ValueError or OverflowError.

The CRLs are made by :mod:`tests.hardening.resigned`; the CLI and the Lambda are tested with the
same CRLs in ``test_cli_refusals.py`` and ``tests/lambdas/test_preprocessor_hostile.py``.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from crlcheck import (
    CRLError,
    CRLFieldRangeError,
    CRLParseError,
    CRLSignatureError,
    CRLSignerError,
    CRLSignerExpiredError,
    CRLWeakSignatureError,
    RevocationSet,
    load_crl,
    verify_crl,
)
from crlcheck.crl import MAX_CRL_NUMBER
from crlcheck.publish import plan_publication
from tests.hardening import resigned
from tests.pki import CA, NOW, T0, Revoked, entry_extension, entry_extensions

UTC = dt.UTC


@pytest.fixture(scope="module")
def rsa_ca() -> CA:
    return CA("crlcheck RSA CA", kind="rsa")


def verify(data: bytes, signers: list[x509.Certificate], **kwargs: object) -> RevocationSet:
    return verify_crl(load_crl(data), signers, now=NOW, **kwargs)  # type: ignore[arg-type]


# --- item 4: values Python cannot represent ----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (resigned.year_zero_this_update, "thisUpdate"),
        (resigned.year_zero_next_update, "nextUpdate"),
    ],
)
def test_year_zero_in_the_validity_window_is_refused_at_load(
    ca: CA, make: Callable[[CA], bytes], field: str
) -> None:
    data = make(ca)
    with pytest.raises(CRLFieldRangeError, match=field) as info:
        load_crl(data)
    assert info.value.field == field
    assert info.value.reason == "crl_field_out_of_range"
    assert isinstance(info.value, CRLParseError)  # A kind of malformed CRL.
    assert "1-9999" in info.value.message


@pytest.mark.parametrize("others", [0, 1, 40, 300])
def test_year_zero_revocation_date_is_refused_by_verify(ca: CA, others: int) -> None:
    """Every walker (fast GeneralizedTime path, general path) hands it on; verify refuses."""
    crl = load_crl(resigned.year_zero_revocation_date(ca, others=others))
    with pytest.raises(CRLFieldRangeError, match="0BAD") as info:
        verify_crl(crl, [ca.cert], now=NOW)
    assert info.value.field == "revocationDate"


def test_year_zero_revocation_date_on_the_slow_walker_is_refused(ca: CA) -> None:
    """An entry with an unknown non-critical extension takes the walker that parses each
    entry in Python."""
    unknown = entry_extensions(entry_extension("1.3.6.1.4.1.32473.5", b"\x05\x00"))
    bad = resigned.tlv(0x30, resigned.der_integer(0x0BAD) + resigned.YEAR_ZERO + unknown)
    crl = load_crl(resigned.with_entries(ca, bad))
    with pytest.raises(CRLFieldRangeError, match="0BAD") as info:
        verify_crl(crl, [ca.cert], now=NOW)
    assert info.value.field == "revocationDate"


def test_year_9999_and_year_1_are_representable(ca: CA) -> None:
    last = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    first = dt.datetime(1, 1, 1, tzinfo=UTC)
    data = resigned.with_entries(
        ca,
        resigned.entry(1, resigned.tlv(0x18, b"00010101000000Z")),
        resigned.entry(2, resigned.tlv(0x18, b"99991231235959Z")),
    )
    revset = verify(data, [ca.cert])
    assert [revset.lookup(s).revocation_date for s in (1, 2)] == [first, last]  # type: ignore[union-attr]


def test_huge_crl_number_beyond_the_int_to_str_limit_is_refused(ca: CA) -> None:
    digits = sys.get_int_max_str_digits() or 4300
    data = resigned.crl_number(ca, 10 ** (digits + 10))
    with pytest.raises(CRLFieldRangeError, match="octets long") as info:
        load_crl(data)
    assert info.value.field == "cRLNumber"
    assert len(info.value.message) < 200  # The number itself is not in the message.


# --- item 5: cRLNumber of at most 20 octets -----------------------------------------------------


def test_crl_number_of_21_octets_is_refused(ca: CA) -> None:
    with pytest.raises(CRLFieldRangeError, match="21 octets") as info:
        load_crl(resigned.crl_number(ca, MAX_CRL_NUMBER + 1))
    assert info.value.field == "cRLNumber"
    assert "§5.2.3" in info.value.message


def test_crl_number_of_20_octets_is_accepted(ca: CA) -> None:
    assert MAX_CRL_NUMBER == 2**159 - 1
    revset = verify(resigned.crl_number(ca, MAX_CRL_NUMBER), [ca.cert])
    assert revset.info.crl_number == MAX_CRL_NUMBER


def test_crl_number_zero_is_accepted(ca: CA) -> None:
    assert verify(resigned.crl_number(ca, 0), [ca.cert]).info.crl_number == 0


def test_negative_crl_number_is_refused(ca: CA) -> None:
    with pytest.raises(CRLParseError):
        load_crl(resigned.crl_number(ca, -1))


def test_crl_number_with_leading_zero_octets_is_refused(ca: CA) -> None:
    """Twenty-one octets of which the first is zero: not DER (and not 20 octets)."""
    with pytest.raises(CRLParseError):
        load_crl(resigned.crl_number_content(ca, b"\x00" + b"\x01" * 20))


# --- item 6: SHA-1 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "algorithm"),
    [
        (resigned.sha1_rsa_crl, "sha1WithRSAEncryption"),
        (resigned.pss_sha1_crl, "rsassaPss"),
    ],
)
def test_sha1_rsa_signatures_are_refused_unless_allowed(
    rsa_ca: CA, make: Callable[[CA], bytes], algorithm: str
) -> None:
    data = make(rsa_ca)
    with pytest.raises(CRLWeakSignatureError, match="SHA-1") as info:
        verify(data, [rsa_ca.cert])
    assert info.value.reason == "crl_weak_signature"
    assert info.value.algorithm == algorithm
    assert isinstance(info.value, CRLSignatureError)
    assert "--allow-sha1" in info.value.message
    revset = verify(data, [rsa_ca.cert], allow_sha1=True)
    assert revset.serials() == [5]
    assert revset.info.signature_algorithm == algorithm


def test_dsa_with_sha1_is_refused_unless_allowed(ca: CA) -> None:
    data, signers = resigned.dsa_sha1_crl(ca)
    with pytest.raises(CRLWeakSignatureError) as info:
        verify(data, signers)
    assert info.value.algorithm == "dsa-with-sha1"
    assert verify(data, signers, allow_sha1=True).serials() == [5]


def test_ecdsa_with_sha1_is_reported_as_weak(ca: CA) -> None:
    """cryptography cannot verify ecdsa-with-SHA1 at all: allowed, it is a bad signature."""
    data = resigned.ecdsa_sha1_crl(ca)
    with pytest.raises(CRLWeakSignatureError):
        verify(data, [ca.cert])
    with pytest.raises(CRLSignatureError) as info:
        verify(data, [ca.cert], allow_sha1=True)
    assert type(info.value) is CRLSignatureError


def test_sha1_forgery_is_still_a_bad_signature_when_allowed(rsa_ca: CA) -> None:
    impostor = CA(subject=rsa_ca.name, kind="rsa")
    data = resigned.sha1_rsa_crl(impostor)
    with pytest.raises(CRLSignatureError) as info:
        verify(data, [rsa_ca.cert], allow_sha1=True)
    assert type(info.value) is CRLSignatureError


def test_issuer_mismatch_is_reported_before_the_algorithm(rsa_ca: CA, ca: CA) -> None:
    with pytest.raises(CRLError) as info:
        verify(resigned.sha1_rsa_crl(rsa_ca), [ca.cert])
    assert info.value.reason == "crl_issuer_mismatch"


def test_plan_publication_passes_allow_sha1(rsa_ca: CA) -> None:
    data = resigned.sha1_rsa_crl(rsa_ca)
    with pytest.raises(CRLWeakSignatureError):
        plan_publication(data, [rsa_ca.cert], now=NOW, published=None)
    plan = plan_publication(data, [rsa_ca.cert], now=NOW, published=None, allow_sha1=True)
    assert plan.action == "publish"


# --- item 6: the signer certificate's validity (RFC 5280 §6.3.3 (f)) ---------------------------


def test_expired_signer_is_refused_with_its_dates(ca: CA) -> None:
    data, signers = resigned.expired_signer_crl(ca)
    with pytest.raises(CRLSignerExpiredError, match="expired at 2025-12-31T00:00:00Z") as info:
        verify(data, signers)
    error = info.value
    assert error.reason == "crl_signer_expired"
    assert isinstance(error, CRLSignerError)
    assert error.not_after == T0 - dt.timedelta(days=1)
    assert error.not_before == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert error.now == NOW
    assert error.signer == ca.name.rfc4514_string()


def test_not_yet_valid_signer_is_refused(ca: CA) -> None:
    data, signers = resigned.future_signer_crl(ca)
    with pytest.raises(CRLSignerExpiredError, match="not valid before") as info:
        verify(data, signers)
    assert info.value.not_before == NOW + dt.timedelta(days=1)


def test_expired_ca_certificate_as_its_own_crl_signer_is_refused() -> None:
    old = CA("crlcheck Old CA", not_after=T0 - dt.timedelta(seconds=1))
    with pytest.raises(CRLSignerExpiredError):
        verify(old.make_crl([5]), [old.cert])


def test_signer_not_before_gets_the_clock_skew(ca: CA) -> None:
    soon = resigned.signer_valid(ca, NOW + dt.timedelta(minutes=4), NOW + dt.timedelta(days=9))
    data = ca.make_crl([5], signer=soon)
    assert verify(data, [soon.cert]).serials() == [5]
    with pytest.raises(CRLSignerExpiredError):
        verify(data, [soon.cert], clock_skew=dt.timedelta(minutes=1))


def test_signer_validity_bounds_are_inclusive(ca: CA) -> None:
    signer = resigned.signer_valid(ca, T0, NOW)
    data = ca.make_crl([5], signer=signer)
    assert verify(data, [signer.cert]).serials() == [5]  # now == notAfter
    with pytest.raises(CRLSignerExpiredError):
        verify_crl(load_crl(data), [signer.cert], now=NOW + dt.timedelta(seconds=1))


@pytest.mark.parametrize("expired_first", [True, False])
def test_a_renewed_signer_with_the_same_key_is_preferred(ca: CA, expired_first: bool) -> None:
    old = resigned.signer_valid(ca, dt.datetime(2024, 1, 1, tzinfo=UTC), T0)
    renewed = ca.crl_signer(key=old.key, validity=(T0, dt.datetime(2027, 1, 1, tzinfo=UTC)))
    data = ca.make_crl([5], signer=old)  # The same key signed it either way.
    signers = [old.cert, renewed.cert] if expired_first else [renewed.cert, old.cert]
    revset = verify(data, signers)
    assert revset.info.signer_sha256 == renewed.cert.fingerprint(hashes.SHA256()).hex()


def test_a_valid_signer_with_another_key_does_not_rescue_an_expired_one(ca: CA) -> None:
    data, signers = resigned.expired_signer_crl(ca)
    other = ca.crl_signer()  # Valid, same name, but its key did not sign this CRL.
    with pytest.raises(CRLSignerExpiredError):
        verify(data, [other.cert, *signers, ca.cert])


def test_signer_with_an_unreadable_validity_is_refused(ca: CA) -> None:
    data, signers = resigned.year_zero_signer_crl(ca)
    with pytest.raises(CRLSignerExpiredError, match="cannot represent") as info:
        verify(data, signers)
    assert info.value.not_before is None
    assert info.value.not_after is None


def test_key_usage_is_still_checked_before_validity(ca: CA) -> None:
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    signer = ca.crl_signer(key_usage=usage, validity=(dt.datetime(2024, 1, 1, tzinfo=UTC), T0))
    with pytest.raises(CRLSignerError, match="cRLSign") as info:
        verify(ca.make_crl([Revoked(5)], signer=signer), [signer.cert])
    assert type(info.value) is CRLSignerError
