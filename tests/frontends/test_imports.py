"""The front doors import no web framework, no server and no boto3 until they are used."""

from __future__ import annotations

import subprocess
import sys

from tests.web import ROOT


def test_importing_the_front_doors_imports_no_framework_server_or_boto3() -> None:
    code = (
        "import sys, crlcheck.frontends; "
        "roots = {m.split('.')[0] for m in sys.modules}; "
        "bad = sorted(roots & {'boto3', 'botocore', 'waitress', 'uvicorn', 'starlette', "
        "'fastapi', 'flask', 'werkzeug', 'django', 'asgiref'}); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)
