"""crlcheck.aws.settings: numeric ranges and the SHA-1 opt-in (issue 9, item 7 and item 6).

Every ``*_SECONDS`` variable is a finite number from 0 to MAX_SECONDS (10 years): an absurd
value is one SettingsError naming the variable when the settings are read, never an
OverflowError later (``timedelta(seconds=1e300)`` overflows).
"""

from __future__ import annotations

import datetime as dt

import pytest

from crlcheck.aws.settings import (
    MAX_SECONDS,
    AuthorizerSettings,
    PreprocessorSettings,
    SettingsError,
)

AUTHORIZER = {"CRLCHECK_BUCKET": "crl-bucket", "CRLCHECK_DOCUMENT_KEYS": "crls/a.cache.json"}
PREPROCESSOR = {"CRLCHECK_TRUSTSTORE_KEY": "truststore/truststore.pem"}

SECONDS = [
    (AuthorizerSettings, AUTHORIZER, "CRLCHECK_REVALIDATE_SECONDS"),
    (AuthorizerSettings, AUTHORIZER, "CRLCHECK_STALE_GRACE_SECONDS"),
    (PreprocessorSettings, PREPROCESSOR, "CRLCHECK_CLOCK_SKEW_SECONDS"),
]
Settings = type[AuthorizerSettings] | type[PreprocessorSettings]


@pytest.mark.parametrize(("settings", "base", "variable"), SECONDS, ids=[s[2] for s in SECONDS])
@pytest.mark.parametrize(
    "text", ["1e300", "1e20", str(MAX_SECONDS + 1), "315360000.5", "-0.5", "-inf", "nan", "1_0x"]
)
def test_out_of_range_seconds_are_a_settings_error_naming_the_variable(
    settings: Settings, base: dict[str, str], variable: str, text: str
) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        settings.from_environ({**base, variable: text})
    assert info.value.variable == variable
    assert info.value.reason == "misconfigured"


@pytest.mark.parametrize(("settings", "base", "variable"), SECONDS, ids=[s[2] for s in SECONDS])
@pytest.mark.parametrize("text", ["0", "0.25", str(MAX_SECONDS), f" {MAX_SECONDS}.0 "])
def test_seconds_up_to_ten_years_are_accepted(
    settings: Settings, base: dict[str, str], variable: str, text: str
) -> None:
    settings.from_environ({**base, variable: text})


def test_max_seconds_is_ten_years_and_fits_time_arithmetic() -> None:
    assert dt.timedelta(seconds=MAX_SECONDS) == dt.timedelta(days=3650)
    grace = AuthorizerSettings.from_environ(
        {**AUTHORIZER, "CRLCHECK_STALE_GRACE_SECONDS": str(MAX_SECONDS)}
    ).stale_grace
    # The farthest a grace is added to: a CRL whose nextUpdate is the last representable time.
    last = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)
    assert dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - last < grace


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", False),
        ("  ", False),
        ("false", False),
        ("FALSE", False),
        ("true", True),
        (" True ", True),
    ],
)
def test_allow_sha1_flag(text: str, expected: bool) -> None:
    env = {**PREPROCESSOR, "CRLCHECK_ALLOW_SHA1": text}
    assert PreprocessorSettings.from_environ(env).allow_sha1 is expected


def test_allow_sha1_defaults_to_false() -> None:
    assert PreprocessorSettings.from_environ(PREPROCESSOR).allow_sha1 is False


@pytest.mark.parametrize("text", ["1", "0", "yes", "no", "on", "truee", "sha1"])
def test_allow_sha1_accepts_only_true_or_false(text: str) -> None:
    with pytest.raises(SettingsError, match="CRLCHECK_ALLOW_SHA1") as info:
        PreprocessorSettings.from_environ({**PREPROCESSOR, "CRLCHECK_ALLOW_SHA1": text})
    assert info.value.variable == "CRLCHECK_ALLOW_SHA1"
