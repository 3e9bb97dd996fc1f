"""The ``crlcheck`` command line: preprocess a CRL, check a certificate, inspect a file.

Exit codes
----------
``preprocess``: 0 document written; 1 CRL refused (the reason is on stderr); 2 usage error or
unreadable input file (including an unusable ``--issuer`` certificate).

``check``: 0 every certificate allowed; 1 any denied (revoked, no covering CRL, stale, not yet
valid, or a document found corrupt during the lookup); 2 usage error or unreadable input (a
certificate or cache document missing, malformed or of an unknown version: nothing is checked
then). Documents are loaded lazily, as the authorizer loads them: what a load can check cheaply
(format, digests, lengths, the sparse index) is checked before deciding, the order of the keys a
decision needs while deciding, and a document found out of order then denies (exit 1,
``document_invalid``) rather than allow.

``inspect``: 0 the CRL or document is within its validity window; 1 it is stale or not yet valid,
or a CRL field is out of range (``crl_field_out_of_range``: a year outside 1-9999, a cRLNumber
over 20 octets); 2 usage error, or the file is neither a CRL nor a revocation document.

``fetch``: 0 every CRL written or not modified; 1 a download failed or a CRL was refused; 2 usage
error or unusable ``--issuer``.

``serve``: runs until SIGINT or SIGTERM, then 0; 2 usage error (no documents, waitress missing,
the address cannot be bound).

Errors are one line on stderr, never a traceback. The command is ``main(argv)`` so it can be
tested in-process as well as through ``python -m crlcheck``.
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any, NoReturn

import orjson
from cryptography import x509

from crlcheck import __version__
from crlcheck._time import format_utc
from crlcheck.certificate import load_certificates
from crlcheck.chain import decide_chain
from crlcheck.codec import (
    DEFAULT_FORMAT,
    FORMATS,
    document_suffix,
    dump_document,
    load_document,
    sniff,
)
from crlcheck.crl import load_crl, verify_crl
from crlcheck.decision import Decision, decide
from crlcheck.errors import (
    CacheFormatError,
    CertificateParseError,
    CRLCheckError,
    CRLError,
    CRLFieldRangeError,
    Reason,
)
from crlcheck.publish import check_publication, read_published
from crlcheck.revset import DEFAULT_CLOCK_SKEW, RevocationSet, RevokedEntry, validity_at
from crlcheck.serial import format_serial

__all__ = ["main"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2

# CRLs whose entries take more bytes than this get progress lines on stderr (~100k entries).
PROGRESS_THRESHOLD = 4 << 20


class UsageError(Exception):
    """Bad arguments or unreadable input: exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block plus a line.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid ISO 8601 time {text!r} (e.g. 2026-01-15T12:00:00Z)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    # Finite, not negative, and within ~100 years so that time arithmetic cannot overflow.
    if not 0 <= value <= 3.2e9:
        raise argparse.ArgumentTypeError(f"invalid number of seconds {text!r}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crlcheck",
        description="Fast, fail-closed CRL revocation checks for mTLS client certificates.",
    )
    parser.add_argument("--version", action="version", version=f"crlcheck {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    pre = commands.add_parser(
        "preprocess",
        help="verify a CRL and write its revocation document",
        description="Verify a DER or PEM CRL against its signer and write its revocation "
        "document (JSON by default). Exit 0 written, 1 CRL refused, 2 usage error or unreadable "
        "file.",
    )
    pre.add_argument("crl", metavar="CRL", help="CRL file (DER or PEM), or - for stdin")
    pre.add_argument(
        "--issuer",
        required=True,
        metavar="CERT",
        help="certificate(s) that may have signed the CRL: a PEM bundle or one DER certificate",
    )
    pre.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="where to write the document; default: CRL path with its suffix replaced by "
        ".cache.json, or .cache.bin with --format binary ('-' = stdout)",
    )
    pre.add_argument(
        "--format",
        choices=FORMATS,
        default=DEFAULT_FORMAT,
        help="document format: json (version 1, the default) or binary (version 2: smaller, "
        "and loads without decoding; for large CRLs); see docs/FORMAT.md",
    )
    pre.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate at TIME (ISO 8601)")
    pre.add_argument(
        "--clock-skew",
        type=_parse_seconds,
        default=DEFAULT_CLOCK_SKEW.total_seconds(),
        metavar="SECONDS",
        help="how far in the future thisUpdate may be (default: %(default)s)",
    )
    pre.add_argument(
        "--force",
        action="store_true",
        help="replace an existing OUT even if it is another CA key's or scope's document, a "
        "newer CRL's, or unreadable (default: refuse, as the preprocessor Lambda does)",
    )
    pre.add_argument(
        "--allow-sha1",
        action="store_true",
        help="accept a CRL signed with a SHA-1-based algorithm (legacy CAs only; refused by "
        "default)",
    )
    pre.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")

    chk = commands.add_parser(
        "check",
        help="check client certificates against revocation documents",
        description="Check each certificate of each CERT (a file may hold a PEM bundle: every "
        "certificate in it is checked) and print one line per certificate. Exit 0 all allowed, "
        "1 any denied, 2 usage error or unreadable input (nothing is checked then).",
    )
    chk.add_argument(
        "cert",
        metavar="CERT",
        nargs="+",
        help="client certificate(s): PEM (one or a bundle) or DER, or - for stdin",
    )
    chk.add_argument(
        "--cache",
        action="append",
        required=True,
        metavar="FILE",
        help="revocation document written by 'preprocess' (repeat for several CAs)",
    )
    chk.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate at TIME (ISO 8601)")
    chk.add_argument(
        "--grace",
        type=_parse_seconds,
        default=0.0,
        metavar="SECONDS",
        help="accept a CRL this long past its nextUpdate (default: 0)",
    )
    chk.add_argument(
        "--chain",
        action="append",
        default=[],
        metavar="CERTS",
        help="certificates above CERT (a PEM bundle or one PEM/DER certificate; repeatable): "
        "every intermediate on the path must be covered by a fresh CRL of its issuer and not "
        "revoked",
    )
    chk.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per certificate (JSON Lines), with the input it came from",
    )

    _add_serve_parser(commands)
    _add_fetch_parser(commands)

    ins = commands.add_parser(
        "inspect",
        help="summarise a CRL or a revocation document",
        description="Exit 0 within its validity window, 1 stale, not yet valid or refused "
        "(a field out of range), 2 unreadable.",
    )
    ins.add_argument(
        "file", metavar="FILE", help="a CRL (DER/PEM) or a revocation document (JSON or binary)"
    )
    ins.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate at TIME (ISO 8601)")
    ins.add_argument(
        "--entries",
        action="store_true",
        help="also list the revoked entries (serial, revocationDate, reason), in serial order",
    )
    ins.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object (with --entries, its 'revoked' list holds the entries)",
    )
    return parser


def _parse_count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1 << 30:
        raise argparse.ArgumentTypeError(f"invalid count {text!r} (a whole number >= 1)")
    return value


def _parse_listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"invalid address {text!r} (HOST:PORT)")
    return host.strip("[]"), int(port)


def _add_serve_parser(commands: Any) -> None:
    srv = commands.add_parser(
        "serve",
        help="HTTP decision endpoint for nginx auth_request and Envoy ext_authz",
        description="Answer 200 (allow) or 403 (deny) for the client certificate a proxy puts "
        "in --header; GET /healthz is 200 when every document is loaded and fresh. Needs "
        "waitress: pip install 'crlcheck[serve]'. Exit 2 on a usage error.",
    )
    where = srv.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--documents", metavar="DIR", help="directory of documents, reloaded when they change"
    )
    where.add_argument("--s3-bucket", metavar="BUCKET", help="read the documents from S3")
    srv.add_argument(
        "--key",
        action="append",
        metavar="KEY",
        help="document file name (or S3 key); repeat for several CAs; default with "
        "--documents: every *.cache.json in DIR at startup",
    )
    srv.add_argument(
        "--header",
        required=True,
        metavar="NAME",
        help="the header the proxy sets to the client certificate (URL-encoded PEM), e.g. "
        "X-Client-Cert; it must overwrite any the client sends",
    )
    srv.add_argument(
        "--listen",
        type=_parse_listen,
        default=("127.0.0.1", 8080),
        metavar="HOST:PORT",
        help="address to listen on (default: 127.0.0.1:8080)",
    )
    srv.add_argument(
        "--grace",
        type=_parse_seconds,
        default=0.0,
        metavar="SECONDS",
        help="accept a CRL this long past its nextUpdate (default: 0)",
    )
    srv.add_argument(
        "--revalidate",
        type=_parse_seconds,
        default=0.0,
        metavar="SECONDS",
        help="minimum seconds between two revalidations of a document (default: 0, every request)",
    )
    srv.add_argument("--threads", type=_parse_count, default=4, metavar="N")
    srv.add_argument("--connection-limit", type=_parse_count, default=256, metavar="N")
    srv.add_argument(
        "--timeout", type=_parse_count, default=30, metavar="SECONDS", help="idle connection"
    )
    srv.add_argument("--max-header-bytes", type=_parse_count, default=64 << 10, metavar="N")
    srv.add_argument("-q", "--quiet", action="store_true", help="no log line per decision")


def _add_fetch_parser(commands: Any) -> None:
    fet = commands.add_parser(
        "fetch",
        help="download CRLs from HTTP distribution points and preprocess them",
        description="Download each CRL (conditionally: ETag, If-Modified-Since; state in "
        "DIR/.crlcheck-fetch.json), write it to DIR and preprocess it into DIR/NAME.cache.json. "
        "Exit 0 all written or not modified, 1 a download failed or a CRL was refused, 2 usage.",
    )
    fet.add_argument("urls", nargs="+", metavar="URL", help="http(s) URL of a CRL")
    fet.add_argument("--issuer", required=True, metavar="CERT", help="as for preprocess")
    fet.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    fet.add_argument("--max-bytes", type=_parse_count, default=128 << 20, metavar="N")
    fet.add_argument("--timeout", type=_parse_seconds, default=60.0, metavar="SECONDS")
    fet.add_argument("--max-redirects", type=int, choices=range(11), default=5, metavar="N")
    fet.add_argument("--at", type=_parse_time, metavar="TIME", help="evaluate at TIME (ISO 8601)")
    fet.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")


def _read(path: str, what: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and rename: never a partial file.

    The file gets the mode a plain ``open(path, "wb")`` would leave: an existing file keeps its
    mode, a new one gets 0666 less the umask (0644 under the usual 022). mkstemp's own 0600
    would hide the document from the other accounts that read it.
    """
    directory = path.parent
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        # The umask can only be read by setting it (the command is single-threaded).
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.chmod(tmp, mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _time_text(value: datetime | None) -> str:
    return format_utc(value) if value is not None else "none"


class _Progress:
    def __init__(self, enabled: bool, stream: IO[str], start: float | None = None) -> None:
        self.enabled = enabled
        self.stream = stream
        self.start = time.monotonic() if start is None else start

    def say(self, message: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.start
            print(f"crlcheck: [{elapsed:6.2f}s] {message}", file=self.stream, flush=True)


def _cmd_preprocess(args: argparse.Namespace) -> int:
    started = time.monotonic()  # The progress times include reading and parsing the CRL.
    now = args.at or datetime.now(UTC)
    data = _read(args.crl, "CRL")
    issuer_data = _read(args.issuer, "issuer certificate")
    try:
        signers = load_certificates(issuer_data)
    except CertificateParseError as exc:
        raise UsageError(f"--issuer {args.issuer!r}: {exc.message}") from exc
    if args.output == "-" or (args.output is None and args.crl == "-"):
        out: Path | None = None
    elif args.output is not None:
        out = Path(args.output)
    else:
        out = Path(args.crl).with_suffix(document_suffix(args.format))

    crl = load_crl(data)
    progress = _Progress(
        not args.quiet and crl.entry_bytes >= PROGRESS_THRESHOLD, sys.stderr, started
    )
    progress.say(f"loaded CRL: {len(data) / 1e6:.1f} MB, {len(crl.crl):,} entries")
    progress.say("verifying signature and extracting entries")
    revset = verify_crl(
        crl,
        signers,
        now=now,
        clock_skew=timedelta(seconds=args.clock_skew),
        allow_sha1=args.allow_sha1,
        allow_delta=True,
    )
    # An existing document is replaced only under the preprocessor's publication rule: same
    # identity, newer CRL (crlcheck.publish); the same CRL again writes nothing.
    if out is not None and out.exists() and not args.force:
        existing = _read(str(out), "document")
        action = check_publication(read_published(existing), revset.info)
        # The same CRL in another format is rewritten: the format was asked for.
        if action == "unchanged" and sniff(existing) == args.format:
            print(f"crlcheck: {out} already holds this CRL (unchanged)", file=sys.stderr)
            return EXIT_OK
    document = dump_document(revset, generated_at=now, format=args.format)
    progress.say(f"writing {len(document) / 1e6:.1f} MB document")
    if out is None:
        sys.stdout.buffer.write(document)
        if document[:1] == b"{" and not document.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")  # Text (JSON) ends its line; binary stays as is.
        sys.stdout.buffer.flush()
    else:
        try:
            _write_atomically(out, document)
        except OSError as exc:
            raise UsageError(f"cannot write {str(out)!r}: {exc.strerror or exc}") from exc
        print(
            f"crlcheck: wrote {out} ({_count(len(revset), 'revoked serial')}, issuer "
            f"{revset.info.issuer}, CRL number {revset.info.crl_number}, "
            f"nextUpdate {_time_text(revset.info.next_update)})",
            file=sys.stderr,
        )
    progress.say("done")
    return EXIT_OK


def _load_cache(path: str) -> RevocationSet:
    data = _read(path, "cache document")
    try:
        # Lazily: one decision needs one block of keys checked, or on a miss the whole order
        # (crlcheck.revset); never a full eager pass over the details it will not read.
        return load_document(data, check_order="lazy")
    except CacheFormatError as exc:
        raise UsageError(f"cache document {path!r}: {exc.message}") from exc


def _load_chain(path: str) -> list[x509.Certificate]:
    try:
        return load_certificates(_read(path, "chain certificates"))
    except CertificateParseError as exc:
        raise UsageError(f"--chain {path!r}: {exc.message}") from exc


def _cmd_check(args: argparse.Namespace) -> int:
    now = args.at or datetime.now(UTC)
    cert_data = [(path, _read(path, "certificate")) for path in args.cert]
    sets = [_load_cache(path) for path in args.cache]
    # Every input is read before anything is decided: an unreadable one is exit 2, no output.
    subjects: list[tuple[str, x509.Certificate]] = []
    for path, data in cert_data:
        try:
            certs = load_certificates(data)
        except CertificateParseError as exc:
            raise UsageError(f"certificate {path!r}: {exc.message}") from exc
        if len(certs) == 1:
            subjects.append((path, certs[0]))
        else:  # A bundle: each certificate is a client certificate, named by its position.
            subjects.extend((f"{path}#{i}", cert) for i, cert in enumerate(certs, 1))
    chain = [c for path in args.chain for c in _load_chain(path)]
    grace = timedelta(seconds=args.grace)
    several = len(subjects) > 1
    status = EXIT_OK
    for name, cert in subjects:
        if chain:
            decision = decide_chain(cert, chain, sets, now=now, grace=grace)
        else:
            decision = decide(cert, sets, now=now, grace=grace)
        if not decision.allowed:
            status = EXIT_REFUSED
        if args.json:
            view = {"input": name, **decision.to_dict()}
            sys.stdout.buffer.write(orjson.dumps(view) + b"\n")
        else:
            print(f"{name}: {_decision_line(decision)}" if several else _decision_line(decision))
    return status


def _decision_line(decision: Decision) -> str:
    """``ALLOW|DENY reason: serial ... issuer ...`` and what explains the verdict, key=value."""
    view = decision.to_dict()
    verdict = "ALLOW" if decision.allowed else "DENY"
    extra = ""
    if view["revocation_date"]:
        extra += f" revoked={view['revocation_date']}"
    if view["revocation_reason"]:
        extra += f" reason={view['revocation_reason']}"
    if decision.reason in (Reason.CRL_STALE, Reason.CRL_NOT_YET_VALID):
        # Say when: the deciding CRL's window and number.
        for key, label in (
            ("crl_number", "crlNumber"),
            ("this_update", "thisUpdate"),
            ("next_update", "nextUpdate"),
        ):
            if view[key] is not None:
                extra += f" {label}={view[key]}"
    if view["certificate"]:
        extra += f" certificate={view['certificate']}"
    subject = f"serial {view['serial']} issuer {view['issuer']}"
    return f"{verdict} {decision.reason.value}: {subject}{extra}"


def _freshness(this_update: datetime, next_update: datetime | None, now: datetime) -> str:
    if next_update is None:
        return "stale (no nextUpdate)"
    return validity_at(this_update, next_update, now).value.replace("_", " ")


def _cmd_inspect(args: argparse.Namespace) -> int:
    now = args.at or datetime.now(UTC)
    data = _read(args.file, "file")
    summary: dict[str, Any]
    entries: Iterator[RevokedEntry]
    document_format = sniff(data)
    if document_format is not None:
        try:
            revset = load_document(data)
        except CacheFormatError as exc:
            raise UsageError(f"{args.file!r}: {exc.message}") from exc
        info = revset.info
        summary = {
            "kind": "revocation-document",
            "format": document_format,
            "issuer": info.issuer,
            "crl_number": str(info.crl_number) if info.crl_number is not None else None,
            "this_update": _time_text(info.this_update),
            "next_update": _time_text(info.next_update),
            "entries": len(revset),
            "signer": info.signer_subject,
            "signer_sha256": info.signer_sha256,
            "source_sha256": info.source_sha256,
            "signature_algorithm": info.signature_algorithm,
            "signature": "verified when the document was written",
            "freshness": _freshness(info.this_update, info.next_update, now),
        }
        entries = revset.entries() if args.entries else iter(())
    else:
        try:
            crl = load_crl(data)
        except CRLFieldRangeError:
            raise  # A CRL, but one whose values are refused: exit 1, like a stale one.
        except CRLError as exc:
            raise UsageError(f"{args.file!r}: {exc.message}") from exc
        number = crl.crl_number
        summary = {
            "kind": "crl",
            "issuer": crl.issuer.rfc4514_string(),
            "crl_number": str(number) if number is not None else None,
            "this_update": _time_text(crl.this_update),
            "next_update": _time_text(crl.next_update),
            "entries": len(crl.crl),
            "source_sha256": crl.source_sha256,
            "signature_algorithm": crl.signature_algorithm,
            "signature": "not verified (use 'crlcheck preprocess --issuer')",
            "freshness": _freshness(crl.this_update, crl.next_update, now),
        }
        # Walked before anything is printed: an entry crlcheck refuses is exit 1, no output.
        entries = crl.entries() if args.entries else iter(())
    out = sys.stdout.buffer
    if args.json:
        head = orjson.dumps(summary)
        if args.entries:
            # One object, streamed: the summary's fields, then "revoked": [...] written in
            # batches, so a million entries never become a million dicts at once.
            out.write(head[:-1] + b',"revoked":[')
            first = True
            for batch in _batches(entries):
                chunk = b",".join(orjson.dumps(_entry_view(e)) for e in batch)
                out.write(chunk if first else b"," + chunk)
                first = False
            out.write(b"]}\n")
        else:
            out.write(head + b"\n")
    else:
        key_width = max(map(len, summary))
        for key, value in summary.items():
            print(f"{key.replace('_', ' '):<{key_width}}  {value}")
        if args.entries:
            print("revoked entries (serial, revocationDate, reason):")
            sys.stdout.flush()
            for batch in _batches(entries):
                out.write(
                    "".join(
                        f"  {format_serial(e.serial)}  {_time_text(e.revocation_date)}  "
                        f"{e.reason or '-'}\n"
                        for e in batch
                    ).encode()
                )
    return EXIT_OK if summary["freshness"] == "fresh" else EXIT_REFUSED


def _cmd_serve(args: argparse.Namespace) -> int:
    # Imported here: the other commands need none of it.
    import logging

    from crlcheck.frontends import (
        DecisionEndpoint,
        ServerLimits,
        directory_authorizer,
        s3_authorizer,
        serve,
    )
    from crlcheck.frontends.endpoint import ServerMissingError

    options: dict[str, Any] = {
        "grace": timedelta(seconds=args.grace),
        "revalidate_seconds": args.revalidate,
    }
    try:
        if args.documents is not None:
            if not Path(args.documents).is_dir():
                raise UsageError(f"--documents {args.documents!r} is not a directory")
            authorizer = directory_authorizer(args.documents, args.key, **options)
        else:
            if not args.key:
                raise UsageError("--s3-bucket needs at least one --key")
            authorizer = s3_authorizer(args.s3_bucket, args.key, **options)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    limits = ServerLimits(
        threads=args.threads,
        connection_limit=args.connection_limit,
        channel_timeout=args.timeout,
        max_header_bytes=args.max_header_bytes,
    )
    host, port = args.listen
    try:
        serve(
            DecisionEndpoint(authorizer, header=args.header),
            host=host,
            port=port,
            limits=limits,
            ready=lambda url: print(f"crlcheck: serving on {url}", file=sys.stderr, flush=True),
        )
    except ServerMissingError as exc:
        raise UsageError(str(exc)) from exc
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return EXIT_OK


FETCH_STATE = ".crlcheck-fetch.json"


def _crl_name(url: str) -> str:
    """The file name a downloaded CRL is written under (:func:`crlcheck.fetch.crl_file_name`)."""
    from crlcheck.fetch import crl_file_name

    try:
        return crl_file_name(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def _cmd_fetch(args: argparse.Namespace) -> int:
    from crlcheck.fetch import FetchError, FetchLimits, Validators, download

    out = Path(args.output)
    if not out.is_dir():
        raise UsageError(f"--output {args.output!r} is not a directory")
    names = [_crl_name(url) for url in args.urls]
    if len(set(names)) != len(names):
        raise UsageError("two URLs end in the same file name: fetch them into separate DIRs")
    state_path = out / FETCH_STATE
    state: dict[str, Any] = {}
    if state_path.exists():
        try:
            state = orjson.loads(state_path.read_bytes())
        except orjson.JSONDecodeError:
            state = {}  # A damaged state only costs unconditional downloads.
    limits = FetchLimits(args.max_bytes, args.timeout, args.max_redirects)
    status = EXIT_OK
    for url, name in zip(args.urls, names, strict=True):
        saved = state.get(url) or {}
        validators = Validators(saved.get("etag"), saved.get("last_modified"))
        crl_path = out / name
        if not crl_path.exists():
            validators = Validators()  # Nothing on disk to be "not modified" against.
        try:
            fetched = download(url, validators, limits)
        except FetchError as exc:
            print(f"crlcheck: {url}: refused ({exc.reason}): {exc.message}", file=sys.stderr)
            status = EXIT_REFUSED
            continue
        if fetched.body is None:
            print(f"crlcheck: {url}: not modified", file=sys.stderr)
            continue
        _write_atomically(crl_path, fetched.body)
        # The preprocess command's own parser, so every option gets its default.
        argv = ["preprocess", str(crl_path), "--issuer", args.issuer]
        argv += ["-o", str(crl_path.with_suffix(".cache.json"))]
        argv += ["-q"] if args.quiet else []
        preprocess = _build_parser().parse_args(argv)
        preprocess.at = args.at
        try:
            _cmd_preprocess(preprocess)
        except CRLCheckError as exc:
            print(f"crlcheck: {url}: refused ({exc.reason}): {exc.message}", file=sys.stderr)
            status = EXIT_REFUSED
            continue
        # Validators are kept only for a CRL that became a document: a refused one is
        # downloaded again next time.
        state[url] = {
            "etag": fetched.validators.etag,
            "last_modified": fetched.validators.last_modified,
        }
        _write_atomically(state_path, orjson.dumps(state, option=orjson.OPT_INDENT_2))
    return status


def _batches(entries: Iterator[RevokedEntry], size: int = 4096) -> Iterator[list[RevokedEntry]]:
    while batch := list(islice(entries, size)):
        yield batch


def _entry_view(entry: RevokedEntry) -> dict[str, str | None]:
    return {
        "serial": format_serial(entry.serial),
        "revocation_date": (
            format_utc(entry.revocation_date) if entry.revocation_date is not None else None
        ),
        "reason": entry.reason,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _build_parser().parse_args(argv)
    commands = {
        "preprocess": _cmd_preprocess,
        "check": _cmd_check,
        "inspect": _cmd_inspect,
        "serve": _cmd_serve,
        "fetch": _cmd_fetch,
    }
    try:
        return commands[args.command](args)
    except UsageError as exc:
        print(f"crlcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CRLCheckError as exc:
        print(f"crlcheck: refused ({exc.reason}): {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    except (OverflowError, ValueError) as exc:
        # Times at the edge of datetime's range (e.g. --at 9999-12-31 plus a skew).
        print(f"crlcheck: error: time out of range: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. '| head'); nothing useful is left to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_REFUSED
