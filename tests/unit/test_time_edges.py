"""Times at the edges of datetime's range never escape as exceptions (review findings)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crlcheck import Reason, decide, load_crl, verify_crl
from crlcheck.cli import main
from tests.pki import CA, NOW, T0

FAR = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def far_ca() -> CA:
    return CA("crlcheck Far Future CA")


def test_decide_with_grace_on_a_crl_that_runs_to_year_9999(far_ca: CA) -> None:
    revset = verify_crl(load_crl(far_ca.make_crl([], next_update=FAR)), [far_ca.cert], now=NOW)
    leaf = far_ca.issue_cert()
    decision = decide(leaf.cert, [revset], now=NOW, grace=dt.timedelta(days=1))
    assert decision.allowed
    assert decide(leaf.pem, [revset], now=FAR, grace=dt.timedelta(days=1)).allowed


def test_decide_with_a_naive_now_is_a_deny(far_ca: CA) -> None:
    revset = verify_crl(load_crl(far_ca.make_crl([])), [far_ca.cert], now=NOW)
    decision = decide(far_ca.issue_cert().cert, [revset], now=NOW.replace(tzinfo=None))
    assert not decision.allowed
    assert decision.reason is Reason.BAD_REQUEST


def test_years_below_1000_are_written_so_that_they_read_back() -> None:
    from crlcheck._time import format_utc
    from crlcheck.codec import _meta as document

    ancient = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    text = format_utc(ancient)
    assert text == "0001-01-01T00:00:00Z"
    assert document._time(text, "x") == ancient


@pytest.mark.parametrize(
    "extra",
    [
        ["--grace", "nan"],
        ["--grace", "1e300"],
        ["--grace", "-1"],
        ["--at", "9999-12-31T23:59:00Z", "--grace", "86400"],
    ],
)
def test_cli_check_rejects_or_survives_extreme_numbers(
    extra: list[str], far_ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ca.pem").write_bytes(far_ca.pem)
    (tmp_path / "ca.crl").write_bytes(far_ca.make_crl([], this_update=T0, next_update=FAR))
    (tmp_path / "leaf.pem").write_bytes(far_ca.issue_cert().pem)
    at = ["--at", NOW.isoformat()]
    assert (
        main(["preprocess", str(tmp_path / "ca.crl"), "--issuer", str(tmp_path / "ca.pem"), *at])
        == 0
    )
    argv = ["check", str(tmp_path / "leaf.pem"), "--cache", str(tmp_path / "ca.cache.json")]
    try:
        rc = main([*argv, *at, *extra])
    except SystemExit as exc:
        rc = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert rc in (0, 2)


def test_cli_preprocess_at_the_end_of_time_is_one_line(
    far_ca: CA, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ca.pem").write_bytes(far_ca.pem)
    (tmp_path / "ca.crl").write_bytes(far_ca.make_crl([], next_update=FAR))
    argv = ["preprocess", str(tmp_path / "ca.crl"), "--issuer", str(tmp_path / "ca.pem")]
    rc = main([*argv, "--at", "9999-12-31T23:59:58Z", "-o", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert rc in (0, 1, 2)
    assert err.count("\n") <= 1
    assert "Traceback" not in err
