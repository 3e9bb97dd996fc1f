"""The fetcher's settings and the one rule that names a fetched CRL."""

from __future__ import annotations

import pytest

from crlcheck.aws.settings import FetcherSettings, SettingsError
from crlcheck.fetch import FetchLimits, crl_file_name

BASE = {"CRLCHECK_BUCKET": "crl-bucket", "CRLCHECK_FETCH_URLS": "http://pki.example.com/ca.crl"}


# --- negative cases first ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://example.com/", "http://example.com", "https://h/a/"])
def test_a_url_without_a_file_name_cannot_name_a_crl(url: str) -> None:
    with pytest.raises(ValueError, match="no file name"):
        crl_file_name(url)


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"CRLCHECK_FETCH_URLS": ""}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "ftp://pki.example.com/ca.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "file:///etc/ca.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http:///ca.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://[::1/ca.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://user:pw@pki.example.com/ca.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://pki.example.com/a b.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://pki.example.com/é.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://h/" + "a" * 1024}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://h/a.crl,,http://h/b.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://h/a.crl, http://h/a.crl"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_FETCH_URLS": "http://h/"}, "CRLCHECK_FETCH_URLS"),
        ({"CRLCHECK_BUCKET": ""}, "CRLCHECK_BUCKET"),
        ({"CRLCHECK_BUCKET": "Not_A_Bucket"}, "CRLCHECK_BUCKET"),
        ({"CRLCHECK_FETCH_PREFIX": "/crls/"}, "CRLCHECK_FETCH_PREFIX"),
        ({"CRLCHECK_FETCH_MAX_MB": "0"}, "CRLCHECK_FETCH_MAX_MB"),
        ({"CRLCHECK_FETCH_MAX_MB": "1025"}, "CRLCHECK_FETCH_MAX_MB"),
        ({"CRLCHECK_FETCH_MAX_MB": "1.5"}, "CRLCHECK_FETCH_MAX_MB"),
        ({"CRLCHECK_FETCH_TIMEOUT_SECONDS": "0"}, "CRLCHECK_FETCH_TIMEOUT_SECONDS"),
        ({"CRLCHECK_FETCH_TIMEOUT_SECONDS": "901"}, "CRLCHECK_FETCH_TIMEOUT_SECONDS"),
        ({"CRLCHECK_FETCH_TIMEOUT_SECONDS": "nan"}, "CRLCHECK_FETCH_TIMEOUT_SECONDS"),
        ({"CRLCHECK_FETCH_MAX_REDIRECTS": "11"}, "CRLCHECK_FETCH_MAX_REDIRECTS"),
        ({"CRLCHECK_FETCH_MAX_REDIRECTS": "-1"}, "CRLCHECK_FETCH_MAX_REDIRECTS"),
    ],
)
def test_bad_fetcher_settings_name_the_variable(changes: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        FetcherSettings.from_environ({**BASE, **changes})
    assert info.value.variable == variable


def test_two_urls_written_to_one_key_are_refused() -> None:
    urls = "http://a.example/pki/ca.crl,https://b.example/other/CA.CRL?x=1"
    with pytest.raises(SettingsError, match=r"would both be written to 'crls/ca\.crl'"):
        FetcherSettings.from_environ(
            {**BASE, "CRLCHECK_FETCH_URLS": "http://a/ca.crl,http://b/ca.crl"}
        )
    # Names are case-sensitive (S3 keys are): ca.crl and CA.CRL are two objects.
    assert len(FetcherSettings.from_environ({**BASE, "CRLCHECK_FETCH_URLS": urls}).urls) == 2


# --- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://pki.example.com/ca.crl", "ca.crl"),
        ("http://pki.example.com/CertEnroll/Example%20Issuing%20CA.crl", "Example_Issuing_CA.crl"),
        (
            "http://pki.example.com/CertEnroll/Example%20Issuing%20CA+.crl",
            "Example_Issuing_CA_.crl",
        ),
        ("http://pki.example.com/ROOT.CRL", "ROOT.crl"),
        ("http://vault.example.com/v1/pki/crl", "crl.crl"),
        ("http://vault.example.com/v1/pki/crl/der?x=1#f", "der.crl"),
        ("http://h/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd.crl"),
        ("http://h/.hidden.crl", "hidden.crl"),
        ("http://h/.crl", "crl.crl"),
    ],
)
def test_the_name_rule(url: str, name: str) -> None:
    assert crl_file_name(url) == name


def test_fetcher_defaults() -> None:
    settings = FetcherSettings.from_environ(BASE)
    assert settings.urls == ("http://pki.example.com/ca.crl",)
    assert settings.bucket == "crl-bucket"
    assert settings.prefix == "crls/"
    assert settings.limits == FetchLimits(max_bytes=128 << 20, timeout=60.0, max_redirects=5)
    assert settings.key(settings.urls[0]) == "crls/ca.crl"


def test_fetcher_values() -> None:
    settings = FetcherSettings.from_environ(
        {
            **BASE,
            "CRLCHECK_FETCH_URLS": " http://a.example/x.crl , https://b.example/y ",
            "CRLCHECK_FETCH_PREFIX": "crl/",
            "CRLCHECK_FETCH_MAX_MB": "16",
            "CRLCHECK_FETCH_TIMEOUT_SECONDS": "2.5",
            "CRLCHECK_FETCH_MAX_REDIRECTS": "0",
        }
    )
    assert settings.urls == ("http://a.example/x.crl", "https://b.example/y")
    assert [settings.key(u) for u in settings.urls] == ["crl/x.crl", "crl/y.crl"]
    assert settings.limits == FetchLimits(max_bytes=16 << 20, timeout=2.5, max_redirects=0)
