"""No empty passes: a run that checked nothing is never reported as a pass; and mixed mode puts objects without
a namespace where `kubectl apply -f` puts them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict, Optional

import pytest

from tests.clitools import FIXTURES, ROOT, run
from tests.sandbox.fixtures import kubectl_path
from tools.sandbox import Rule
from tools.sandbox.server import Sandbox

EXAMPLES = ROOT / "examples"


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_named_domains_are_exit_2_listing_all(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    line = _one_error_line(run(["check", "-n", "orders-ns", "orderz"], env=kube_env))
    assert line == 'error: Domain "orderz" not found in namespace orders-ns'
    line = _one_error_line(run(["check", "-n", "orders-ns", "orders", "orderz", "ordrs"], env=kube_env))
    assert line == 'error: Domains "orderz", "ordrs" not found in namespace orders-ns'
    line = _one_error_line(run(["check", "-A", "orderz", "orders"], env=kube_env))
    assert line == 'error: Domain "orderz" not found in any namespace'
    # the same names, all present: audited as before
    assert run(["check", "-n", "orders-ns", "orders"], env=kube_env).returncode == 1


def test_missing_namespace_is_exit_2(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    line = _one_error_line(run(["check", "-n", "no-such-namespace"], env=kube_env))
    assert line == 'error: namespace "no-such-namespace" not found'


def test_namespace_forbidden_to_tell_is_a_note(sandbox: Sandbox, tmp_path: Path, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.add_user("team", "team-token")
    sandbox.allow(Rule("team", ["get", "list"], ["domains", "clusters", "serviceaccounts", "secrets", "pods", "events"],
                  namespaces=["empty-ns"]))
    cfg = sandbox.write_kubeconfig(str(tmp_path / "team"), user="team")
    proc = run(["check", "-n", "empty-ns"], env=dict(kube_env, KUBECONFIG=cfg))
    assert proc.returncode in (0, 3), proc.stderr
    assert "cannot tell whether namespace empty-ns exists" in proc.stderr
    assert "No Domains found in empty-ns namespace." in proc.stderr


def test_empty_cluster_scope_says_so_like_kubectl(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "quiet"}})
    proc = run(["check", "-n", "quiet"], env=kube_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == ["No Domains found in quiet namespace."]
    line = _one_error_line(run(["check", "-n", "quiet", "--require-domains"], env=kube_env))
    assert line == "error: No Domains found in quiet namespace (--require-domains)"
    proc = run(["check", "-A", "-l", "team=nobody"], env=kube_env)
    assert proc.returncode == 0 and proc.stderr.splitlines() == ["No Domains found."]
    assert run(["check", "-A", "-l", "team=nobody", "--require-domains"], env=kube_env).returncode == 2


@pytest.mark.parametrize("content", [
    "",
    "---\n# rendered by a chart with every Domain disabled\n---\n",
    "apiVersion: v1\nkind: List\nitems: []\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
])
def test_input_without_a_domain_is_exit_2(content: str, tmp_path: Path) -> None:
    manifest = tmp_path / "app.yaml"
    manifest.write_text(content)
    line = _one_error_line(run(["check", "--offline", "-f", str(manifest)]))
    assert line == f"error: no Domain in the input ({manifest})"
    assert _one_error_line(run(["check", "--offline", "-f", "-"], stdin=content)) == \
        "error: no Domain in the input (<stdin>)"


def test_folder_without_a_domain_is_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "x.yaml"  # a directory with a manifest's name
    folder.mkdir()
    line = _one_error_line(run(["check", "--offline", "-f", str(folder)]))
    assert line.startswith("error: no Domain in the input")


def test_list_with_items_not_a_list_is_exit_2(tmp_path: Path) -> None:
    manifest = tmp_path / "list.yaml"
    manifest.write_text("apiVersion: v1\nkind: List\nitems: {}\n")
    proc = run(["check", "--offline", "-f", str(manifest)])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_missing_names_in_files_are_all_listed() -> None:
    line = _one_error_line(run(["check", "--offline", "-f", str(FIXTURES / "healthy.yaml"), "nope", "good",
                                "nada"]))
    assert line == 'error: Domains "nope", "nada" not found in the files given with -f/-k'


def test_selector_matching_nothing_in_files(tmp_path: Path) -> None:
    proc = run(["check", "--offline", "-f", str(FIXTURES / "healthy.yaml"), "-l", "team=nobody"])
    assert proc.returncode == 0 and "No Domains in the files match the selector." in proc.stderr
    proc = run(["check", "--offline", "-f", str(FIXTURES / "healthy.yaml"), "-l", "team=nobody",
                "--require-domains"])
    assert proc.returncode == 2


NAMESPACELESS = """apiVersion: weblogic.oracle/v9
kind: Domain
metadata:
  name: app
spec:
  domainUID: app
  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0
  imagePullSecrets:
  - name: ocr
---
apiVersion: v1
kind: Secret
metadata:
  name: ocr
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"container-registry.oracle.com": {"username": "u", "password": "p"}}}'
"""


@pytest.mark.parametrize("flags, context_ns", [([], "team-a"), (["-n", "team-b"], "team-a"), ([], None)])
def test_mixed_mode_namespace_is_kubectl_applys(flags: list[str], context_ns: Optional[str], sandbox: Sandbox,
                                                 tmp_path: Path, kube_env: Dict[str, str]) -> None:
    for ns in ("team-a", "team-b", "default"):
        sandbox.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    cfg = sandbox.write_kubeconfig(str(tmp_path / "ctx"), namespace=context_ns)
    env = dict(kube_env, KUBECONFIG=cfg)
    manifest = tmp_path / "app.yaml"
    manifest.write_text(NAMESPACELESS)
    sandbox.clear_requests()
    applied = subprocess.run([kubectl_path(), "apply", "--dry-run=server", "--validate=false", "-f", str(manifest),
                              *flags], env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert applied.returncode == 0, applied.stderr
    created = [r for r in sandbox.requests if r.method in ("POST", "PATCH") and "/domains" in r.path]
    assert created, [(r.method, r.path) for r in sandbox.requests]
    applied_ns = created[0].path.split("/namespaces/", 1)[1].split("/", 1)[0]
    proc = run(["check", "-f", str(manifest), "-o", "json", *flags], env=env)
    assert proc.returncode in (0, 1, 3), proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["source"]["mode"] == "mixed"
    assert [d["namespace"] for d in doc["domains"]] == [applied_ns]
    assert applied_ns == (flags[1] if flags else context_ns or "default")
    # the Secret from the same file landed beside the Domain, so the pull path is covered
    assert doc["domains"][0]["images"][0]["credentials"] == [{"secret": "ocr", "key": "container-registry.oracle.com"}]
