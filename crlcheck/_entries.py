"""Walking a verified CRL's revokedCertificates into the sorted keys of a revocation set.

Theory of operation
-------------------
``cryptography`` has already validated every entry's DER (it parses eagerly) when a walker runs
on a loaded CRL; what is left is to turn a million entries into two blobs (sorted offset-binary
keys, and 16-byte detail records) without a Python object per entry. :func:`walk_entries` tries
two fast paths that split the whole list in the regex engine's C loop and then prove they read
every byte, and falls back to :func:`walk_entries_slowly`, which parses each entry in Python
(RFC 5280 §5.3 rules: critical entry extensions, certificateIssuer, reason codes) and says
precisely what is wrong. Both give the same result; tests compare them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from crlcheck import _der
from crlcheck.errors import (
    CRLParseError,
    IndirectCRLError,
    UnsupportedCRLExtensionError,
)
from crlcheck.revset import (
    DETAIL_SIZE,
    NO_REASON,
    keys_increasing,
)

__all__ = ["ProgressCallback", "walk_entries", "walk_entries_slowly"]

# CRL entry extension OIDs as DER content bytes (RFC 5280 §5.3).
_OID_REASON_CODE = bytes.fromhex("551d15")  # 2.5.29.21
_OID_HOLD_INSTRUCTION = bytes.fromhex("551d17")  # 2.5.29.23
_OID_INVALIDITY_DATE = bytes.fromhex("551d18")  # 2.5.29.24
_OID_CERTIFICATE_ISSUER = bytes.fromhex("551d1d")  # 2.5.29.29
_UNDERSTOOD_ENTRY_EXTENSIONS = frozenset(
    {_OID_REASON_CODE, _OID_HOLD_INSTRUCTION, _OID_INVALIDITY_DATE}
)

# The overwhelmingly common entry extension list: exactly one non-critical reasonCode.
# SEQUENCE { SEQUENCE { OID 2.5.29.21, OCTET STRING { ENUMERATED <code> } } }
_REASON_ONLY = bytes.fromhex("300c300a0603551d1504030a01")

# Reason codes allowed in a complete CRL: 7 is unassigned, 8 (removeFromCRL) is delta-only.
_COMPLETE_CRL_REASONS = frozenset({0, 1, 2, 3, 4, 5, 6, 9, 10})
_DELTA_CRL_REASONS = _COMPLETE_CRL_REASONS | {8}  # RFC 5280 §5.3.1.

ProgressCallback = Callable[[int, int], None]

_PROGRESS_STEP = 1 << 22  # Report progress every 4 MiB of entries.


def _build_entry_pattern() -> re.Pattern[bytes]:
    """The regular expression of one revoked entry in its common shapes (the fast paths).

    An entry is ``SEQUENCE { INTEGER serial, Time revocationDate, [Extensions] }`` where the
    extensions, if present, are a non-critical reasonCode, a non-critical invalidityDate, or both.
    Groups: 1 = serial length byte + content, 2 = UTCTime text, 3 = GeneralizedTime text,
    4-6 = the reason code byte (in whichever alternative matched).
    """
    reason = rb"\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01([\x00-\x06\x09\x0a])"
    # invalidityDate is always GeneralizedTime (RFC 5280 §5.3.2).
    inv = rb"(?:\x30\x18\x06\x03\x55\x1d\x18\x04\x11\x18\x0f[0-9]{14}Z)"
    extensions = (
        rb"(?:\x30(?:\x0c"
        + reason
        + rb"|\x1a"
        + inv
        + rb"|\x26(?:"
        + reason
        + inv
        + rb"|"
        + inv
        + reason
        + rb")))?"
    )
    return re.compile(
        rb"\x30[\x00-\x7f]\x02(" + _SERIAL_PATTERN + rb")"
        rb"(?:\x17\x0d(" + _ANY + rb"{13})|\x18\x0f(" + _ANY + rb"{15}))" + extensions
    )


def _build_utc_entry_pattern() -> re.Pattern[bytes]:
    """The pattern of :func:`_walk_utc_entries`: the same entries, UTCTime revocationDate only.

    Groups: 1 = serial length byte + content, 2 = UTCTime text, 3 = the reason code byte (None
    when the entry has no reasonCode). The three extension layouts that carry a reasonCode share
    the one reason group: a lookahead admits a reasonCode-first layout only when an
    invalidityDate follows it, and a lookbehind then requires that invalidityDate.
    """
    reason_prefix = rb"\x30\x0a\x06\x03\x55\x1d\x15\x04\x03\x0a\x01"
    code = rb"[\x00-\x06\x09\x0a]"
    inv = rb"(?:\x30\x18\x06\x03\x55\x1d\x18\x04\x11\x18\x0f[0-9]{14}Z)"
    extensions = (
        rb"(?:\x30\x1a" + inv  # invalidityDate only
        + rb"|\x30(?:\x0c"  # reasonCode only
        + rb"|\x26" + inv  # invalidityDate, reasonCode
        + rb"|\x26(?=" + reason_prefix + code + inv + rb"))"  # reasonCode, invalidityDate
        + reason_prefix + rb"(" + code + rb")"
        + rb"(?:(?<=\x30\x26" + reason_prefix + code + rb")" + inv + rb")?)?"
    )  # fmt: skip
    return re.compile(
        rb"\x30[\x00-\x7f]\x02(" + _SERIAL_PATTERN + rb")\x17\x0d(" + _ANY + rb"{13})" + extensions
    )


# Any one byte. A counted run of `.` under DOTALL is skipped by the regex engine in one step,
# where `[\s\S]{n}` tests a character class n times: the fast path's split is ~40 % faster.
_ANY = rb"(?s:.)"
# A serial: its DER length byte (1-127), then that many bytes. Lengths are tried most common
# first (the regex engine skips a branch whose first literal does not match in one step).
_SERIAL_PATTERN = b"|".join(
    re.escape(bytes((n,))) + _ANY + rb"{%d}" % n
    for n in [*range(16, 23), *range(8, 16), *range(1, 8), *range(23, 0x80)]
)
# Compiled on first use (~8 ms each): the authorizer imports this module but never walks entries.
_entry_re = functools.cache(_build_entry_pattern)
_utc_entry_re = functools.cache(_build_utc_entry_pattern)

# revocationDate as GeneralizedTime text: UTCTime years 50-99 are 19xx, 00-49 are 20xx
# (RFC 5280 §4.1.2.5.1), chosen by the first digit.
_CENTURY = {d: (b"19" if d >= 0x35 else b"20") for d in range(0x30, 0x3A)}
_REASON_BYTE: dict[bytes | None, bytes] = {None: bytes((NO_REASON,))} | {
    bytes((r,)): bytes((r,)) for r in range(11)
}
# The same century rule as bytes.translate tables, for a whole column of first year digits.
_CENTURY_HIGH = bytes.maketrans(b"0123456789", b"2222211111")
_CENTURY_LOW = bytes.maketrans(b"0123456789", b"0000099999")
_BUCKETS_MIN_ENTRIES = 1 << 14  # Fewer entries: bucket by length and sign only.


def _walk_utc_entries(section: bytes, expected: int | None) -> tuple[int, bytes, bytes] | None:
    """The fast path of the common case: every revocationDate a UTCTime, no serial listed twice.

    Returns (width, keys blob, details blob) like :func:`walk_entries`, or None when the list
    is not of that kind (the caller then takes the general path).

    One ``split`` in the regex engine's C loop cuts the list into serials, dates and reason codes,
    and C-level ``map``/``join`` make one record per entry: serial length byte + content + the
    13 UTCTime bytes + the reason byte. Among DER INTEGERs of one length and sign, byte order is
    numeric order, so the records are sorted in buckets of one (length, first octet) - small
    sorts that stay in cache, ~40 % cheaper than one big sort - and each run of one length and
    sign has fixed-size records. Per run, the keys (a constant offset-binary prefix, then the
    content) and the details (the century from a ``translate`` of the year column) are assembled
    column by column, as in :func:`_columns`, with no object per entry. Runs are concatenated in
    numeric order: negative serials longest first, then the others shortest first. Sorting does
    not rule out a serial listed twice (or, if the parser ever let one through, a non-minimal
    INTEGER that equals a shorter one), so strict order is checked on the result.
    """
    parts = _utc_entry_re().split(section)
    if (expected is not None and len(parts) // 4 != expected) or any(parts[::4]):
        return None
    shift = 0 if len(parts) // 4 >= _BUCKETS_MIN_ENTRIES else 7
    buckets: list[list[bytes]] = [[] for _ in range(0x8000 >> shift)]
    reasons = map(_REASON_BYTE.__getitem__, parts[3::4])
    records = map(b"".join, zip(parts[1::4], parts[2::4], reasons, strict=True))
    for record in records:
        buckets[(record[0] << 8 | record[1]) >> shift].append(record)
    del parts, reasons, records
    runs: dict[tuple[int, int], list[bytes]] = {}
    for index, bucket in enumerate(buckets):
        if bucket:
            bucket.sort()
            length, negative = index << shift >> 8, index << shift & 0x80
            runs.setdefault((0, -length) if negative else (1, length), []).extend(bucket)
    del buckets
    width = max(abs(length) for _, length in runs) + 1  # room for the sign
    keys: list[bytes] = []
    details: list[bytes] = []
    for (sign, length), run in sorted(runs.items()):
        length = abs(length)
        blob = b"".join(run)
        run.clear()
        stride = length + 15  # length byte, content, 13 UTCTime bytes, reason byte
        count = len(blob) // stride
        prefix = b"\x80" + b"\x00" * (width - 1) if sign else b"\x7f" + b"\xff" * (width - 1)
        run_keys = bytearray(prefix) * count
        for j in range(length):
            run_keys[width - length + j :: width] = blob[1 + j :: stride]
        run_details = bytearray(DETAIL_SIZE * count)
        year = blob[1 + length :: stride]
        run_details[0::DETAIL_SIZE] = year.translate(_CENTURY_HIGH)
        run_details[1::DETAIL_SIZE] = year.translate(_CENTURY_LOW)
        for j in range(DETAIL_SIZE - 2):
            run_details[2 + j :: DETAIL_SIZE] = blob[1 + length + j :: stride]
        keys.append(bytes(run_keys))
        details.append(bytes(run_details))
    keys_blob = b"".join(keys)
    if not keys_increasing(keys_blob, width):
        return None  # A serial is listed twice: the general path keeps its first listing.
    return width, keys_blob, b"".join(details)


def walk_entries(
    der: bytes,
    start: int,
    end: int,
    progress: ProgressCallback | None,
    expected: int | None = None,
    *,
    delta: bool = False,
) -> tuple[int, bytes, bytes]:
    """Walk revokedCertificates; return (width, sorted unique keys blob, details blob).

    ``delta`` allows removeFromCRL (reason 8), which only a delta CRL may hold; such entries
    take the slow path (the fast paths' patterns do not match reason 8).

    ``cryptography`` has already validated every entry's DER (it parses eagerly) when this runs
    on a loaded CRL. The fast paths extract all entries with one ``split`` in the regex engine's
    C loop, then prove they read every byte, in order: the pieces between matches must all be
    empty and the matches as many as the entries. The first, :func:`_walk_utc_entries`, takes
    the common case (UTCTime dates, no serial listed twice) with no Python code per entry but a
    list append; the second reads GeneralizedTime dates and duplicates with one Python
    expression per entry (at 1M entries: ~1.5 s and ~2.5 s on the benchmark machine). An entry
    of any other shape (critical or unusual extensions, bad reason codes) sends the whole list
    down the slow path, which parses each entry in Python and reports precisely what is wrong.
    """
    if start == end:
        if expected:
            raise CRLParseError(f"the CRL lists {expected} entries but none were found")
        return 2, b"", b""
    section = der[start:end]
    fast = _walk_utc_entries(section, expected)
    if fast is not None:
        if progress is not None:
            progress(end - start, end - start)
        return fast
    # split() returns [gap, serial, utc, gen, r1, r2, r3, gap, serial, ...]: every gap must be
    # empty, i.e. the matches tile the list exactly.
    pattern = _entry_re()
    parts = pattern.split(section)
    del section
    groups = pattern.groups + 1
    if (expected is None or len(parts) // groups == expected) and not any(parts[::groups]):
        if progress is not None:
            progress(end - start, end - start)
        serials = parts[1::groups]
        width = max(map(len, serials))  # The length byte stands in for the sign byte.
        unique = len(set(serials)) == len(serials)
        pos = [b"\x80" + b"\x00" * (width - n - 1) for n in range(width)]
        neg = [b"\x7f" + b"\xff" * (width - n - 1) for n in range(width)]
        century = _CENTURY
        reasons = _REASON_BYTE
        # One record per entry: key + detail, so that one sort orders both.
        records = [
            (neg if s[1] & 0x80 else pos)[s[0]]
            + s[1:]
            + (gen or century[utc[0]] + utc)
            + reasons[r1 or r2 or r3]
            for s, utc, gen, r1, r2, r3 in zip(
                serials,
                parts[2::groups],
                parts[3::groups],
                parts[4::groups],
                parts[5::groups],
                parts[6::groups],
                strict=True,
            )
        ]
        del parts, serials
        return _sort_unique(records, width, unique=unique)
    return walk_entries_slowly(der, start, end, progress, expected, delta=delta)


def walk_entries_slowly(
    der: bytes,
    start: int,
    end: int,
    progress: ProgressCallback | None,
    expected: int | None = None,
    *,
    delta: bool = False,
) -> tuple[int, bytes, bytes]:
    """:func:`walk_entries` without the fast paths: each entry parsed in Python.

    :func:`walk_entries` comes here for any entry the fast paths do not know; tests call it
    directly to compare the two.
    """
    reasons = _DELTA_CRL_REASONS if delta else _COMPLETE_CRL_REASONS
    serials, details = _parse_entries(der, start, end, progress, reasons)
    if expected is not None and len(serials) != expected:
        raise CRLParseError(f"found {len(serials)} revoked entries, the CRL lists {expected}")
    if not serials:
        return 2, b"", b""
    width = max(map(len, serials)) + 1
    pos = [b"\x80" + b"\x00" * (width - n - 1) for n in range(width)]
    neg = [b"\x7f" + b"\xff" * (width - n - 1) for n in range(width)]
    records = [
        (neg if s[0] & 0x80 else pos)[len(s)] + s + d for s, d in zip(serials, details, strict=True)
    ]
    return _sort_unique(records, width, unique=len(set(serials)) == len(serials))


def _sort_unique(records: list[bytes], width: int, *, unique: bool) -> tuple[int, bytes, bytes]:
    """Sort ``key + detail`` records and split them into a keys blob and a details blob.

    Keys are offset-binary (see :mod:`crlcheck.serial`), so sorting whole records sorts by
    serial. When a serial is listed more than once (``unique`` is False) only its first listing
    in sorted order is kept.
    """
    records.sort()
    if not unique:
        kept: list[bytes] = []
        previous = b""
        for record in records:
            if record[:width] != previous:
                kept.append(record)
                previous = record[:width]
        records = kept
    return width, *_columns(b"".join(records), width, width + DETAIL_SIZE)


def _columns(blob: bytes, width: int, stride: int) -> tuple[bytes, bytes]:
    """Split fixed-size records into their first ``width`` bytes and the rest, column by column.

    Each column is one strided slice copy in C, so this costs ``stride`` passes over the data and
    no object per record.
    """
    count = len(blob) // stride
    keys = bytearray(count * width)
    rest = bytearray(count * (stride - width))
    for j in range(width):
        keys[j::width] = blob[j::stride]
    for j in range(stride - width):
        rest[j :: stride - width] = blob[width + j :: stride]
    return bytes(keys), bytes(rest)


def _parse_entries(
    der: bytes,
    start: int,
    end: int,
    progress: ProgressCallback | None,
    reasons: frozenset[int] = _COMPLETE_CRL_REASONS,
) -> tuple[list[bytes], list[bytes]]:
    """Parse each entry in Python; return (serial contents, detail records) in CRL order."""
    serials: list[bytes] = []
    details: list[bytes] = []
    add_serial = serials.append
    add_detail = details.append
    no_reason = bytes((NO_REASON,))
    reason_bytes = [bytes((r,)) for r in range(256)]
    next_report = start + _PROGRESS_STEP
    pos = start
    try:
        while pos < end:
            if der[pos] != 0x30:
                raise _der.DERError(f"revoked entry at offset {pos} is not a SEQUENCE")
            n = der[pos + 1]
            if n < 0x80:
                cs = pos + 2
                ce = cs + n
            else:
                tlv = _der.read_tlv(der, pos, end)
                cs, ce = tlv.content_start, tlv.end
            if ce > end:
                raise _der.DERError(f"revoked entry at offset {pos} overruns the list")
            # userCertificate CertificateSerialNumber (INTEGER)
            if der[cs] != 0x02:
                raise _der.DERError(f"revoked entry at offset {pos} has no serial INTEGER")
            sl = der[cs + 1]
            if sl == 0 or sl >= 0x80:
                tlv = _der.read_tlv(der, cs, ce)
                if tlv.tag != 0x02 or tlv.end == tlv.content_start:
                    raise _der.DERError(f"bad serial INTEGER at offset {cs}")
                s = der[tlv.content_start : tlv.end]
                j = tlv.end
            else:
                j = cs + 2 + sl
                s = der[cs + 2 : j]
            if len(s) > 1 and ((s[0] == 0 and s[1] < 0x80) or (s[0] == 0xFF and s[1] >= 0x80)):
                raise _der.DERError(f"non-minimal serial INTEGER at offset {cs}")
            # revocationDate Time
            t = der[j]
            if t == 0x17 and der[j + 1] == 13:
                date = (b"19" if der[j + 2] >= 0x35 else b"20") + der[j + 2 : j + 15]
                j += 15
            elif t == 0x18 and der[j + 1] == 15:
                date = der[j + 2 : j + 17]
                j += 17
            else:
                raise _der.DERError(f"bad revocationDate at offset {j}")
            if j == ce:
                reason = no_reason
            elif ce - j == 14 and der[j : j + 13] == _REASON_ONLY:
                code = der[j + 13]
                if code not in reasons:
                    raise _bad_reason(code, j)
                reason = reason_bytes[code]
            elif j > ce:
                raise _der.DERError(f"revoked entry at offset {pos} overruns itself")
            else:
                reason = reason_bytes[_entry_extensions(der, j, ce, reasons)]
            add_serial(s)
            add_detail(date + reason)
            pos = ce
            if pos >= next_report and progress is not None:
                progress(pos - start, end - start)
                next_report = pos + _PROGRESS_STEP
    except IndexError as exc:
        raise CRLParseError(f"truncated revoked entry at offset {pos}") from exc
    except _der.DERError as exc:
        raise CRLParseError(f"malformed revoked entry: {exc}") from exc
    if progress is not None and end > start:
        progress(end - start, end - start)

    return serials, details


def _bad_reason(code: int, offset: int) -> CRLParseError:
    if code == 8:
        return CRLParseError(f"removeFromCRL entry at offset {offset} in a complete CRL")
    return CRLParseError(f"invalid CRLReason code {code} at offset {offset}")


def _entry_extensions(der: bytes, pos: int, end: int, reasons: frozenset[int]) -> int:
    """Parse a crlEntryExtensions field; return the reason code (NO_REASON when absent)."""
    seq = _der.read_tlv(der, pos, end)
    if seq.tag != _der.TAG_SEQUENCE or seq.end != end:
        raise _der.DERError(f"bad crlEntryExtensions at offset {pos}")
    reason = NO_REASON
    seen: set[bytes] = set()
    for ext in _der.read_children(der, seq):
        if ext.tag != _der.TAG_SEQUENCE:
            raise _der.DERError(f"bad entry extension at offset {ext.start}")
        fields = _der.read_children(der, ext)
        if not 2 <= len(fields) <= 3 or fields[0].tag != _der.TAG_OID:
            raise _der.DERError(f"bad entry extension at offset {ext.start}")
        oid = der[fields[0].content_start : fields[0].end]
        critical = False
        if len(fields) == 3:
            flag = fields[1]
            if flag.tag != _der.TAG_BOOLEAN or flag.end - flag.content_start != 1:
                raise _der.DERError(f"bad critical flag at offset {flag.start}")
            # DER: TRUE is 0xFF and a FALSE default is omitted, never encoded.
            if der[flag.content_start] != 0xFF:
                raise _der.DERError(f"non-DER critical flag at offset {flag.start}")
            critical = True
        value = fields[-1]
        if value.tag != _der.TAG_OCTET_STRING:
            raise _der.DERError(f"bad entry extension value at offset {value.start}")
        if oid in seen:
            raise _der.DERError(f"duplicate entry extension at offset {ext.start}")
        seen.add(oid)
        if oid == _OID_CERTIFICATE_ISSUER:
            raise IndirectCRLError("certificateIssuer entry extension: indirect CRLs unsupported")
        if oid == _OID_REASON_CODE:
            inner = _der.read_tlv(der, value.content_start, value.end)
            if (
                inner.tag != _der.TAG_ENUMERATED
                or inner.end != value.end
                or inner.end - inner.content_start != 1
            ):
                raise _der.DERError(f"bad reasonCode at offset {value.start}")
            reason = der[inner.content_start]
            if reason not in reasons:
                raise _bad_reason(reason, value.start)
        elif critical and oid not in _UNDERSTOOD_ENTRY_EXTENSIONS:
            dotted = _oid_text(oid)
            raise UnsupportedCRLExtensionError(
                f"unrecognised critical CRL entry extension {dotted}", oid=dotted, entry=True
            )
    return reason


def _oid_text(content: bytes) -> str:
    """Dotted text of OID content bytes (for messages only)."""
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])
