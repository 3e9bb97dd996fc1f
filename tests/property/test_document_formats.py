"""Both document formats answer alike: version 1 (JSON) and version 2 (binary) made from the
same signed CRL give the same serials and the same lookups, eager or lazy, for serials of any
sign and length (up to 25 octets)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crlcheck import dump_document, load_crl, load_document, verify_crl
from tests.pki import NOW, crl_with_entries
from tests.property.test_membership import PROPERTY_CA, Entry, entries, serial_values


@settings(max_examples=100, deadline=None)
@given(
    listed=st.lists(entries, max_size=80),
    probes=st.lists(serial_values, max_size=20),
)
def test_json_and_binary_documents_answer_alike(listed: list[Entry], probes: list[int]) -> None:
    data = crl_with_entries(PROPERTY_CA, [e.der() for e in listed])
    revset = verify_crl(load_crl(data), [PROPERTY_CA.cert], now=NOW)
    members = {e.serial for e in listed}
    candidates = [*probes, *members, *(s + 1 for s in members), *(-s for s in members)]
    v1 = dump_document(revset, generated_at=NOW)
    v2 = dump_document(revset, generated_at=NOW, format="binary")
    for mode in ("eager", "lazy"):
        json_set = load_document(v1, check_order=mode)
        binary_set = load_document(v2, check_order=mode)
        assert binary_set.info == json_set.info
        assert binary_set.serials() == json_set.serials() == sorted(members)
        for serial in candidates:
            assert binary_set.lookup(serial) == json_set.lookup(serial) == revset.lookup(serial)
        # A document read back writes the same bytes, in either format.
        assert dump_document(binary_set, generated_at=NOW) == v1
        assert dump_document(json_set, generated_at=NOW, format="binary") == v2
