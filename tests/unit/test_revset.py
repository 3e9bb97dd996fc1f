"""The revocation set: ordering checks, exact lookups across index blocks, details, scope."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import ipaddress
from collections.abc import Callable

import pytest
from cryptography import x509

from crlcheck import CacheFormatError, CRLInfo, RevocationSet, RevokedEntry
from crlcheck.codec._json import details_loader
from crlcheck.revset import BLOCK, DETAIL_SIZE, NO_REASON, REASON_NAMES, general_name_text
from crlcheck.serial import encode_serial
from tests.pki import CA, NEXT, NOW, T0, name

DATE_TEXT = b"20251201000000Z"
DATE = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)


def make_info(issuer: x509.Name, **changes: object) -> CRLInfo:
    info = CRLInfo(
        issuer=issuer.rfc4514_string(),
        issuer_der=issuer.public_bytes(),
        issuer_key_id=None,
        signer_subject=issuer.rfc4514_string(),
        signer_sha256="00" * 32,
        crl_number=1,
        this_update=T0,
        next_update=NEXT,
        source_sha256="11" * 32,
        signature_algorithm="ecdsa-with-SHA256",
    )
    return dataclasses.replace(info, **changes)  # type: ignore[arg-type]


def keys_of(serials: list[int], width: int) -> bytes:
    keys = [encode_serial(s, width) for s in serials]
    assert all(k is not None for k in keys)
    return b"".join(k for k in keys if k is not None)


def details_of(count: int, reason: int = NO_REASON) -> bytes:
    return (DATE_TEXT + bytes([reason])) * count


def make_set(
    serials: list[int],
    width: int = 3,
    *,
    ordered: bool = True,
    issuer: x509.Name | None = None,
    **info_changes: object,
) -> RevocationSet:
    info = make_info(issuer or name("crlcheck Test CA"), **info_changes)
    return RevocationSet(
        info, width, keys_of(serials, width), details_of(len(serials)), ordered=ordered
    )


def lazy_set(keys: bytes, width: int, details: bytes | None = None) -> RevocationSet:
    """A set as load_document(check_order="lazy") makes it: unchecked, details still base64."""
    count = len(keys) // width
    details = details_of(count) if details is None else details
    return RevocationSet(
        make_info(name("crlcheck Test CA")),
        width,
        keys,
        None,
        details_loader=details_loader(
            base64.b64encode(details).decode(), hashlib.sha256(details).digest()
        ),
        ordered=False,
    )


# =============================================================================================
# Refusals: malformed key blobs and ordering
# =============================================================================================


def test_refuses_blob_not_a_multiple_of_width() -> None:
    with pytest.raises(CacheFormatError, match="multiple of the key width") as info:
        RevocationSet(make_info(name("x")), 3, b"\x80\x00\x01\x80", None, ordered=True)
    assert info.value.reason == "document_invalid"


def test_refuses_zero_width() -> None:
    with pytest.raises(CacheFormatError):
        RevocationSet(make_info(name("x")), 0, b"", None, ordered=True)


@pytest.mark.parametrize("ordered", [True, False])
def test_refuses_unordered_index_at_construction(ordered: bool) -> None:
    serials = list(range(2 * BLOCK + 1))
    serials[BLOCK], serials[2 * BLOCK] = serials[2 * BLOCK], serials[BLOCK]  # two index keys
    with pytest.raises(CacheFormatError, match="strictly increasing"):
        RevocationSet(make_info(name("x")), 2, keys_of(serials, 2), None, ordered=ordered)


def test_refuses_duplicate_index_keys() -> None:
    serials = [*range(BLOCK), 0]  # the first keys of blocks 0 and 1 are equal
    with pytest.raises(CacheFormatError, match="strictly increasing"):
        RevocationSet(make_info(name("x")), 2, keys_of(serials, 2), None, ordered=False)


def _unsorted_in_block_one(width: int = 2) -> tuple[list[int], bytes]:
    """4 blocks of serials 0, 10, 20, ...; two keys swapped inside block 1 (index untouched)."""
    serials = [10 * i for i in range(4 * BLOCK)]
    swapped = list(serials)
    a, b = BLOCK + 3, BLOCK + 4
    swapped[a], swapped[b] = swapped[b], swapped[a]
    return serials, keys_of(swapped, width)


def test_lazy_set_refuses_the_lookup_that_needs_an_unsorted_block() -> None:
    serials, keys = _unsorted_in_block_one()
    revset = lazy_set(keys, 2)
    # A hit needs only its own block: blocks 0, 2 and 3 are in order and answer.
    assert 0 in revset
    assert 10 * (2 * BLOCK) in revset
    assert revset.lookup(10 * (4 * BLOCK - 1)) is not None
    # Every lookup that lands in block 1, member or not, refuses; and keeps refusing.
    for serial in (serials[BLOCK], serials[BLOCK + 3], serials[BLOCK + 3] + 1):
        with pytest.raises(CacheFormatError, match="block 1"):
            revset.lookup(serial)
        with pytest.raises(CacheFormatError, match="block 1"):
            serial in revset  # noqa: B015
    # A miss is a claim about every block, so it refuses too, wherever it lands.
    with pytest.raises(CacheFormatError, match="strictly increasing"):
        revset.lookup(5)
    with pytest.raises(CacheFormatError):
        revset.check_order()


def test_lazy_set_refuses_a_miss_when_the_key_sits_in_another_block() -> None:
    # 705 belongs in block 2 (keys 640..950) but sits in block 0, where every block's own
    # check passes for the lookup that bisects to block 2: only checking all keys finds it.
    serials = [10 * i for i in range(3 * BLOCK)]
    serials[5] = 705  # in place of 50; the index keys 0, 320 and 640 stay in order
    revset = lazy_set(keys_of(serials, 2), 2)
    assert revset.lookup(640) is not None  # a hit in block 2, which is in order
    with pytest.raises(CacheFormatError, match="strictly increasing"):
        revset.lookup(705)


def test_lazy_set_refuses_disorder_across_a_block_boundary() -> None:
    # The last key of block 0 is above the first key of block 1.
    serials = [10 * i for i in range(2 * BLOCK)]
    serials[BLOCK - 1] = serials[BLOCK] + 5
    revset = lazy_set(keys_of(serials, 2), 2)
    with pytest.raises(CacheFormatError):
        revset.lookup(0)
    assert serials[BLOCK] in revset  # block 1 itself is in order


def test_check_order_on_a_sorted_lazy_set_marks_every_block_checked() -> None:
    serials = [3 * i - 500 for i in range(5 * BLOCK + 7)]
    revset = lazy_set(keys_of(serials, 2), 2)
    revset.check_order()
    assert all(s in revset for s in serials)
    assert revset.serials() == serials


def test_equal_keys_inside_a_block_are_refused() -> None:
    serials = list(range(2 * BLOCK))
    serials[5] = serials[4]
    revset = lazy_set(keys_of(serials, 2), 2)
    with pytest.raises(CacheFormatError):
        revset.lookup(4)
    with pytest.raises(CacheFormatError):
        revset.check_order()


# =============================================================================================
# Details: corruption never hides a hit
# =============================================================================================


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: base64.b64encode(d[:-DETAIL_SIZE]).decode(),  # one record short
        lambda d: "!" + base64.b64encode(d).decode()[1:],  # not base64
        lambda d: base64.b64encode(b"x" + d[1:]).decode(),  # altered, old digest
    ],
    ids=["short", "not-base64", "altered"],
)
def test_corrupt_details_still_say_revoked(corrupt: Callable[[bytes], str]) -> None:
    serials = [1, 2, 3]
    details = details_of(3, 1)
    revset = RevocationSet(
        make_info(name("x")),
        2,
        keys_of(serials, 2),
        None,
        details_loader=details_loader(corrupt(details), hashlib.sha256(details).digest()),
        ordered=True,
    )
    assert revset.lookup(2) == RevokedEntry(2, None, None)
    assert revset.lookup(4) is None
    assert 3 in revset
    with pytest.raises(CacheFormatError, match="details are corrupt"):
        revset.details_blob()


@pytest.mark.parametrize("date", [b"2025-12-01T0000", b"20251301000000Z", b"\xff" * 15])
def test_unreadable_date_with_a_valid_digest_keeps_the_reason(date: bytes) -> None:
    details = date + bytes([1])
    revset = lazy_set(keys_of([9], 2), 2, details)
    assert revset.lookup(9) == RevokedEntry(9, None, "keyCompromise")


# =============================================================================================
# Lookups
# =============================================================================================


def test_large_set_finds_every_member_and_no_neighbour(
    large_revset: RevocationSet,
    large_serials: list[int],
    large_reasons: dict[int, int | None],
) -> None:
    members = set(large_serials)
    assert len(large_revset) == len(members)
    assert large_revset.serials() == sorted(members)
    assert len(large_revset.keys_blob()) == len(members) * large_revset.width
    assert len(large_revset.details_blob()) == len(members) * DETAIL_SIZE
    for serial in large_serials:
        code = large_reasons[serial]
        expected = REASON_NAMES[code] if code is not None else None
        assert large_revset.lookup(serial) == RevokedEntry(serial, DATE, expected)
        for neighbour in (serial - 1, serial + 1, -serial):
            if neighbour not in members:
                assert neighbour not in large_revset
                assert large_revset.lookup(neighbour) is None


def test_unaligned_match_is_not_a_member() -> None:
    # Keys 80 01 | 80 80: the bytes 01 80 appear across the record boundary.
    revset = make_set([0x0001, 0x0080], width=2)
    assert revset.keys_blob() == bytes.fromhex("80018080")
    straddling = 0x0180 - 0x8000
    assert encode_serial(straddling, 2) == bytes.fromhex("0180")
    assert straddling not in revset
    assert revset.lookup(straddling) is None


def test_unaligned_match_before_an_aligned_one() -> None:
    # 7f 80 | 80 7f | 80 80: "80 80" first appears at offset 1 (unaligned), then at 4.
    revset = make_set([-0x80, 0x7F, 0x80], width=2)
    assert revset.keys_blob() == bytes.fromhex("7f80807f8080")
    assert 0x80 in revset
    assert revset.lookup(0x80) == RevokedEntry(0x80, DATE, None)


@pytest.mark.parametrize("count", [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 5])
def test_block_edges(count: int) -> None:
    serials = [7 * i - 100 for i in range(count)]
    revset = make_set(serials)
    assert len(revset) == count
    for s in serials:
        assert s in revset
        assert s + 1 not in revset
    assert -101 not in revset  # below the first key
    assert 7 * count not in revset  # above the last key


def test_serials_out_of_the_key_range_are_not_members() -> None:
    revset = make_set([-(2**23), 0, 2**23 - 1], width=3)
    assert 2**23 not in revset
    assert -(2**23) - 1 not in revset
    assert 2**200 not in revset
    assert -(2**200) not in revset


def test_255_and_minus_1() -> None:
    assert 255 not in make_set([-1])
    assert -1 not in make_set([255])
    both = make_set([-1, 255])
    assert -1 in both
    assert 255 in both
    assert 254 not in both


def test_repr_names_the_issuer_and_size() -> None:
    text = repr(make_set([1, 2], issuer=name("Repr CA")))
    assert "Repr CA" in text
    assert "entries=2" in text


# =============================================================================================
# Scope (RFC 5280 §6.3.3 (b)) and freshness
# =============================================================================================


def test_covers_only_its_issuer(ca: CA, other_ca: CA) -> None:
    revset = make_set([1], issuer=ca.name)
    assert revset.covers(ca.issue_cert().cert)
    assert not revset.covers(other_ca.issue_cert().cert)


def test_distribution_point_scope(ca: CA) -> None:
    url = "http://crl.example/ca-1.crl"
    revset = make_set([1], issuer=ca.name, distribution_points=("URI:" + url,))
    assert revset.covers(ca.issue_cert(crl_distribution_points=[url]).cert)
    assert revset.covers(
        ca.issue_cert(crl_distribution_points=["http://crl.example/other.crl", url]).cert
    )
    assert not revset.covers(ca.issue_cert(crl_distribution_points=[url + "x"]).cert)
    assert not revset.covers(ca.issue_cert().cert)  # no cRLDistributionPoints at all


def test_only_user_certs_scope(ca: CA) -> None:
    revset = make_set([1], issuer=ca.name, only_user_certs=True)
    assert revset.covers(ca.issue_cert().cert)
    assert not revset.covers(ca.issue_cert(ca=True).cert)
    assert make_set([1], issuer=ca.name).covers(ca.issue_cert(ca=True).cert)


def test_is_fresh() -> None:
    revset = make_set([1])
    assert revset.is_fresh(NOW)
    assert not revset.is_fresh(NEXT)
    assert revset.is_fresh(NEXT, grace=dt.timedelta(seconds=1))
    assert not revset.is_fresh(NEXT + dt.timedelta(hours=1), grace=dt.timedelta(seconds=3600))


@pytest.mark.parametrize(
    ("general_name", "text"),
    [
        (x509.UniformResourceIdentifier("http://x/y.crl"), "URI:http://x/y.crl"),
        (x509.DirectoryName(name("dp")), "DirName:CN=dp,O=crlcheck tests"),
        (x509.DNSName("crl.example"), "DNS:crl.example"),
        (x509.RFC822Name("pki@example.com"), "email:pki@example.com"),
        (
            x509.IPAddress(ipaddress.ip_address("192.0.2.1")),
            "IPAddress:IPv4Address('192.0.2.1')",
        ),
    ],
)
def test_general_name_text(general_name: x509.GeneralName, text: str) -> None:
    assert general_name_text(general_name) == text
