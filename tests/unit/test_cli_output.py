"""What the command line prints: several certificates, revoked entries, times, counts."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from crlcheck import cli, load_certificate
from crlcheck.cli import main
from crlcheck.serial import format_serial
from tests.pki import CA, NOW, crl_with_entries, entry_extensions, raw_entry, reason_code

AT = ["--at", NOW.isoformat()]
STALE = ["--at", "2026-03-01T00:00:00Z"]  # After the CRLs' nextUpdate (2026-02-01).
EARLY = ["--at", "2025-06-01T00:00:00Z"]  # Before their thisUpdate (2026-01-01).


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA whose CRL revokes one issued certificate, a negative serial and a 20-octet one."""
    root = tmp_path_factory.mktemp("output")
    ca = CA("crlcheck Output CA")
    good, revoked, other = ca.issue_cert("good"), ca.issue_cert("revoked"), ca.issue_cert("b")
    entries = [
        raw_entry(revoked.serial, extensions=entry_extensions(reason_code(1))),
        raw_entry(-1),
        raw_entry((1 << 159) - 1, extensions=entry_extensions(reason_code(4))),
    ]
    paths = {name: root / f"{name}.pem" for name in ("ca", "good", "revoked", "other", "bundle")}
    paths["ca"].write_bytes(ca.pem)
    paths["good"].write_bytes(good.pem)
    paths["revoked"].write_bytes(revoked.pem)
    paths["other"].write_bytes(other.pem)
    paths["bundle"].write_bytes(good.pem + revoked.pem)  # The revoked one second.
    paths["crl"] = root / "ca.crl"
    paths["crl"].write_bytes(crl_with_entries(ca, entries, number=42))
    paths["doc"] = root / "ca.cache.json"
    assert main(["preprocess", str(paths["crl"]), "--issuer", str(paths["ca"]), *AT]) == 0
    return paths


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


# --- check: several certificates, bundles, exit by the worst ---------------------------------


def test_a_bundle_checks_every_certificate_and_a_revoked_second_one_denies(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["check", str(pki["bundle"]), "--cache", str(pki["doc"]), *AT], capsys)
    assert rc == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{pki['bundle']}#1: ALLOW not_revoked: serial ")
    assert lines[1].startswith(f"{pki['bundle']}#2: DENY revoked: serial ")
    assert "reason=keyCompromise" in lines[1]


def test_several_files_print_one_line_each_and_exit_by_the_worst(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ["--cache", str(pki["doc"]), *AT]
    rc, out, _ = run(["check", str(pki["good"]), str(pki["other"]), *cache], capsys)
    assert rc == 0
    assert [line.split(": ")[0] for line in out.splitlines()] == [
        str(pki["good"]),
        str(pki["other"]),
    ]
    rc, out, _ = run(["check", str(pki["good"]), str(pki["revoked"]), *cache], capsys)
    assert rc == 1
    assert [line.split(": ")[1] for line in out.splitlines()] == [
        "ALLOW not_revoked",
        "DENY revoked",
    ]


def test_one_unreadable_certificate_among_several_is_exit_2_and_nothing_is_checked(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", str(pki["good"]), str(pki["crl"]), "--cache", str(pki["doc"]), *AT]
    rc, out, err = run(argv, capsys)
    assert (rc, out) == (2, "")
    assert err.count("\n") == 1
    assert "not a certificate: the input is a CRL (DER)" in err


def test_json_is_one_object_per_certificate(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cache = ["--cache", str(pki["doc"]), "--json", *AT]
    rc, out, _ = run(["check", str(pki["revoked"]), *cache], capsys)
    assert rc == 1
    assert out.count("\n") == 1  # A single certificate: exactly one object, as before.
    view = orjson.loads(out)
    assert (view["input"], view["reason"], view["crl_number"]) == (
        str(pki["revoked"]),
        "revoked",
        "42",
    )
    rc, out, _ = run(["check", str(pki["bundle"]), str(pki["good"]), *cache], capsys)
    views = [orjson.loads(line) for line in out.splitlines()]
    assert rc == 1
    assert [(v["input"], v["allowed"]) for v in views] == [
        (f"{pki['bundle']}#1", True),
        (f"{pki['bundle']}#2", False),
        (str(pki["good"]), True),
    ]


# --- check: stale and not yet valid say when --------------------------------------------------


def test_a_stale_deny_says_when_in_text_and_json(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["check", str(pki["good"]), "--cache", str(pki["doc"]), *STALE], capsys)
    assert rc == 1
    assert out.startswith("DENY crl_stale: serial ")
    assert out.rstrip().endswith(
        " crlNumber=42 thisUpdate=2026-01-01T00:00:00Z nextUpdate=2026-02-01T00:00:00Z"
    )
    argv = ["check", str(pki["good"]), "--cache", str(pki["doc"]), "--json", *STALE]
    rc, out, _ = run(argv, capsys)
    view = orjson.loads(out)
    assert (view["reason"], view["crl_number"], view["next_update"]) == (
        "crl_stale",
        "42",
        "2026-02-01T00:00:00Z",
    )


def test_a_not_yet_valid_deny_says_when(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["check", str(pki["good"]), "--cache", str(pki["doc"]), *EARLY], capsys)
    assert rc == 1
    assert out.startswith("DENY crl_not_yet_valid: ")
    assert " thisUpdate=2026-01-01T00:00:00Z " in out


# --- inspect --entries ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["crl", "doc"])
def test_inspect_entries_lists_serials_dates_and_reasons_in_serial_order(
    kind: str, pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["inspect", str(pki[kind]), "--entries", *AT], capsys)
    assert rc == 0
    rows = out.split("revoked entries (serial, revocationDate, reason):\n")[1].splitlines()
    revoked = load_certificate(pki["revoked"].read_bytes()).serial_number
    assert [row.split() for row in rows] == [
        ["-01", "2025-12-01T00:00:00Z", "-"],
        [format_serial(revoked), "2025-12-01T00:00:00Z", "keyCompromise"],
        ["7F" + "FF" * 19, "2025-12-01T00:00:00Z", "superseded"],
    ]


@pytest.mark.parametrize("kind", ["crl", "doc"])
def test_inspect_entries_json_is_one_object_with_the_revoked_list(
    kind: str, pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(["inspect", str(pki[kind]), "--entries", "--json", *AT], capsys)
    assert rc == 0
    assert out.count("\n") == 1
    view = orjson.loads(out)
    assert view["entries"] == len(view["revoked"]) == 3
    assert view["revoked"][0] == {
        "serial": "-01",
        "revocation_date": "2025-12-01T00:00:00Z",
        "reason": None,
    }
    assert [e["reason"] for e in view["revoked"]] == [None, "keyCompromise", "superseded"]


def test_inspect_entries_of_an_empty_crl_and_many_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = CA("crlcheck Many CA")
    (tmp_path / "empty.crl").write_bytes(ca.make_crl([]))
    (tmp_path / "many.crl").write_bytes(crl_with_entries(ca, [raw_entry(i) for i in range(9000)]))
    rc, out, _ = run(["inspect", str(tmp_path / "empty.crl"), "--entries", "--json", *AT], capsys)
    assert (rc, orjson.loads(out)["revoked"]) == (0, [])
    rc, out, _ = run(["inspect", str(tmp_path / "many.crl"), "--entries", "--json", *AT], capsys)
    assert rc == 0
    serials = [e["serial"] for e in orjson.loads(out)["revoked"]]  # Several batches, one list.
    assert serials == [f"{i:02X}" if i < 256 else f"{i:04X}" for i in range(9000)]


# --- one time format, counts, stdout, progress ------------------------------------------------


def test_every_time_the_cli_prints_is_in_the_one_format(
    pki: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ["inspect", str(pki["crl"]), *AT],
        ["inspect", str(pki["doc"]), "--json", *AT],
        ["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", "-", *STALE],
        ["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", "-", *EARLY],
    ):
        _, out, err = run(argv, capsys)
        assert "+00:00" not in out + err
    _, _, err = run(
        ["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", "-", *STALE], capsys
    )
    assert "nextUpdate 2026-02-01T00:00:00Z has passed" in err


@pytest.mark.parametrize(("count", "text"), [(0, "0 revoked serials,"), (1, "1 revoked serial,")])
def test_the_written_line_counts_in_the_right_number(
    count: int, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = CA("crlcheck Count CA")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    (tmp_path / "ca.crl").write_bytes(ca.make_crl(range(7, 7 + count)))
    rc, _, err = run(
        ["preprocess", str(tmp_path / "ca.crl"), "--issuer", str(tmp_path / "ca.pem"), *AT], capsys
    )
    assert rc == 0
    assert f"({text} issuer " in err


def test_a_json_document_on_stdout_ends_its_line(
    pki: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = run(
        ["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", "-", *AT], capsys
    )
    assert rc == 0
    assert out.endswith("}\n")
    assert out.count("\n") == 1
    assert orjson.loads(out)["crl"]["number"] == "42"


def test_the_progress_timer_counts_reading_and_parsing(
    pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    load_crl = cli.load_crl

    def slow_load_crl(data: bytes) -> object:
        time.sleep(0.3)
        return load_crl(data)

    monkeypatch.setattr(cli, "PROGRESS_THRESHOLD", 0)
    monkeypatch.setattr(cli, "load_crl", slow_load_crl)
    rc, _, err = run(
        ["preprocess", str(pki["crl"]), "--issuer", str(pki["ca"]), "-o", "-", *AT], capsys
    )
    assert rc == 0
    first = err.splitlines()[0]
    assert "loaded CRL" in first
    assert float(first.split("[")[1].split("s]")[0]) >= 0.3


def test_help_documents_bundles_json_lines_and_entries(capsys: pytest.CaptureFixture[str]) -> None:
    for command, words in (
        ("check", ("bundle", "JSON Lines", "1 any denied")),
        ("inspect", ("--entries", "revocationDate")),
    ):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert all(word in text for word in words), text
