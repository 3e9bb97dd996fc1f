"""crlcheck.settings: the one place that reads the environment."""

from __future__ import annotations

import datetime as dt

import pytest

from crlcheck.aws.settings import AuthorizerSettings, PreprocessorSettings, SettingsError

AUTHORIZER = {"CRLCHECK_BUCKET": "crl-bucket", "CRLCHECK_DOCUMENT_KEYS": "crls/a.cache.json"}


# --- negative cases first ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"CRLCHECK_BUCKET": ""}, "CRLCHECK_BUCKET"),
        ({"CRLCHECK_BUCKET": "Not_A_Bucket"}, "CRLCHECK_BUCKET"),
        ({"CRLCHECK_BUCKET": "s3://crl-bucket"}, "CRLCHECK_BUCKET"),
        ({"CRLCHECK_DOCUMENT_KEYS": ""}, "CRLCHECK_DOCUMENT_KEYS"),
        ({"CRLCHECK_DOCUMENT_KEYS": "a,,b"}, "CRLCHECK_DOCUMENT_KEYS"),
        ({"CRLCHECK_DOCUMENT_KEYS": "a, a"}, "CRLCHECK_DOCUMENT_KEYS"),
        ({"CRLCHECK_DOCUMENT_KEYS": "k" * 1025}, "CRLCHECK_DOCUMENT_KEYS"),
        ({"CRLCHECK_REVALIDATE_SECONDS": "soon"}, "CRLCHECK_REVALIDATE_SECONDS"),
        ({"CRLCHECK_REVALIDATE_SECONDS": "-1"}, "CRLCHECK_REVALIDATE_SECONDS"),
        ({"CRLCHECK_REVALIDATE_SECONDS": "nan"}, "CRLCHECK_REVALIDATE_SECONDS"),
        ({"CRLCHECK_STALE_GRACE_SECONDS": "inf"}, "CRLCHECK_STALE_GRACE_SECONDS"),
        ({"CRLCHECK_RESPONSE_FORMAT": "iam"}, "CRLCHECK_RESPONSE_FORMAT"),
        ({"CRLCHECK_RESPONSE_FORMAT": "SIMPLE"}, "CRLCHECK_RESPONSE_FORMAT"),
    ],
)
def test_bad_authorizer_settings(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        AuthorizerSettings.from_environ({**AUTHORIZER, **changes})
    assert info.value.variable == variable
    assert info.value.reason == "misconfigured"


def test_missing_authorizer_settings() -> None:
    with pytest.raises(SettingsError, match="CRLCHECK_BUCKET is not set"):
        AuthorizerSettings.from_environ({})


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "CRLCHECK_TRUSTSTORE_KEY"),
        ({"CRLCHECK_TRUSTSTORE_KEY": "  "}, "CRLCHECK_TRUSTSTORE_KEY"),
        (
            {"CRLCHECK_TRUSTSTORE_KEY": "t.pem", "CRLCHECK_TRUSTSTORE_BUCKET": "UPPER"},
            "CRLCHECK_TRUSTSTORE_BUCKET",
        ),
        (
            {"CRLCHECK_TRUSTSTORE_KEY": "t.pem", "CRLCHECK_OUTPUT_PREFIX": "/abs/"},
            "CRLCHECK_OUTPUT_PREFIX",
        ),
        (
            {"CRLCHECK_TRUSTSTORE_KEY": "t.pem", "CRLCHECK_CLOCK_SKEW_SECONDS": "-5"},
            "CRLCHECK_CLOCK_SKEW_SECONDS",
        ),
    ],
)
def test_bad_preprocessor_settings(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        PreprocessorSettings.from_environ(env)


# --- values --------------------------------------------------------------------------------


def test_authorizer_defaults() -> None:
    settings = AuthorizerSettings.from_environ(AUTHORIZER)
    assert settings == AuthorizerSettings(
        bucket="crl-bucket",
        document_keys=("crls/a.cache.json",),
        revalidate_seconds=0.0,
        stale_grace=dt.timedelta(0),
        response_format="policy",
    )


def test_authorizer_values() -> None:
    settings = AuthorizerSettings.from_environ(
        {
            **AUTHORIZER,
            "CRLCHECK_DOCUMENT_KEYS": " crls/a.cache.json , crls/b.cache.json ",
            "CRLCHECK_REVALIDATE_SECONDS": "2.5",
            "CRLCHECK_STALE_GRACE_SECONDS": "3600",
            "CRLCHECK_RESPONSE_FORMAT": "simple",
        }
    )
    assert settings.document_keys == ("crls/a.cache.json", "crls/b.cache.json")
    assert settings.revalidate_seconds == 2.5
    assert settings.stale_grace == dt.timedelta(hours=1)
    assert settings.response_format == "simple"


def test_preprocessor_defaults_and_values() -> None:
    assert PreprocessorSettings.from_environ({"CRLCHECK_TRUSTSTORE_KEY": "t/ca.pem"}) == (
        PreprocessorSettings(
            truststore_key="t/ca.pem",
            truststore_bucket=None,
            output_prefix="",
            clock_skew=dt.timedelta(seconds=300),
        )
    )
    settings = PreprocessorSettings.from_environ(
        {
            "CRLCHECK_TRUSTSTORE_KEY": "t/ca.pem",
            "CRLCHECK_TRUSTSTORE_BUCKET": "trust-bucket",
            "CRLCHECK_OUTPUT_PREFIX": "documents/",
            "CRLCHECK_CLOCK_SKEW_SECONDS": "0",
        }
    )
    assert settings.truststore_bucket == "trust-bucket"
    assert settings.output_prefix == "documents/"
    assert settings.clock_skew == dt.timedelta(0)


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in AUTHORIZER.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CRLCHECK_REVALIDATE_SECONDS", "7")
    assert AuthorizerSettings.from_environ().revalidate_seconds == 7.0
