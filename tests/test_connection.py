"""The connection read without the Kubernetes client library: inline certificate data, proxies, rotated
token files, names kubectl refuses, the in-cluster service account, and the auth-provider case, the one
that still loads the library."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from kubectl_imgaccess.errors import ClusterError
from kubectl_imgaccess.kube import client as cluster_client
from kubectl_imgaccess.kube.reader import read_cluster, server_version
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.proxies import proxy_for
from tools.registry.proxy import ConnectProxy
from tools.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", cluster_client.SA_DIR_ENV,
                "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)


def _config(path: Path, cluster: Dict[str, Any], user: Dict[str, Any], **extra: Any) -> str:
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": cluster}],
           "users": [{"name": "u", "user": user}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}], **extra}
    path.write_text(json.dumps(doc))
    return str(path)


def _b64(path: str) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def test_a_cluster_run_never_loads_the_kubernetes_client(sandbox: Sandbox, tmp_path: Path) -> None:
    """Reading the cluster, with a token: the client library (~48 MiB of generated modules) stays unloaded."""
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"))
    code = ("import sys\nfrom kubectl_imgaccess.cli.main import main\n"
            f"rc = main(['--kubeconfig', {kc!r}, 'check', '-A', '-o', 'json'])\n"
            "print(rc, sorted(m for m in sys.modules if m == 'kubernetes' or m.startswith('kubernetes.')))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT),
                          timeout=120, check=False)
    last = proc.stdout.strip().splitlines()[-1]
    assert last.split(" ", 1)[1] == "[]", proc.stderr
    assert sandbox.requests and {r.user for r in sandbox.requests} == {"admin"}


def test_inline_ca_and_client_certificate_data(sandbox: Sandbox, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`-data` fields are base64 PEM; the key passes through a private temporary directory, gone at once."""
    sandbox.add_user("cert-user", "unused-token", superuser=True)
    files = tmp_path / "pair"
    files.mkdir()
    cert, key = sandbox._ca.client_pair("cert-user", sandbox.authority.groups_of("cert-user"), str(files))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr("tempfile.tempdir", None)
    kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority-data": _b64(sandbox.ca_file)},
                 {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)})
    snap = read_cluster(ClusterScope(kubeconfig=kc))
    assert snap.unreadable == []
    assert {r.user for r in sandbox.requests} == {"cert-user"}
    assert all(not r.headers.get("Authorization") for r in sandbox.requests)
    assert list(tmp.iterdir()) == []


def test_client_certificate_without_its_key_is_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    files = tmp_path / "pair"
    files.mkdir()
    cert, _key = sandbox._ca.client_pair("someone", [], str(files))
    kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority": sandbox.ca_file},
                 {"client-certificate": cert})
    with pytest.raises(ClusterError) as err:
        server_version(ClusterScope(kubeconfig=kc))
    assert str(err.value) == f'kubeconfig {kc}: user "u": client-key is missing'
    assert not sandbox.requests


def test_a_broken_ca_bundle_is_named(sandbox: Sandbox, tmp_path: Path) -> None:
    bad = tmp_path / "ca.crt"
    bad.write_text("not a certificate\n")
    kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority": "ca.crt"}, {"token": "admin-token"})
    with pytest.raises(ClusterError) as err:
        server_version(ClusterScope(kubeconfig=kc))
    text = str(err.value)
    assert text.startswith(f"kubeconfig {kc}: certificate authority {bad}: cannot load it"), text
    assert "\n" not in text and not sandbox.requests


def test_relative_files_resolve_against_the_kubeconfig_that_names_them(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    shutil.copy(sandbox.ca_file, conf / "ca.crt")
    (conf / "token").write_text("admin-token\n")
    kc = _config(conf / "kc", {"server": sandbox.url, "certificate-authority": "ca.crt"}, {"tokenFile": "token"})
    monkeypatch.chdir(tmp_path)
    assert server_version(ClusterScope(kubeconfig=kc)).startswith("v1.")


def test_proxy_url_tunnels_to_the_server(sandbox: Sandbox, tmp_path: Path) -> None:
    """kubectl sends everything through the cluster's proxy-url, its userinfo as Proxy-Authorization."""
    with ConnectProxy() as proxy:
        url = proxy.url.replace("http://", "http://puser:ppass@")
        kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority": sandbox.ca_file,
                                       "proxy-url": url}, {"token": "admin-token"})
        assert server_version(ClusterScope(kubeconfig=kc)).startswith("v1.")
        tunnels = proxy.seen()
    assert tunnels and {t for t, _ in tunnels} == {f"127.0.0.1:{sandbox.port}"}
    assert tunnels[0][1] == "Basic " + base64.b64encode(b"puser:ppass").decode()


def test_environment_proxies_follow_kubectl(sandbox: Sandbox, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS_PROXY for a remote server, never for a loopback one; NO_PROXY exempts a host."""
    env = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": ".internal.corp"}
    assert proxy_for("https://api.example:6443", env, loopback_direct=True) == "http://proxy.corp:3128"
    assert proxy_for("https://api.internal.corp:6443", env, loopback_direct=True) is None
    for server in ("https://127.0.0.1:6443", "https://localhost:6443", "https://[::1]:6443"):
        assert proxy_for(server, env, loopback_direct=True) is None
        assert proxy_for(server, env) == "http://proxy.corp:3128"  # the registry probe: curl's rule
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # nothing listens there
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"))
    assert server_version(ClusterScope(kubeconfig=kc)).startswith("v1.")


def test_a_rotated_token_file_is_read_again(sandbox: Sandbox, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A projected service account token changes under a long run: the next period reads the new one."""
    sandbox.add_user("first", "token-one", superuser=True)
    sandbox.add_user("second", "token-two", superuser=True)
    token = tmp_path / "token"
    token.write_text("token-one\n")
    kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority": sandbox.ca_file},
                 {"tokenFile": str(token)})
    client = cluster_client.connect(ClusterScope(kubeconfig=kc))
    client.get("/version")
    token.write_text("token-two\n")
    client.get("/version")  # within the period: the token read at the start
    clock = [time.monotonic() + cluster_client.FileToken.PERIOD + 1]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    client.get("/version")
    token.write_text("")  # a rotation caught half-way: the last good token goes on
    clock[0] += cluster_client.FileToken.PERIOD + 1
    client.get("/version")
    assert [r.user for r in sandbox.requests] == ["first", "first", "second", "second"]


def test_an_empty_token_file_is_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("\n")
    kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority": sandbox.ca_file},
                 {"tokenFile": str(token)})
    with pytest.raises(ClusterError) as err:
        server_version(ClusterScope(kubeconfig=kc))
    assert str(err.value) == f"kubeconfig {kc}: token file {token} is empty"
    assert not sandbox.requests


def _kubectl_refuses(kc: str, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(["kubectl", "--kubeconfig", kc, "config", "view"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode != 0
    return proc.stderr


@pytest.mark.parametrize("section", ["clusters", "users", "contexts"])
def test_a_name_twice_in_a_section_is_refused_like_kubectl(section: str, sandbox: Sandbox, tmp_path: Path) -> None:
    doc: Dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": sandbox.url, "certificate-authority": sandbox.ca_file}}],
        "users": [{"name": "u", "user": {"token": "admin-token"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}
    doc[section].append(dict(doc[section][0]))
    path = tmp_path / "kc"
    path.write_text(json.dumps(doc))
    with pytest.raises(ClusterError) as err:
        server_version(ClusterScope(kubeconfig=str(path)))
    name = doc[section][0]["name"]
    assert str(err.value) == (f'kubeconfig {path}: {section}: the name "{name}" appears twice '
                              "(kubectl refuses it too)")
    assert not sandbox.requests
    if shutil.which("kubectl"):
        assert "duplicate name" in _kubectl_refuses(str(path), tmp_path)


@pytest.mark.parametrize("host, server", [("10.96.0.1", "https://10.96.0.1:443"),
                                          ("fd00:10:96::1", "https://[fd00:10:96::1]:443")])
def test_in_cluster_server_address(host: str, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sa_dir = tmp_path / "sa"
    sa_dir.mkdir()
    (sa_dir / "token").write_text("pod-token\n")
    (sa_dir / "ca.crt").write_text("")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv(cluster_client.SA_DIR_ENV, str(sa_dir))
    conn = cluster_client.connection(ClusterScope())
    assert (conn.server, conn.context, conn.namespace, conn.token_file) == (server, None, None,
                                                                           str(sa_dir / "token"))


@pytest.mark.parametrize("missing, what", [("token", "token"), ("ca.crt", "CA certificate")])
def test_in_cluster_without_its_files_is_one_line(missing: str, what: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sa_dir = tmp_path / "sa"
    sa_dir.mkdir()
    for name in ("token", "ca.crt"):
        if name != missing:
            (sa_dir / name).write_text("x\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv(cluster_client.SA_DIR_ENV, str(sa_dir))
    with pytest.raises(ClusterError) as err:
        cluster_client.connect(ClusterScope())
    assert str(err.value) == f"in-cluster configuration ({sa_dir}): no {what} file ({sa_dir / missing})"


def _jwt(claims: Dict[str, Any]) -> str:
    def part(doc: Dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def test_an_auth_provider_user_is_served_by_the_client_library(sandbox: Sandbox, tmp_path: Path) -> None:
    """oidc with an id-token that has not expired: the client library's provider makes the bearer token
    (the one case that loads it), in a fresh interpreter so that the import is observed."""
    id_token = _jwt({"iss": "https://issuer.example", "sub": "oidc-user", "exp": int(time.time()) + 3600})
    sandbox.add_user("oidc-user", id_token, superuser=True)
    kc = _config(tmp_path / "kc", {"server": sandbox.url, "certificate-authority": sandbox.ca_file},
                 {"auth-provider": {"name": "oidc", "config": {"client-id": "k", "id-token": id_token,
                                                               "idp-issuer-url": "https://issuer.example"}}})
    code = ("import sys\nfrom kubectl_imgaccess.kube.reader import server_version\n"
            "from kubectl_imgaccess.kube.scope import ClusterScope\n"
            f"print(server_version(ClusterScope(kubeconfig={kc!r})), 'kubernetes' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT),
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    version, loaded = proc.stdout.split()
    assert version.startswith("v1.") and loaded == "True"
    assert [r.user for r in sandbox.requests] == ["oidc-user"]
    assert id_token not in proc.stdout + proc.stderr
