"""kubeconfig exec credential plugins, run by the project's own code (not the client's loader)."""

from __future__ import annotations

import datetime
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from kubectl_imgaccess.errors import ClusterError
from kubectl_imgaccess.kube.execcred import run_plugin
from kubectl_imgaccess.kube.reader import read_cluster
from kubectl_imgaccess.kube.scope import ClusterScope
from tools.sandbox.server import Sandbox

V1 = "client.authentication.k8s.io/v1"


def _plugin(tmp_path: Path, body: str, name: str = "plugin.py") -> Path:
    """A plugin script; `body` sees `info` (KUBERNETES_EXEC_INFO) and `answer(status)`."""
    path = tmp_path / name
    path.write_text(textwrap.dedent("""\
        import json, os, sys
        info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
        def answer(status, api=None):
            print(json.dumps({"apiVersion": api or info["apiVersion"], "kind": "ExecCredential",
                              "status": status}))
        """) + textwrap.dedent(body))
    return path


def _exec(path: Path, **extra: Any) -> Dict[str, Any]:
    return {"apiVersion": V1, "command": sys.executable, "args": [str(path)], **extra}


def test_token_and_expiry(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, 'answer({"token": "t0k", "expirationTimestamp": "2030-01-02T03:04:05.123456789Z"})')
    cred = run_plugin(_exec(plugin), base_dir=str(tmp_path))
    assert cred.token == "t0k" and cred.expires is not None
    assert (cred.expires.year, cred.expires.microsecond) == (2030, 123456)
    assert cred.expires.utcoffset() == datetime.timedelta(0)
    assert not cred.expired()


def test_environment_cluster_info_and_non_interactive_spec(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, 'answer({"token": os.environ["EXTRA"] + "|" + json.dumps(info["spec"])})')
    cluster = {"server": "https://k.example:6443", "certificate-authority-data": "Q0E=",
               "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "x"}}]}
    cred = run_plugin(_exec(plugin, env=[{"name": "EXTRA", "value": "e"}], provideClusterInfo=True),
                      base_dir=str(tmp_path), cluster=cluster)
    assert cred.token is not None
    extra, spec = cred.token.split("|", 1)
    assert extra == "e"
    assert json.loads(spec) == {"interactive": False, "cluster": {
        "server": "https://k.example:6443", "certificate-authority-data": "Q0E=", "config": {"audience": "x"}}}


def test_relative_command_is_found_beside_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "login"
    script.write_text(f"#!{sys.executable}\n" + _plugin(tmp_path, 'answer({"token": "rel"})').read_text())
    script.chmod(0o755)
    cred = run_plugin({"apiVersion": V1, "command": "./bin/login"}, base_dir=str(tmp_path))
    assert cred.token == "rel"


def test_client_certificate_answer(tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, 'answer({"clientCertificateData": "CERT", "clientKeyData": "KEY"})')
    cred = run_plugin(_exec(plugin), base_dir=str(tmp_path))
    assert (cred.token, cred.client_certificate, cred.client_key) == (None, "CERT", "KEY")


@pytest.mark.parametrize(
    "body, message",
    [
        ('sys.stderr.write("token expired\\n"); sys.exit(3)', "exit status 3: token expired"),
        ('print("not json")', "not an ExecCredential"),
        ('answer({"token": "x"}, api="client.authentication.k8s.io/v1beta1")', "answered apiVersion"),
        ('answer({"clientCertificateData": "CERT"})', "neither a token nor a client certificate"),
        ('answer({"token": "x", "expirationTimestamp": "tomorrow"})', "is not RFC 3339"),
        ("import time; time.sleep(30)", "no answer within 0.5s"),
    ],
)
def test_failures_name_the_plugin(tmp_path: Path, body: str, message: str) -> None:
    plugin = _plugin(tmp_path, body)
    started = time.monotonic()
    with pytest.raises(ClusterError) as err:
        run_plugin(_exec(plugin), base_dir=str(tmp_path), timeout=0.5)
    assert time.monotonic() - started < 10
    assert f"exec credential plugin {sys.executable}" in str(err.value) and message in str(err.value)


def test_missing_command_says_so_with_the_install_hint(tmp_path: Path) -> None:
    with pytest.raises(ClusterError) as err:
        run_plugin({"apiVersion": V1, "command": str(tmp_path / "nope"), "installHint": "brew install nope"},
                   base_dir=str(tmp_path))
    assert "cannot run it" in str(err.value) and "brew install nope" in str(err.value)


def test_an_expired_token_is_fetched_again(sandbox: Sandbox, tmp_path: Path) -> None:
    """The first answer is already expired: the next request runs the plugin again and uses the new token."""
    sandbox.add_user("sso", "second", superuser=True)
    counter = tmp_path / "count"
    plugin = _plugin(tmp_path, f"""\
        n = int(open({str(counter)!r}).read()) if os.path.exists({str(counter)!r}) else 0
        open({str(counter)!r}, "w").write(str(n + 1))
        answer({{"token": "first" if n == 0 else "second", "expirationTimestamp": "2000-01-01T00:00:00Z"}})
        """)
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="sso", exec_plugin=[sys.executable, str(plugin)])
    snap = read_cluster(ClusterScope(kubeconfig=kc))
    assert snap.unreadable == []
    assert {r.user for r in sandbox.requests} == {"sso"}
    assert int(counter.read_text()) >= 2
    assert os.path.exists(kc)
