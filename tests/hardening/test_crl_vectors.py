"""Third-party CRLs from the ``cryptography-vectors`` package (a test dependency).

Two collections, both read from the installed package, never copied into this repository:

* ``x509/custom/`` — pyca/cryptography's hand-made odd CRLs (bad versions, invalid times,
  duplicate entry extensions, IDP variants, unsupported reason codes...). Each must either load
  or be refused with a CRLCheckError. Their signatures are by keys we do not have, so each is
  also *re-signed* by our test CA (issuer and algorithm replaced, everything else kept) to drive
  it through every check of ``verify_crl``.
* ``x509/PKITS_data/`` — NIST's Public Key Interoperability Test Suite (PKITS) CRLs and
  certificates, genuinely signed. Each CRL verifies or is refused with a CRLCheckError, a
  verified one lists exactly what ``cryptography`` lists, and the PKITS revocation test cases
  (sections 4.4, 4.14, 4.15) are decided: the table records where crlcheck, which checks one
  leaf against its issuer's complete CRL, deliberately differs from a full RFC 5280 path
  validation (see docs/SECURITY.md, "Known limits").
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from crlcheck import (
    CRL,
    CRLCheckError,
    CRLIssuerMismatchError,
    CRLParseError,
    CRLSignatureError,
    CRLSignerError,
    CRLSignerExpiredError,
    CRLStaleError,
    CRLWeakSignatureError,
    DeltaCRLError,
    IndirectCRLError,
    PartialCRLError,
    Reason,
    RevocationSet,
    UnsupportedCRLExtensionError,
    decide,
    dump_document,
    load_certificate,
    load_crl,
    load_document,
    verify_crl,
)
from tests.hardening.hostile import ECDSA_SHA256
from tests.pki import CA, NOW, resign_crl

vectors = pytest.importorskip("cryptography_vectors")

X509 = Path(vectors.__file__).parent / "x509"
CUSTOM = X509 / "custom"
PKITS = X509 / "PKITS_data"

CUSTOM_FILES = sorted(p.name for p in CUSTOM.iterdir() if "crl" in p.name and p.is_file())
PKITS_CRLS = sorted(p.name for p in (PKITS / "crls").glob("*.crl"))

# What load_crl does with each custom file: the error class, or None when it loads.
CUSTOM_LOAD: dict[str, type[CRLCheckError] | None] = {
    "cdp_crl_issuer.pem": CRLParseError,  # A certificate, not a CRL.
    "cdp_fullname_reasons_crl_issuer.pem": CRLParseError,  # A certificate.
    "crl_bad_version.pem": CRLParseError,
    "crl_inner_outer_mismatch.der": CRLParseError,
    "crl_invalid_time.der": CRLParseError,
    "crl_issuer_invalid_printable_string.der": CRLParseError,
    "freshestcrl.pem": CRLParseError,  # A certificate with a freshestCRL extension.
}

# What verify_crl does with each loadable custom file once re-signed by the test CA.
CUSTOM_RESIGNED: dict[str, type[CRLCheckError] | None] = {
    "crl_all_reasons.pem": IndirectCRLError,  # Has certificateIssuer entry extensions.
    "crl_almost_10k.pem": None,
    "crl_delta_crl_indicator.pem": DeltaCRLError,
    "crl_dup_entry_ext.pem": CRLParseError,
    "crl_empty.pem": None,
    "crl_empty_no_sequence.der": None,
    "crl_ian_aia_aki.pem": None,
    "crl_idp_fullname_indirect_crl.pem": IndirectCRLError,
    "crl_idp_fullname_only.pem": None,
    "crl_idp_fullname_only_aa.pem": PartialCRLError,
    "crl_idp_fullname_only_user.pem": None,
    "crl_idp_only_ca.pem": PartialCRLError,
    "crl_idp_reasons_only.pem": PartialCRLError,
    "crl_idp_relative_user_all_reasons.pem": PartialCRLError,
    "crl_idp_relativename_only.pem": PartialCRLError,
    "crl_inval_cert_issuer_entry_ext.pem": IndirectCRLError,
    "crl_inval_date_fractional_seconds.der": CRLStaleError,  # It has no nextUpdate.
    "crl_md2_unknown_crit_entry_ext.pem": UnsupportedCRLExtensionError,
    "crl_no_next_update.pem": CRLStaleError,
    "crl_unrecognized_extension.der": None,  # The unknown extension is not critical.
    "crl_unsupported_reason.pem": CRLParseError,  # Reason code 12.
    "invalid_signature_crl.pem": None,
    "valid_signature_crl.pem": None,
}


def read(path: Path) -> bytes:
    return path.read_bytes()


def resigned(crl: CRL, ca: CA) -> bytes:
    """``crl`` with the test CA as issuer, signed by it with ECDSA-SHA256; all else kept."""
    issuer = ca.name.public_bytes()

    def edit(fields: list[bytes]) -> list[bytes]:
        first = 1 if fields[0][0] == 0x02 else 0  # Skip the version, when present.
        fields[first] = ECDSA_SHA256
        fields[first + 1] = issuer
        return fields

    return resign_crl(crl.der, ca.key, edit, outer_alg=ECDSA_SHA256)


def cryptography_serials(crl: CRL) -> list[int]:
    """The serials ``cryptography`` itself reads from the CRL: the oracle for ours."""
    return sorted({entry.serial_number for entry in crl.crl})


# --- x509/custom ------------------------------------------------------------------------------


def test_custom_files_are_all_classified() -> None:
    """A new vector in a new cryptography-vectors release must be looked at and classified."""
    assert set(CUSTOM_FILES) == set(CUSTOM_LOAD) | set(CUSTOM_RESIGNED)


@pytest.mark.parametrize("filename", CUSTOM_FILES)
def test_custom_vector_loads_or_is_refused_and_never_verifies_with_another_key(
    filename: str,
) -> None:
    refused = CUSTOM_LOAD.get(filename)
    if refused is not None:
        with pytest.raises(CRLCheckError) as info:
            load_crl(read(CUSTOM / filename))
        assert type(info.value) is refused
        return
    crl = load_crl(read(CUSTOM / filename))
    # An impostor with the CRL issuer's exact name but its own key: the name matches, so the
    # signature check runs (this is how the MD2 vector made verify_crl raise
    # UnsupportedAlgorithm), and it must fail.
    impostor = CA(subject=crl.issuer) if len(crl.issuer) else CA()
    with pytest.raises(CRLCheckError) as info:
        # allow_sha1: two vectors are signed with SHA-1; the signature check must still run.
        verify_crl(crl, [impostor.cert], now=NOW, allow_sha1=True)
    assert type(info.value) in (CRLSignatureError, CRLIssuerMismatchError)


@pytest.fixture(scope="module")
def vector_ca() -> CA:
    """A CA valid whenever the vectors were made: the signer must be valid at thisUpdate."""
    return CA(
        "crlcheck Vector CA",
        not_before=dt.datetime(1950, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(9999, 1, 1, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize("filename", sorted(CUSTOM_RESIGNED))
def test_custom_vector_resigned_by_our_ca(filename: str, vector_ca: CA) -> None:
    hca = vector_ca
    crl = load_crl(read(CUSTOM / filename))
    data = resigned(crl, hca)
    now = crl.this_update + dt.timedelta(minutes=1)
    expected = CUSTOM_RESIGNED[filename]
    if expected is not None:
        with pytest.raises(CRLCheckError) as info:
            verify_crl(load_crl(data), [hca.cert], now=now)
        assert type(info.value) is expected, info.value
        return
    revset = verify_crl(load_crl(data), [hca.cert], now=now)
    assert revset.serials() == cryptography_serials(crl)


@pytest.mark.parametrize(
    ("crl_file", "error"),
    [("valid_signature_crl.pem", None), ("invalid_signature_crl.pem", CRLSignatureError)],
)
def test_custom_signature_vectors(crl_file: str, error: type[CRLCheckError] | None) -> None:
    signer = load_certificate(read(CUSTOM / "valid_signature_cert.pem"))
    crl = load_crl(read(CUSTOM / crl_file))
    now = crl.this_update + dt.timedelta(days=1)
    if error is None:
        assert isinstance(verify_crl(crl, [signer], now=now), RevocationSet)
    else:
        with pytest.raises(error):
            verify_crl(crl, [signer], now=now)


# --- PKITS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pkits_certs() -> dict[str, x509.Certificate]:
    certs = {}
    for path in sorted((PKITS / "certs").glob("*.crt")):
        try:
            certs[path.stem] = load_certificate(path.read_bytes())
        except CRLCheckError:
            # Two DSA certificates inherit their key parameters from the issuer, which
            # cryptography cannot load; their CRLs then have no signer (a refusal).
            assert "DSAParameter" in path.stem
    return certs


# PKITS CRLs whose refusal is expected, with the error (every other one must verify).
PKITS_REFUSED: dict[str, type[CRLCheckError]] = {
    "BadCRLIssuerNameCACRL.crl": CRLIssuerMismatchError,
    # The CA certificate expired in 2011 / is valid from 2047 (RFC 5280 §6.3.3 (f)).
    "BadnotAfterDateCACRL.crl": CRLSignerExpiredError,
    "BadnotBeforeDateCACRL.crl": CRLSignerExpiredError,
    "DSACACRL.crl": CRLWeakSignatureError,  # dsa-with-sha1.
    # Its signature BIT STRING claims one unused bit: refused as malformed before verifying.
    "BadCRLSignatureCACRL.crl": CRLParseError,
    "DSAParametersInheritedCACRL.crl": CRLIssuerMismatchError,  # See pkits_certs.
    "OldCRLnextUpdateCACRL.crl": CRLStaleError,
    "pre2000CRLnextUpdateCACRL.crl": CRLStaleError,
    # PrintableString issuer in the CA certificate, UTF8String in the CRL: names are compared
    # as DER (see docs/SECURITY.md), so no signer matches. A deny, never an allow.
    "RolloverfromPrintableStringtoUTF8StringCACRL.crl": CRLIssuerMismatchError,
    "TwoCRLsCABadCRL.crl": CRLIssuerMismatchError,
    "UnknownCRLEntryExtensionCACRL.crl": UnsupportedCRLExtensionError,
    "UnknownCRLExtensionCACRL.crl": UnsupportedCRLExtensionError,
    "deltaCRLCA1deltaCRL.crl": DeltaCRLError,
    "deltaCRLCA2deltaCRL.crl": DeltaCRLError,
    "deltaCRLCA3CRL.crl": CRLStaleError,
    "deltaCRLCA3deltaCRL.crl": DeltaCRLError,
    "deltaCRLIndicatorNoBaseCACRL.crl": DeltaCRLError,
    "distributionPoint2CACRL.crl": PartialCRLError,  # IDP nameRelativeToCRLIssuer.
    "indirectCRLCA1CRL.crl": IndirectCRLError,
    "indirectCRLCA3cRLIssuerCRL.crl": IndirectCRLError,
    "indirectCRLCA4cRLIssuerCRL.crl": IndirectCRLError,
    "indirectCRLCA5CRL.crl": IndirectCRLError,
    "keyUsageCriticalcRLSignFalseCACRL.crl": CRLSignerError,
    "keyUsageNotCriticalcRLSignFalseCACRL.crl": CRLSignerError,
    "onlyContainsAttributeCertsCACRL.crl": PartialCRLError,
    "onlyContainsCACertsCACRL.crl": PartialCRLError,
    **{
        f"onlySomeReasons{name}.crl": PartialCRLError
        for name in (
            "CA1compromiseCRL",
            "CA1otherreasonsCRL",
            "CA2CRL1",
            "CA2CRL2",
            "CA3compromiseCRL",
            "CA3otherreasonsCRL",
            "CA4compromiseCRL",
            "CA4otherreasonsCRL",
        )
    },
}


def test_pkits_refusal_table_names_real_files() -> None:
    assert set(PKITS_REFUSED) <= set(PKITS_CRLS)


@pytest.mark.parametrize("filename", PKITS_CRLS)
def test_pkits_crl(filename: str, pkits_certs: dict[str, x509.Certificate]) -> None:
    data = (PKITS / "crls" / filename).read_bytes()
    signers = list(pkits_certs.values())
    expected = PKITS_REFUSED.get(filename)
    if expected is not None:
        with pytest.raises(CRLCheckError) as info:
            verify_crl(load_crl(data), signers, now=NOW)
        assert type(info.value) is expected, info.value
        return
    crl = load_crl(data)
    revset = verify_crl(crl, signers, now=NOW)
    assert revset.serials() == cryptography_serials(crl)


@pytest.fixture(scope="module")
def pkits_sets(pkits_certs: dict[str, x509.Certificate]) -> list[RevocationSet]:
    """Every PKITS CRL that verifies, through the document codec (lazy, as the authorizer
    loads): ~140 issuers at once, as a deployment with many CAs would have."""
    sets = []
    signers = list(pkits_certs.values())
    for filename in PKITS_CRLS:
        try:
            revset = verify_crl(
                load_crl((PKITS / "crls" / filename).read_bytes()), signers, now=NOW
            )
        except CRLCheckError:
            continue
        sets.append(load_document(dump_document(revset), check_order="lazy"))
    return sets


# (PKITS end-entity certificate, crlcheck's verdict, note). The PKITS name says what a full
# RFC 5280 path validation concludes; "differs:" marks where crlcheck answers otherwise and why.
PKITS_DECISIONS: list[tuple[str, Reason, str]] = [
    # 4.4 Basic certificate revocation tests
    ("InvalidBadCRLSignatureTest4EE", Reason.NO_COVERING_CRL, "its CRL is refused"),
    ("InvalidBadCRLIssuerNameTest5EE", Reason.NO_COVERING_CRL, "its CRL is refused"),
    ("InvalidWrongCRLTest6EE", Reason.NO_COVERING_CRL, "no CRL of its issuer"),
    ("ValidTwoCRLsTest7EE", Reason.NOT_REVOKED, ""),
    ("InvalidUnknownCRLEntryExtensionTest8EE", Reason.NO_COVERING_CRL, "its CRL is refused"),
    ("InvalidUnknownCRLExtensionTest9EE", Reason.NO_COVERING_CRL, "its CRL is refused"),
    ("InvalidUnknownCRLExtensionTest10EE", Reason.NO_COVERING_CRL, "its CRL is refused"),
    ("InvalidOldCRLnextUpdateTest11EE", Reason.NO_COVERING_CRL, "its CRL is stale"),
    ("Invalidpre2000CRLnextUpdateTest12EE", Reason.NO_COVERING_CRL, "its CRL is stale"),
    ("ValidGeneralizedTimeCRLnextUpdateTest13EE", Reason.NOT_REVOKED, ""),
    ("ValidNegativeSerialNumberTest14EE", Reason.NOT_REVOKED, ""),
    ("InvalidNegativeSerialNumberTest15EE", Reason.REVOKED, ""),
    ("ValidLongSerialNumberTest16EE", Reason.NOT_REVOKED, ""),
    ("ValidLongSerialNumberTest17EE", Reason.NOT_REVOKED, ""),
    ("InvalidLongSerialNumberTest18EE", Reason.REVOKED, ""),
    ("ValidSeparateCertificateandCRLKeysTest19EE", Reason.NOT_REVOKED, ""),
    ("InvalidSeparateCertificateandCRLKeysTest20EE", Reason.REVOKED, ""),
    (
        "InvalidSeparateCertificateandCRLKeysTest21EE",
        Reason.NOT_REVOKED,
        "differs: the CRL signer's own certificate is revoked; crlcheck trusts the signer "
        "bundle it is given (remove revoked signers from it)",
    ),
    (
        "InvalidRevokedCATest2EE",
        Reason.NOT_REVOKED,
        "differs: its intermediate CA is revoked; crlcheck checks the leaf only (remove a "
        "revoked CA from the mTLS truststore)",
    ),
    ("InvalidRevokedEETest3EE", Reason.REVOKED, ""),
    ("ValidCertificatePathTest1EE", Reason.NOT_REVOKED, ""),
    # 4.14 Distribution points
    ("ValiddistributionPointTest1EE", Reason.NOT_REVOKED, ""),
    ("InvaliddistributionPointTest2EE", Reason.REVOKED, ""),
    ("InvaliddistributionPointTest3EE", Reason.NO_COVERING_CRL, "IDP names another point"),
    (
        "ValiddistributionPointTest4EE",
        Reason.NO_COVERING_CRL,
        "differs (fails closed): IDP nameRelativeToCRLIssuer is unsupported",
    ),
    ("InvaliddistributionPointTest6EE", Reason.NO_COVERING_CRL, ""),
    ("ValidNoissuingDistributionPointTest10EE", Reason.NOT_REVOKED, ""),
    ("InvalidonlyContainsUserCertsTest11EE", Reason.NO_COVERING_CRL, "a CA certificate"),
    ("InvalidonlyContainsCACertsTest12EE", Reason.NO_COVERING_CRL, "its CRL is refused"),
    ("InvalidonlyContainsAttributeCertsTest14EE", Reason.NO_COVERING_CRL, "CRL refused"),
    ("InvalidonlySomeReasonsTest15EE", Reason.NO_COVERING_CRL, "its CRLs are refused"),
    (
        "ValidonlySomeReasonsTest18EE",
        Reason.NO_COVERING_CRL,
        "differs (fails closed): CRLs partitioned by reason are unsupported",
    ),
    (
        "ValidIDPwithindirectCRLTest22EE",
        Reason.NO_COVERING_CRL,
        "differs (fails closed): indirect CRLs are unsupported",
    ),
    ("InvalidIDPwithindirectCRLTest23EE", Reason.NO_COVERING_CRL, ""),
    # 4.15 Delta-CRLs
    ("InvaliddeltaCRLIndicatorNoBaseTest1EE", Reason.NO_COVERING_CRL, "only a delta CRL"),
    ("ValiddeltaCRLTest2EE", Reason.NOT_REVOKED, ""),
    ("InvaliddeltaCRLTest3EE", Reason.REVOKED, "listed in the complete CRL"),
    (
        "InvaliddeltaCRLTest4EE",
        Reason.NOT_REVOKED,
        "differs: revoked only in a delta CRL, and delta CRLs are refused; the revocation is "
        "seen when the CA publishes its next complete CRL",
    ),
    (
        "ValiddeltaCRLTest5EE",
        Reason.REVOKED,
        "differs (fails closed): on hold in the complete CRL, released by the delta",
    ),
    ("InvaliddeltaCRLTest6EE", Reason.REVOKED, ""),
    ("InvaliddeltaCRLTest10EE", Reason.NO_COVERING_CRL, "its CRL is stale"),
    # 4.3 Name matching: names are compared as DER, not by the RFC 5280 §7.1 rules.
    ("ValidUTF8StringEncodedNamesTest9EE", Reason.NOT_REVOKED, ""),
    (
        "ValidRolloverfromPrintableStringtoUTF8StringTest10EE",
        Reason.NO_COVERING_CRL,
        "differs (fails closed): issuer re-encoded from PrintableString to UTF8String",
    ),
    (
        "ValidUTF8StringCaseInsensitiveMatchTest11EE",
        Reason.NO_COVERING_CRL,
        "differs (fails closed): issuer name differs in case",
    ),
]


@pytest.mark.parametrize(
    ("ee", "reason", "note"), PKITS_DECISIONS, ids=[row[0] for row in PKITS_DECISIONS]
)
def test_pkits_decision(
    ee: str,
    reason: Reason,
    note: str,
    pkits_certs: dict[str, x509.Certificate],
    pkits_sets: list[RevocationSet],
) -> None:
    decision = decide(pkits_certs[ee], pkits_sets, now=NOW)
    assert decision.reason is reason, (decision, note)
    assert decision.allowed is (reason is Reason.NOT_REVOKED)
