"""Pytest fixtures around the sandbox, registered for every test module by tests/conftest.py
(`pytest_plugins`): request them as parameters, never import them by name. `kubectl_path` is a helper."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Dict, Iterator, Optional

import pytest

from tools.sandbox.server import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh, empty server per test (user "admin" with token "admin-token" is a superuser)."""
    sb = Sandbox()
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def sandbox_kubeconfig(sandbox: Sandbox, tmp_path: Path) -> str:
    """An admin kubeconfig for the sandbox, in the test's own directory."""
    return sandbox.write_kubeconfig(str(tmp_path / "kubeconfig"))


@pytest.fixture
def kube_env(sandbox_kubeconfig: str, tmp_path: Path) -> Dict[str, str]:
    """An environment for kubectl: its own HOME (kubectl caches discovery there) and the kubeconfig."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update({"HOME": str(home), "KUBECONFIG": sandbox_kubeconfig})
    return env


def kubectl_path() -> str:
    """The kubectl binary; a test that needs it skips without it, except in CI where that is a failure."""
    path = shutil.which("kubectl")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is not on PATH and CI=true: the kubectl tests must run in CI")
        pytest.skip("kubectl is not on PATH")
    return path


@pytest.fixture
def kubectl(kube_env: Dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real kubectl against the sandbox: `kubectl("get", "pods", env=..., input=...)`."""
    binary = kubectl_path()

    def run(
        *args: str,
        env: Optional[Dict[str, str]] = None,
        input: Optional[str] = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, *args],
            env=env or kube_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
