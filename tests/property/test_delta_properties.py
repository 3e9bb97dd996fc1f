"""Property: deciding on a complete CRL plus its delta equals deciding on the merged CRL.

The merge is what RFC 5280 §5.2.4 says the pair means: the base's entries, minus the
certificateHold entries the delta removes (removeFromCRL), plus the delta's other entries.
"""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from crlcheck import decide, load_crl, verify_crl
from tests.pki import CA, NOW, Revoked

HOLD = x509.ReasonFlags.certificate_hold
KEY = x509.ReasonFlags.key_compromise
REMOVE = x509.ReasonFlags.remove_from_crl
_CA = CA("crlcheck Delta Property CA")
SERIALS = st.integers(min_value=1, max_value=40)


def _entries(listing: dict[int, x509.ReasonFlags]) -> list[Revoked]:
    return [Revoked(serial, reason=reason) for serial, reason in sorted(listing.items())]


def _set(entries: list[Revoked], *, number: int, base: int | None = None) -> object:
    extensions = [(x509.DeltaCRLIndicator(base), True)] if base is not None else []
    crl = _CA.make_crl(entries, number=number, extensions=extensions)
    return verify_crl(load_crl(crl), [_CA.cert], now=NOW, allow_delta=True)


@settings(max_examples=40, deadline=None)
@given(
    base=st.dictionaries(SERIALS, st.sampled_from([HOLD, KEY]), max_size=12),
    added=st.dictionaries(SERIALS, st.sampled_from([HOLD, KEY]), max_size=8),
    removed=st.sets(SERIALS, max_size=8),
)
def test_base_plus_delta_decides_like_the_merged_crl(
    base: dict[int, x509.ReasonFlags], added: dict[int, x509.ReasonFlags], removed: set[int]
) -> None:
    # The delta: new revocations, and removeFromCRL for serials not newly revoked.
    delta = {**{s: REMOVE for s in removed if s not in added}, **added}
    merged = {s: r for s, r in base.items() if not (r is HOLD and delta.get(s) is REMOVE)} | {
        s: r for s, r in delta.items() if r is not REMOVE
    }
    # A removeFromCRL of a serial the base revoked for another reason does not release it.
    merged |= {s: r for s, r in base.items() if r is not HOLD and s not in added}
    pair = [_set(_entries(base), number=10), _set(_entries(delta), number=11, base=10)]
    single = [_set(_entries(merged), number=11)]
    for serial in range(1, 42):
        cert = _CA.issue_cert(serial=serial).cert
        on_pair = decide(cert, pair, now=NOW)  # type: ignore[arg-type]
        on_single = decide(cert, single, now=NOW)  # type: ignore[arg-type]
        assert on_pair.allowed == on_single.allowed, (serial, base, delta)
        assert on_pair.reason is on_single.reason


def test_a_stale_delta_releases_nothing() -> None:
    base = _set([Revoked(5, reason=HOLD)], number=10)
    stale = _CA.make_crl(
        [Revoked(5, reason=REMOVE)],
        number=11,
        this_update=NOW - dt.timedelta(days=3),
        next_update=NOW - dt.timedelta(days=1),
        extensions=[(x509.DeltaCRLIndicator(10), True)],
    )
    # Verified while it was fresh, decided after its nextUpdate.
    delta = verify_crl(
        load_crl(stale), [_CA.cert], now=NOW - dt.timedelta(days=2), allow_delta=True
    )
    cert = _CA.issue_cert(serial=5).cert
    assert decide(cert, [base, delta], now=NOW).reason.value == "revoked"
    assert decide(cert, [delta], now=NOW).reason.value == "no_covering_crl"
