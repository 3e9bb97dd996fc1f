"""CRLCHECK_PRELOAD: the authorizer loads its documents during init (for Lambda SnapStart).

The handler is built with a fake document source and a fake restore-hook registry, as
lambdas/authorizer.py builds it with S3 and the runtime's ``snapshot_restore_py``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest

from crlcheck.aws.authorizer import authorizer_from_environ
from crlcheck.aws.settings import AuthorizerSettings
from crlcheck.errors import StorageError
from crlcheck.revset import RevocationSet
from tests.adapters.test_store import FakeSource
from tests.pki import CA
from tests.serverless import fresh_crl, load_event, make_document

KEY = "crls/ca.cache.json"


def environ(**more: str) -> dict[str, str]:
    return {
        "CRLCHECK_BUCKET": "bucket",
        "CRLCHECK_DOCUMENT_KEYS": KEY,
        "CRLCHECK_REVALIDATE_SECONDS": "3600",
        **more,
    }


class Hooks:
    """Stands in for snapshot_restore_py: records the after-restore callables."""

    def __init__(self, available: bool = True) -> None:
        self.available = available
        self.after_restore: list[Callable[[], None]] = []

    def register(self, callback: Callable[[], None]) -> bool:
        if self.available:
            self.after_restore.append(callback)
        return self.available

    def restore(self) -> None:
        for callback in self.after_restore:
            callback()


@pytest.fixture
def source(ca: CA) -> FakeSource:
    source = FakeSource()
    source.put(KEY, make_document(ca, fresh_crl(ca, [0x666])))
    return source


def effect(response: dict[str, Any]) -> str:
    effect: str = response["policyDocument"]["Statement"][0]["Effect"]
    return effect


def request(ca: CA, serial: int) -> dict[str, Any]:
    return load_event("rest-request-mtls.json", ca.issue_cert("client", serial=serial).pem)


# --- negative cases first ------------------------------------------------------------------


def test_a_failed_preload_is_logged_and_the_first_request_builds_again(
    ca: CA, source: FakeSource, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = 0

    def flaky(settings: AuthorizerSettings) -> FakeSource:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("no network during init", retryable=True)
        return source

    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"), make_source=flaky, register_after_restore=Hooks().register
    )
    assert "authorizer preload failed" in capsys.readouterr().out
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert calls == 2


def test_bad_settings_at_init_are_reported_by_the_first_request(
    ca: CA, source: FakeSource, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="maybe"), make_source=lambda s: source
    )
    assert source.calls == []  # Nothing loaded: the settings did not read.
    assert effect(handler(request(ca, 0x1234), None)) == "Deny"
    assert "CRLCHECK_PRELOAD" in capsys.readouterr().out


def test_without_preload_nothing_is_loaded_before_the_first_request(
    ca: CA, source: FakeSource
) -> None:
    handler = authorizer_from_environ(environ(), make_source=lambda s: source)
    assert source.calls == []
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert source.downloads == 1


# --- preload -------------------------------------------------------------------------------


def test_preload_loads_the_documents_during_init(
    ca: CA, source: FakeSource, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = Hooks()
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"),
        make_source=lambda s: source,
        register_after_restore=hooks.register,
    )
    assert source.downloads == 1
    assert '"message":"preload"' in capsys.readouterr().out
    # Within the revalidation interval, and no restore: no store call on the request.
    assert effect(handler(request(ca, 0x666), None)) == "Deny"
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert len(source.calls) == 1


def test_after_a_restore_the_first_request_revalidates_by_etag(ca: CA, source: FakeSource) -> None:
    hooks = Hooks()
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"),
        make_source=lambda s: source,
        register_after_restore=hooks.register,
    )
    assert len(hooks.after_restore) == 1
    # The snapshot is restored hours later: a CRL revoking 0x1234 was published meanwhile.
    etag = source.objects[KEY][1]
    source.put(KEY, make_document(ca, fresh_crl(ca, [0x666, 0x1234], number=2)))
    hooks.restore()
    assert effect(handler(request(ca, 0x1234), None)) == "Deny"
    assert source.calls[-1] == (KEY, etag)  # A conditional GET on the preloaded ETag.
    assert effect(handler(request(ca, 0x1234), None)) == "Deny"
    assert len(source.calls) == 2  # Then the interval applies again.


def test_an_unchanged_document_costs_a_304_after_a_restore(
    ca: CA, source: FakeSource, capsys: pytest.CaptureFixture[str]
) -> None:
    hooks = Hooks()
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"),
        make_source=lambda s: source,
        register_after_restore=hooks.register,
    )
    capsys.readouterr()
    hooks.restore()
    assert '"message":"restored"' in capsys.readouterr().out
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert source.downloads == 1
    assert len(source.calls) == 2


def test_without_restore_hooks_the_first_request_revalidates(ca: CA, source: FakeSource) -> None:
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"),
        make_source=lambda s: source,
        register_after_restore=Hooks(available=False).register,
    )
    etag = source.objects[KEY][1]
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert source.calls == [(KEY, None), (KEY, etag)]
    assert source.downloads == 1


def test_the_default_hook_registry_is_absent_outside_lambda(ca: CA, source: FakeSource) -> None:
    # snapshot_restore_py exists only in the Lambda runtime: the default registry then
    # reports no hooks, and the first request revalidates.
    if importlib.util.find_spec("snapshot_restore_py") is not None:
        pytest.skip("snapshot_restore_py is installed here")
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"), make_source=lambda s: source
    )
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert len(source.calls) == 2


def test_preload_checks_the_order_a_first_miss_would_check(
    ca: CA, source: FakeSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[RevocationSet] = []
    original = RevocationSet.check_order

    def spy(self: RevocationSet) -> None:
        checked.append(self)
        original(self)

    monkeypatch.setattr(RevocationSet, "check_order", spy)
    handler = authorizer_from_environ(
        environ(CRLCHECK_PRELOAD="true"),
        make_source=lambda s: source,
        register_after_restore=Hooks().register,
    )
    assert len(checked) == 1  # During init, before any request.
    assert effect(handler(request(ca, 0x1234), None)) == "Allow"
    assert len(checked) == 1  # The first miss found it done.
