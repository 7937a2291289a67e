"""`make dist`: the krew version, the ported krew manifest checks, and this machine's archive installed the
way krew installs it (files moved as the manifest says, bin linked) and run under other Pythons."""

from __future__ import annotations

import copy
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest
import yaml

from kubectl_imgaccess import __version__
from tests.clitools import FIXTURES, ROOT, run
from tools import dist, krew
from tools.sandbox.server import Sandbox

FAKE_SHA = "ab" * 32


def _rendered() -> Dict[str, Any]:
    built = [dist.Built(o, a, Path("x"), f"{i:02x}" * 32, 0, 0) for i, (o, a) in enumerate(dist.PLATFORMS)]
    text = dist.render_manifest(dist.TEMPLATE.read_text(encoding="utf-8"), "v1.2.3", built)
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


# -- version -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, krew_version",
    [("0.1.0", "v0.1.0"), ("1.2.3rc1", "v1.2.3-rc.1"), ("1.2.3a2", "v1.2.3-alpha.2"), ("2.0.0b1", "v2.0.0-beta.1"),
     ("1.2.3.dev4", "v1.2.3-dev.4"), ("1.2.3rc1.dev2", "v1.2.3-rc.1.dev.2"), ("1.2.3+g1234", "v1.2.3+g1234")],
)
def test_krew_version_is_semver(version: str, krew_version: str) -> None:
    assert dist.krew_version(version) == krew_version
    assert krew.SEMVER.fullmatch(krew_version)


@pytest.mark.parametrize("version", ["1.2", "1.2.3.4", "1!1.2.3", "1.2.3.post1", "not-a-version"])
def test_versions_without_a_semver_form_are_refused(version: str) -> None:
    with pytest.raises(dist.DistError) as err:
        dist.krew_version(version)
    assert repr(version) in str(err.value)


def test_the_package_version_has_a_krew_form() -> None:
    assert dist.krew_version(__version__) == f"v{__version__}"


def test_dependencies_are_resolved_for_the_oldest_python() -> None:
    assert dist.oldest_python(">=3.9") == "3.9"
    assert dist.oldest_python(">=3.10,<4") == "3.10"


# -- the manifest ------------------------------------------------------------------------------------------


def test_the_rendered_template_passes_krews_checks() -> None:
    doc = _rendered()
    assert krew.validate(doc, "imgaccess.yaml") == []
    spec = doc["spec"]
    assert spec["version"] == "v1.2.3" and len(spec["shortDescription"]) <= krew.SHORT_DESCRIPTION_MAX
    pairs = {(p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"]) for p in spec["platforms"]}
    assert pairs == set(dist.PLATFORMS)
    for p in spec["platforms"]:
        os_name, arch = p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"]
        assert p["uri"].endswith(f"/v1.2.3/kubectl-imgaccess_v1.2.3_{os_name}_{arch}.tar.gz")
        assert p["bin"] == dist.PLUGIN
        assert {f["from"] for f in p["files"]} == {dist.PLUGIN, dist.COMPLETER, "lib", "LICENSE"}


def _set(doc: Dict[str, Any], path: str, value: Any) -> None:
    *head, last = path.split(".")
    node: Any = doc
    for key in head:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        node.pop(last, None)
    else:
        node[last] = value


@pytest.mark.parametrize(
    "path, value, problem",
    [
        ("apiVersion", "krew.googlecontainertools.github.com/v1alpha1", "apiVersion"),
        ("kind", "Plugins", "kind"),
        ("metadata.name", "img-access", "metadata.name"),
        ("spec.shortDescription", "Audit and fix image pull credentials of WebLogic Domains", "over 50"),
        ("spec.shortDescription", "two\nlines", "line breaks"),
        ("spec.shortDescription", "", "short description"),
        ("spec.description", "word " * 20 + "\n", "exceeds 80"),
        ("spec.caveats", "x " * 41, "exceeds 80"),
        ("spec.version", "0.1.0", "semantic version"),
        ("spec.version", "v0.1", "semantic version"),
        ("spec.version", "v01.1.0", "semantic version"),
        ("spec.platforms.0.sha256", "0" * 63, "sha256 value"),
        ("spec.platforms.0.sha256", "AB" * 32, "sha256 value"),
        ("spec.platforms.0.sha256", None, "sha256 sum has to be set"),
        ("spec.platforms.0.uri", "https://example.com/kubectl-imgaccess", "not a .tar.gz"),
        ("spec.platforms.0.bin", None, "bin has to be set"),
        ("spec.platforms.0.files", [], "non-empty"),
        ("spec.platforms.0.files", [{"from": "lib", "to": "lib/"}], "not a clean path"),
        ("spec.platforms.0.files", [{"from": "lib", "to": "../lib"}], "leaves the install folder"),
        ("spec.platforms.0.files", [{"from": "lib"}], "to has to be set"),
        ("spec.platforms.0.selector", None, "nil selector"),
        ("spec.platforms.0.selector", {"matchLabels": {"os": "linux", "cpu": "x"}}, "key 'cpu' not supported"),
        ("spec.platforms.0.selector", {"matchLabels": {}}, "matchLabels specified but empty"),
        ("spec.platforms.0.selector", {}, "empty selector"),
        ("spec.platforms.0.selector", {"matchExpressions": [{"key": "os", "operator": "Is", "values": ["x"]}]},
         "not a label selector operator"),
        ("spec.platforms.0.selector", {"matchLabels": {"os": "plan9"}}, "matches no supported"),
        ("spec.platforms.1.selector", {"matchLabels": {"os": "linux", "arch": "amd64"}}, "overlapping"),
        ("spec.platforms", [], "should have a platform"),
    ],
)
def test_each_krew_rule_can_fail(path: str, value: Any, problem: str) -> None:
    doc = copy.deepcopy(_rendered())
    _set(doc, path, value)
    problems = krew.validate(doc, "imgaccess.yaml")
    assert any(problem in p for p in problems), problems


def test_the_file_name_is_the_plugin_name() -> None:
    assert any("metadata.name" in p for p in krew.validate(_rendered(), "other.yaml"))
    assert any("not allowed" in p for p in krew.validate(_rendered(), "con.yaml"))


def test_a_template_placeholder_without_a_value_stops_the_build() -> None:
    with pytest.raises(dist.DistError):
        dist.render_manifest("spec:\n  version: ${VERSION}\n  sha256: ${SHA256_plan9_mips}\n", "v1.0.0", [])


# -- this machine's archive, installed like krew installs it ----------------------------------------------

ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())


def _other_pythons() -> List[str]:
    """Interpreters 3.9-3.13 other than the running one's version: the oldest and the newest found."""
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found: Dict[Tuple[int, int], str] = {}
    for minor in range(9, 14):
        if f"3.{minor}" == mine:
            continue
        hits = sorted(glob.glob(os.path.join(root, "versions", f"3.{minor}.*", "bin", f"python3.{minor}")))
        on_path = shutil.which(f"python3.{minor}")
        if hits or on_path:
            found[(3, minor)] = hits[-1] if hits else str(on_path)
    ordered = [found[k] for k in sorted(found)]
    return [ordered[0], ordered[-1]] if len(ordered) >= 2 else ordered


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This machine's linux archive, built by tools.dist and installed as krew does: unpacked into a staging
    folder, the manifest's `files` moved into the plugin folder, `bin` linked into a bin folder."""
    if sys.platform != "linux" or ARCH is None:
        pytest.skip(f"no krew archive for {sys.platform}/{platform.machine()}")
    work = tmp_path_factory.mktemp("krew")
    out = work / "dist"
    code = dist.main(["--dist", str(out), "--platform", f"linux/{ARCH}"])
    assert code == 0
    archive = out / f"kubectl-imgaccess_{dist.krew_version(__version__)}_linux_{ARCH}.tar.gz"
    staging, install, bindir = work / "staging", work / "store" / "imgaccess" / "v", work / "bin"
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            assert not member.name.startswith(("/", "..")) and ".." not in Path(member.name).parts
        options: Dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(staging, **options)
    entry = next(p for p in yaml.safe_load(dist.TEMPLATE.read_text(encoding="utf-8"))["spec"]["platforms"]
                 if p["selector"]["matchLabels"] == {"os": "linux", "arch": ARCH})
    install.mkdir(parents=True)
    for op in entry["files"]:
        source = staging / op["from"]
        target = install / (source.name if op["to"] == "." else op["to"])
        shutil.move(str(source), str(target))
    bindir.mkdir()
    (bindir / "kubectl-imgaccess").symlink_to(install / entry["bin"])
    yield bindir


@pytest.mark.slow
def test_the_archive_holds_the_launchers_the_licence_and_no_compiled_code(installed: Path) -> None:
    folder = (installed / "kubectl-imgaccess").resolve().parent
    assert (folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    for exe in (dist.PLUGIN, dist.COMPLETER):
        assert os.access(folder / exe, os.X_OK)
    lib = folder / "lib"
    assert (lib / "kubectl_imgaccess" / "cli" / "main.py").is_file()
    assert (lib / "kubernetes").is_dir() and not (lib / "tzdata").exists()
    compiled = [p for p in lib.rglob("*") if p.suffix in (".so", ".pyd", ".dylib")]
    assert compiled == []
    assert list(lib.glob("kubernetes-*.dist-info/LICENSE*")) or list(lib.glob("kubernetes-*.dist-info/licenses"))


def _runner(bindir: Path, python: str, how: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the linked plugin with `python` chosen from PATH (python3) or from KUBECTL_IMGACCESS_PYTHON."""
    pydir = bindir.parent / f"py-{Path(python).name}"
    pydir.mkdir(exist_ok=True)
    if not (pydir / "python3").exists():
        (pydir / "python3").symlink_to(python)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "PYTHON", "VIRTUAL_ENV"))}
    env["XDG_CONFIG_HOME"] = str(ROOT / "tests" / "fixtures" / "no-config")
    if how == "path":
        env["PATH"] = f"{bindir}:{pydir}:/usr/bin:/bin"
    else:
        env["PATH"] = f"{bindir}:/usr/bin:/bin"
        env["KUBECTL_IMGACCESS_PYTHON"] = python

    # the user's current directory and PYTHONPATH must not shadow the bundled packages
    cwd = bindir.parent / "cwd"
    cwd.mkdir(exist_ok=True)
    for shadow in ("yaml.py", "json.py"):
        (cwd / shadow).write_text("raise SystemExit('the current directory was imported from')\n")
    env["PYTHONPATH"] = str(cwd)

    def go(*args: str, extra: Any = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bindir / "kubectl-imgaccess"), *args], capture_output=True, text=True,
                              env={**env, **(extra or {})}, timeout=120, check=False, cwd=cwd)

    return go


@pytest.mark.slow
@pytest.mark.parametrize("which", [0, 1])
def test_the_unpacked_archive_runs_under_other_pythons(installed: Path, which: int, tmp_path: Path) -> None:
    pythons = _other_pythons()
    if len(pythons) <= which:
        pytest.skip("fewer than two other Pythons 3.9-3.13 on this machine")
    python = pythons[which]
    go = _runner(installed, python, "path" if which == 0 else "env")

    proc = go("version")
    assert (proc.returncode, proc.stdout) == (0, f"Client Version: kubectl-imgaccess {__version__}\n"), proc.stderr

    failing = str(FIXTURES / "three-mistakes.yaml")
    proc = go("check", "--offline", "-f", failing, "-o", "json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout) == json.loads(run(["check", "--offline", "-f", failing, "-o", "json"]).stdout)

    proc = go("check", "--bogus")
    assert proc.returncode == 2 and "--bogus" in proc.stderr and "Traceback" not in proc.stderr

    completer = (installed / "kubectl-imgaccess").resolve().parent / dist.COMPLETER
    env = {"PATH": f"{Path(python).parent}:/usr/bin:/bin", "KUBECTL_IMGACCESS_PYTHON": python}
    proc = subprocess.run([str(completer), "explain", "IA00"], capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("IA001\t") and proc.stdout.endswith(":4\n")

    with Sandbox() as sandbox:
        sandbox.load_dir(str(ROOT / "examples"))
        kc = sandbox.write_kubeconfig(str(tmp_path / "kc"))
        archive = go("check", "-A", "-o", "json", extra={"KUBECONFIG": kc})
        installed_run = run(["check", "-A", "-o", "json"], env={"KUBECONFIG": kc})
    assert archive.returncode == installed_run.returncode == 1, archive.stderr
    assert archive.stderr == installed_run.stderr
    assert json.loads(archive.stdout) == json.loads(installed_run.stdout)
    assert len(json.loads(archive.stdout)["domains"]) >= 8


@pytest.mark.slow
def test_kubectl_runs_the_linked_archive(installed: Path) -> None:
    from tests.sandbox.fixtures import kubectl_path

    kubectl = kubectl_path()
    pythons = _other_pythons() or [sys.executable]
    env = {"PATH": f"{installed}:/usr/bin:/bin", "KUBECTL_IMGACCESS_PYTHON": pythons[0], "HOME": str(installed)}
    proc = subprocess.run([kubectl, "imgaccess", "check", "--offline", "-f", str(FIXTURES / "three-mistakes.yaml")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr


@pytest.mark.slow
def test_a_missing_or_old_python_is_one_line(installed: Path, tmp_path: Path) -> None:
    env = {"PATH": f"{installed}:/usr/bin:/bin", "KUBECTL_IMGACCESS_PYTHON": str(tmp_path / "no-python")}
    proc = subprocess.run([str(installed / "kubectl-imgaccess"), "version"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "python3" in proc.stderr
    old = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[5-8].*/bin/python3.[5-8]")))
    if not old:
        return
    env["KUBECTL_IMGACCESS_PYTHON"] = old[0]
    proc = subprocess.run([str(installed / "kubectl-imgaccess"), "version"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode == 2 and "needs Python 3.9 or newer" in proc.stderr and proc.stderr.count("\n") == 1
