"""`pip install .` and `pipx install .` into fresh environments: both executables on PATH, the real kubectl finds
the plugin without warnings, and the image's entrypoint conditions (no HOME, a working directory it must not
write to, the in-cluster service account) hold for the installed package."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from kubectl_imgaccess import __version__
from kubectl_imgaccess.kube.client import SA_DIR_ENV
from tests.clitools import FIXTURES, ROOT
from tests.sandbox.fixtures import kubectl_path
from tools.dist import source_copy
from tools.matrix import MINORS
from tools.sandbox.server import Sandbox

EXECUTABLES = ("kubectl-imgaccess", "kubectl_complete-imgaccess")


def _clean_env(**extra: str) -> Dict[str, str]:
    keep = ("PIP_", "SSL_CERT", "REQUESTS_CA_BUNDLE", "LANG", "LC_")
    env = {k: v for k, v in os.environ.items() if k.startswith(keep)}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def pip_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv (no system site-packages) with `pip install .` run in (a copy of) the source tree: builds
    running at the same time in other test workers use the tree's build/ directory."""
    venv = tmp_path_factory.mktemp("pip") / "venv"
    source = source_copy(venv.parent / "src")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "."], cwd=source,
                          capture_output=True, text=True, timeout=600,
                          env=_clean_env(PATH=f"{venv / 'bin'}:/usr/bin:/bin", HOME=str(venv.parent)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    yield venv / "bin"


@pytest.mark.slow
def test_pip_install_puts_both_executables_on_path(pip_bin: Path) -> None:
    for exe in EXECUTABLES:
        assert shutil.which(exe, path=str(pip_bin)) == str(pip_bin / exe)
    proc = subprocess.run([str(pip_bin / "kubectl_complete-imgaccess"), "explain", "IA00"], capture_output=True,
                          text=True, check=True)
    assert proc.stdout.splitlines()[-1] == ":4" and proc.stdout.startswith("IA001\t")


@pytest.mark.slow
def test_kubectl_lists_and_runs_the_plugin_without_warnings(pip_bin: Path, tmp_path: Path) -> None:
    kubectl = kubectl_path()
    env = _clean_env(PATH=str(pip_bin), HOME=str(tmp_path))
    listed = subprocess.run([kubectl, "plugin", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert str(pip_bin / "kubectl-imgaccess") in listed.stdout.splitlines()
    assert "warning" not in (listed.stdout + listed.stderr).lower()
    ran = subprocess.run([kubectl, "imgaccess", "version"], capture_output=True, text=True, env=env, timeout=60)
    assert (ran.returncode, ran.stdout) == (0, f"Client Version: kubectl-imgaccess {__version__}\n")


def _tree(root: Path) -> Dict[str, Tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def service_account(sandbox: Sandbox, tmp_path: Path) -> Tuple[Sandbox, Dict[str, str]]:
    """What a pod sees: a mounted service account token, ca.crt and namespace, the service host and port."""
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("pod-token")
    shutil.copy(sandbox.ca_file, sa / "ca.crt")
    (sa / "namespace").write_text("imgaccess-system")
    sandbox.add_user("system:serviceaccount:imgaccess-system:imgaccess", "pod-token", superuser=True)
    sandbox.load_dir(str(ROOT / "examples"))
    return sandbox, {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(sandbox.port),
                     SA_DIR_ENV: str(sa)}


@pytest.mark.slow
def test_entrypoint_without_home_in_a_directory_it_must_not_write(
        pip_bin: Path, tmp_path: Path, service_account: Tuple[Sandbox, Dict[str, str]]) -> None:
    """The image's conditions: HOME unset, no kubeconfig, the working directory read-only (checked by its
    content, since the suite may run as root), bytecode compiled at install time, temporary files in TMPDIR."""
    sandbox, pod_env = service_account
    workdir, tmp = tmp_path / "ro", tmp_path / "tmp"
    workdir.mkdir()
    tmp.mkdir()
    workdir.chmod(0o555)
    venv_before = _tree(pip_bin.parent)
    env = _clean_env(PATH=str(pip_bin), TMPDIR=str(tmp), PYTHONDONTWRITEBYTECODE="1", **pod_env)
    assert "HOME" not in env

    def entrypoint(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl-imgaccess", *args], cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    assert entrypoint("version").returncode == 0
    assert entrypoint("rules").returncode == 0
    offline = entrypoint("check", "--offline", "-f", str(FIXTURES / "three-mistakes.yaml"))
    assert offline.returncode == 1, offline.stderr
    cronjob = entrypoint("check", "-A", "--fail-on", "never", "-o", "json")
    assert cronjob.returncode == 0, cronjob.stderr
    assert cronjob.stderr == ""
    assert len(json.loads(cronjob.stdout)["domains"]) >= 8
    assert {r.user for r in sandbox.requests} == {"system:serviceaccount:imgaccess-system:imgaccess"}
    assert list(workdir.iterdir()) == []
    assert _tree(pip_bin.parent) == venv_before
    workdir.chmod(0o755)


@pytest.mark.slow
def test_pipx_install(tmp_path: Path) -> None:
    """`pipx install .` (pipx is a test dependency) leaves both executables in PIPX_BIN_DIR."""
    try:
        import pipx  # noqa: F401
    except ImportError:
        pytest.skip("pipx is not installed (pip install -e '.[test]')")
    home, bindir = tmp_path / "pipx", tmp_path / "bin"
    env = _clean_env(PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", HOME=str(tmp_path),
                     PIPX_HOME=str(home), PIPX_BIN_DIR=str(bindir), PIPX_MAN_DIR=str(tmp_path / "man"))
    proc = subprocess.run([sys.executable, "-m", "pipx", "install", "--python", sys.executable,
                           str(source_copy(tmp_path / "src"))],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for exe in EXECUTABLES:
        assert os.access(bindir / exe, os.X_OK), sorted(p.name for p in bindir.iterdir())
    listed = subprocess.run([kubectl_path(), "plugin", "list"], capture_output=True, text=True, timeout=60,
                            env=_clean_env(PATH=str(bindir), HOME=str(tmp_path)))
    assert listed.returncode == 0 and str(bindir / "kubectl-imgaccess") in listed.stdout.splitlines()
    assert "warning" not in (listed.stdout + listed.stderr).lower()
    ran = subprocess.run([str(bindir / "kubectl-imgaccess"), "check", "--bogus"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert ran.returncode == 2


def _dockerfile() -> List[Tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_builds_the_image_the_contract_describes() -> None:
    steps = _dockerfile()
    stages = [args for word, args in steps if word == "FROM"]
    assert len(stages) >= 2 and " AS " in stages[0].upper()
    final = steps[max(i for i, (w, _) in enumerate(steps) if w == "FROM"):]
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim", stages[-1])
    args = {w: a for w, a in steps if w == "ARG"}
    assert re.fullmatch(r"PYTHON_VERSION=3\.(\d+)", args["ARG"]) and int(args["ARG"].split(".")[1]) in MINORS
    user = next(a for w, a in final if w == "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0 and int(gid) > 0
    assert json.loads(next(a for w, a in final if w == "ENTRYPOINT")) == ["kubectl-imgaccess"]
    env = " ".join(a for w, a in final if w == "ENV")
    assert "HOME=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert next(a for w, a in final if w == "WORKDIR") == "/tmp"
    install = " ".join(a for w, a in final if w == "RUN")
    assert "--no-index" in install and "kubectl-imgaccess" in install  # only the wheels built in stage one
    for word, arguments in steps:
        if word == "COPY" and "--from" not in arguments:
            for source in arguments.split()[:-1]:
                assert (ROOT / source).exists(), source
    assert not any(w == "ADD" for w, _ in steps)
