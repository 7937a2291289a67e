"""The --help, --offline, rules, explain and version paths never import the `kubernetes` client."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.clitools import FIXTURES

PROGRAM = """
import contextlib, io, sys
from kubectl_imgaccess.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(code, "kubernetes" in sys.modules, any(m.startswith("kubernetes.") for m in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "--help"],
        ["rules"],
        ["rules", "-o", "json"],
        ["explain", "IA004"],
        ["explain", "secret-wrong-type"],
        ["version"],
        ["check", "--offline", "-f", str(FIXTURES)],
        ["check", "--offline", "-o", "sarif", "-f", str(FIXTURES / "three-mistakes.yaml")],
    ],
)
def test_kubernetes_is_not_imported(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, check=True)
    code, imported, submodules = proc.stdout.split()
    assert code in ("0", "1")
    assert imported == "False" and submodules == "False"


def test_only_the_cluster_adapter_imports_kubernetes() -> None:
    import pathlib

    package = pathlib.Path(__file__).resolve().parents[1] / "kubectl_imgaccess"
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "kube":
            continue
        for line in path.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("import kubernetes", "from kubernetes")):
                offenders.append(f"{path.relative_to(package)}: {stripped}")
    assert offenders == []
