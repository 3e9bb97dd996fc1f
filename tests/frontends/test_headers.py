"""certificate_from_header: one trusted header, URL-encoded PEM, refused when ambiguous."""

from __future__ import annotations

import urllib.parse

import pytest

from crlcheck.errors import CertificateParseError, Reason
from crlcheck.frontends import RequestError, certificate_from_header
from crlcheck.frontends._door import MAX_CERTIFICATE_HEADER
from tests.frontends.conftest import WebPKI
from tests.web import escaped

H = "X-Client-Cert"


def test_a_missing_header_is_a_bad_request() -> None:
    with pytest.raises(RequestError, match="no X-Client-Cert header") as info:
        certificate_from_header([], H)
    assert info.value.deny_reason is Reason.BAD_REQUEST


def test_an_empty_header_is_no_certificate() -> None:
    # nginx sends an empty $ssl_client_escaped_cert when the client sent no certificate.
    with pytest.raises(RequestError, match="empty"):
        certificate_from_header(["  "], H)


def test_a_repeated_header_is_refused_rather_than_guessed(web_pki: WebPKI) -> None:
    value = escaped(web_pki.good.pem)
    with pytest.raises(RequestError, match="repeated"):
        certificate_from_header([value, value], H)
    with pytest.raises(RequestError, match="repeated"):
        certificate_from_header([f"{value}, {value}"], H)  # As WSGI joins them.


def test_an_oversized_header_is_refused() -> None:
    with pytest.raises(RequestError, match="over"):
        certificate_from_header(["A" * (MAX_CERTIFICATE_HEADER + 1)], H)


@pytest.mark.parametrize("value", ["garbage", "%00%ff", escaped("-----BEGIN CERTIFICATE-----")])
def test_a_header_without_a_pem_certificate_is_a_bad_certificate(value: str) -> None:
    with pytest.raises(CertificateParseError) as info:
        certificate_from_header([value], H)
    assert info.value.deny_reason is Reason.BAD_CERTIFICATE


def test_the_first_certificate_of_a_chain_is_the_clients(web_pki: WebPKI) -> None:
    chain = web_pki.good.pem + web_pki.ca.pem  # ALB passthrough sends leaf first.
    pem = certificate_from_header([escaped(chain)], H)
    assert pem.encode() == web_pki.good.pem.strip()


def test_form_encoding_is_read_too(web_pki: WebPKI) -> None:
    value = urllib.parse.quote_plus(web_pki.good.pem.decode())
    assert certificate_from_header([value], H).encode() == web_pki.good.pem.strip()
