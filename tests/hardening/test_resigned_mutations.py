"""Structured mutations of a CRL's signed part, signed again by the CA: only the parser and the
rules can refuse what comes out (issue 9: "the class of crash is covered, not just these
instances").

Where ``test_fuzz.py`` flips bytes of the TBSCertList (mostly refused by the DER parser), the
mutations here are made field by field and stay well-formed DER, so they reach every value the
core reads: thisUpdate and nextUpdate (any Time text, year 0000 to 9999, invalid dates), the
cRLNumber and deltaCRLIndicator (any length and sign), every CRL extension (known OIDs with
random values, criticality flipped, duplicated), the entries (serials, revocation dates, reason
codes, invalidity dates, unknown and critical extensions), the version and the issuer. The
contract checked on each: ``load_crl``/``verify_crl`` return a set or raise a CRLCheckError
subclass, nothing else; a returned set survives the document codec; and ``crlcheck inspect`` on
it exits 0, 1 or 2 with at most one line on stderr.

Budget: ``CRLCHECK_RESIGNED_MUTATIONS`` mutated CRLs (default 3000, about two seconds). A failure
names the seed and the iteration, so ``MUTATION_SEED`` and a budget reproduce it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from crlcheck import (
    CRLCheckError,
    RevocationSet,
    dump_document,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck._time import format_utc
from crlcheck.cli import main
from tests.hardening.conftest import budget, fuzz_settings
from tests.pki import (
    CA,
    NOW,
    Revoked,
    children,
    der_integer,
    der_oid,
    read_tlv,
    split_crl,
    tlv,
)

MUTATIONS = budget("CRLCHECK_RESIGNED_MUTATIONS", 3000)
MUTATION_SEED = int(os.environ.get("MUTATION_SEED", "20261204"))
INSPECT_EVERY = 25  # Run the CLI's inspect on one mutated CRL in this many.

# TBSCertList fields of a v2 CRL (version present) as made by tests.pki.
VERSION, SIGNATURE, ISSUER, THIS_UPDATE, NEXT_UPDATE = range(5)

CRL_EXTENSION_OIDS = [
    "2.5.29.20",  # cRLNumber
    "2.5.29.27",  # deltaCRLIndicator
    "2.5.29.28",  # issuingDistributionPoint
    "2.5.29.35",  # authorityKeyIdentifier
    "2.5.29.18",  # issuerAltName
    "2.5.29.46",  # freshestCRL
    "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
    "1.3.6.1.4.1.32473.1",  # unknown (RFC 5612 documentation OID)
]
ENTRY_EXTENSION_OIDS = [
    "2.5.29.21",  # reasonCode
    "2.5.29.23",  # holdInstructionCode
    "2.5.29.24",  # invalidityDate
    "2.5.29.29",  # certificateIssuer
    "1.3.6.1.4.1.32473.2",  # unknown
]


# --- random values ------------------------------------------------------------------------------


def digits(rng: random.Random, n: int) -> bytes:
    return bytes(rng.choice(b"0123456789") for _ in range(n))


def random_time(rng: random.Random) -> bytes:
    """A Time TLV: half well-formed over datetime's whole range, the rest at or beyond its
    edges (year 0000, month 13, leap days) or not quite Time text."""
    choice = rng.random()
    if choice < 0.5:
        when = dt.datetime(1, 1, 1) + dt.timedelta(seconds=rng.randrange(315537897600))
        if choice < 0.15:  # near now, so that some mutants are fresh and verify
            when = NOW.replace(tzinfo=None) + dt.timedelta(seconds=rng.randrange(-(10**8), 10**8))
        if 1950 <= when.year < 2050 and rng.random() < 0.5:
            return tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())
        return tlv(0x18, b"%04d" % when.year + when.strftime("%m%d%H%M%SZ").encode())
    if choice < 0.7:
        year = rng.choice([b"0000", b"0001", b"1949", b"1950", b"2049", b"2050", b"9999"])
        rest = rng.choice([b"0101000000Z", b"1231235959Z", b"0229000000Z", b"1301000000Z"])
        return tlv(0x18, year + rest)
    if choice < 0.8:
        return tlv(0x17, digits(rng, 12) + b"Z")
    if choice < 0.9:
        return tlv(0x18, digits(rng, 14) + b"Z")
    tails = [b"Z", b"", b"+0100", b".5Z", b"z", b"Z\x00"]
    tag = rng.choice([0x17, 0x18])
    return tlv(tag, digits(rng, rng.choice([10, 12, 14, 15])) + rng.choice(tails))


def random_integer_content(rng: random.Random) -> bytes:
    """INTEGER content octets: mostly 1-22 octets (around the 20-octet cRLNumber limit), some
    huge (beyond the int-to-str limit), empty or non-minimal."""
    kind = rng.random()
    if kind < 0.05:
        return b""
    if kind < 0.12:
        return b"\x00" + rng.randbytes(rng.randrange(1, 22))  # non-minimal when next < 0x80
    if kind < 0.2:
        return rng.randbytes(rng.choice([2000, 2200]))
    content = rng.randbytes(rng.choice([1, 1, 2, 3, 8, 19, 20, 20, 21, 22, 40]))
    if len(content) > 1 and content[0] in (0, 0xFF) and rng.random() < 0.8:
        content = bytes([rng.randrange(1, 0xFF)]) + content[1:]  # keep it minimal
    return content


def uri(rng: random.Random) -> bytes:
    return tlv(0x86, b"http://crl.example/%d.crl" % rng.randrange(1000))


def general_names(rng: random.Random) -> bytes:
    names = [uri(rng), tlv(0x82, b"crl.example"), tlv(0x81, b"ca@example.com")]
    return b"".join(rng.sample(names, rng.randrange(1, 3)))


def extension_value(rng: random.Random, oid: str) -> bytes:
    """A value for ``oid``: usually of the right shape with random content, else any DER."""
    if rng.random() < 0.25:
        return random_der(rng)
    if oid in ("2.5.29.20", "2.5.29.27"):
        return tlv(0x02, random_integer_content(rng))
    if oid == "2.5.29.35":
        parts = [tlv(0x80, rng.randbytes(rng.randrange(0, 40)))]
        if rng.random() < 0.3:
            parts += [tlv(0xA1, general_names(rng)), tlv(0x82, random_integer_content(rng))]
        return tlv(0x30, b"".join(parts))
    if oid == "2.5.29.28":
        parts = []
        if rng.random() < 0.7:
            parts.append(tlv(0xA0, tlv(0xA0, general_names(rng))))
        for tag in (0x81, 0x82, 0x84, 0x85):
            if rng.random() < 0.15:
                parts.append(tlv(tag, b"\xff"))
        if rng.random() < 0.1:
            parts.insert(1, tlv(0x83, b"\x07\x80"))  # onlySomeReasons
        return tlv(0x30, b"".join(sorted(parts, key=lambda p: p[0])))
    if oid == "2.5.29.18":
        return tlv(0x30, general_names(rng))
    if oid == "2.5.29.46":
        return tlv(0x30, tlv(0x30, tlv(0xA0, tlv(0xA0, uri(rng)))))
    if oid == "1.3.6.1.5.5.7.1.1":
        return tlv(0x30, tlv(0x30, der_oid("1.3.6.1.5.5.7.48.2") + uri(rng)))
    return random_der(rng)


def random_der(rng: random.Random, depth: int = 0) -> bytes:
    """A small random DER value (well-formed TLVs, arbitrary meaning)."""
    kind = rng.randrange(10 if depth < 3 else 7)
    if kind == 0:
        return tlv(0x02, random_integer_content(rng) or b"\x00")
    if kind == 1:
        return tlv(0x01, rng.choice([b"\xff", b"\x00", b"\x01"]))
    if kind == 2:
        return tlv(0x04, rng.randbytes(rng.randrange(0, 24)))
    if kind == 3:
        return tlv(rng.choice([0x0C, 0x13, 0x16, 0x1E]), rng.randbytes(rng.randrange(0, 12)))
    if kind == 4:
        return random_time(rng)
    if kind == 5:
        return der_oid(rng.choice([*CRL_EXTENSION_OIDS, *ENTRY_EXTENSION_OIDS]))
    if kind == 6:
        return tlv(rng.choice([0x80, 0x81, 0x82, 0x86, 0x0A]), rng.randbytes(rng.randrange(0, 9)))
    tag = rng.choice([0x30, 0x31, 0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA6])
    return tlv(tag, b"".join(random_der(rng, depth + 1) for _ in range(rng.randrange(0, 4))))


def extension(rng: random.Random, oid: str, value: bytes | None = None) -> bytes:
    critical = tlv(0x01, b"\xff") if rng.random() < 0.2 else b""
    if value is None:
        value = extension_value(rng, oid)
    return tlv(0x30, der_oid(oid) + critical + tlv(0x04, value))


# --- field edits ----------------------------------------------------------------------------------


def _split_wrapped(wrapper: bytes) -> list[bytes]:
    """The Extension TLVs inside ``[0] EXPLICIT SEQUENCE OF Extension``."""
    _, cs, _ = read_tlv(wrapper, 0)
    _, ss, se = read_tlv(wrapper, cs)
    return children(wrapper, ss, se)


def _positions(fields: list[bytes]) -> tuple[int | None, int | None]:
    """Indexes of revokedCertificates and of crlExtensions, when present."""
    entries = extensions = None
    for i in range(NEXT_UPDATE, len(fields)):
        if fields[i][0] == 0x30 and i > THIS_UPDATE:
            entries = i
        elif fields[i][0] == 0xA0:
            extensions = i
    return entries, extensions


def mutate_tbs(fields: list[bytes], rng: random.Random) -> list[bytes]:
    """Apply one to three structured edits to the TBSCertList fields."""
    for _ in range(rng.randrange(1, 4)):
        fields = rng.choice(EDITS)(fields, rng)
    return fields


def edit_times(fields: list[bytes], rng: random.Random) -> list[bytes]:
    index = rng.choice([THIS_UPDATE, NEXT_UPDATE])
    if index < len(fields) and fields[index][0] in (0x17, 0x18):
        fields[index] = random_time(rng)
    return fields


def edit_crl_extensions(fields: list[bytes], rng: random.Random) -> list[bytes]:
    _, position = _positions(fields)
    extensions = _split_wrapped(fields[position]) if position is not None else []
    action = rng.randrange(5)
    if action == 0 or not extensions:  # add a known or unknown extension, random value
        extensions.insert(
            rng.randrange(len(extensions) + 1), extension(rng, rng.choice(CRL_EXTENSION_OIDS))
        )
    elif action == 1:  # cRLNumber / deltaCRLIndicator of any size and sign
        oid = rng.choice(["2.5.29.20", "2.5.29.27"])
        number = tlv(0x02, random_integer_content(rng))
        extensions = [e for e in extensions if der_oid(oid) not in e[:12]]
        extensions.append(extension(rng, oid, number))
    elif action == 2:  # replace one extension's value
        i = rng.randrange(len(extensions))
        fields_of = children(extensions[i], *read_tlv(extensions[i], 0)[1:])
        oid_text = _oid_dotted(fields_of[0])
        extensions[i] = extension(rng, oid_text)
    elif action == 3:  # duplicate one
        extensions.append(rng.choice(extensions))
    else:  # drop one
        del extensions[rng.randrange(len(extensions))]
    wrapped = tlv(0xA0, tlv(0x30, b"".join(extensions)))
    if position is None:
        fields.append(wrapped)
    else:
        fields[position] = wrapped
    return fields


def _oid_dotted(oid_tlv: bytes) -> str:
    _, cs, ce = read_tlv(oid_tlv, 0)
    content = oid_tlv[cs:ce]
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def random_entry(rng: random.Random) -> bytes:
    if rng.random() < 0.3:
        serial = tlv(0x02, random_integer_content(rng) or b"\x01")
    else:
        serial = der_integer(rng.randrange(-(2**70), 2**70))
    date = random_time(rng)
    exts = b""
    if rng.random() < 0.6:
        items = []
        for oid in rng.sample(ENTRY_EXTENSION_OIDS, rng.randrange(0, 3)):
            if oid == "2.5.29.21" and rng.random() < 0.8:
                code = rng.choice([*range(11), *range(11), 255])
                value = tlv(0x0A, bytes([code]))
            elif oid == "2.5.29.24" and rng.random() < 0.8:
                value = random_time(rng)
            else:
                value = random_der(rng)
            items.append(extension(rng, oid, value))
        exts = tlv(0x30, b"".join(items))
    return tlv(0x30, serial + date + exts)


def edit_entries(fields: list[bytes], rng: random.Random) -> list[bytes]:
    position, extensions = _positions(fields)
    entries = children(fields[position], *read_tlv(fields[position], 0)[1:]) if position else []
    action = rng.randrange(4)
    if action == 0 or not entries:
        entries.insert(rng.randrange(len(entries) + 1), random_entry(rng))
    elif action == 1:
        entries[rng.randrange(len(entries))] = random_entry(rng)
    elif action == 2:
        entries.append(rng.choice(entries))  # listed twice
    else:
        entries.extend(random_entry(rng) for _ in range(rng.randrange(20, 200)))
    block = tlv(0x30, b"".join(entries))
    if position is not None:
        fields[position] = block
    else:
        fields.insert(extensions if extensions is not None else len(fields), block)
    return fields


def edit_header(fields: list[bytes], rng: random.Random) -> list[bytes]:
    action = rng.randrange(3)
    if action == 0:
        fields[VERSION] = tlv(0x02, random_integer_content(rng) or b"\x01")
    elif action == 1:  # an issuer attribute with any string type and bytes
        attribute = tlv(0x30, der_oid("2.5.4.3") + random_der(rng))
        fields[ISSUER] = tlv(0x30, tlv(0x31, attribute))
    else:
        fields = drop_next_update(fields)
    return fields


def drop_next_update(fields: list[bytes]) -> list[bytes]:
    if fields[NEXT_UPDATE][0] in (0x17, 0x18):
        del fields[NEXT_UPDATE]
    return fields


EDITS: list[Callable[[list[bytes], random.Random], list[bytes]]] = [
    edit_times,
    edit_times,
    edit_crl_extensions,
    edit_crl_extensions,
    edit_entries,
    edit_entries,
    edit_header,
]


# --- the contract ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds(hca: CA) -> list[bytes]:
    return [
        hca.make_crl(
            [
                Revoked(1),
                Revoked(0x0102, reason=x509.ReasonFlags.key_compromise),
                Revoked(2**158 + 1, date=dt.datetime(2049, 12, 31, tzinfo=dt.UTC)),
                Revoked(0xABCDEF, extensions=[x509.InvalidityDate(dt.datetime(2025, 11, 1))]),
            ],
            number=42,
            extensions=[
                (x509.AuthorityKeyIdentifier.from_issuer_public_key(hca.key.public_key()), False),  # type: ignore[arg-type]
            ],
        ),
        hca.make_crl([], number=1),
        hca.make_crl(list(range(1, 300)), number=2**100),
    ]


def sign(tbs: bytes, ca: CA, outer: bytes) -> bytes:
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    signature = ca.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return tlv(0x30, tbs + outer + tlv(0x03, b"\x00" + signature))


def check_contract(data: bytes, ca: CA) -> RevocationSet | None:
    """A set or a CRLCheckError; anything else escapes and fails the test."""
    try:
        crl = load_crl(data)
        # Whatever loaded, the properties inspect and the preprocessor read are safe now.
        str(crl.crl_number)
        format_utc(crl.this_update)
        if crl.next_update is not None:
            format_utc(crl.next_update)
        revset = verify_crl(crl, [ca.cert], now=NOW)
    except CRLCheckError:
        return None
    repr(revset)
    try:
        document = dump_document(revset, generated_at=NOW)
    except CRLCheckError:
        return revset  # e.g. serials longer than the format stores: refused when writing.
    again = load_document(document)
    assert again.serials() == revset.serials()
    for serial in revset.serials()[:3]:
        entry = again.lookup(serial)
        assert entry is not None
    return revset


def test_resigned_structured_mutations_never_escape(
    hca: CA,
    seeds: list[bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rng = random.Random(MUTATION_SEED)  # noqa: S311 (reproducible, not secret)
    path = tmp_path / "mutant.crl"
    outcomes: dict[str, int] = {}
    for iteration in range(MUTATIONS):
        seed = rng.choice(seeds)
        fields, outer, _ = split_crl(seed)
        fields = mutate_tbs(list(fields), rng)
        data = sign(tlv(0x30, b"".join(fields)), hca, outer)
        context = f"seed {MUTATION_SEED}, iteration {iteration}: {data.hex()[:400]}"
        try:
            revset = check_contract(data, hca)
        except AssertionError:
            raise
        except Exception as exc:  # The contract: nothing but CRLCheckError may escape.
            raise AssertionError(f"{type(exc).__name__}: {exc} ({context})") from exc
        outcome = "verified" if revset is not None else "refused"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if iteration % INSPECT_EVERY == 0:
            path.write_bytes(data)
            status = main(["inspect", str(path), "--at", NOW.isoformat()])
            err = capsys.readouterr().err
            assert status in (0, 1, 2), context
            assert err.count("\n") <= 1, (err, context)
            assert "Traceback" not in err, context
    # The mutations must reach the rules, not only the parser: some mutants verify.
    assert outcomes.get("verified", 0) > MUTATIONS // 50, outcomes


# Time text around the shapes UTCTime and GeneralizedTime take, for shrinking to a minimal case.
time_text = st.text(alphabet="0123456789Z.+-", min_size=0, max_size=19).map(str.encode)


@fuzz_settings
@given(
    where=st.sampled_from(["thisUpdate", "nextUpdate", "revocationDate"]),
    tag=st.sampled_from([0x17, 0x18]),
    text=time_text | st.sampled_from([b"00000101000000Z", b"99991231235959Z", b"500101000000Z"]),
)
def test_any_time_text_in_any_time_field_never_escapes(
    hca: CA, seeds: list[bytes], where: str, tag: int, text: bytes
) -> None:
    fields, outer, _ = split_crl(seeds[0])
    fields = list(fields)
    value = tlv(tag, text)
    if where == "thisUpdate":
        fields[THIS_UPDATE] = value
    elif where == "nextUpdate":
        fields[NEXT_UPDATE] = value
    else:
        fields[NEXT_UPDATE + 1] = tlv(0x30, tlv(0x30, der_integer(7) + value))
    check_contract(sign(tlv(0x30, b"".join(fields)), hca, outer), hca)
