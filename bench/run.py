"""crlcheck benchmark: every figure next to its baseline, measured in the same run.

Run from the repository root (with crlcheck installed in the interpreter, e.g. the project venv)::

    python bench/run.py [--sizes 1k,100k,1m] [--keys rsa,ec] [--repeat 5] [--calls 5000]

CRLs come from :mod:`gen_crl` (cached in bench/data/, ~40 s to make both 1M files the first
time). The run prints Markdown tables and writes bench/results/latest.json (machine, versions,
every sample summarised as min/median, and the targets of issue 4 with met/missed). The machine
this was written for has 2 shared cores, so every timing is repeated and reported as min and
median, and ratios are taken against baselines measured in the same run.

What is measured (see bench/README.md for the why):

1. preprocess end to end: ``crlcheck.cli.main(["preprocess", ...])`` in-process (read, load,
   verify, extract, sort, encode, write + fsync + rename), the same command as a fresh process
   (interpreter start and imports included), and ``openssl crl -inform DER -in X -CAfile CA
   -noout`` (which verifies the signature and nothing else); plus a stage breakdown and the two
   signature verification routes.
2. cold load: document bytes in memory -> ``load_document`` (lazy and eager) vs the naive
   per-request design (``load_der_x509_crl`` + ``is_signature_valid`` +
   ``get_revoked_certificate_by_serial_number``).
3. warm decisions: ``RevocationSet.contains``/``lookup`` and ``decide`` (hits and misses,
   p50/p99 of single calls, timer overhead subtracted), and the authorizer handler
   (lambdas/authorizer.py) on a REST REQUEST event carrying a real client certificate PEM, with
   S3 replaced by an in-memory fake client; next to them ``load_pem_x509_certificate`` on the
   same PEM (issue 12's yardstick). Without ``--no-imports``, also the authorizer's init and
   first requests in fresh processes, with and without ``CRLCHECK_PRELOAD``.
4. memory: retained bytes per entry of a loaded set and the peak during load (tracemalloc in a
   child process; ru_maxrss of child processes for load, preprocess and openssl).
5. import time of the authorizer handler module and of crlcheck (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import functools
import gc
import io
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import gen_crl  # noqa: E402

import crlcheck  # noqa: E402
from crlcheck import cli, decide, dump_document, load_document  # noqa: E402
from crlcheck import crl as crl_module  # noqa: E402
from crlcheck.serial import decode_serial  # noqa: E402

# Issue 4's targets (this class of machine: 2 cores).
TARGETS = {
    "preprocess_1m_s": 3.0,
    "preprocess_vs_openssl_1m": 4.0,
    "preprocess_100k_s": 0.300,
    "cold_load_1m_s": 0.200,
    "cold_load_100k_s": 0.030,
    "cold_load_speedup_min": 3.0,
    "warm_api_p50_us": 3.0,
    "warm_handler_p50_us": 50.0,
    "retained_bytes_per_entry": 100.0,
    "peak_load_mib": 256.0,
}

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Timing helpers


def summary(samples: Sequence[float]) -> Json:
    """min/median/max of repeated wall times (seconds)."""
    return {
        "min": min(samples),
        "median": statistics.median(samples),
        "max": max(samples),
        "n": len(samples),
    }


def repeat(
    fn: Callable[[], object], times: int, *, setup: Callable[[], None] | None = None
) -> Json:
    """Run ``fn`` ``times`` times after a gc each; summarise the wall times."""
    samples = []
    for _ in range(times):
        if setup is not None:
            setup()
        gc.collect()
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return summary(samples)


def timer_overhead_ns() -> float:
    """Median cost of one ``perf_counter_ns()`` pair around nothing (subtracted from latencies)."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(20_000):
        t0 = clock()
        samples.append(clock() - t0)
    return float(statistics.median(samples))


def latencies(
    fn: Callable[[Any], object], args: Sequence[Any], passes: int, overhead: float
) -> Json:
    """p50/p99 of single calls ``fn(arg)``, ``passes`` times over ``args``, after a warm-up."""
    clock = time.perf_counter_ns
    for arg in args:
        fn(arg)  # warm-up: lazy order checks, details decoding, caches
    samples: list[int] = []
    add = samples.append
    gc.collect()
    for _ in range(passes):
        for arg in args:
            t0 = clock()
            fn(arg)
            add(clock() - t0)
    samples.sort()
    n = len(samples)

    def pct(p: float) -> float:
        return max(samples[min(n - 1, int(p * n))] - overhead, 0.0) / 1000.0

    return {"p50_us": pct(0.50), "p90_us": pct(0.90), "p99_us": pct(0.99), "calls": n}


# --------------------------------------------------------------------------------------------
# Machine


def machine_info() -> Json:
    """CPU model, cores, versions and date of this run."""
    import cryptography
    import orjson
    from cryptography.hazmat.backends.openssl import backend

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    openssl_cli = subprocess.run(
        ["openssl", "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    mem_total = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = int(line.split()[1]) * 1024
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu_model": model,
        "cores": os.cpu_count(),
        "memory_bytes": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "crlcheck": crlcheck.__version__,
        "cryptography": cryptography.__version__,
        "cryptography_openssl": backend.openssl_version_text(),
        "orjson": orjson.__version__,
        "openssl_cli": openssl_cli,
        "loadavg_at_start": os.getloadavg(),
    }


# --------------------------------------------------------------------------------------------
# 1. Preprocess


GNU_TIME = Path("/usr/bin/time")


def popen_timed(
    argv: Sequence[str], *, ok: tuple[int, ...] = (0,), **kwargs: Any
) -> tuple[float, int, bytes, bytes]:
    """Run a child; return (seconds, its peak RSS in bytes or 0 if unknown, stdout, stderr).

    The peak RSS comes from GNU time when it is installed: ``os.wait4`` of a child forked from
    this (large) process would report the parent's RSS inherited at fork time instead.
    """
    with tempfile.TemporaryDirectory(prefix="crlcheck-child-") as tmp:
        rss_file = Path(tmp) / "rss"
        command = list(argv)
        if GNU_TIME.exists():
            command = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *command]
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, check=False, **kwargs)
        elapsed = time.perf_counter() - started
        if proc.returncode not in ok:
            raise SystemExit(
                f"{' '.join(argv[:4])} failed ({proc.returncode}): "
                f"{proc.stderr.decode(errors='replace')}"
            )
        rss = 0
        with contextlib.suppress(OSError, ValueError):
            rss = int(rss_file.read_text().split()[-1]) * 1024
    return elapsed, rss, proc.stdout, proc.stderr


def openssl_verify(crl: Path, ca: Path) -> tuple[float, int]:
    """Time ``openssl crl -inform DER -in X -CAfile CA -noout``; return (seconds, maxrss)."""
    elapsed, rss, out, err = popen_timed(
        ["openssl", "crl", "-inform", "DER", "-in", str(crl), "-CAfile", str(ca), "-noout"]
    )
    text = (out + err).decode(errors="replace")
    if "verify OK" not in text:  # openssl 3.0 exits 0 even when verification fails.
        raise SystemExit(f"openssl did not verify {crl}: {text.strip()}")
    return elapsed, rss


def bench_preprocess(gen: gen_crl.Generated, repeat_n: int, at: str, workdir: Path) -> Json:
    out = workdir / f"{gen.key}-{gen.size}.cache.json"
    argv = ["preprocess", str(gen.crl), "--issuer", str(gen.ca_pem), "-o", str(out)]
    argv += ["--at", at, "-q"]

    def in_process() -> None:
        with contextlib.redirect_stderr(io.StringIO()):
            status = cli.main(argv)
        if status != 0:
            raise SystemExit(f"preprocess failed with status {status}")

    result: Json = {"in_process_s": repeat(in_process, repeat_n)}
    document = out.read_bytes()

    child: list[float] = []
    child_rss: list[int] = []
    ossl: list[float] = []
    ossl_rss: list[int] = []
    python = [sys.executable, "-m", "crlcheck", *argv]
    for _ in range(repeat_n):
        # Alternate the two so that a noisy neighbour hits both alike.
        seconds, rss = openssl_verify(gen.crl, gen.ca_pem)
        ossl.append(seconds)
        ossl_rss.append(rss)
        seconds, rss, _, _ = popen_timed(python, cwd=ROOT)
        child.append(seconds)
        child_rss.append(rss)
    result["subprocess_s"] = summary(child)
    result["subprocess_maxrss_bytes"] = max(child_rss)
    result["openssl_s"] = summary(ossl)
    result["openssl_maxrss_bytes"] = max(ossl_rss)
    result["ratio_vs_openssl"] = {
        "in_process_min": result["in_process_s"]["min"] / result["openssl_s"]["min"],
        "in_process_median": result["in_process_s"]["median"] / result["openssl_s"]["median"],
        "subprocess_min": result["subprocess_s"]["min"] / result["openssl_s"]["min"],
    }
    result["document_bytes"] = len(document)
    result["crl_bytes"] = gen.crl.stat().st_size
    result["stages"] = preprocess_stages(gen, repeat_n, at)
    return result


def preprocess_stages(gen: gen_crl.Generated, repeat_n: int, at: str) -> Json:
    """Where preprocess time goes; uses crlcheck internals (skipped if they change)."""
    now = dt.datetime.fromisoformat(at)
    data = gen.crl.read_bytes()
    signers = crlcheck.load_certificates(gen.ca_pem.read_bytes())
    ca = signers[0]
    stages: Json = {}
    stages["load_crl"] = repeat(lambda: crlcheck.load_crl(data), repeat_n)
    crl = crlcheck.load_crl(data)
    stages["verify_crl"] = repeat(lambda: crlcheck.verify_crl(crl, signers, now=now), repeat_n)
    revset = crlcheck.verify_crl(crl, signers, now=now)
    stages["dump_document"] = repeat(lambda: dump_document(revset, generated_at=now), repeat_n)
    signature_valid = getattr(crl_module, "_signature_valid", None)
    walk = getattr(crl_module, "_walk_entries", None)
    if signature_valid is not None:
        stages["signature_tbs_bytes"] = repeat(lambda: signature_valid(crl, ca), repeat_n)
    stages["signature_is_signature_valid"] = repeat(
        lambda: crl.crl.is_signature_valid(ca.public_key()),  # type: ignore[arg-type]
        repeat_n,
    )
    if walk is not None:
        start, end = crl._revoked_start, crl._revoked_end
        stages["walk_entries"] = repeat(
            lambda: walk(crl.der, start, end, None, len(crl.crl)), repeat_n
        )
    return stages


# --------------------------------------------------------------------------------------------
# 2. Cold load


def bench_cold_load(gen: gen_crl.Generated, document: bytes, repeat_n: int) -> Json:
    from cryptography import x509

    der = gen.crl.read_bytes()
    ca = crlcheck.load_certificate(gen.ca_pem.read_bytes())
    serial = gen.revoked_sample[0]
    result: Json = {}
    result["lazy_s"] = repeat(lambda: load_document(document, check_order="lazy"), repeat_n)
    result["eager_s"] = repeat(lambda: load_document(document, check_order="eager"), repeat_n)

    def lazy_then_first_hit() -> None:
        revset = load_document(document, check_order="lazy")
        if revset.lookup(serial) is None:
            raise SystemExit("sample serial not found")

    result["lazy_plus_first_hit_s"] = repeat(lazy_then_first_hit, repeat_n)

    def lazy_then_first_miss() -> None:
        # A miss is a claim about every key: the first one checks the order of the whole set.
        revset = load_document(document, check_order="lazy")
        if revset.contains(miss):
            raise SystemExit("miss serial found")

    miss = gen.good_serial
    result["lazy_plus_first_miss_s"] = repeat(lazy_then_first_miss, repeat_n)

    def naive() -> None:
        crl = x509.load_der_x509_crl(der)
        if not crl.is_signature_valid(ca.public_key()):  # type: ignore[arg-type]
            raise SystemExit("naive: bad signature")
        if crl.get_revoked_certificate_by_serial_number(serial) is None:
            raise SystemExit("naive: sample serial not found")

    result["naive_per_request_s"] = repeat(naive, repeat_n)
    naive_min = result["naive_per_request_s"]["min"]
    naive_median = result["naive_per_request_s"]["median"]
    result["speedup_lazy"] = {
        "min": naive_min / result["lazy_s"]["min"],
        "median": naive_median / result["lazy_s"]["median"],
    }
    result["speedup_eager"] = {
        "min": naive_min / result["eager_s"]["min"],
        "median": naive_median / result["eager_s"]["median"],
    }
    return result


# --------------------------------------------------------------------------------------------
# 2b. Document formats: version 1 (JSON) against version 2 (binary), same CRL, same run


def bench_formats(
    gen: gen_crl.Generated, json_path: Path, bin_path: Path, repeat_n: int, at: str
) -> Json:
    """Cold load of each format in process, and ``crlcheck check`` through the CLI (a fresh
    process, as a user runs it: wall time and peak RSS) for a revoked certificate (a hit: one
    block of keys checked) and a good one (a miss: the order of every key checked)."""
    serial, miss = gen.revoked_sample[0], gen.good_serial
    result: Json = {}
    for name, path in (("json", json_path), ("binary", bin_path)):
        document = path.read_bytes()
        fmt: Json = {"document_bytes": len(document)}
        fmt["lazy_s"] = repeat(
            functools.partial(load_document, document, check_order="lazy"), repeat_n
        )
        fmt["eager_s"] = repeat(
            functools.partial(load_document, document, check_order="eager"), repeat_n
        )

        def first_hit(document: bytes = document) -> None:
            load_document(document, check_order="lazy").lookup(serial)

        def first_miss(document: bytes = document) -> None:
            load_document(document, check_order="lazy").contains(miss)

        fmt["lazy_plus_first_hit_s"] = repeat(first_hit, repeat_n)
        fmt["lazy_plus_first_miss_s"] = repeat(first_miss, repeat_n)
        del document
        for case, cert, code in (("hit", gen.revoked_pem, 1), ("miss", gen.good_pem, 0)):
            argv = [sys.executable, "-m", "crlcheck", "check", str(cert), "--cache", str(path)]
            times, peaks = [], []
            for _ in range(repeat_n):
                elapsed, rss, _, _ = popen_timed([*argv, "--at", at], ok=(code,), cwd=ROOT)
                times.append(elapsed)
                peaks.append(rss)
            fmt[f"cli_check_{case}_s"] = summary(times)
            fmt[f"cli_check_{case}_peak_rss_bytes"] = max(peaks)
        result[name] = fmt
    return result


def format_rows(results: Json) -> list[str]:
    """One row per CRL and format; CLI figures also as the difference with the 1k document of
    the same key and format (what the document costs over Python's own start-up)."""
    base = {
        (r["key"], name): r["formats"][name]
        for r in results["runs"]
        if r["size"] == "1k" and "formats" in r
        for name in ("json", "binary")
    }
    rows = [
        "| CRL | format | document | load lazy / eager (in process) | `check` hit / miss (CLI) "
        "| over 1k: hit / miss | CLI peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        if "formats" not in run:
            continue
        for name in ("json", "binary"):
            f = run["formats"][name]
            hit, miss = f["cli_check_hit_s"]["min"], f["cli_check_miss_s"]["min"]
            b = base.get((run["key"], name))
            over = (
                f"+{fmt_s(hit - b['cli_check_hit_s']['min'])} / "
                f"+{fmt_s(miss - b['cli_check_miss_s']['min'])}"
                if b is not None
                else "n/a"
            )
            peak = max(f["cli_check_hit_peak_rss_bytes"], f["cli_check_miss_peak_rss_bytes"])
            rows.append(
                f"| {run['key']} {run['size']} | {name} | {f['document_bytes'] / 1e6:.1f} MB "
                f"| {fmt_s(f['lazy_s']['min'])} / {fmt_s(f['eager_s']['min'])} "
                f"| {fmt_s(hit)} / {fmt_s(miss)} | {over} | {peak / 2**20:.0f} MiB |"
            )
    return rows


def format_targets(results: Json, add: Callable[[str, str, float, bool, str], None]) -> None:
    """Issue 12's targets: the CLI at 1M against 1k of the same key and format, same run."""
    runs = {(r["key"], r["size"]): r for r in results["runs"] if "formats" in r}
    for (key, size), run in runs.items():
        small = runs.get((key, "1k"))
        if size != "1m" or small is None:
            continue
        for case in ("hit", "miss"):
            over = {
                name: run["formats"][name][f"cli_check_{case}_s"]["min"]
                - small["formats"][name][f"cli_check_{case}_s"]["min"]
                for name in ("json", "binary")
            }
            b, j = over["binary"], over["json"]
            add(f"CLI check {case} {key} 1M binary over 1k", "≤ 50 ms", b, b <= 0.050, fmt_s(b))
            r = b / j if j > 0 else float("inf")
            add(
                f"CLI check {case} {key} 1M binary / JSON (over 1k)",
                "≤ 0.25",
                r,
                r <= 0.25,
                f"{r:.2f}",
            )
            add(f"CLI check {case} {key} 1M JSON over 1k", "≤ 200 ms", j, j <= 0.200, fmt_s(j))
        f = run["formats"]["binary"]
        peak = max(f["cli_check_hit_peak_rss_bytes"], f["cli_check_miss_peak_rss_bytes"]) / 2**20
        add(f"CLI check {key} 1M binary peak RSS", "≤ 80 MiB", peak, peak <= 80, f"{peak:.0f} MiB")


# --------------------------------------------------------------------------------------------
# 3. Warm decisions


def sample_serials(
    revset: crlcheck.RevocationSet, k: int, seed: int
) -> tuple[list[int], list[int]]:
    """``k`` revoked serials picked at random from the set, and ``k`` serials not in it."""
    rng = random.Random(seed)
    blob = revset.keys_blob()
    width = revset.width
    count = len(revset)
    hits = [
        decode_serial(blob[i * width : (i + 1) * width]) for i in rng.choices(range(count), k=k)
    ]
    misses: list[int] = []
    while len(misses) < k:
        octets = rng.randint(16, 20)
        candidate = rng.getrandbits(8 * octets - 1) | (1 << (8 * octets - 8))
        if not revset.contains(candidate):
            misses.append(candidate)
    return hits, misses


class _FakeS3:
    """The part of a boto3 S3 client that S3DocumentSource uses, answering from memory."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.calls = 0

    def get_object(self, *, Bucket: str, Key: str, IfNoneMatch: str | None = None) -> Json:  # noqa: N803
        from botocore.exceptions import ClientError

        self.calls += 1
        body = self.objects[Key]
        etag = f'"{len(body):x}"'
        if IfNoneMatch == etag:
            raise ClientError(
                {
                    "Error": {"Code": "304", "Message": "Not Modified"},
                    "ResponseMetadata": {"HTTPStatusCode": 304},  # type: ignore[typeddict-item]
                },
                "GetObject",
            )
        return {"Body": io.BytesIO(body), "ETag": etag}


@contextlib.contextmanager
def authorizer_handler(document: bytes, revalidate_seconds: float) -> Iterator[Any]:
    """The real handler (as lambdas/authorizer.py builds it), reading from :class:`_FakeS3`."""
    from types import SimpleNamespace

    from crlcheck.aws.authorizer import authorizer_from_environ
    from crlcheck.aws.s3 import S3DocumentSource

    key = "crls/bench.cache.json"
    fake = _FakeS3({key: document})
    environ = {
        "CRLCHECK_BUCKET": "crlcheck-bench",
        "CRLCHECK_DOCUMENT_KEYS": key,
        "CRLCHECK_REVALIDATE_SECONDS": str(revalidate_seconds),
    }
    handler = authorizer_from_environ(
        environ,
        make_source=lambda settings: S3DocumentSource(fake, settings.bucket),  # type: ignore[arg-type]
    )
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield SimpleNamespace(handler=handler)


def rest_event(pem: bytes) -> Json:
    template = json.loads((ROOT / "tests" / "events" / "rest-request-mtls.json").read_text())
    event: Json = copy.deepcopy(template)
    event["requestContext"]["identity"]["clientCert"]["clientCertPem"] = pem.decode("ascii")
    return event


def bench_warm(gen: gen_crl.Generated, document: bytes, calls: int, overhead: float) -> Json:
    revset = load_document(document, check_order="lazy")
    k = min(2000, len(revset))
    hits, misses = sample_serials(revset, k, seed=7)
    passes = max(1, calls // k)
    result: Json = {}
    result["contains_hit"] = latencies(revset.contains, hits, passes, overhead)
    result["contains_miss"] = latencies(revset.contains, misses, passes, overhead)
    result["lookup_hit"] = latencies(revset.lookup, hits, passes, overhead)

    now = dt.datetime.now(dt.UTC)
    revoked_pem = gen.revoked_pem.read_bytes()
    good_pem = gen.good_pem.read_bytes()
    revoked_cert = crlcheck.load_certificate(revoked_pem)
    good_cert = crlcheck.load_certificate(good_pem)
    sets = [revset]
    if decide(revoked_cert, sets, now=now).allowed or not decide(good_cert, sets, now=now).allowed:
        raise SystemExit("decide() gave the wrong answer on the sample certificates")
    n = max(200, calls // 5)
    # cryptography's own parse of the same PEM: the yardstick of issue 12's warm targets,
    # measured before and after the decisions (the lower p50 is used) so that a noisy moment
    # does not favour either side.
    from cryptography import x509

    result["load_pem"] = latencies(x509.load_pem_x509_certificate, [good_pem] * n, 1, overhead)
    result["decide_cert_hit"] = latencies(
        lambda c: decide(c, sets, now=now), [revoked_cert] * n, 1, overhead
    )
    result["decide_cert_miss"] = latencies(
        lambda c: decide(c, sets, now=now), [good_cert] * n, 1, overhead
    )
    result["decide_pem_miss"] = latencies(
        lambda p: decide(p, sets, now=now), [good_pem] * n, 1, overhead
    )
    result["decide_pem_hit"] = latencies(
        lambda p: decide(p, sets, now=now), [revoked_pem] * n, 1, overhead
    )

    try:
        import lambdas.authorizer  # noqa: F401 (needs boto3: the [aws] or [dev] extra)
    except ImportError as exc:
        result["handler_skipped"] = f"lambdas.authorizer does not import: {exc}"
        return result
    for label, revalidate in (("handler", 3600.0), ("handler_revalidate_304", 0.0)):
        with authorizer_handler(document, revalidate) as authorizer:
            good_event = rest_event(good_pem)
            revoked_event = rest_event(revoked_pem)
            answer = authorizer.handler(good_event, None)
            effect = answer["policyDocument"]["Statement"][0]["Effect"]
            denied = authorizer.handler(revoked_event, None)
            if effect != "Allow" or denied["policyDocument"]["Statement"][0]["Effect"] != "Deny":
                raise SystemExit(f"handler gave the wrong answer: {answer} / {denied}")
            result[f"{label}_miss"] = latencies(
                lambda e: authorizer.handler(e, None), [good_event] * n, 1, overhead
            )
            result[f"{label}_hit"] = latencies(
                lambda e: authorizer.handler(e, None), [revoked_event] * n, 1, overhead
            )
    result["load_pem_after"] = latencies(
        x509.load_pem_x509_certificate, [good_pem] * n, 1, overhead
    )
    base = min(result["load_pem"]["p50_us"], result["load_pem_after"]["p50_us"])
    result["vs_load_pem"] = {
        name: result[name]["p50_us"] / base
        for name in ("decide_pem_miss", "decide_pem_hit", "handler_miss", "handler_hit")
        if name in result
    }
    return result


_COLD_START_CHILD = r"""
import contextlib, io, json, os, sys, time
document = open(sys.argv[1], "rb").read()  # What S3 would return (read outside the timings).
event = json.load(open(sys.argv[2]))
preload = sys.argv[3]
started = time.perf_counter()
from crlcheck.aws.authorizer import authorizer_from_environ
from crlcheck.aws.s3 import S3DocumentSource
from botocore.exceptions import ClientError
imported = time.perf_counter()
class FakeS3:
    def get_object(self, *, Bucket, Key, IfNoneMatch=None):
        etag = '"%x"' % len(document)
        if IfNoneMatch == etag:
            raise ClientError({"Error": {"Code": "304"},
                               "ResponseMetadata": {"HTTPStatusCode": 304}}, "GetObject")
        return {"Body": io.BytesIO(document), "ETag": etag}
environ = {"CRLCHECK_BUCKET": "bench", "CRLCHECK_DOCUMENT_KEYS": "crls/bench.cache",
           "CRLCHECK_REVALIDATE_SECONDS": "3600", "CRLCHECK_PRELOAD": preload}
with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
    handler = authorizer_from_environ(
        environ, make_source=lambda s: S3DocumentSource(FakeS3(), s.bucket))
    built = time.perf_counter()
    first = handler(event, None)
    answered = time.perf_counter()
    handler(event, None)
    second = time.perf_counter()
assert first["policyDocument"]["Statement"][0]["Effect"] == "Allow", first
print(json.dumps({"import_s": imported - started, "init_s": built - started,
                  "first_s": answered - built, "second_s": second - answered}))
"""


def bench_cold_start(gen: gen_crl.Generated, documents: dict[str, Path], repeat_n: int) -> Json:
    """The authorizer's init and first requests in fresh processes, with and without preload.

    What a Lambda cold start runs after the interpreter starts: the handler module's imports
    (boto3 included, as the S3 source needs it), ``authorizer_from_environ`` (which, with
    ``CRLCHECK_PRELOAD=true``, downloads and loads the documents), then the first request and a
    second one. Outside Lambda there is no restore hook, so a preloaded handler revalidates on
    its first request (a 304), as after a SnapStart restore. The cases alternate, so a noisy
    neighbour hits them alike.
    """
    out: Json = {}
    with tempfile.TemporaryDirectory(prefix="crlcheck-cold-") as tmp:
        event_path = Path(tmp) / "event.json"
        event_path.write_text(json.dumps(rest_event(gen.good_pem.read_bytes())))
        samples: dict[str, list[Json]] = {}
        for _ in range(repeat_n):
            for fmt, path in documents.items():
                for preload in ("false", "true"):
                    argv = [sys.executable, "-c", _COLD_START_CHILD, str(path), str(event_path)]
                    _, _, text, _ = popen_timed([*argv, preload], cwd=ROOT)
                    samples.setdefault(f"{fmt}/{preload}", []).append(json.loads(text))
    for case, runs in samples.items():
        out[case] = {
            name: summary([r[name] for r in runs])
            for name in ("import_s", "init_s", "first_s", "second_s")
        }
        out[case]["init_first_s"] = summary([r["init_s"] + r["first_s"] for r in runs])
    return out


# --------------------------------------------------------------------------------------------
# 4. Memory (in child processes, so that each starts from a clean heap)

_MEMORY_CHILD = r"""
import gc, json, resource, sys, tracemalloc
from pathlib import Path
from crlcheck import load_document
mode, path, traced = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
data = Path(path).read_bytes()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()
gc.collect()
rss0 = rss()
hwm0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if traced:
    tracemalloc.start()
import time
started = time.perf_counter()
revset = load_document(data, check_order=mode)
elapsed = time.perf_counter() - started
gc.collect()
out = {"entries": len(revset), "document_bytes": len(data), "load_s": elapsed}
if traced:
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.update(traced_retained_bytes=current, traced_peak_bytes=peak)
else:
    out.update(rss_retained_bytes=rss() - rss0,
               maxrss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
               maxrss_before_load_bytes=hwm0)
print(json.dumps(out))
"""


def bench_memory(doc_path: Path, repeat_n: int) -> Json:
    """Memory of a loaded set, and the load time in a fresh process (as on a cold start).

    One child with tracemalloc (Python-level allocations), then ``repeat_n`` children without
    it (resident memory, and the load time free of tracemalloc's overhead).
    """
    result: Json = {}
    for mode in ("lazy", "eager"):
        argv = [sys.executable, "-c", _MEMORY_CHILD, mode, str(doc_path)]
        _, _, out, _ = popen_timed([*argv, "1"], cwd=ROOT)
        merged: Json = json.loads(out)
        del merged["load_s"]  # slowed down by tracemalloc
        times: list[float] = []
        for _ in range(repeat_n):
            _, _, out, _ = popen_timed([*argv, "0"], cwd=ROOT)
            child = json.loads(out)
            times.append(child.pop("load_s"))
            for key in ("maxrss_bytes", "rss_retained_bytes"):
                child[key] = max(child[key], merged.get(key, 0))
            merged.update(child)
        merged["fresh_process_load_s"] = summary(times)
        entries = max(merged["entries"], 1)
        merged["retained_bytes_per_entry"] = merged["traced_retained_bytes"] / entries
        merged["rss_retained_bytes_per_entry"] = merged["rss_retained_bytes"] / entries
        merged["peak_above_input_mib"] = merged["traced_peak_bytes"] / 2**20
        merged["peak_maxrss_delta_mib"] = (
            merged["maxrss_bytes"] - merged["maxrss_before_load_bytes"]
        ) / 2**20
        result[mode] = merged
    return result


# --------------------------------------------------------------------------------------------
# 5. Import time


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")
_HEAVY_IMPORTS = ("boto3", "botocore.session", "cryptography.x509", "orjson", "crlcheck")


def _import_samples(argv: list[str], module: str, repeat_n: int, **kwargs: Any) -> Json:
    cumulative: list[float] = []
    wall: list[float] = []
    heavy: dict[str, float] = {}
    for _ in range(repeat_n):
        started = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=True, **kwargs)
        wall.append(time.perf_counter() - started)
        found = None
        for match in _IMPORT_LINE.finditer(proc.stderr):
            name, value = match.group(4), int(match.group(2)) / 1e6
            if name == module:
                found = value
            if name in _HEAVY_IMPORTS:
                heavy[name] = min(heavy.get(name, value), value)
        if found is None:
            raise SystemExit(f"no importtime line for {module}")
        cumulative.append(found)
    return {
        "cumulative_s": summary(cumulative),
        "process_wall_s": summary(wall),
        "min_cumulative_s_of": heavy,
    }


def import_times(repeat_n: int) -> Json:
    """``-X importtime`` of the authorizer handler module and of crlcheck.

    ``repository``: ``import lambdas.authorizer`` / ``import crlcheck`` here, bytecode cached.
    ``package``: a directory laid out like the Lambda package the Makefile builds (handler
    module at the top, crlcheck, cryptography and orjson copied without ``__pycache__``; boto3
    from the environment, as the runtime provides it), imported with PYTHONDONTWRITEBYTECODE as
    on Lambda's read-only file system: every bundled module is compiled on every cold start.
    ``package+pyc``: the same after ``compileall`` (what shipping bytecode would give).
    """
    import shutil

    import cryptography
    import orjson

    out: Json = {}
    argv = [sys.executable, "-X", "importtime", "-c"]
    out["lambdas.authorizer (repository)"] = _import_samples(
        [*argv, "import lambdas.authorizer"], "lambdas.authorizer", repeat_n, cwd=ROOT
    )
    out["crlcheck (repository)"] = _import_samples(
        [*argv, "import crlcheck"], "crlcheck", repeat_n, cwd=ROOT
    )
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    with tempfile.TemporaryDirectory(prefix="crlcheck-package-") as tmp:
        package = Path(tmp)
        shutil.copy(ROOT / "lambdas" / "authorizer.py", package / "authorizer.py")
        ignore = shutil.ignore_patterns("__pycache__")
        for source in (
            ROOT / "crlcheck",
            *map(Path, cryptography.__path__),
            *map(Path, orjson.__path__),
        ):
            shutil.copytree(source, package / source.name, ignore=ignore)
        command = [*argv, "import authorizer"]
        out["authorizer (Lambda package, no .pyc)"] = _import_samples(
            command, "authorizer", repeat_n, cwd=package, env=env
        )
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(package)], check=True, env=env
        )
        out["authorizer (Lambda package + .pyc)"] = _import_samples(
            command, "authorizer", repeat_n, cwd=package, env=env
        )
    return out


# --------------------------------------------------------------------------------------------
# Tables and targets


def fmt_s(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


def mm(stat: Json) -> str:
    return f"{fmt_s(stat['min'])} / {fmt_s(stat['median'])}"


def headline_rows(results: Json) -> list[str]:
    """One line per CRL with the figures the targets are about (min of repeats)."""
    rows = []
    for run in results["runs"]:
        pre, cl, w = run["preprocess"], run["cold_load"], run["warm"]
        memory = run.get("memory", {}).get("lazy")
        handler = f"{w['handler_miss']['p50_us']:.0f} µs" if "handler_miss" in w else "n/a"
        retained = peak = "n/a"
        if memory:
            retained = f"{memory['retained_bytes_per_entry']:.0f} B/entry"
            peak = f"{memory['maxrss_bytes'] / 2**20:.0f} MiB"
        rows.append(
            f"| {run['key']} {run['size']} | {fmt_s(pre['in_process_s']['min'])} "
            f"| {pre['ratio_vs_openssl']['in_process_min']:.2f}x "
            f"| {fmt_s(cl['lazy_s']['min'])} / {fmt_s(cl['eager_s']['min'])} "
            f"| {cl['speedup_lazy']['min']:.0f}x "
            f"| {w['contains_hit']['p50_us']:.1f} µs "
            f"| {w['decide_cert_miss']['p50_us']:.0f} µs | {handler} | {retained} | {peak} |"
        )
    return rows


def tables(results: Json) -> str:
    machine = results["machine"]
    lines = [
        f"Machine: {machine['cpu_model']}, {machine['cores']} cores, Python {machine['python']}, "
        f"cryptography {machine['cryptography']} ({machine['cryptography_openssl']}), "
        f"orjson {machine['orjson']}, {machine['openssl_cli']}; {machine['date']}; "
        f"load average {machine['loadavg_at_start'][0]:.2f} at start, "
        f"{machine.get('loadavg_at_end', [float('nan')])[0]:.2f} at end.",
        f"Timings are min / median of the repeats ({results['params']['repeat']}; cold loads at "
        f"least 7).",
        "",
        "| CRL | preprocess | vs openssl | cold load lazy / eager | vs naive | contains p50 "
        "| decide(cert) p50 | handler p50 | retained | peak RSS (load) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *headline_rows(results),
        "",
        "| CRL | entries | DER | preprocess (in-process) | preprocess (new process) "
        "| openssl crl verify | ratio (min) | document |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        pre = run["preprocess"]
        lines.append(
            f"| {run['key']} {run['size']} | {run['entries']:,} | {pre['crl_bytes'] / 1e6:.1f} MB "
            f"| {mm(pre['in_process_s'])} | {mm(pre['subprocess_s'])} | {mm(pre['openssl_s'])} "
            f"| {pre['ratio_vs_openssl']['in_process_min']:.2f}x "
            f"| {pre['document_bytes'] / 1e6:.1f} MB |"
        )
    lines += [
        "",
        "| CRL | load_crl | verify_crl | dump_document | signature over TBS bytes "
        "| is_signature_valid | walk entries |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        st = run["preprocess"]["stages"]
        lines.append(
            f"| {run['key']} {run['size']} | {mm(st['load_crl'])} | {mm(st['verify_crl'])} "
            f"| {mm(st['dump_document'])} "
            f"| {mm(st['signature_tbs_bytes']) if 'signature_tbs_bytes' in st else 'n/a'} "
            f"| {mm(st['signature_is_signature_valid'])} "
            f"| {mm(st['walk_entries']) if 'walk_entries' in st else 'n/a'} |"
        )
    lines += ["", *format_rows(results)]
    lines += [
        "",
        "| CRL | cold load lazy | lazy, fresh process | cold load eager | lazy + first hit "
        "| lazy + first miss | naive parse+verify per request | speedup lazy / eager (min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        cl = run["cold_load"]
        fresh = run.get("memory", {}).get("lazy", {}).get("fresh_process_load_s")
        lines.append(
            f"| {run['key']} {run['size']} | {mm(cl['lazy_s'])} "
            f"| {mm(fresh) if fresh else 'n/a'} | {mm(cl['eager_s'])} "
            f"| {mm(cl['lazy_plus_first_hit_s'])} | {mm(cl['lazy_plus_first_miss_s'])} "
            f"| {mm(cl['naive_per_request_s'])} "
            f"| {cl['speedup_lazy']['min']:.0f}x / {cl['speedup_eager']['min']:.0f}x |"
        )
    lines += [
        "",
        "Warm latency per call, p50 / p99 (µs, timer overhead subtracted):",
        "",
        "| CRL | contains hit | contains miss | lookup hit | decide(cert) hit "
        "| decide(cert) miss | decide(PEM) miss | handler hit | handler miss "
        "| handler + 304 miss |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        w = run["warm"]

        def pp(name: str, w: Json = w) -> str:
            if name not in w:
                return "n/a"
            return f"{w[name]['p50_us']:.1f} / {w[name]['p99_us']:.1f}"

        lines.append(
            f"| {run['key']} {run['size']} | {pp('contains_hit')} | {pp('contains_miss')} "
            f"| {pp('lookup_hit')} | {pp('decide_cert_hit')} | {pp('decide_cert_miss')} "
            f"| {pp('decide_pem_miss')} | {pp('handler_hit')} | {pp('handler_miss')} "
            f"| {pp('handler_revalidate_304_miss')} |"
        )
    lines += [
        "",
        "Warm request against cryptography's own parse of the same PEM "
        "(`load_pem_x509_certificate`), p50 in µs and as a multiple of it (issue 12):",
        "",
        "| CRL | load_pem p50 (before / after) | decide(PEM) miss | decide(PEM) hit "
        "| handler miss (REST, interval set) | handler hit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        w = run["warm"]
        if "vs_load_pem" not in w:
            continue
        ratio = w["vs_load_pem"]

        def px(name: str, w: Json = w, ratio: Json = ratio) -> str:
            if name not in ratio:
                return "n/a"
            return f"{w[name]['p50_us']:.1f} ({ratio[name]:.1f}x)"

        lines.append(
            f"| {run['key']} {run['size']} | {w['load_pem']['p50_us']:.1f} / "
            f"{w['load_pem_after']['p50_us']:.1f} | {px('decide_pem_miss')} "
            f"| {px('decide_pem_hit')} | {px('handler_miss')} | {px('handler_hit')} |"
        )
    cold = [run for run in results["runs"] if "cold_start" in run]
    if cold:
        lines += [
            "",
            "Authorizer cold start in a fresh process (S3 faked in memory; min / median of the "
            "repeats): init is the handler module's imports plus `authorizer_from_environ` (with "
            "`CRLCHECK_PRELOAD=true`, the documents' download and load too), then the first and "
            "second requests (REST event, interval set):",
            "",
            "| CRL | document | preload | init | first request | second request | init + first |",
            "|---|---|---|---:|---:|---:|---:|",
        ]
        for run in cold:
            for case, c in run["cold_start"].items():
                fmt, preload = case.split("/")
                lines.append(
                    f"| {run['key']} {run['size']} | {fmt} | {preload} | {mm(c['init_s'])} "
                    f"| {mm(c['first_s'])} | {mm(c['second_s'])} | {mm(c['init_first_s'])} |"
                )
    if any("memory" in run for run in results["runs"]):
        lines += [
            "",
            "| CRL | mode | retained B/entry (tracemalloc) | retained B/entry (RSS) "
            "| load peak, resident (ru_maxrss delta) | load peak, allocated (tracemalloc) "
            "| process ru_maxrss | preprocess ru_maxrss | openssl ru_maxrss |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for run in results["runs"]:
            if "memory" not in run:
                continue
            for mode in ("lazy", "eager"):
                m = run["memory"][mode]
                pre = run["preprocess"]
                lines.append(
                    f"| {run['key']} {run['size']} | {mode} | {m['retained_bytes_per_entry']:.1f} "
                    f"| {m['rss_retained_bytes_per_entry']:.1f} "
                    f"| {m['peak_maxrss_delta_mib']:.1f} MiB | {m['peak_above_input_mib']:.1f} MiB "
                    f"| {m['maxrss_bytes'] / 2**20:.0f} MiB "
                    f"| {pre['subprocess_maxrss_bytes'] / 2**20:.0f} MiB "
                    f"| {pre['openssl_maxrss_bytes'] / 2**20:.0f} MiB |"
                )
    imports = results.get("imports", {})
    if imports:
        lines += [
            "",
            "| import | cumulative (-X importtime) | new process wall "
            "| of which boto3 / cryptography.x509 / orjson |",
            "|---|---:|---:|---:|",
        ]
        for what, it in imports.items():
            of = it["min_cumulative_s_of"]
            parts = " / ".join(
                fmt_s(of[name]) if name in of else "-"
                for name in ("boto3", "cryptography.x509", "orjson")
            )
            lines.append(
                f"| {what} | {mm(it['cumulative_s'])} | {mm(it['process_wall_s'])} | {parts} |"
            )
    if results.get("targets"):
        lines += ["", "| target | limit | measured | met |", "|---|---:|---:|---|"]
        for t in results["targets"]:
            lines.append(
                f"| {t['name']} | {t['limit']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |"
            )
    return "\n".join(lines)


def evaluate_targets(results: Json) -> list[Json]:
    """Issue 4's targets against this run (min of repeats; 1M and 100k of the first key type)."""
    out: list[Json] = []

    def add(name: str, limit: str, value: float, met: bool, text: str) -> None:
        out.append({"name": name, "limit": limit, "value": value, "measured": text, "met": met})

    for run in results["runs"]:
        label = f"{run['key']} {run['size']}"
        pre, cl, w = run["preprocess"], run["cold_load"], run["warm"]
        t = pre["in_process_s"]["min"]
        if run["size"] == "1m":
            add(f"preprocess {label}", "≤ 3.0 s", t, t <= TARGETS["preprocess_1m_s"], fmt_s(t))
            r = pre["ratio_vs_openssl"]["in_process_min"]
            add(f"preprocess / openssl {label}", "≤ 4x", r, r <= 4.0, f"{r:.2f}x")
            lz = cl["lazy_s"]["min"]
            add(
                f"cold load lazy {label}",
                "≤ 200 ms",
                lz,
                lz <= TARGETS["cold_load_1m_s"],
                fmt_s(lz),
            )
            p = w["contains_hit"]["p50_us"]
            add(f"contains p50 hit {label}", "≤ 3 µs", p, p <= 3.0, f"{p:.2f} µs")
            p = w["decide_cert_hit"]["p50_us"]
            add(f"decide(cert) p50 hit {label}", "≤ 3 µs", p, p <= 3.0, f"{p:.2f} µs")
            p = w["decide_cert_miss"]["p50_us"]
            add(f"decide(cert) p50 miss {label}", "≤ 3 µs", p, p <= 3.0, f"{p:.2f} µs")
            if "handler_hit" in w:
                p = max(w["handler_hit"]["p50_us"], w["handler_miss"]["p50_us"])
                add(f"handler p50 {label}", "≤ 50 µs", p, p <= 50.0, f"{p:.1f} µs")
            if "memory" in run:
                m = run["memory"]["lazy"]
                b = m["retained_bytes_per_entry"]
                add(f"retained per entry {label}", "≤ 100 B", b, b <= 100.0, f"{b:.1f} B")
                # Resident memory is what a Lambda's limit applies to: the whole process's peak
                # (interpreter, imports and the document bytes included) during a lazy load.
                peak = m["maxrss_bytes"] / 2**20
                add(
                    f"peak during load {label} (process ru_maxrss)",
                    "≤ 256 MiB",
                    peak,
                    peak <= TARGETS["peak_load_mib"],
                    f"{peak:.0f} MiB (load itself +{m['peak_maxrss_delta_mib']:.0f} MiB)",
                )
        if run["size"] == "100k":
            add(f"preprocess {label}", "≤ 300 ms", t, t <= TARGETS["preprocess_100k_s"], fmt_s(t))
            lz = cl["lazy_s"]["min"]
            add(
                f"cold load lazy {label}",
                "≤ 30 ms",
                lz,
                lz <= TARGETS["cold_load_100k_s"],
                fmt_s(lz),
            )
        s = cl["speedup_lazy"]["min"]
        add(f"cold load vs naive {label}", "≥ 3x", s, s >= 3.0, f"{s:.0f}x")
    format_targets(results, add)
    warm_targets(results, add)
    return out


def warm_targets(results: Json, add: Callable[[str, str, float, bool, str], None]) -> None:
    """Issue 12's warm targets, as multiples of load_pem_x509_certificate in the same run."""
    for run in results["runs"]:
        ratio = run["warm"].get("vs_load_pem")
        if not ratio or run["size"] == "1k":
            continue
        label = f"{run['key']} {run['size']}"
        if "handler_miss" in ratio:
            r = max(ratio["handler_miss"], ratio["handler_hit"])
            add(f"handler p50 / load_pem {label}", "≤ 4x", r, r <= 4.0, f"{r:.1f}x")
        r = max(ratio["decide_pem_miss"], ratio["decide_pem_hit"])
        add(f"decide(PEM) p50 / load_pem {label}", "≤ 1.5x", r, r <= 1.5, f"{r:.2f}x")


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables; write the JSON results."""
    parser = argparse.ArgumentParser(description="crlcheck benchmark (see bench/README.md)")
    parser.add_argument("--sizes", default="1k,100k,1m", help="comma list of 1k,10k,100k,1m")
    parser.add_argument("--keys", default="rsa,ec", help="issuer key types: rsa,ec")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of each timing (min 1)")
    parser.add_argument("--calls", type=int, default=10_000, help="warm calls per latency figure")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory children")
    parser.add_argument("--no-imports", action="store_true", help="skip -X importtime")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    sizes = gen_crl.parse_sizes(args.sizes)
    kinds = [k.strip() for k in args.keys.split(",") if k.strip()]
    repeat_n = max(1, args.repeat)

    started = time.perf_counter()
    results: Json = {
        "machine": machine_info(),
        "params": {"sizes": sizes, "keys": kinds, "repeat": repeat_n, "calls": args.calls},
        "runs": [],
    }
    overhead = timer_overhead_ns()
    results["timer_overhead_ns"] = overhead
    with tempfile.TemporaryDirectory(prefix="crlcheck-bench-") as tmp:
        workdir = Path(tmp)
        for kind in kinds:
            for size in sizes:
                gen = gen_crl.generate(kind, size)
                at = (
                    dt.datetime.fromisoformat(str(gen.meta["this_update"])) + dt.timedelta(hours=1)
                ).strftime("%Y-%m-%dT%H:%M:%SZ")
                print(
                    f"[{time.perf_counter() - started:6.1f}s] {kind} {size}: preprocess",
                    file=sys.stderr,
                )
                run: Json = {"key": kind, "size": size, "entries": gen.count}
                run["preprocess"] = bench_preprocess(gen, repeat_n, at, workdir)
                doc_path = workdir / f"{kind}-{size}.cache.json"
                document = doc_path.read_bytes()
                print(
                    f"[{time.perf_counter() - started:6.1f}s] {kind} {size}: cold load",
                    file=sys.stderr,
                )
                run["cold_load"] = bench_cold_load(gen, document, max(repeat_n, 7))
                print(
                    f"[{time.perf_counter() - started:6.1f}s] {kind} {size}: formats",
                    file=sys.stderr,
                )
                bin_path = workdir / f"{kind}-{size}.cache.bin"
                bin_path.write_bytes(dump_document(load_document(document), format="binary"))
                run["formats"] = bench_formats(gen, doc_path, bin_path, max(repeat_n, 7), at)
                print(
                    f"[{time.perf_counter() - started:6.1f}s] {kind} {size}: warm", file=sys.stderr
                )
                run["warm"] = bench_warm(gen, document, args.calls, overhead)
                if not args.no_imports and size != "1k":
                    print(
                        f"[{time.perf_counter() - started:6.1f}s] {kind} {size}: cold start",
                        file=sys.stderr,
                    )
                    run["cold_start"] = bench_cold_start(
                        gen, {"json": doc_path, "binary": bin_path}, repeat_n
                    )
                if not args.no_memory:
                    print(
                        f"[{time.perf_counter() - started:6.1f}s] {kind} {size}: memory",
                        file=sys.stderr,
                    )
                    run["memory"] = bench_memory(doc_path, repeat_n)
                results["runs"].append(run)
                del document
    if not args.no_imports:
        print(f"[{time.perf_counter() - started:6.1f}s] imports", file=sys.stderr)
        results["imports"] = import_times(repeat_n)
    results["targets"] = evaluate_targets(results)
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - started, 1)
    text = tables(results)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n")
    tmp_out.replace(args.out)
    print(
        f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
        f"({results['seconds']} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
