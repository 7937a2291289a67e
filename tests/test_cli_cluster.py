"""check against the sandbox API server through the console script and through the real kubectl plugin path."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Dict

import pytest

from tests.clitools import FIXTURES, ROOT, run, script
from tests.sandbox.fixtures import kubectl_path
from tools.sandbox import Rule
from tools.sandbox.server import Sandbox

EXAMPLES = ROOT / "examples"


def plugin_env(kube_env: Dict[str, str], tmp_path: Path) -> Dict[str, str]:
    """PATH with only kubectl and this project's script: no stray kubectl-imgaccess-* plugin can win."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(script(), bin_dir / "kubectl-imgaccess")
    kubectl_dir = os.path.dirname(os.path.realpath(kubectl_path()))
    env = dict(kube_env)
    env["PATH"] = os.pathsep.join([str(bin_dir), kubectl_dir, os.path.dirname(shutil.which("kubectl") or "")])
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    return env


def test_same_json_through_kubectl_and_the_script(sandbox: Sandbox, kube_env: Dict[str, str],
                                                  tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    env = plugin_env(kube_env, tmp_path)
    import subprocess

    via_kubectl = subprocess.run([kubectl_path(), "imgaccess", "check", "-A", "-o", "json"], env=env,
                                 capture_output=True, text=True, timeout=120, check=False)
    via_script = run(["check", "-A", "-o", "json"], env=env)
    assert via_kubectl.returncode == via_script.returncode == 1
    assert via_kubectl.stdout == via_script.stdout
    doc = json.loads(via_kubectl.stdout)
    assert doc["source"] == {"mode": "cluster", "context": "sandbox", "files": [], "baseline": None}
    rules = {d["name"]: {f["rule"] for f in d["findings"]} for d in doc["domains"]}
    assert rules["orders"] >= {"IA001", "IA008", "IA009"}
    assert rules["billing"] >= {"IA002"}
    assert rules["payments"] >= {"IA006"}
    assert rules["inventory"] >= {"IA007"}
    assert rules["reports"] >= {"IA011", "IA004"}
    assert rules["hr"] >= {"IA005"}
    assert doc["summary"]["domainVerdicts"]["pass"] == 2


def test_kubectl_style_flags_reach_the_plugin(sandbox: Sandbox, kube_env: Dict[str, str],
                                              tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    env = plugin_env(kube_env, tmp_path)
    import subprocess

    proc = subprocess.run([kubectl_path(), "imgaccess", "check", "--context=sandbox", "-n=orders-ns",
                           "--request-timeout=30s", "-o", "json", "orders"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [d["name"] for d in doc["domains"]] == ["orders"]


def test_namespace_scope_and_domain_names(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    proc = run(["check", "-n", "sample-domain1-ns", "-o", "json"], env=kube_env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [d["name"] for d in doc["domains"]] == ["sample-domain1"]
    assert doc["domains"][0]["verdict"] == "pass"


def test_forbidden_secrets_give_unknown_and_exit_3(sandbox: Sandbox, tmp_path: Path,
                                                   kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.add_user("viewer", "viewer-token")
    readable = ["domains", "clusters", "serviceaccounts", "pods", "events", "nodes"]
    sandbox.allow(Rule("viewer", ["get", "list"], readable))
    cfg = sandbox.write_kubeconfig(str(tmp_path / "viewer"), user="viewer")
    env = dict(kube_env, KUBECONFIG=cfg)
    proc = run(["check", "-n", "sample-domain1-ns", "-o", "json"], env=env)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["incomplete"] is True
    assert doc["domains"][0]["verdict"] == "unknown"
    assert any(f["rule"] == "IA017" for f in doc["domains"][0]["findings"])


def test_unauthorized_is_exit_2_one_line(sandbox: Sandbox, tmp_path: Path,
                                         kube_env: Dict[str, str]) -> None:
    sandbox.add_user("someone", "good-token")
    cfg = sandbox.write_kubeconfig(str(tmp_path / "bad"), user="someone")
    Path(cfg).write_text(Path(cfg).read_text().replace("good-token", "wrong-token"))
    proc = run(["check", "-A"], env=dict(kube_env, KUBECONFIG=cfg))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert sandbox.url in proc.stderr or "127.0.0.1" in proc.stderr
    assert "wrong-token" not in proc.stderr


def test_connection_refused_is_exit_2_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "config"
    cfg.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "https://127.0.0.1:{port}"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
""")
    proc = run(["check", "-A", "--request-timeout", "5s"], env={"KUBECONFIG": str(cfg), "HOME": str(tmp_path)})
    assert proc.returncode == 2
    assert f"127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_no_cluster_configured_says_how(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "KUBECONFIG": "", "KUBERNETES_SERVICE_HOST": ""}
    proc = run(["check"], env=env)
    assert proc.returncode == 2
    assert "--offline" in proc.stderr and "Traceback" not in proc.stderr


def test_mixed_mode_files_replace_cluster_objects(sandbox: Sandbox, kube_env: Dict[str, str],
                                                  tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    # The cluster's orders Domain names a Secret missing from its namespace; the file adds it there.
    fixed = tmp_path / "fix.yaml"
    secret = next(o for o in __import__("yaml").safe_load_all((EXAMPLES / "03-secret-in-operator-namespace.yaml")
                                                                 .read_text())
                  if o and o.get("kind") == "Secret")
    secret["metadata"]["namespace"] = "orders-ns"
    domain = sandbox.get("Domain", "orders-ns", "orders")
    assert domain is not None
    domain = {k: v for k, v in domain.items() if k != "status"}
    fixed.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [domain, secret]}))
    proc = run(["check", "-f", str(fixed), "-o", "json"], env=kube_env)
    doc = json.loads(proc.stdout)
    assert doc["source"]["mode"] == "mixed" and doc["source"]["files"] == [str(fixed)]
    assert [d["name"] for d in doc["domains"]] == ["orders"]
    rules = {f["rule"] for f in doc["domains"][0]["findings"]}
    assert "IA001" not in rules and "IA008" not in rules
    assert doc["domains"][0]["images"][0]["credentials"] == [
        {"secret": "ocr-credentials", "key": "container-registry.oracle.com"}]
    # a file-only Domain in a namespace the cluster knows: the cluster supplies its Secrets
    proc = run(["check", "-f", str(FIXTURES / "ia007-credential-not-referenced.yaml"), "-o", "json"],
               env=kube_env)
    assert json.loads(proc.stdout)["source"]["mode"] == "mixed"


@pytest.mark.parametrize("args", [["version", "--server"]])
def test_version_server(sandbox: Sandbox, kube_env: Dict[str, str], args: list[str]) -> None:
    proc = run(args, env=kube_env)
    assert proc.returncode == 0, proc.stderr
    assert "Server Version: v1.32" in proc.stdout


def test_forbidden_domain_list_is_incomplete_not_a_pass(sandbox: Sandbox, tmp_path: Path,
                                                        kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.add_user("nobody", "nobody-token")
    cfg = sandbox.write_kubeconfig(str(tmp_path / "nobody"), user="nobody")
    proc = run(["check", "-A", "-o", "json"], env=dict(kube_env, KUBECONFIG=cfg))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["incomplete"] is True and doc["domains"] == []
    assert [f["rule"] for f in doc["findings"]] == ["IA017"]
    assert "cannot read Domains in any namespace" in doc["findings"][0]["message"]
    table = run(["check", "-A"], env=dict(kube_env, KUBECONFIG=cfg))
    assert table.returncode == 3 and "IA017" in table.stdout and "INCOMPLETE" in table.stdout
