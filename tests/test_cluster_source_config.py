"""How the cluster source finds and authenticates to a cluster, and the one-line errors it gives."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import certifi
import pytest

from kubectl_imgaccess.errors import ClusterError
from kubectl_imgaccess.kube import client as cluster_client
from kubectl_imgaccess.kube.reader import NO_CLUSTER, connect, read_cluster, server_version
from kubectl_imgaccess.kube.scope import ClusterScope
from tools.sandbox import Fault, Sandbox

PLUGIN = str(Path(__file__).with_name("exec_plugin_fixture.py"))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No kubeconfig and no in-cluster environment unless a test sets one; an empty HOME."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", cluster_client.SA_DIR_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(cluster_client, "sleep", lambda _s: None)
    return home


def kubeconfig(path: Path, server: str, ca: str, token: str = "admin-token", context: str = "ctx",
               namespace: Optional[str] = None) -> str:
    ctx: Dict[str, Any] = {"cluster": context, "user": context}
    if namespace:
        ctx["namespace"] = namespace
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": context,
        "clusters": [{"name": context, "cluster": {"server": server, "certificate-authority": ca}}],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": ctx}]}))
    return str(path)


def one_line_error(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and "Traceback" not in text
    for leak in ("ApiException", "urllib3", "MaxRetryError", "HTTPSConnection", "object at 0x"):
        assert leak not in text
    assert err.__cause__ is None
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_configuration_at_all_says_how_to_point_at_a_cluster() -> None:
    with pytest.raises(ClusterError) as err:
        read_cluster(ClusterScope())
    assert str(err.value) == NO_CLUSTER


def test_missing_kubeconfig_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ClusterError) as err:
        connect(ClusterScope(kubeconfig=str(tmp_path / "nope")))
    assert str(tmp_path / "nope") in str(err.value)


def test_default_kubeconfig_in_home_and_context_namespace(sandbox: Sandbox, clean_env: Path) -> None:
    (clean_env / ".kube").mkdir()
    sandbox.write_kubeconfig(str(clean_env / ".kube" / "config"), context="home", namespace="team")
    client = connect(ClusterScope())
    assert (client.server, client.context, client.namespace) == (sandbox.url, "home", "team")
    assert connect(ClusterScope(namespace="other")).namespace == "other"


def test_kubeconfig_list_merges_with_the_first_file_winning(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = kubeconfig(tmp_path / "a", sandbox.url, sandbox.ca_file, context="good")
    bad = kubeconfig(tmp_path / "b", f"https://127.0.0.1:{free_port()}", sandbox.ca_file, context="bad")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(tmp_path / "absent"), good, bad]))
    assert server_version(ClusterScope()).startswith("v1.32")
    client = connect(ClusterScope())
    assert client.context == "good" and client.namespace == "default"
    assert connect(ClusterScope(context="bad")).server != sandbox.url
    with pytest.raises(ClusterError) as err:
        connect(ClusterScope(context="nowhere"))
    assert '"nowhere" not found' in one_line_error(err.value)


def test_unauthorized_is_one_line_naming_the_server(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), token="not-a-known-token")
    with pytest.raises(ClusterError) as err:
        read_cluster(ClusterScope(kubeconfig=kc))
    text = one_line_error(err.value)
    assert sandbox.url in text and "401 Unauthorized" in text and "not-a-known-token" not in text
    assert [r.status for r in sandbox.requests if r.status == 401]


def test_connection_refused_names_the_server(sandbox: Sandbox, tmp_path: Path) -> None:
    server = f"https://127.0.0.1:{free_port()}"
    kc = kubeconfig(tmp_path / "kc", server, sandbox.ca_file)
    with pytest.raises(ClusterError) as err:
        read_cluster(ClusterScope(kubeconfig=kc))
    text = one_line_error(err.value)
    assert server in text and "connection refused" in text


def test_untrusted_server_certificate_is_a_tls_error(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "kc", sandbox.url, certifi.where())
    with pytest.raises(ClusterError) as err:
        server_version(ClusterScope(kubeconfig=kc))
    text = one_line_error(err.value)
    assert sandbox.url in text and "TLS certificate verification failed" in text


def test_request_timeout_is_applied(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"))
    sandbox.inject(Fault(method="GET", path_regex=r"^/version$", delay=3.0, times=1))
    with pytest.raises(ClusterError) as err:
        server_version(ClusterScope(kubeconfig=kc, request_timeout=0.3))
    text = one_line_error(err.value)
    assert sandbox.url in text and "timeout" in text


def test_exec_credential_plugin(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_user("sso-user", "token-from-plugin", superuser=True)
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="sso-user",
                                  exec_plugin=[sys.executable, PLUGIN, "token-from-plugin"])
    read_cluster(ClusterScope(kubeconfig=kc))
    assert sandbox.requests and {r.user for r in sandbox.requests} == {"sso-user"}


def test_failing_exec_plugin_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), exec_plugin=[sys.executable, PLUGIN, "--fail"])
    with pytest.raises(ClusterError) as err:
        read_cluster(ClusterScope(kubeconfig=kc))
    text = one_line_error(err.value)
    assert "exec credential plugin" in text and "login expired" in text
    assert sandbox.requests == []


def test_client_certificate(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_user("cert-user", "unused-token", superuser=True)
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="cert-user", client_cert=True)
    snap = read_cluster(ClusterScope(kubeconfig=kc))
    assert snap.unreadable == []
    assert {r.user for r in sandbox.requests} == {"cert-user"}
    assert all(not r.headers.get("Authorization") for r in sandbox.requests)


def test_in_cluster_configuration(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa_dir = tmp_path / "sa"
    sa_dir.mkdir()
    (sa_dir / "token").write_text("pod-token")
    shutil.copy(sandbox.ca_file, sa_dir / "ca.crt")
    (sa_dir / "namespace").write_text("operators\n")
    sandbox.add_user("system:serviceaccount:operators:imgaccess", "pod-token", superuser=True)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(sandbox.port))
    monkeypatch.setenv(cluster_client.SA_DIR_ENV, str(sa_dir))

    snap = read_cluster(ClusterScope())

    assert snap.context is None
    assert {r.user for r in sandbox.requests} == {"system:serviceaccount:operators:imgaccess"}
    assert any(r.path == "/api/v1/namespaces/operators/pods" for r in sandbox.requests)


def test_client_repr_and_errors_hold_no_token(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"))
    client = connect(ClusterScope(kubeconfig=kc))
    assert "admin-token" not in repr(client) and sandbox.url in repr(client)
    with pytest.raises(ClusterError) as err:
        client.request("GET", "/api/v1/namespaces/x/secrets/y/z")
    assert "admin-token" not in str(err.value)
