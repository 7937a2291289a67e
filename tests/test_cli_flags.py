"""kubectl's flags as kubectl parses them: global flags in every position, the authentication flags laid over
the kubeconfig (impersonation seen by the sandbox API server), Go durations, -o name, version -o, the plugin's
name in usage and help."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from kubectl_imgaccess.cli.flags import hoist_global_flags
from tests.clitools import ROOT, run, script
from tools.sandbox import Rule
from tools.sandbox.server import Sandbox

EXAMPLES = ROOT / "examples"


def env_with(kubeconfig: str, tmp_path: Path) -> Dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"KUBECONFIG": kubeconfig, "HOME": str(home)}


def two_contexts(sandbox: Sandbox, tmp_path: Path) -> str:
    """A kubeconfig whose current context cannot read anything (an unknown token); `sandbox` can."""
    path = sandbox.write_kubeconfig(str(tmp_path / "kubeconfig"))
    doc = yaml.safe_load(Path(path).read_text())
    doc["users"].append({"name": "nobody", "user": {"token": "not-a-token"}})
    doc["contexts"].append({"name": "broken", "context": {"cluster": "sandbox", "user": "nobody"}})
    doc["current-context"] = "broken"
    Path(path).write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("argv", [
    ["--context", "sandbox", "check", "-A"],
    ["check", "--context", "sandbox", "-A"],
    ["check", "-A", "--context=sandbox"],
    ["-A", "check", "--context", "sandbox"],
    ["-A", "--context=sandbox", "check"],
    ["--request-timeout", "1m30s", "--context", "sandbox", "-A", "check"],
    ["--all-namespaces=true", "--context", "sandbox", "check"],
    ["-v", "2", "--context", "sandbox", "check", "--all-namespaces"],
    ["--context", "sandbox", "--user", "admin", "check", "--request-timeout=500ms", "-A"],
])
def test_global_flags_in_every_position(sandbox: Sandbox, tmp_path: Path, argv: List[str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    env = env_with(two_contexts(sandbox, tmp_path), tmp_path)
    proc = run([*argv, "-o", "json"], env=env)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["source"]["context"] == "sandbox" and len(doc["domains"]) == 8


def test_the_current_context_is_really_broken(sandbox: Sandbox, tmp_path: Path) -> None:
    env = env_with(two_contexts(sandbox, tmp_path), tmp_path)
    proc = run(["check", "-A"], env=env)
    assert proc.returncode == 2 and "401 Unauthorized" in proc.stderr


def test_hoisting_leaves_other_words_alone() -> None:
    commands = ["check", "version"]
    assert hoist_global_flags(["-n", "ns", "check", "x"], commands) == ["check", "-n", "ns", "x"]
    assert hoist_global_flags(["-nns", "-v6", "check"], commands) == ["check", "-nns", "-v6"]
    assert hoist_global_flags(["--as-group", "a", "--as-group=b", "version"], commands) == [
        "version", "--as-group", "a", "--as-group=b"]
    assert hoist_global_flags(["--version"], commands) == ["--version"]
    assert hoist_global_flags(["--bogus", "check"], commands) == ["--bogus", "check"]
    assert hoist_global_flags(["-n", "ns", "nope"], commands) == ["-n", "ns", "nope"]
    assert hoist_global_flags(["check", "-A"], commands) == ["check", "-A"]


def test_impersonation_headers_reach_the_server(sandbox: Sandbox, sandbox_kubeconfig: str, tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.allow(Rule("auditors", ["get", "list"], ["*"]))
    sandbox.clear_requests()
    proc = run(["--as", "jane", "--as-group", "auditors", "check", "-A", "--as-group", "team-x",
                "--as-uid", "u-1234", "-o", "json"], env=env_with(sandbox_kubeconfig, tmp_path))
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)["domains"]) == 8
    assert sandbox.requests
    for rec in sandbox.requests:
        assert rec.headers.get("Impersonate-User") == "jane"
        assert rec.headers.get_all("Impersonate-Group") == ["auditors", "team-x"]
        assert rec.headers.get("Impersonate-Uid") == "u-1234"
        assert (rec.user, rec.impersonator) == ("jane", "admin")


def test_impersonation_is_authorized_by_the_server(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.add_user("bob", "bob-token")
    sandbox.allow(Rule("bob", ["get", "list"], ["*"]))
    cfg = sandbox.write_kubeconfig(str(tmp_path / "bob"), user="bob")
    proc = run(["check", "-A", "--as", "jane"], env=env_with(cfg, tmp_path))
    assert proc.returncode in (2, 3)  # nothing could be read: never a pass
    assert 'User "bob" cannot impersonate resource "users"' in proc.stdout + proc.stderr
    sandbox.allow(Rule("bob", ["impersonate"], ["users"], resource_names=["jane"]))
    proc = run(["check", "-A", "--as", "jane"], env=env_with(cfg, tmp_path))
    assert proc.returncode in (2, 3)
    assert 'User "jane" cannot list' in proc.stdout + proc.stderr  # now as jane, who may not read
    sandbox.allow(Rule("jane", ["get", "list"], ["*"]))
    assert run(["check", "-A", "--as", "jane"], env=env_with(cfg, tmp_path)).returncode == 1


def test_groups_without_a_user_are_refused() -> None:
    proc = run(["check", "-A", "--as-group", "g"], env={"KUBECONFIG": "/nonexistent"})
    assert proc.returncode == 2 and "--as-group and --as-uid need --as" in proc.stderr


def flags_only_env(tmp_path: Path) -> Dict[str, str]:
    """No kubeconfig at all: the flags must say everything."""
    home = tmp_path / "empty-home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "KUBECONFIG": ""}


def test_server_token_and_ca_without_a_kubeconfig(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    env = flags_only_env(tmp_path)
    assert run(["check", "-A"], env=env).returncode == 2
    proc = run(["--server", sandbox.url, "--token", "admin-token", "--certificate-authority", sandbox.ca_file,
                "check", "-A", "-o", "json"], env=env)
    assert proc.returncode == 1, proc.stderr
    assert len(json.loads(proc.stdout)["domains"]) == 8
    assert all(r.user == "admin" for r in sandbox.requests)
    proc = run(["check", "-A", "-s", sandbox.url, "--token", "admin-token"], env=env)  # no CA: refused
    assert proc.returncode == 2 and "TLS certificate verification failed" in proc.stderr
    assert "admin-token" not in proc.stderr
    proc = run(["check", "-A", "-s", sandbox.url, "--token", "admin-token", "--insecure-skip-tls-verify"], env=env)
    assert proc.returncode == 1, proc.stderr


def test_tls_server_name(sandbox: Sandbox, tmp_path: Path) -> None:
    env = flags_only_env(tmp_path)
    base = ["version", "-s", sandbox.url, "--token", "admin-token", "--certificate-authority", sandbox.ca_file]
    assert run([*base, "--tls-server-name", "localhost"], env=env).returncode == 0
    proc = run([*base, "--tls-server-name", "elsewhere.example"], env=env)
    assert proc.returncode == 2 and "TLS" in proc.stderr


def test_user_cluster_and_client_certificate_flags(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    cfg = two_contexts(sandbox, tmp_path)
    env = env_with(cfg, tmp_path)
    assert run(["check", "-A"], env=env).returncode == 2  # context broken, user nobody
    assert run(["--user", "admin", "check", "-A"], env=env).returncode == 1
    assert run(["--cluster", "sandbox", "--token", "admin-token", "check", "-A"], env=env).returncode == 1
    proc = run(["--user", "ghost", "check", "-A"], env=env)
    assert proc.returncode == 2 and '--user "ghost" not found' in proc.stderr
    certs = tmp_path / "certs"
    certs.mkdir()
    sandbox.write_kubeconfig(str(certs / "kubeconfig"), client_cert=True)
    crt = next(certs.glob("*.crt"))
    key = next(certs.glob("*.key"))
    sandbox.clear_requests()
    proc = run(["check", "-A", "--client-certificate", str(crt), "--client-key", str(key), "-o", "json"], env=env)
    assert proc.returncode == 1, proc.stderr  # the broken user's bad token is still sent, but the cert wins
    assert {r.user for r in sandbox.requests} == {"admin"}


def test_version_output_formats(sandbox: Sandbox, sandbox_kubeconfig: str, tmp_path: Path) -> None:
    env = env_with(sandbox_kubeconfig, tmp_path)
    doc = json.loads(run(["version", "-o", "json"], env=env).stdout)
    assert doc["clientVersion"]["name"] == "kubectl-imgaccess" and "serverVersion" not in doc
    doc = yaml.safe_load(run(["version", "--server", "-o", "yaml"], env=env).stdout)
    assert doc["serverVersion"]["gitVersion"].startswith("v1.")
    assert run(["version", "--server"], env=env).stdout.splitlines()[1].startswith("Server Version: v1.")
    assert run(["version", "-o", "xml"], env=env).returncode == 2


def test_request_timeout_takes_go_durations() -> None:
    path = str(EXAMPLES / "01-healthy.yaml")
    for good in ("1m30s", "1h2m3.5s", "500ms", "0", "30"):
        assert run(["check", "--offline", "-f", path, "--request-timeout", good]).returncode == 0, good
    proc = run(["check", "--offline", "-f", path, "--request-timeout", "1d"])
    assert proc.returncode == 2 and "invalid duration '1d'" in proc.stderr


def test_output_name_lists_failing_domains_for_xargs() -> None:
    proc = run(["check", "--offline", "-f", str(EXAMPLES), "-o", "name"])
    assert proc.returncode == 1
    names = proc.stdout.split()
    assert names == sorted(names) and names[0] == "domain.weblogic.oracle/billing"
    assert all(n.startswith("domain.weblogic.oracle/") for n in names)
    json_doc = json.loads(run(["check", "--offline", "-f", str(EXAMPLES), "-o", "json"]).stdout)
    assert {n.split("/", 1)[1] for n in names} == {d["name"] for d in json_doc["domains"] if d["verdict"] == "fail"}
    assert run(["check", "--offline", "-f", str(EXAMPLES), "-o", "name", "--fail-on", "never"]).stdout == ""


def test_usage_names_the_plugin_with_examples(tmp_path: Path) -> None:
    for command in ("check", "fix", "rules", "explain", "version"):
        out = run([command, "--help"]).stdout
        assert out.startswith(f"usage: kubectl imgaccess {command}"), out[:80]
        assert "\nExamples:\n  # " in out and f"  kubectl imgaccess {command}" in out
    assert "(see 'kubectl imgaccess check --help')" in run(["check", "--request-timeout", "x"]).stderr
    module = subprocess.run([sys.executable, "-m", "kubectl_imgaccess", "--help"], capture_output=True, text=True,
                            check=False, env={k: v for k, v in os.environ.items() if k != "KUBECTL_PLUGINS_CALLER"})
    assert module.stdout.startswith("usage: python -m kubectl_imgaccess")
    caller = subprocess.run([sys.executable, "-m", "kubectl_imgaccess", "--help"], capture_output=True, text=True,
                            check=False, env=dict(os.environ, KUBECTL_PLUGINS_CALLER="/usr/bin/kubectl"))
    assert caller.stdout.startswith("usage: kubectl imgaccess")


def test_plugin_help_through_the_real_kubectl(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(script(), bin_dir / "kubectl-imgaccess")
    env = dict(os.environ, PATH=os.pathsep.join([str(bin_dir), os.path.dirname(kubectl)]), HOME=str(tmp_path))
    out = subprocess.run([kubectl, "imgaccess", "check", "--help"], capture_output=True, text=True, env=env,
                         check=False, timeout=60).stdout
    assert out.startswith("usage: kubectl imgaccess check")


def test_completion_knows_global_flags_before_the_command() -> None:
    from kubectl_imgaccess.cli.complete import candidates

    words, _ = candidates(["--context", "prod", "-A", "ch"])
    assert [w for w, _ in words] == ["check"]
