"""Fixtures and bounds shared by the hardening tests (hostile input, faults, fuzzing, soak).

Every test here is bounded. The fuzzing budgets come from environment variables so that a
developer can run a long campaign locally while CI keeps each test to a few seconds:

==============================  =========  ==================================================
variable                        default    meaning
==============================  =========  ==================================================
``CRLCHECK_FUZZ_EXAMPLES``      ``300``    hypothesis examples per fuzz test
``CRLCHECK_ATHERIS_RUNS``       ``20000``  atheris iterations of ``fuzz/fuzz_crl.py``
``CRLCHECK_SOAK_LOOKUPS``       ``1000000`` membership decisions of the soak test
==============================  =========  ==================================================
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from cryptography import x509
from hypothesis import HealthCheck, settings

from tests.pki import CA, Revoked, crl_with_entries, entry_extensions, raw_entry, reason_code


def budget(name: str, default: int) -> int:
    """A positive integer budget from the environment (see the module notes)."""
    value = int(os.environ.get(name, default))
    if value < 1:
        raise ValueError(f"{name} must be a positive integer")
    return value


FUZZ_EXAMPLES = budget("CRLCHECK_FUZZ_EXAMPLES", 300)

# Fuzz tests: many examples, no per-example deadline (signing and first-call imports are slow
# on a loaded CI machine), and no health check about slow or large generated data: the inputs
# are big on purpose.
fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="session")
def hca() -> CA:
    """The hardening tests' CA (P-256: fast to sign, so re-signing mutated CRLs is cheap)."""
    return CA("crlcheck Hardening CA")


@pytest.fixture(scope="session")
def seed_crls(hca: CA) -> dict[str, bytes]:
    """Signed CRLs of varied shapes: the seeds that fuzz tests mutate."""
    builder = hca.make_crl(
        [
            Revoked(1),
            Revoked(0x0102, reason=x509.ReasonFlags.key_compromise),
            Revoked(0x7F_FFFF, reason=x509.ReasonFlags.certificate_hold),
            Revoked(2**158 + 12345, reason=x509.ReasonFlags.superseded),
            Revoked(
                0xABCDEF,
                extensions=[x509.InvalidityDate(dt.datetime(2025, 11, 1))],
            ),
        ],
        number=42,
    )
    raw = crl_with_entries(
        hca,
        [
            raw_entry(-5),
            raw_entry(0),
            raw_entry(255),
            raw_entry(b"\x00\xff"),
            raw_entry(2**200, extensions=entry_extensions(reason_code(1))),
        ],
        number=43,
    )
    return {
        "builder": builder,
        "raw": raw,
        "empty": hca.make_crl([], number=44),
        "pem": hca.make_crl([3, 4, 5], number=45, pem_output=True),
    }
