"""Bounded fuzzing with hypothesis: the CRL loader and verifier, the document loader, and the
event parsers. The only assertion each makes is the contract: a value, or a CRLCheckError
subclass; any other exception escapes and fails the test. Where a value comes back, it is
compared with an oracle (cryptography's own reading of the CRL, the unmutated document).

Budget: ``CRLCHECK_FUZZ_EXAMPLES`` examples per test (see conftest.py); the default keeps each
test to a few seconds. A long local campaign: ``CRLCHECK_FUZZ_EXAMPLES=100000 pytest -k fuzz``.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from crlcheck import (
    CacheFormatError,
    CRLCheckError,
    Decision,
    RevocationSet,
    decide,
    dump_document,
    load_crl,
    load_document,
    verify_crl,
)
from crlcheck.aws.events import (
    MAX_PEM_LENGTH,
    AuthorizerEvent,
    parse_authorizer_event,
    parse_s3_event,
)
from crlcheck.errors import EventError
from tests.hardening.conftest import fuzz_settings
from tests.pki import CA, NOW, read_tlv, split_crl, tlv
from tests.serverless import load_event

# --- mutations --------------------------------------------------------------------------------

KINDS = ("flip", "set", "truncate", "delete", "insert", "splice", "repeat")

# (kind, where in the buffer as a fraction, a second fraction, a byte value)
Op = tuple[str, float, float, int]
ops_strategy = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.floats(0, 1, exclude_max=True),
        st.floats(0, 1, exclude_max=True),
        st.integers(0, 255),
    ),
    min_size=1,
    max_size=5,
)


def mutate(data: bytes, ops: Sequence[Op], donors: Sequence[bytes]) -> bytes:
    """Apply byte-level mutations (the classic fuzzer set: bit flips, byte sets, truncation,
    deletion, insertion, splices from other inputs, repeats)."""
    buf = bytearray(data)
    for kind, where, other, value in ops:
        i = int(where * len(buf))
        if kind == "flip" and buf:
            buf[i] ^= 1 << (value % 8)
        elif kind == "set" and buf:
            buf[i] = value
        elif kind == "truncate":
            del buf[i:]
        elif kind == "delete":
            del buf[i : i + 1 + value % 16]
        elif kind == "insert":
            buf[i:i] = bytes([value]) * (1 + int(other * 8))
        elif kind == "splice":
            donor = donors[value % len(donors)]
            j = int(other * len(donor))
            buf[i:i] = donor[j : j + 1 + value]
        elif kind == "repeat":
            buf[i:i] = buf[i : i + 1 + value]
    return bytes(buf)


def cryptography_serials(crl: x509.CertificateRevocationList) -> list[int]:
    return sorted({entry.serial_number for entry in crl})


# --- CRLs -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signers(hca: CA, other_ca: CA) -> list[x509.Certificate]:
    return [hca.cert, other_ca.cert]


@fuzz_settings
@given(seed=st.sampled_from(["builder", "raw", "empty", "pem"]), ops=ops_strategy)
def test_fuzz_load_crl(
    seed_crls: dict[str, bytes],
    signers: list[x509.Certificate],
    seed: str,
    ops: list[Op],
) -> None:
    data = mutate(seed_crls[seed], ops, list(seed_crls.values()))
    try:
        crl = load_crl(data)
        revset = verify_crl(crl, signers, now=NOW)
    except CRLCheckError:
        return
    # A mutation that still verifies changed nothing signed (e.g. PEM whitespace).
    assert revset.serials() == cryptography_serials(crl.crl)


def _sign_tbs(tbs: bytes, ca: CA, outer: bytes) -> bytes:
    assert isinstance(ca.key, ec.EllipticCurvePrivateKey)
    signature = ca.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    return tlv(0x30, tbs + outer + tlv(0x03, b"\x00" + signature))


@fuzz_settings
@given(seed=st.sampled_from(["builder", "raw", "empty"]), ops=ops_strategy)
def test_fuzz_verify_crl_with_resigned_mutations(
    hca: CA, seed_crls: dict[str, bytes], seed: str, ops: list[Op]
) -> None:
    """Mutate the signed part (TBSCertList content) and sign it again, so that the mutation
    reaches the extension checks and the entry walkers. A CRL that verifies must list exactly
    the serials, reasons and dates that cryptography reads from it."""
    der = seed_crls[seed]
    _, content_start, _ = read_tlv(der, 0)
    _, tbs_start, tbs_end = read_tlv(der, content_start)
    _, outer, _ = split_crl(der)
    donors = [d for d in seed_crls.values() if d[:1] == b"\x30"]
    tbs = tlv(0x30, mutate(der[tbs_start:tbs_end], ops, donors))
    data = _sign_tbs(tbs, hca, outer)
    try:
        crl = load_crl(data)
        revset = verify_crl(crl, [hca.cert], now=NOW)
    except CRLCheckError:
        return
    assert revset.serials() == cryptography_serials(crl.crl)
    listed = Counter(entry.serial_number for entry in crl.crl)
    for entry in crl.crl:
        found = revset.lookup(entry.serial_number)
        assert found is not None
        if listed[entry.serial_number] > 1:
            continue  # Listed twice: either listing's details may be kept.
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = None
        except ValueError:
            continue  # cryptography cannot read this entry's extensions; ours could.
        assert found.reason == (reason.value if reason is not None else None)
        assert found.revocation_date == entry.revocation_date_utc


# --- documents --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_documents(hca: CA, other_ca: CA, seed_crls: dict[str, bytes]) -> dict[str, bytes]:
    docs = {}
    for name in ("builder", "raw", "empty"):
        docs[name] = dump_document(verify_crl(load_crl(seed_crls[name]), [hca.cert], now=NOW))
    many = other_ca.make_crl(list(range(1, 400, 3)), number=5)
    docs["many"] = dump_document(verify_crl(load_crl(many), [other_ca.cert], now=NOW))
    return docs


def _probe(revset: RevocationSet, original: RevocationSet) -> None:
    """Lookups on a mutated set answer or raise CacheFormatError, never anything else."""
    for serial in [*original.serials()[:5], 0, -5, 2, 2**158 + 12346]:
        with contextlib.suppress(CacheFormatError):
            revset.lookup(serial)


@fuzz_settings
@given(seed=st.sampled_from(["builder", "raw", "empty", "many"]), ops=ops_strategy)
def test_fuzz_load_document_bytes(
    seed_documents: dict[str, bytes], seed: str, ops: list[Op]
) -> None:
    original = load_document(seed_documents[seed])
    data = mutate(seed_documents[seed], ops, list(seed_documents.values()))
    for mode in ("eager", "lazy"):
        try:
            revset = load_document(data, check_order=mode)
        except CacheFormatError:
            continue
        _probe(revset, original)
        if mode == "eager" and revset.info.issuer_der == original.info.issuer_der:
            # What loads eagerly passed every digest: the same serials, or a deliberate
            # re-encoding of them (impossible from byte mutations without a new digest).
            assert revset.serials() == original.serials()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    return out


def _replace(doc: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


@fuzz_settings
@given(seed=st.sampled_from(["builder", "raw", "many"]), data=st.data())
def test_fuzz_load_document_fields(
    seed_documents: dict[str, bytes], seed: str, data: st.DataObject
) -> None:
    """Replace any field, at any depth, by any JSON value."""
    original = load_document(seed_documents[seed])
    doc = orjson.loads(seed_documents[seed])
    path = data.draw(st.sampled_from(_paths(doc)))
    _replace(doc, path, data.draw(json_values))
    for mode in ("eager", "lazy"):
        try:
            revset = load_document(orjson.dumps(doc), check_order=mode)
        except CacheFormatError:
            continue
        _probe(revset, original)
        if path[0] != "entries":
            assert revset.serials() == original.serials()


# --- events -----------------------------------------------------------------------------------

FIXTURES = ("rest-request-mtls.json", "http-v1-mtls.json", "http-v2-mtls.json")


@pytest.fixture(scope="module")
def events(hca: CA) -> dict[str, dict[str, Any]]:
    pem = hca.issue_cert("fuzz").pem
    return {name: load_event(name, pem) for name in FIXTURES}


def _check_parsed(parsed: AuthorizerEvent, sets: list[RevocationSet]) -> None:
    assert isinstance(parsed.client_cert_pem, bytes)
    assert len(parsed.client_cert_pem) <= MAX_PEM_LENGTH
    # Whatever PEM an event carries, deciding on it is a Decision, never an exception.
    assert isinstance(decide(parsed.client_cert_pem, sets, now=NOW), Decision)


@fuzz_settings
@given(event=json_values)
def test_fuzz_authorizer_event_of_any_json(event: object) -> None:
    try:
        parsed = parse_authorizer_event(event)
    except EventError:
        return
    _check_parsed(parsed, [])


@fuzz_settings
@given(name=st.sampled_from(FIXTURES), data=st.data())
def test_fuzz_authorizer_event_fields(
    events: dict[str, dict[str, Any]],
    seed_documents: dict[str, bytes],
    name: str,
    data: st.DataObject,
) -> None:
    """Replace any field of a real event (or the PEM's text) by any JSON value."""
    event = copy.deepcopy(events[name])
    path = data.draw(st.sampled_from(_paths(event)))
    _replace(event, path, data.draw(json_values | st.text(alphabet="-BEGIN CERT\n=+/AZaz09")))
    try:
        parsed = parse_authorizer_event(json.loads(json.dumps(event)))
    except EventError:
        return
    _check_parsed(parsed, [load_document(seed_documents["builder"])])


@fuzz_settings
@given(pem=st.binary(max_size=2048) | st.text(max_size=2048).map(str.encode))
def test_fuzz_decide_on_any_certificate_bytes(pem: bytes, seed_documents: dict[str, bytes]) -> None:
    decision = decide(pem, [load_document(seed_documents["builder"])], now=NOW)
    assert not decision.allowed


@fuzz_settings
@given(event=json_values)
def test_fuzz_s3_event_of_any_json(event: object) -> None:
    try:
        records = parse_s3_event(event)
    except EventError:
        return
    for record in records:
        assert record.bucket
        assert record.key
