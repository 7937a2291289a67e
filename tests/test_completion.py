"""TAB completion: `kubectl_complete-imgaccess`, called by the real kubectl (`kubectl __complete imgaccess ...`)
with only the plugin on PATH, against the sandbox API server."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

from kubectl_imgaccess.catalog import RULES
from kubectl_imgaccess.cli.complete import LOOKUP_SECONDS, candidates
from kubectl_imgaccess.cli.flags import build_parser
from kubectl_imgaccess.render import FORMATS
from tests.clitools import ROOT
from tests.sandbox.fixtures import kubectl_path
from tools.sandbox.server import Fault, Sandbox

BIN = Path(sys.executable).parent


def values(args: List[str]) -> Tuple[List[str], str]:
    found, directive = candidates(args)
    return [v for v, _ in found], directive


def _sub(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise AssertionError(name)


# -- static: no cluster, no client -------------------------------------------------------------------------


def test_subcommands_with_their_help() -> None:
    found, directive = candidates([""])
    assert directive == ":4"
    assert {v for v, _ in found} >= {"check", "fix", "rules", "explain", "version"}
    assert all(h for _, h in found)
    assert values(["ch"]) == (["check"], ":4")


def test_flags_come_from_the_parser() -> None:
    check = _sub("check")
    expected = {s for a in check._actions if a.help != argparse.SUPPRESS for s in a.option_strings}
    assert set(values(["check", "-"])[0]) == expected
    assert "--fail-on" in expected and "--namespace" in expected


def test_hidden_and_already_given_flags_are_not_offered() -> None:
    assert "--docker-password" not in values(["fix", "--"])[0]
    given = values(["check", "--offline", "--"])[0]
    assert "--offline" not in given and "--filename" in given  # -f is repeatable


def test_option_values() -> None:
    assert values(["check", "-o", ""]) == (list(FORMATS), ":4")
    assert values(["check", "-o", "j"]) == (["json", "junit"], ":4")
    assert values(["check", "--output=y"]) == (["--output=yaml"], ":4")
    assert values(["rules", "-o", ""])[0] == ["table", "json", "yaml"]
    assert values(["check", "--fail-on", ""])[0] == ["error", "warning", "info", "never"]
    assert values(["check", "-f", ""]) == ([], ":0")
    assert values(["check", "--kubeconfig", ""]) == ([], ":0")
    assert values(["check", "--probe-concurrency", ""]) == ([], ":4")


def test_rule_ids_after_explain() -> None:
    assert values(["explain", ""]) == ([r.id for r in RULES], ":4")
    found, _ = candidates(["explain", "IA00"])
    assert all(v.startswith("IA00") for v, _ in found) and dict(found)["IA004"] == "no-credential-for-registry"
    assert values(["explain", "IA004", ""]) == ([], ":4")


def test_global_flags_before_the_command_are_read() -> None:
    assert values(["--context", "x", ""])[0] == values([""])[0]
    assert values(["-n", "ns", "check", "-o", ""])[0] == list(FORMATS)


def test_contexts_from_the_kubeconfig_given(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    kc.write_text("contexts:\n- name: prod\n  context: {cluster: c1}\n- name: dev\n  context: {cluster: c2}\n")
    assert values(["check", "--kubeconfig", str(kc), "--context", ""]) == (["dev", "prod"], ":4")
    assert values(["check", f"--kubeconfig={kc}", "--context", "p"]) == (["prod"], ":4")


STATIC_PROGRAM = """
import io, sys, contextlib
from kubectl_imgaccess.cli.complete import main
with contextlib.redirect_stdout(io.StringIO()):
    main(sys.argv[1:])
print(any(m == "kubernetes" or m.startswith("kubernetes.") for m in sys.modules))
"""


@pytest.mark.parametrize("args", [[""], ["check", "-"], ["check", "-o", ""], ["explain", "IA0"],
                                  ["fix", "--strategy", ""], ["check", "--context", ""], ["check", "-f", ""]])
def test_static_completion_never_imports_the_client(args: List[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", STATIC_PROGRAM, *args], capture_output=True, text=True,
                          check=True, env={**os.environ, "KUBECONFIG": os.devnull})
    assert proc.stdout.strip() == "False"


# -- through the real kubectl, against the sandbox ---------------------------------------------------------


@pytest.fixture
def seeded(sandbox: Sandbox, tmp_path: Path) -> Iterator[Tuple[Sandbox, Dict[str, str]]]:
    """The sandbox with the examples, and an environment whose PATH holds only the plugin's two executables."""
    sandbox.load_dir(str(ROOT / "examples"))
    plugin_dir = tmp_path / "plugins"
    plugin_dir.mkdir()
    for exe in ("kubectl-imgaccess", "kubectl_complete-imgaccess"):
        (plugin_dir / exe).symlink_to(BIN / exe)
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": str(plugin_dir), "HOME": str(home),
           "KUBECONFIG": sandbox.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace="sample-domain1-ns")}
    yield sandbox, env


def complete(env: Dict[str, str], *args: str) -> Tuple[List[str], str, float]:
    started = time.monotonic()
    proc = subprocess.run([kubectl_path(), "__complete", "imgaccess", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "Traceback" not in proc.stderr
    return [line.split("\t")[0] for line in lines[:-1]], lines[-1], elapsed


NAMESPACES = ["billing-ns", "hr-ns", "inventory-ns", "orders-ns", "payments-ns", "reports-ns",
              "sample-domain1-ns", "sample-domain2-ns", "weblogic-operator-ns"]


def test_kubectl_completes_namespaces_and_domains(seeded: Tuple[Sandbox, Dict[str, str]]) -> None:
    _, env = seeded
    names, directive, _ = complete(env, "check", "-n", "")
    assert set(NAMESPACES) <= set(names) and directive == ":4"
    assert complete(env, "check", "-n", "sample")[:2] == (["sample-domain1-ns", "sample-domain2-ns"], ":4")
    # the context's namespace, then -n, then -A
    assert complete(env, "check", "")[:2] == (["sample-domain1"], ":4")
    assert complete(env, "fix", "-n", "billing-ns", "")[:2] == (["billing"], ":4")
    assert complete(env, "check", "--namespace=billing-ns", "")[:2] == (["billing"], ":4")
    all_domains = complete(env, "check", "-A", "")[0]
    assert {"billing", "sample-domain1", "sample-domain2"} <= set(all_domains)
    assert "sample-domain1" not in complete(env, "check", "-A", "sample-domain1", "")[0]  # given already


def test_kubectl_completes_static_candidates(seeded: Tuple[Sandbox, Dict[str, str]]) -> None:
    _, env = seeded
    assert {"check", "fix", "rules", "explain", "version"} <= set(complete(env, "")[0])
    assert complete(env, "check", "-o", "")[:2] == (list(FORMATS), ":4")
    assert complete(env, "explain", "IA01")[0] == [r.id for r in RULES if r.id.startswith("IA01")]
    assert complete(env, "check", "-f", "")[:2] == ([], ":0")


def test_kubeconfig_and_context_flags_are_honoured(seeded: Tuple[Sandbox, Dict[str, str]], tmp_path: Path) -> None:
    sandbox, env = seeded
    other = Sandbox()
    other.start()
    try:
        other.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "only-in-other"}})
        other_kc = _renamed(other.write_kubeconfig(str(tmp_path / "other"), context="second"), "other")
        assert "only-in-other" not in complete(env, "check", "-n", "")[0]
        assert "only-in-other" in complete(env, "check", "--kubeconfig", other_kc, "-n", "")[0]
        assert "only-in-other" in complete(env, "--kubeconfig", other_kc, "check", "-n", "")[0]  # kubectl's order
        # every flag the command knows counts, e.g. a token laid over the kubeconfig's
        assert complete(env, "check", "--token", "not-a-token", "-n", "")[:2] == ([], ":4")
        # KUBECONFIG with two files: the first file's current-context, unless --context names the other
        first = sandbox.write_kubeconfig(str(tmp_path / "first"), context="first")
        merged = {**env, "KUBECONFIG": f"{first}{os.pathsep}{other_kc}"}
        assert "only-in-other" not in complete(merged, "check", "-n", "")[0]
        assert "only-in-other" in complete(merged, "check", "--context", "second", "-n", "")[0]
        assert complete(merged, "check", "--context", "")[:2] == (["first", "second"], ":4")
    finally:
        other.stop()


def _renamed(kubeconfig: str, suffix: str) -> str:
    """Give the file's clusters and users names of their own, so that merging it with another keeps them."""
    import yaml

    with open(kubeconfig, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    for section in ("clusters", "users"):
        for entry in doc[section]:
            entry["name"] += "-" + suffix
    for entry in doc["contexts"]:
        entry["context"]["cluster"] += "-" + suffix
        entry["context"]["user"] += "-" + suffix
    with open(kubeconfig, "w", encoding="utf-8") as fh:
        yaml.safe_dump(doc, fh)
    return kubeconfig


def test_a_cluster_that_fails_or_hangs_gives_no_candidates(
        seeded: Tuple[Sandbox, Dict[str, str]], tmp_path: Path) -> None:
    sandbox, env = seeded
    assert complete({**env, "KUBECONFIG": str(tmp_path / "missing")}, "check", "-n", "")[:2] == ([], ":4")
    sandbox.inject(Fault(method="GET", path_regex=r"^/api/v1/namespaces$", status=403, times=5))
    assert complete(env, "check", "-n", "")[:2] == ([], ":4")
    sandbox.clear_faults()
    sandbox.inject(Fault(method="GET", path_regex=r"^/api/v1/namespaces$", delay=15.0, times=5))
    names, directive, elapsed = complete(env, "check", "-n", "")
    assert (names, directive) == ([], ":4")
    assert elapsed < LOOKUP_SECONDS + 5  # gave up on its own, long before the server would have answered


def test_pip_installs_the_completion_executable() -> None:
    assert os.access(BIN / "kubectl_complete-imgaccess", os.X_OK)
