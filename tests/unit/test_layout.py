"""The layout's promises: the core never imports the AWS package, nor boto3; the README runs."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "crlcheck"
ADAPTERS = {"cli.py", "__main__.py", "fetch.py"}  # Adapters outside packages that do I/O.
ADAPTER_PACKAGES = {"aws", "frontends"}  # Packages of adapters (files, sockets, S3).


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


CORE = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if not ADAPTER_PACKAGES & set(p.relative_to(PACKAGE).parts) and p.name not in ADAPTERS
)


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_modules_import_nothing_from_the_aws_package_nor_boto(path: Path) -> None:
    for name in _imports(path):
        assert not name.startswith(("crlcheck.aws", "boto3", "botocore")), (path, name)
        assert name not in ("os", "boto3"), f"{path.name} imports {name}: the core does no I/O"


def test_import_crlcheck_does_not_import_boto3() -> None:
    code = (
        "import sys, crlcheck, crlcheck.cli; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_the_readme_library_snippet_runs_on_the_bundled_examples() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Library") :]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert snippet is not None
    result = subprocess.run(
        [sys.executable, "-c", snippet.group(1)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert result.stdout.split() == ["False", "revoked"]


def test_the_built_wheel_holds_every_subpackage(tmp_path: Path) -> None:
    """What pip installs is what the tests import: every crlcheck package is in the wheel."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("crlcheck-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for init in PACKAGE.rglob("__init__.py"):
        assert f"{init.relative_to(ROOT).as_posix()}" in names
