"""The Makefile's Lambda packages and the dependency pins (constraints/).

The Makefile runs with a stand-in for ``python`` that records what pip would have been asked to
do, so these tests need neither the network nor the Lambda platform's wheels.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
MAKE = shutil.which("make")

# Stands in for `python -m pip install ... --target DIR SRC[extras]`: records the arguments and
# the files of the source tree pip was given, and leaves what pip would leave in DIR.
FAKE_PYTHON = r"""#!/bin/sh
out="$FAKE_PIP_LOG"
printf '%s\n' "$@" > "$out.argv"
target=""; prev=""; last=""
for arg in "$@"; do
    if [ "$prev" = "--target" ]; then target="$arg"; fi
    prev="$arg"; last="$arg"
done
src="${last%%\[*}"
(cd "$src" && find . -type f | sort) > "$out.files"
mkdir -p "$target/crlcheck-0.1.0.dist-info" "$target/bin"
printf '{"url": "file://%s"}\n' "$src" > "$target/crlcheck-0.1.0.dist-info/direct_url.json"
printf 'crlcheck/__init__.py,,\ncrlcheck-0.1.0.dist-info/direct_url.json,,\n' \
    > "$target/crlcheck-0.1.0.dist-info/RECORD"
"""


def _pins(path: Path) -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} pinned twice in {path.name}"
        pins[name] = Version(specifier.version)
    return pins


# Floors that constraints/lowest.txt does not pin: atheris only serves the fuzzing tests
# (tests/hardening), which the lowest-versions run does not include.
NOT_PINNED_AT_FLOOR = {"atheris"}


def _floors() -> dict[str, Version]:
    """The lowest version pyproject.toml allows for each direct dependency it bounds below
    (the library's and the aws and test extras'; the dev tools are not proven)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in ("aws", "test"):
        lines += project["optional-dependencies"][extra]
    floors: dict[str, Version] = {}
    for line in lines:
        requirement = Requirement(line)
        for specifier in requirement.specifier:
            if specifier.operator == ">=" and requirement.name not in NOT_PINNED_AT_FLOOR:
                floors[canonicalize_name(requirement.name)] = Version(specifier.version)
    return floors


def _build(tmp_path: Path, target: str) -> tuple[list[str], list[str], Path]:
    """Run `make build-<target>` as SAM does: from a scratch copy of CodeUri (lambdas/), with
    --makefile naming the repository's Makefile."""
    if MAKE is None:
        pytest.skip("make is not installed")
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    scratch = tmp_path / "scratch"
    shutil.copytree(ROOT / "lambdas", scratch)
    artifacts = tmp_path / "artifacts"
    log = tmp_path / "pip"
    subprocess.run(
        [MAKE, "--makefile", str(ROOT / "Makefile"), f"build-{target}", f"PYTHON={fake}"],
        cwd=scratch,
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "FAKE_PIP_LOG": str(log)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    argv = Path(f"{log}.argv").read_text().splitlines()
    files = Path(f"{log}.files").read_text().splitlines()
    return argv, files, artifacts


# --- negative cases first ------------------------------------------------------------------


def test_the_build_refuses_to_run_without_artifacts_dir(tmp_path: Path) -> None:
    if MAKE is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k != "ARTIFACTS_DIR"}
    result = subprocess.run(
        [MAKE, "--makefile", str(ROOT / "Makefile"), "build-AuthorizerFunction"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ARTIFACTS_DIR is not set" in result.stderr


@pytest.mark.parametrize(
    "target", ["AuthorizerFunction", "PreprocessorFunction", "FetcherFunction"]
)
def test_pip_sees_only_what_the_package_needs(tmp_path: Path, target: str) -> None:
    """Nothing else in the work tree (.venv, bench/data, tests) reaches the build."""
    _, files, _ = _build(tmp_path, target)
    tops = {f.split("/")[1] for f in files}
    assert tops <= {"pyproject.toml", "crlcheck", "README.md", "LICENSE"}
    assert {"pyproject.toml", "crlcheck"} <= tops
    assert "./crlcheck/__init__.py" in files
    assert not [f for f in files if "__pycache__" in f]


def test_the_packages_are_pinned_and_built_for_the_lambda_runtime(tmp_path: Path) -> None:
    argv, _, _ = _build(tmp_path, "AuthorizerFunction")
    assert argv[:3] == ["-m", "pip", "install"]
    assert argv[argv.index("-c") + 1] == str(ROOT / "constraints" / "lambda.txt")
    assert argv[argv.index("--platform") + 1] == "manylinux2014_aarch64"
    assert argv[argv.index("--python-version") + 1] == "3.12"
    assert "--only-binary=:all:" in argv
    assert not argv[-1].endswith("]")  # The authorizer uses the runtime's boto3.


def test_the_preprocessor_bundles_boto3(tmp_path: Path) -> None:
    argv, _, artifacts = _build(tmp_path, "PreprocessorFunction")
    assert argv[-1].endswith("[aws]")
    assert (artifacts / "preprocessor.py").is_file()


def test_the_fetcher_bundles_boto3(tmp_path: Path) -> None:
    """It writes CRLs with conditional PutObject, like the preprocessor."""
    argv, _, artifacts = _build(tmp_path, "FetcherFunction")
    assert argv[-1].endswith("[aws]")
    assert argv[argv.index("-c") + 1] == str(ROOT / "constraints" / "lambda.txt")
    assert (artifacts / "fetcher.py").read_bytes() == (ROOT / "lambdas" / "fetcher.py").read_bytes()


def test_the_package_holds_the_handler_and_no_build_paths(tmp_path: Path) -> None:
    _, _, artifacts = _build(tmp_path, "AuthorizerFunction")
    assert (artifacts / "authorizer.py").read_bytes() == (
        ROOT / "lambdas" / "authorizer.py"
    ).read_bytes()
    dist_info = artifacts / "crlcheck-0.1.0.dist-info"
    assert not (dist_info / "direct_url.json").exists()
    assert "direct_url" not in (dist_info / "RECORD").read_text()
    assert not (artifacts / "bin").exists()


# --- the pins ------------------------------------------------------------------------------


def test_the_lambda_pins_cover_every_runtime_dependency_within_its_floor() -> None:
    pins = _pins(ROOT / "constraints" / "lambda.txt")
    floors = _floors()
    for name in ("cryptography", "orjson", "boto3", "botocore"):
        assert name in pins, name
        assert pins[name] >= floors[name], name


def test_the_lowest_pins_are_the_floors_of_pyproject() -> None:
    """.ci/run proves the floors by testing against constraints/lowest.txt: the two must agree."""
    assert _pins(ROOT / "constraints" / "lowest.txt") == _floors()


# --- bytecode for the runtime's Python -------------------------------------------------------


def _make_package(tmp_path: Path, *make_vars: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`make build-AuthorizerFunction` with the pip stand-in, and more make variables."""
    if MAKE is None:
        pytest.skip("make is not installed")
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    artifacts = tmp_path / "artifacts"
    target = "build-AuthorizerFunction"
    result = subprocess.run(
        [MAKE, "--makefile", str(ROOT / "Makefile"), target, f"PYTHON={fake}", *make_vars],
        cwd=tmp_path,
        env={**os.environ, "ARTIFACTS_DIR": str(artifacts), "FAKE_PIP_LOG": str(tmp_path / "pip")},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result, artifacts


def _runtime_python(version: str) -> str | None:
    """A Python of ``version`` as the Makefile looks for one (python3.12, pyenv, python3)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        f"python{version}",
        *map(str, pyenv.glob(f"versions/{version}.*/bin/python{version}")),
    ]
    for candidate in [*candidates, "python3"]:
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if out == version:
            return candidate
    return None


def test_without_the_runtime_python_the_build_ships_no_bytecode_and_says_why(
    tmp_path: Path,
) -> None:
    result, artifacts = _make_package(
        tmp_path, "LAMBDA_PYTHON_VERSION=3.99", "LAMBDA_COMPILE_PYTHON=/nonexistent/python"
    )
    assert "no Python 3.99 found" in result.stderr
    assert (artifacts / "authorizer.py").is_file()
    assert not list(artifacts.rglob("*.pyc"))


def test_the_package_holds_bytecode_for_the_runtime_python(tmp_path: Path) -> None:
    python = _runtime_python("3.12")
    if python is None:
        pytest.skip("no Python 3.12 on this machine (the build then skips bytecode, see above)")
    _, artifacts = _make_package(tmp_path)
    pyc = artifacts / "__pycache__" / "authorizer.cpython-312.pyc"
    magic = subprocess.run(
        [
            python,
            "-c",
            "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    data = pyc.read_bytes()
    assert data[:4].hex() == magic  # Written by 3.12, whatever Python runs the build.
    assert int.from_bytes(data[4:8], "little") == 0b01  # PEP 552: hash-based, unchecked.
    assert b"/var/task/authorizer.py" in data  # The path the runtime loads it from.
    assert str(artifacts).encode() not in data
    # The same sources give the same bytes (the package is reproducible with its bytecode).
    (tmp_path / "again").mkdir()
    _, again = _make_package(tmp_path / "again")
    assert (again / "__pycache__" / "authorizer.cpython-312.pyc").read_bytes() == data
