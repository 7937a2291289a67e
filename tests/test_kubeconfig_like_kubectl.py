"""Kubeconfig read as kubectl reads it: token files trimmed, booleans typed, proxies checked, empty files in
KUBECONFIG skipped. Each case was a crash, a silent TLS downgrade or a fatal error before."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict

import pytest

from kubectl_imgaccess.errors import ClusterError
from kubectl_imgaccess.kube import client as cluster_client
from kubectl_imgaccess.kube.reader import read_cluster, server_version
from kubectl_imgaccess.kube.scope import ClusterScope
from tests.clitools import run
from tools.sandbox import Sandbox


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", cluster_client.SA_DIR_ENV):
        monkeypatch.delenv(var, raising=False)


def _config(sandbox: Sandbox, path: Path, cluster: Dict[str, Any], user: Dict[str, Any]) -> str:
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": sandbox.url, **cluster}}],
           "users": [{"name": "u", "user": user}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    path.write_text(json.dumps(doc))
    return str(path)


def test_token_file_ending_in_a_newline_works(sandbox: Sandbox, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("admin-token\n")  # what `echo TOKEN > file` writes
    kc = _config(sandbox, tmp_path / "kc", {"certificate-authority": sandbox.ca_file}, {"tokenFile": str(token)})
    read_cluster(ClusterScope(kubeconfig=kc, all_namespaces=True))  # many requests: the header stays trimmed
    assert len(sandbox.requests) > 2 and {r.user for r in sandbox.requests} == {"admin"}


def test_token_file_with_newline_through_the_cli_at_every_level(sandbox: Sandbox, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("admin-token\r\n")
    kc = _config(sandbox, tmp_path / "kc", {"certificate-authority": sandbox.ca_file}, {"tokenFile": str(token)})
    for level in ("0", "6", "9"):
        proc = run(["check", "-A", "--kubeconfig", kc, "-v", level])
        assert proc.returncode == 0, proc.stderr
        assert "admin-token" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("value", ["false", "true", "no", 0])
def test_insecure_skip_tls_verify_must_be_a_boolean(value: Any, sandbox: Sandbox, tmp_path: Path) -> None:
    kc = _config(sandbox, tmp_path / "kc", {"certificate-authority": sandbox.ca_file,
                                            "insecure-skip-tls-verify": value}, {"token": "admin-token"})
    with pytest.raises(ClusterError) as err:
        read_cluster(ClusterScope(kubeconfig=kc))
    text = str(err.value)
    assert "\n" not in text and kc in text
    assert "clusters[c].cluster.insecure-skip-tls-verify must be true or false" in text
    assert not sandbox.requests  # the token never left


def test_insecure_skip_tls_verify_false_as_a_boolean_still_verifies(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = _config(sandbox, tmp_path / "kc", {"certificate-authority": sandbox.ca_file,
                                            "insecure-skip-tls-verify": False}, {"token": "admin-token"})
    assert server_version(ClusterScope(kubeconfig=kc)).startswith("v1.")


@pytest.mark.parametrize("proxy", ["socks5://proxy.example:1080", "socks5h://u:hunter2pw@proxy.example:1080",
                                   "ftp://proxy.example"])
def test_unsupported_proxy_is_refused_in_one_line(proxy: str, sandbox: Sandbox, tmp_path: Path) -> None:
    kc = _config(sandbox, tmp_path / "kc", {"certificate-authority": sandbox.ca_file, "proxy-url": proxy},
                 {"token": "admin-token"})
    proc = run(["check", "-A", "--kubeconfig", kc])
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "proxy-url" in lines[0] and "only http and https proxies" in lines[0], proc.stderr
    assert "internal error" not in proc.stderr and "hunter2pw" not in proc.stderr


def test_empty_file_in_kubeconfig_list_is_skipped(sandbox: Sandbox, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    blank = tmp_path / "blank"
    blank.write_text("\n  \n")
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"))
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(empty), str(blank), kc]))
    assert server_version(ClusterScope()).startswith("v1.")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not on PATH")
def test_kubectl_agrees_on_the_quoted_boolean(sandbox: Sandbox, tmp_path: Path) -> None:
    """The reference behaviour: kubectl refuses the same kubeconfig."""
    kc = _config(sandbox, tmp_path / "kc", {"certificate-authority": sandbox.ca_file,
                                            "insecure-skip-tls-verify": "false"}, {"token": "admin-token"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(["kubectl", "--kubeconfig", kc, "version", "-o", "json"], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    assert proc.returncode != 0 and "insecure-skip-tls-verify" in proc.stderr
