"""load_crl and verify_crl: every refusal with a CRL built for it first, then what must pass.

Each refusal asserts the exception class and its ``reason``, since the reason is what the
authorizer and the CLI report. CRLs the builders refuse to make are written as raw DER and
signed again (see :mod:`tests.pki`), so each one fails for exactly the reason under test and
not for a broken signature.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed448

from crlcheck import (
    CRLCheckError,
    CRLIssuerMismatchError,
    CRLNotYetValidError,
    CRLParseError,
    CRLSignatureError,
    CRLSignerError,
    CRLStaleError,
    DeltaCRLError,
    IndirectCRLError,
    PartialCRLError,
    RevocationSet,
    UnsupportedCRLExtensionError,
    load_certificate,
    load_certificates,
    load_crl,
    verify_crl,
)
from crlcheck import _entries as entries_module
from crlcheck import crl as crl_module
from crlcheck.errors import CertificateParseError
from tests.pki import (
    CA,
    NEXT,
    NOW,
    T0,
    Revoked,
    cert_with_duplicate_extension,
    children,
    crl_with_entries,
    der_generalizedtime,
    der_integer,
    der_oid,
    entry_extension,
    entry_extensions,
    idp,
    name,
    raw_entry,
    read_tlv,
    reason_code,
    resign_crl,
    tlv,
    to_pem,
)
from tests.pki import unknown_extension as make_unknown_extension

# An OID under IANA's documentation enterprise number (RFC 5612): never a real extension.
PRIVATE_OID = "1.3.6.1.4.1.32473.1"
HOLD_INSTRUCTION = entry_extension("2.5.29.23", der_oid("1.2.840.10040.2.2"))  # callIssuer
INVALIDITY_DATE = entry_extension("2.5.29.24", der_generalizedtime(dt.datetime(2025, 11, 1)))


def verify(
    data: bytes,
    signers: list[x509.Certificate],
    *,
    now: dt.datetime = NOW,
    clock_skew: dt.timedelta = crl_module.DEFAULT_CLOCK_SKEW,
) -> RevocationSet:
    return verify_crl(load_crl(data), signers, now=now, clock_skew=clock_skew)


def refusal(
    kind: type[CRLCheckError],
    reason: str,
    data: bytes,
    signers: list[x509.Certificate],
    *,
    now: dt.datetime = NOW,
    match: str | None = None,
) -> CRLCheckError:
    """Load and verify ``data``; assert it is refused with ``kind`` and ``reason``."""
    with pytest.raises(kind, match=match) as info:
        verify(data, signers, now=now)
    assert type(info.value) is kind
    assert info.value.reason == reason
    return info.value


def unknown_extension(oid: str = PRIVATE_OID) -> x509.UnrecognizedExtension:
    return make_unknown_extension(oid)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def impostors(ca: CA) -> dict[str, CA]:
    """CAs with the test CA's exact name but their own keys, one per key type."""
    return {kind: CA(kind=kind, subject=ca.name) for kind in ("ec", "rsa", "ed25519")}


@pytest.fixture(scope="module")
def simple_crl(ca: CA) -> bytes:
    return ca.make_crl([Revoked(0x01020304, reason=x509.ReasonFlags.key_compromise), 7])


@pytest.fixture
def slow_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every call of the per-entry (slow) walker; the fast path never calls it."""
    calls: list[int] = []
    slow = entries_module._parse_entries

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return slow(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(entries_module, "_parse_entries", spy)
    return calls


# =============================================================================================
# load_crl refusals: not a well-formed CRL
# =============================================================================================


def load_refusal(data: bytes, match: str | None = None) -> CRLParseError:
    with pytest.raises(CRLParseError, match=match) as info:
        load_crl(data)
    assert type(info.value) is CRLParseError
    assert info.value.reason == "crl_malformed"
    return info.value


def test_refuses_empty_input() -> None:
    load_refusal(b"", match="empty input")


@pytest.mark.parametrize(
    "data",
    [b"garbage, not a CRL", bytes(range(256)), b"   \n", b"\x30\x00", b"\x00" * 64],
    ids=["text", "bytes", "whitespace", "empty-sequence", "zeros"],
)
def test_refuses_garbage(data: bytes) -> None:
    load_refusal(data)


@pytest.mark.parametrize("keep", [1, 2, 10, 0.5, -1])
def test_refuses_truncated_der(simple_crl: bytes, keep: float) -> None:
    end = int(len(simple_crl) * keep) if isinstance(keep, float) else keep
    load_refusal(simple_crl[:end])


def test_refuses_trailing_bytes_after_der(simple_crl: bytes) -> None:
    load_refusal(simple_crl + b"\x00")


def test_refuses_pem_with_bad_base64(simple_crl: bytes) -> None:
    lines = to_pem(simple_crl).split(b"\n")
    lines[2] = b"!!!!" + lines[2][4:]
    load_refusal(b"\n".join(lines), match="bad base64")


def test_refuses_pem_without_end_line(simple_crl: bytes) -> None:
    load_refusal(to_pem(simple_crl).rsplit(b"-----END", 1)[0], match="no complete")


def test_refuses_pem_with_certificate_label(ca: CA) -> None:
    load_refusal(ca.pem, match="'CERTIFICATE' block, expected 'X509 CRL'")


def test_refuses_crl_under_another_label(simple_crl: bytes) -> None:
    load_refusal(to_pem(simple_crl, "CRL"), match="'CRL' block, expected")


def test_refuses_pem_of_something_else(ca: CA) -> None:
    load_refusal(to_pem(der(ca.cert)), match=r"not a CRL: the input is a certificate \(DER\)")


def test_refuses_certificate_der(ca: CA) -> None:
    load_refusal(der(ca.cert), match=r"not a CRL: the input is a certificate \(DER\)")


@pytest.mark.parametrize(
    "content", [b"\x00\x05", b"\x00\x00\x80", b"\xff\xff", b"\xff\x80"], ids=lambda c: c.hex()
)
def test_refuses_non_minimal_serial_integer(ca: CA, content: bytes) -> None:
    load_refusal(crl_with_entries(ca, [raw_entry(5), raw_entry(content)]))


def test_refuses_duplicate_crl_extensions(ca: CA) -> None:
    def duplicate_crl_number(fields: list[bytes]) -> list[bytes]:
        wrapper = fields[-1]
        assert wrapper[0] == 0xA0
        _, start, _ = read_tlv(wrapper, 0)
        _, seq_start, seq_end = read_tlv(wrapper, start)
        extensions = children(wrapper, seq_start, seq_end)
        assert len(extensions) == 1  # cRLNumber
        fields[-1] = tlv(0xA0, tlv(0x30, extensions[0] + extensions[0]))
        return fields

    load_refusal(resign_crl(ca.make_crl([5], number=9), ca.key, duplicate_crl_number))


@pytest.mark.parametrize(
    "outer_alg",
    [
        tlv(0x30, der_oid("1.2.840.10045.4.3.3")),  # ecdsa-with-SHA384 around an SHA-256 one
        tlv(0x30, der_oid("1.2.840.113549.1.1.11") + b"\x05\x00"),  # sha256WithRSAEncryption
    ],
    ids=["ecdsa-sha384", "rsa-sha256"],
)
def test_refuses_outer_signature_algorithm_unlike_inner(ca: CA, outer_alg: bytes) -> None:
    # RFC 5280 §5.1.1.2: signatureAlgorithm MUST equal TBSCertList.signature.
    load_refusal(resign_crl(ca.make_crl([5]), ca.key, lambda f: f, outer_alg=outer_alg))


# =============================================================================================
# verify_crl refusals: the signer
# =============================================================================================


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed25519"])
def test_refuses_crl_signed_by_another_key_with_the_same_name(
    ca: CA, impostors: dict[str, CA], kind: str
) -> None:
    refusal(
        CRLSignatureError,
        "crl_signature_invalid",
        impostors[kind].make_crl([5]),
        [ca.cert],
        match="does not verify",
    )


def test_refuses_tampered_entry(ca: CA, simple_crl: bytes) -> None:
    original = b"\x02\x04\x01\x02\x03\x04"
    assert simple_crl.count(original) == 1
    tampered = simple_crl.replace(original, b"\x02\x04\x01\x02\x03\x05")
    refusal(CRLSignatureError, "crl_signature_invalid", tampered, [ca.cert])


def test_refuses_tampered_signature(ca: CA, simple_crl: bytes) -> None:
    tampered = simple_crl[:-1] + bytes([simple_crl[-1] ^ 0x01])
    refusal(CRLSignatureError, "crl_signature_invalid", tampered, [ca.cert])


def test_refuses_issuer_name_mismatch(ca: CA, other_ca: CA, simple_crl: bytes) -> None:
    error = refusal(CRLIssuerMismatchError, "crl_issuer_mismatch", simple_crl, [other_ca.cert])
    assert isinstance(error, CRLIssuerMismatchError)
    assert isinstance(error, CRLSignerError)
    assert error.crl_issuer == ca.name.rfc4514_string()
    assert error.candidates == (other_ca.name.rfc4514_string(),)


def test_refuses_when_no_signer_is_offered(simple_crl: bytes) -> None:
    error = refusal(CRLIssuerMismatchError, "crl_issuer_mismatch", simple_crl, [])
    assert isinstance(error, CRLIssuerMismatchError)
    assert error.candidates == ()


def test_issuer_names_compare_as_der_not_as_text(ca: CA) -> None:
    # Same RDN text, different order: another name (RFC 5280 §7.1 compares RDN sequences).
    reordered = x509.Name(list(reversed(list(ca.name))))
    assert reordered.rfc4514_string() != ca.name.rfc4514_string()
    other = CA(subject=reordered)
    refusal(CRLIssuerMismatchError, "crl_issuer_mismatch", other.make_crl(), [ca.cert])


NO_CRL_SIGN = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def test_refuses_ca_whose_key_usage_lacks_crl_sign() -> None:
    ca = CA("crlcheck No-cRLSign CA", key_usage=NO_CRL_SIGN)
    refusal(CRLSignerError, "crl_signer_invalid", ca.make_crl([5]), [ca.cert], match="cRLSign")


def test_refuses_crl_signer_whose_key_usage_lacks_crl_sign(ca: CA) -> None:
    signer = ca.crl_signer(key_usage=NO_CRL_SIGN)
    crl = ca.make_crl([5], signer=signer)
    refusal(CRLSignerError, "crl_signer_invalid", crl, [signer.cert], match="cRLSign")


def test_refuses_openssl_ca_certificate_without_crl_sign(openssl_dir: Path) -> None:
    # nosign-ku.pem has rsa-ca.pem's key, so the signature verifies; keyUsage must still refuse.
    nosign = load_certificate((openssl_dir / "nosign-ku.pem").read_bytes())
    data = (openssl_dir / "rsa.crl").read_bytes()
    refusal(CRLSignerError, "crl_signer_invalid", data, [nosign], match="cRLSign")


def test_refuses_crlsigner_vector_with_the_ca_alone(openssl_dir: Path) -> None:
    # Same name, but the CA's key did not sign it.
    ca_only = load_certificates((openssl_dir / "crlsigner-ca.pem").read_bytes())
    data = (openssl_dir / "crlsigner.crl").read_bytes()
    refusal(CRLSignatureError, "crl_signature_invalid", data, ca_only)


# =============================================================================================
# verify_crl refusals: CRL extensions
# =============================================================================================


def test_refuses_unknown_critical_crl_extension(ca: CA) -> None:
    crl = ca.make_crl([5], extensions=[(unknown_extension(), True)])
    error = refusal(UnsupportedCRLExtensionError, "crl_unknown_critical_extension", crl, [ca.cert])
    assert isinstance(error, UnsupportedCRLExtensionError)
    assert error.oid == PRIVATE_OID
    assert error.entry is False


def test_refuses_delta_crl(ca: CA) -> None:
    crl = ca.make_crl([5], extensions=[(x509.DeltaCRLIndicator(1), True)])
    refusal(DeltaCRLError, "crl_is_delta", crl, [ca.cert])


def test_refuses_idp_indirect_crl(ca: CA) -> None:
    crl = ca.make_crl([5], extensions=[(idp(indirect_crl=True), True)])
    refusal(IndirectCRLError, "crl_is_indirect", crl, [ca.cert])


@pytest.mark.parametrize(
    "flags",
    [
        {"only_some_reasons": frozenset({x509.ReasonFlags.key_compromise})},
        {"only_contains_ca_certs": True},
        {"only_contains_attribute_certs": True},
        {"relative_name": x509.RelativeDistinguishedName(name("dp").rdns[1])},
    ],
    ids=[
        "onlySomeReasons",
        "onlyContainsCACerts",
        "onlyContainsAttributeCerts",
        "nameRelativeToCRLIssuer",
    ],
)
def test_refuses_idp_partial_scope(ca: CA, flags: dict[str, object]) -> None:
    crl = ca.make_crl([5], extensions=[(idp(**flags), True)])
    refusal(PartialCRLError, "crl_partial_scope", crl, [ca.cert])


# =============================================================================================
# verify_crl refusals: entries
# =============================================================================================


def test_refuses_unknown_critical_entry_extension(ca: CA) -> None:
    crl = ca.make_crl([Revoked(5, extensions=[(unknown_extension(), True)])])
    error = refusal(UnsupportedCRLExtensionError, "crl_unknown_critical_extension", crl, [ca.cert])
    assert isinstance(error, UnsupportedCRLExtensionError)
    assert error.oid == PRIVATE_OID
    assert error.entry is True


def test_refuses_unknown_critical_entry_extension_among_good_entries(ca: CA) -> None:
    bad = entry_extensions(reason_code(1), entry_extension(PRIVATE_OID, b"\x05\x00", critical=True))
    entries = [raw_entry(1), raw_entry(2, extensions=bad), raw_entry(3)]
    error = refusal(
        UnsupportedCRLExtensionError,
        "crl_unknown_critical_extension",
        crl_with_entries(ca, entries),
        [ca.cert],
    )
    assert isinstance(error, UnsupportedCRLExtensionError)
    assert (error.oid, error.entry) == (PRIVATE_OID, True)


@pytest.mark.parametrize("critical", [True, False])
def test_refuses_certificate_issuer_entry_extension(ca: CA, critical: bool) -> None:
    issuer = x509.CertificateIssuer([x509.DirectoryName(name("someone else"))])
    crl = ca.make_crl([Revoked(5, extensions=[(issuer, critical)])])
    refusal(IndirectCRLError, "crl_is_indirect", crl, [ca.cert], match="certificateIssuer")


@pytest.mark.parametrize(
    ("code", "match"),
    [(8, "removeFromCRL"), (7, "invalid CRLReason code 7"), (11, "invalid CRLReason code 11")],
)
@pytest.mark.parametrize(
    "shape",
    [
        lambda r: entry_extensions(r),  # the one-extension shortcut of the entry walker
        lambda r: entry_extensions(r, HOLD_INSTRUCTION),  # the general extension parser
    ],
    ids=["reason-only", "with-hold-instruction"],
)
def test_refuses_reason_code_not_allowed_in_complete_crl(
    ca: CA, code: int, match: str, shape: Callable[[bytes], bytes]
) -> None:
    # RFC 5280 §5.3.1: 7 is unassigned; removeFromCRL (8) belongs in delta CRLs only.
    entries = [raw_entry(1), raw_entry(2, extensions=shape(reason_code(code)))]
    refusal(CRLParseError, "crl_malformed", crl_with_entries(ca, entries), [ca.cert], match=match)


@pytest.mark.parametrize(
    "extensions",
    [
        entry_extensions(reason_code(1), reason_code(1)),
        entry_extensions(entry_extension("2.5.29.21", tlv(0x02, b"\x01"))),  # INTEGER
        entry_extensions(entry_extension("2.5.29.21", tlv(0x0A, b"\x00\x01"))),  # 2 octets
    ],
    ids=["duplicate-extension", "reason-as-integer", "reason-two-octets"],
)
def test_refuses_malformed_entry_extensions(ca: CA, extensions: bytes) -> None:
    crl = crl_with_entries(ca, [raw_entry(5, extensions=extensions)])
    refusal(CRLParseError, "crl_malformed", crl, [ca.cert], match="malformed revoked entry")


# =============================================================================================
# verify_crl refusals: the validity window (RFC 5280 §6.3.3 (a)(2))
# =============================================================================================


def test_refuses_crl_without_next_update(ca: CA) -> None:
    error = refusal(CRLStaleError, "crl_stale", ca.make_crl([5], next_update=None), [ca.cert])
    assert isinstance(error, CRLStaleError)
    assert error.next_update is None
    assert error.now == NOW


@pytest.mark.parametrize(
    "now", [NEXT, NEXT + dt.timedelta(seconds=1), NEXT + dt.timedelta(days=30)]
)
def test_refuses_crl_past_next_update(ca: CA, simple_crl: bytes, now: dt.datetime) -> None:
    error = refusal(CRLStaleError, "crl_stale", simple_crl, [ca.cert], now=now)
    assert isinstance(error, CRLStaleError)
    assert error.next_update == NEXT
    assert error.now == now


def test_refuses_this_update_in_the_future_beyond_skew(ca: CA) -> None:
    this_update = NOW + crl_module.DEFAULT_CLOCK_SKEW + dt.timedelta(seconds=1)
    crl = ca.make_crl([5], this_update=this_update, next_update=this_update + dt.timedelta(days=1))
    error = refusal(CRLNotYetValidError, "crl_not_yet_valid", crl, [ca.cert])
    assert isinstance(error, CRLNotYetValidError)
    assert error.this_update == this_update
    assert error.now == NOW


def test_clock_skew_is_configurable(ca: CA) -> None:
    this_update = NOW + dt.timedelta(seconds=1)
    crl = ca.make_crl([5], this_update=this_update, next_update=NEXT)
    with pytest.raises(CRLNotYetValidError):
        verify(crl, [ca.cert], clock_skew=dt.timedelta(0))
    revset = verify(crl, [ca.cert], clock_skew=dt.timedelta(seconds=1))
    assert revset.info.this_update == this_update


def test_refuses_next_update_before_this_update(ca: CA) -> None:
    crl = ca.make_crl([5], this_update=NOW, next_update=NOW - dt.timedelta(seconds=1))
    refusal(CRLParseError, "crl_malformed", crl, [ca.cert], match="before its thisUpdate")


def test_naive_now_is_a_programming_error(ca: CA, simple_crl: bytes) -> None:
    with pytest.raises(ValueError, match="aware"):
        verify(simple_crl, [ca.cert], now=NOW.replace(tzinfo=None))


# =============================================================================================
# What verify_crl accepts
# =============================================================================================


@pytest.mark.parametrize(
    "this_update",
    [NOW + crl_module.DEFAULT_CLOCK_SKEW, NOW + dt.timedelta(minutes=4), NOW],
    ids=["at-skew", "within-skew", "now"],
)
def test_accepts_this_update_within_skew(ca: CA, this_update: dt.datetime) -> None:
    crl = ca.make_crl([5], this_update=this_update, next_update=NEXT)
    assert 5 in verify(crl, [ca.cert])


def test_accepts_until_just_before_next_update(ca: CA, simple_crl: bytes) -> None:
    assert 7 in verify(simple_crl, [ca.cert], now=NEXT - dt.timedelta(seconds=1))


def test_accepts_unknown_non_critical_crl_extension(ca: CA) -> None:
    crl = ca.make_crl([5], extensions=[(unknown_extension(), False)])
    assert verify(crl, [ca.cert]).serials() == [5]


def test_accepts_unknown_non_critical_entry_extension(ca: CA) -> None:
    crl = ca.make_crl([Revoked(5, extensions=[(unknown_extension(), False)])])
    assert verify(crl, [ca.cert]).serials() == [5]


def test_accepts_critical_known_extensions(ca: CA) -> None:
    # Criticality of an extension we implement changes nothing (RFC 5280 §5.2).
    entry = entry_extensions(reason_code(1, critical=True), INVALIDITY_DATE)
    crl = crl_with_entries(ca, [raw_entry(5, extensions=entry)])
    revset = verify(crl, [ca.cert])
    entry_found = revset.lookup(5)
    assert entry_found is not None
    assert entry_found.reason == "keyCompromise"


def test_accepts_key_usage_absent(ca: CA) -> None:
    # RFC 5280 §4.2.1.3: the cRLSign check applies only when keyUsage is present.
    signer = ca.crl_signer(key_usage=None)
    assert verify(ca.make_crl([5], signer=signer), [signer.cert]).serials() == [5]


def test_accepts_idp_only_user_certs_and_records_scope(ca: CA) -> None:
    scope = idp(
        full_name=[x509.UniformResourceIdentifier("http://crl.example/ca.crl")],
        only_contains_user_certs=True,
    )
    revset = verify(ca.make_crl([5], extensions=[(scope, True)]), [ca.cert])
    assert revset.info.only_user_certs is True
    assert revset.info.distribution_points == ("URI:http://crl.example/ca.crl",)


def test_accepts_separate_crl_signer_with_the_ca_name(ca: CA) -> None:
    signer = ca.crl_signer()
    revset = verify(ca.make_crl([5], signer=signer), [signer.cert])
    assert revset.info.signer_sha256 == signer.cert.fingerprint(hashes.SHA256()).hex()
    assert revset.info.issuer == ca.name.rfc4514_string()


def test_chooses_the_signer_from_a_bundle(ca: CA, other_ca: CA, impostors: dict[str, CA]) -> None:
    signer = ca.crl_signer()
    bundle = [other_ca.cert, impostors["ec"].cert, signer.cert, ca.cert, impostors["rsa"].cert]
    by_signer = verify(ca.make_crl([5], signer=signer), bundle)
    by_ca = verify(ca.make_crl([6]), bundle)
    assert by_signer.info.signer_sha256 == signer.cert.fingerprint(hashes.SHA256()).hex()
    assert by_ca.info.signer_sha256 == ca.cert.fingerprint(hashes.SHA256()).hex()


def test_prefers_a_signer_allowed_to_sign_crls(openssl_dir: Path) -> None:
    # nosign-ku.pem and rsa-ca.pem share name and key; only the latter may sign CRLs.
    bundle = [
        load_certificate((openssl_dir / "nosign-ku.pem").read_bytes()),
        load_certificate((openssl_dir / "rsa-ca.pem").read_bytes()),
    ]
    revset = verify((openssl_dir / "rsa.crl").read_bytes(), bundle)
    assert revset.info.signer_sha256 == bundle[1].fingerprint(hashes.SHA256()).hex()


def test_records_crl_metadata(ca: CA) -> None:
    data = ca.make_crl([5], number=2**100, pem_output=True)
    crl = load_crl(data)
    revset = verify_crl(crl, [ca.cert], now=NOW)
    info = revset.info
    assert info.issuer == ca.name.rfc4514_string()
    assert info.issuer_der == ca.name.public_bytes()
    assert info.crl_number == 2**100
    assert info.this_update == T0
    assert info.next_update == NEXT
    assert info.source_sha256 == hashlib.sha256(data).hexdigest()
    assert info.signature_algorithm == "ecdsa-with-SHA256"
    assert info.distribution_points == ()
    assert info.only_user_certs is False
    assert crl.tbs == crl.crl.tbs_certlist_bytes
    assert crl.this_update == T0
    assert crl.entry_bytes > 0


def test_crl_without_entries(ca: CA) -> None:
    crl = load_crl(ca.make_crl())
    assert crl.entry_bytes == 0
    revset = verify_crl(crl, [ca.cert], now=NOW)
    assert len(revset) == 0
    assert revset.serials() == []
    assert 5 not in revset


def test_crl_with_an_empty_revoked_list(ca: CA) -> None:
    # RFC 5280 says to omit an empty list; some CAs write an empty SEQUENCE anyway.
    def add_empty_list(fields: list[bytes]) -> list[bytes]:
        fields.insert(len(fields) - 1, tlv(0x30, b""))  # before the [0] extensions
        return fields

    revset = verify(resign_crl(ca.make_crl(), ca.key, add_empty_list), [ca.cert])
    assert len(revset) == 0
    assert 0 not in revset


# --- key types ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ec", "rsa", "ed25519"])
def test_verifies_builder_crls_of_every_key_type(kind: str) -> None:
    issuer = CA(f"crlcheck {kind} CA", kind=kind)
    revset = verify(issuer.make_crl([5, 6]), [issuer.cert])
    assert revset.serials() == [5, 6]


def _self_signed_crl(
    key: dsa.DSAPrivateKey | ed448.Ed448PrivateKey,
) -> tuple[x509.Certificate, bytes]:
    algorithm = hashes.SHA256() if isinstance(key, dsa.DSAPrivateKey) else None
    subject = name("crlcheck DSA/Ed448 CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2025, 1, 1))
        .not_valid_after(dt.datetime(2035, 1, 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, algorithm)
    )
    entry = x509.RevokedCertificateBuilder().serial_number(5).revocation_date(T0).build()
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(subject)
        .last_update(T0)
        .next_update(NEXT)
        .add_revoked_certificate(entry)
        .sign(key, algorithm)
    )
    return cert, crl.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def dsa_and_ed448() -> dict[str, tuple[x509.Certificate, bytes]]:
    keys: dict[str, dsa.DSAPrivateKey | ed448.Ed448PrivateKey] = {
        "dsa": dsa.generate_private_key(2048),
        "ed448": ed448.Ed448PrivateKey.generate(),
    }
    return {kind: _self_signed_crl(key) for kind, key in keys.items()}


@pytest.mark.parametrize("kind", ["dsa", "ed448"])
def test_verifies_dsa_and_ed448_crls(
    dsa_and_ed448: dict[str, tuple[x509.Certificate, bytes]], kind: str
) -> None:
    cert, crl = dsa_and_ed448[kind]
    assert verify(crl, [cert]).serials() == [5]


def test_refuses_dsa_and_ed448_crls_with_each_others_key(
    dsa_and_ed448: dict[str, tuple[x509.Certificate, bytes]],
) -> None:
    # Both CAs have the same name, so only the signature check tells them apart.
    (dsa_cert, dsa_crl), (ed448_cert, ed448_crl) = dsa_and_ed448["dsa"], dsa_and_ed448["ed448"]
    refusal(CRLSignatureError, "crl_signature_invalid", dsa_crl, [ed448_cert])
    refusal(CRLSignatureError, "crl_signature_invalid", ed448_crl, [dsa_cert])


# --- openssl vectors ---------------------------------------------------------------------------

# crl file: (signer bundle files, CRL number, signature algorithm, {serial: (reason, day)})
_VECTORS: dict[str, tuple[list[str], int | None, str, dict[int, tuple[str | None, int]]]] = {
    "rsa.crl": (
        ["rsa-ca.pem"],
        256,
        "sha256WithRSAEncryption",
        {0x1001: ("keyCompromise", 1), 0x1002: ("certificateHold", 2), 0x1003: (None, 3)},
    ),
    "rsa.crl.der": (
        ["rsa-ca.pem"],
        256,
        "sha256WithRSAEncryption",
        {0x1001: ("keyCompromise", 1), 0x1002: ("certificateHold", 2), 0x1003: (None, 3)},
    ),
    "v1.crl": (["rsa-ca.pem"], None, "sha256WithRSAEncryption", {0x1003: (None, 3)}),
    "ec.crl": (["ec-ca.pem"], 512, "ecdsa-with-SHA384", {0x2001: ("keyCompromise", 1)}),
    "rsa-pss.crl": (["rsa-pss-ca.pem"], 768, "rsassaPss", {0x3001: ("keyCompromise", 1)}),
    "ed25519.crl": (["ed25519-ca.pem"], 1024, "ed25519", {0x4001: ("keyCompromise", 1)}),
    "crlsigner.crl": (
        ["crlsigner-ca.pem", "crlsigner.pem"],
        1280,
        "ecdsa-with-SHA256",
        {0x5002: ("keyCompromise", 1)},
    ),
}


def _bundle(openssl_dir: Path, files: list[str]) -> list[x509.Certificate]:
    return load_certificates(b"".join((openssl_dir / f).read_bytes() for f in files))


@pytest.mark.parametrize("crl_file", list(_VECTORS))
def test_openssl_vector_verifies(openssl_dir: Path, crl_file: str) -> None:
    signer_files, number, algorithm, revoked = _VECTORS[crl_file]
    revset = verify((openssl_dir / crl_file).read_bytes(), _bundle(openssl_dir, signer_files))
    assert revset.info.crl_number == number
    assert revset.info.signature_algorithm == algorithm
    assert revset.info.this_update == T0
    assert revset.info.next_update == NEXT
    assert revset.serials() == sorted(revoked)
    for serial, (reason, day) in revoked.items():
        entry = revset.lookup(serial)
        assert entry is not None
        assert entry.reason == reason
        assert entry.revocation_date == dt.datetime(2025, 12, day, tzinfo=dt.UTC)


def test_openssl_crlsigner_vector_is_signed_by_the_separate_signer(openssl_dir: Path) -> None:
    bundle = _bundle(openssl_dir, ["crlsigner-ca.pem", "crlsigner.pem"])
    revset = verify((openssl_dir / "crlsigner.crl").read_bytes(), bundle)
    assert revset.info.signer_sha256 == bundle[1].fingerprint(hashes.SHA256()).hex()


def test_openssl_v1_crl_has_no_number_and_no_key_id(openssl_dir: Path) -> None:
    crl = load_crl((openssl_dir / "v1.crl").read_bytes())
    assert crl.crl_number is None
    assert crl.authority_key_id is None
    assert len(crl.crl.extensions) == 0


def test_openssl_pem_and_der_give_the_same_set(openssl_dir: Path) -> None:
    signers = _bundle(openssl_dir, ["rsa-ca.pem"])
    from_pem = verify((openssl_dir / "rsa.crl").read_bytes(), signers)
    from_der = verify((openssl_dir / "rsa.crl.der").read_bytes(), signers)
    assert from_pem.keys_blob() == from_der.keys_blob()
    assert from_pem.details_blob() == from_der.details_blob()
    assert from_pem.info.source_sha256 != from_der.info.source_sha256  # hashes what was read


def test_openssl_good_certificate_is_not_listed(openssl_dir: Path) -> None:
    revset = verify((openssl_dir / "rsa.crl").read_bytes(), _bundle(openssl_dir, ["rsa-ca.pem"]))
    good = load_certificate((openssl_dir / "rsa-good.pem").read_bytes())
    assert good.serial_number == 0x1004
    assert revset.lookup(good.serial_number) is None


def test_builder_pem_and_der_give_the_same_set(ca: CA) -> None:
    revoked: list[int | Revoked] = [Revoked(5, reason=x509.ReasonFlags.superseded), 2**150, 1]
    from_der = verify(ca.make_crl(revoked), [ca.cert])
    from_pem = verify(ca.make_crl(revoked, pem_output=True), [ca.cert])
    assert from_der.serials() == from_pem.serials() == [1, 5, 2**150]
    assert from_der.details_blob() == from_pem.details_blob()


def test_pem_with_crlf_and_surrounding_whitespace(ca: CA, simple_crl: bytes) -> None:
    data = b"\r\n  " + to_pem(simple_crl).replace(b"\n", b"\r\n") + b"\r\n"
    assert verify(data, [ca.cert]).serials() == [7, 0x01020304]


# =============================================================================================
# Serial exactness through signed CRLs
# =============================================================================================

WIDTH_BOUNDARIES = [
    0,
    1,
    -1,
    127,
    128,  # content 00 80: the first positive value that needs a second octet
    -128,
    -129,
    255,
    256,
    2**63 - 1,
    2**63,
    -(2**63),
    -(2**63) - 1,
    2**64,
    2**159 - 1,  # the largest 20-octet serial
    2**159,  # 21 octets
    -(2**159),
    -(2**159) - 1,
    2**199 - 1,  # 25 octets
    -(2**199),
]


def test_serials_at_width_boundaries_are_exact(ca: CA) -> None:
    revset = verify(crl_with_entries(ca, [raw_entry(s) for s in WIDTH_BOUNDARIES]), [ca.cert])
    assert revset.serials() == sorted(WIDTH_BOUNDARIES)
    assert revset.width == 26  # 25 octets of content plus one for the sign
    for s in WIDTH_BOUNDARIES:
        assert s in revset
        for neighbour in (s - 1, s + 1):
            assert (neighbour in revset) == (neighbour in WIDTH_BOUNDARIES)
    assert 2**199 not in revset  # does not even fit the key width
    assert -(2**199) - 1 not in revset


@pytest.mark.parametrize(("revoked", "innocent"), [(-1, 255), (255, -1), (-128, 128), (128, -128)])
def test_negative_and_positive_serials_sharing_bytes_never_collide(
    ca: CA, revoked: int, innocent: int
) -> None:
    # 255 is 00 ff and -1 is ff: an encoding that drops the sign would confuse them.
    revset = verify(crl_with_entries(ca, [raw_entry(revoked)]), [ca.cert])
    assert revoked in revset
    assert innocent not in revset
    assert revset.lookup(innocent) is None


@pytest.mark.parametrize("serial", [0, -1, -(2**159), 2**159 - 1, 2**199 - 1, -(2**199)])
def test_single_serial_crl(ca: CA, serial: int) -> None:
    revset = verify(crl_with_entries(ca, [raw_entry(serial)]), [ca.cert])
    assert revset.serials() == [serial]
    assert serial in revset
    assert serial + 1 not in revset
    assert serial - 1 not in revset


def test_duplicate_serials_are_listed_once(ca: CA) -> None:
    dates = [dt.datetime(2025, 12, d, tzinfo=dt.UTC) for d in (3, 1, 2)]
    entries = [raw_entry(5, dates[0]), raw_entry(7), raw_entry(5, dates[1]), raw_entry(5, dates[2])]
    revset = verify(crl_with_entries(ca, entries), [ca.cert])
    assert revset.serials() == [5, 7]
    assert len(revset) == 2
    entry = revset.lookup(5)
    assert entry is not None
    assert entry.revocation_date in dates


def test_unsorted_entries_are_sorted(ca: CA) -> None:
    serials = [2**100, -3, 40000, 0, -(2**80), 9, 1]
    revset = verify(crl_with_entries(ca, [raw_entry(s) for s in serials]), [ca.cert])
    assert revset.serials() == sorted(serials)
    assert all(s in revset for s in serials)


def test_utc_time_century_and_generalized_time_dates(ca: CA) -> None:
    # RFC 5280 §4.1.2.5.1: UTCTime years 50-99 are 19xx, 00-49 are 20xx.
    entries = [
        raw_entry(1, dt.datetime(1950, 1, 2, 3, 4, 5)),
        raw_entry(2, dt.datetime(1999, 12, 31, 23, 59, 59)),
        raw_entry(3, dt.datetime(2000, 1, 1)),
        raw_entry(4, dt.datetime(2049, 12, 31)),
        tlv(0x30, der_integer(5) + der_generalizedtime(dt.datetime(2050, 6, 1))),
    ]
    revset = verify(crl_with_entries(ca, entries), [ca.cert])
    years = {}
    for serial in range(1, 6):
        entry = revset.lookup(serial)
        assert entry is not None
        assert entry.revocation_date is not None
        years[serial] = entry.revocation_date.year
    assert years == {1: 1950, 2: 1999, 3: 2000, 4: 2049, 5: 2050}


# =============================================================================================
# The two entry walkers agree
# =============================================================================================


def _fast_entries() -> list[bytes]:
    """Entries of the shapes the fast path reads: every serial length and sign, duplicates."""
    entries = []
    for i, serial in enumerate([*WIDTH_BOUNDARIES, 5, 5, -77, 2**120]):
        date = dt.datetime(2025, 1 + i % 12, 1 + i % 28, i % 24, i % 60, 7)
        kind = i % 5
        if kind == 0:
            extensions = b""
        elif kind == 1:
            extensions = entry_extensions(reason_code(i % 7))
        elif kind == 2:
            extensions = entry_extensions(INVALIDITY_DATE)
        elif kind == 3:
            extensions = entry_extensions(reason_code(9), INVALIDITY_DATE)
        else:
            extensions = entry_extensions(INVALIDITY_DATE, reason_code(10))
        entries.append(raw_entry(serial, date, extensions))
    entries.append(tlv(0x30, der_integer(-9) + der_generalizedtime(dt.datetime(2051, 2, 3))))
    return entries


def _slowed(entries: list[bytes], extension: bytes) -> list[bytes]:
    """The same entries with ``extension`` added to the first one, which forces the slow path."""
    first_date = dt.datetime(2025, 1, 1, 0, 0, 7)
    assert entries[0] == raw_entry(WIDTH_BOUNDARIES[0], first_date)
    return [raw_entry(WIDTH_BOUNDARIES[0], first_date, entry_extensions(extension)), *entries[1:]]


@pytest.mark.parametrize(
    "extension",
    [
        HOLD_INSTRUCTION,
        entry_extension("2.5.29.24", der_generalizedtime(dt.datetime(2025, 11, 1)), critical=True),
        entry_extension(PRIVATE_OID, b"\x05\x00"),  # unknown, non-critical
    ],
    ids=["holdInstructionCode", "critical-invalidityDate", "unknown-non-critical"],
)
def test_fast_and_slow_paths_agree(ca: CA, slow_path_calls: list[int], extension: bytes) -> None:
    entries = _fast_entries()
    fast = verify(crl_with_entries(ca, entries), [ca.cert])
    assert slow_path_calls == []
    slow = verify(crl_with_entries(ca, _slowed(entries, extension)), [ca.cert])
    assert slow_path_calls == [1]
    assert slow.width == fast.width
    assert slow.keys_blob() == fast.keys_blob()
    assert slow.details_blob() == fast.details_blob()
    serials = fast.serials()
    assert serials == sorted(set(serials))
    assert [slow.lookup(s) for s in serials] == [fast.lookup(s) for s in serials]


def test_walkers_agree_on_raw_entry_lists(slow_path_calls: list[int]) -> None:
    # Without a CRL around them: the fast path, then the same bytes forced down the slow path
    # by an entry count that does not match.
    blob = b"".join(_fast_entries())
    fast = entries_module.walk_entries(blob, 0, len(blob), None)
    assert slow_path_calls == []
    slow = entries_module.walk_entries_slowly(blob, 0, len(blob), None)
    assert slow_path_calls == [1]
    assert fast == slow


def _progress_calls(ca: CA, entries: list[bytes]) -> tuple[int, list[tuple[int, int]]]:
    crl = load_crl(crl_with_entries(ca, entries))
    calls: list[tuple[int, int]] = []
    verify_crl(crl, [ca.cert], now=NOW, progress=lambda done, total: calls.append((done, total)))
    return crl.entry_bytes, calls


def test_progress_is_reported_to_the_end(ca: CA, slow_path_calls: list[int]) -> None:
    for entries in (_fast_entries(), _slowed(_fast_entries(), HOLD_INSTRUCTION)):
        size, calls = _progress_calls(ca, entries)
        assert calls
        assert calls[-1] == (size, size)
        assert all(done <= total == size for done, total in calls)
    assert slow_path_calls == [1]


# =============================================================================================
# Certificates
# =============================================================================================


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
    ids=["empty", "garbage", "bad-pem"],
)
def test_load_certificate_refuses(data: bytes) -> None:
    with pytest.raises(CertificateParseError) as info:
        load_certificate(data)
    assert info.value.reason == "bad_certificate"
    with pytest.raises(CertificateParseError):
        load_certificates(data)


def test_load_certificate_refuses_a_crl(simple_crl: bytes) -> None:
    with pytest.raises(CertificateParseError):
        load_certificate(simple_crl)
    with pytest.raises(CertificateParseError):
        load_certificates(to_pem(simple_crl))


def test_load_certificate_refuses_malformed_extensions(ca: CA) -> None:
    data = cert_with_duplicate_extension(ca, ca.cert)
    with pytest.raises(CertificateParseError, match="Duplicate"):
        load_certificate(data)
    with pytest.raises(CertificateParseError, match="Duplicate"):
        load_certificates(ca.pem + to_pem(data, "CERTIFICATE"))


def test_signer_with_malformed_extensions_may_not_sign(ca: CA) -> None:
    # Same name and key as the CA, so its signature verifies; its keyUsage cannot be read.
    broken = x509.load_der_x509_certificate(cert_with_duplicate_extension(ca, ca.cert))
    crl = ca.make_crl([5])
    refusal(CRLSignerError, "crl_signer_invalid", crl, [broken], match="cRLSign")
    assert verify(crl, [broken, ca.cert]).serials() == [5]


def test_load_certificate_pem_and_der(ca: CA) -> None:
    assert load_certificate(ca.pem) == ca.cert
    assert load_certificate(der(ca.cert)) == ca.cert
    assert load_certificates(der(ca.cert)) == [ca.cert]


def test_load_certificates_bundle(ca: CA, other_ca: CA) -> None:
    signer = ca.crl_signer()
    bundle = ca.pem + b"\n" + signer.pem + other_ca.pem
    assert load_certificates(bundle) == [ca.cert, signer.cert, other_ca.cert]


def test_dsa_signed_crl_verifies_and_a_dsa_key_never_verifies_an_rsa_labelled_crl() -> None:
    """A DSA signer must not accept a CRL whose algorithm says RSA (algorithm confusion)."""
    from tests.pki import split_crl, tlv

    key = dsa.generate_private_key(2048)
    cert, crl = _self_signed_crl(key)
    assert verify(crl, [cert]).serials() == [5]
    # The same TBS labelled sha256WithRSAEncryption (inner and outer), signed with DSA/SHA-256:
    # what someone holding the DSA key could make. It must not verify.
    rsa_alg = bytes.fromhex("300d06092a864886f70d01010b0500")
    fields, _, _ = split_crl(crl)
    fields[1 if fields[0][0] == 0x02 else 0] = rsa_alg
    tbs = tlv(0x30, b"".join(fields))
    signature = key.sign(tbs, hashes.SHA256())
    relabelled = tlv(0x30, tbs + rsa_alg + tlv(0x03, b"\x00" + signature))
    refusal(CRLSignatureError, "crl_signature_invalid", relabelled, [cert])
