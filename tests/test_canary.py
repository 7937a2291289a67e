"""The canary suite: known secret values placed where the tool reads them, checked absent from stdout and
stderr in every output format and at every -v level 0..9.

Canaries: a pull Secret's password, a registry key's userinfo password, an Opaque Secret's value, the
kubeconfig token (read from a tokenFile ending in a newline), a registry whose 403 body echoes the request's
Authorization header (base64 user:password), a wrong token that gets 401, and a password given to `fix` on
stdin. Each is checked raw, base64-encoded and as the base64 `user:password` pair.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import pytest

from tests.builders import b64, domain, secret
from tests.clitools import script
from tools.registry.httpstub import Reply, Request, StubServer
from tools.sandbox import Sandbox

PULL_PW = "CanaryPull-7f3a9c51"
KEY_PW = "CanaryKey-91bd2e07"
OPAQUE = "CanaryOpaque-33aa8120"
TOKEN = "CanaryToken-5e8d1f66"
WRONG_TOKEN = "CanaryWrong-0c4f9b12"
STDIN_PW = "CanaryStdin-a1b2c3d4"
FORMATS = ("table", "wide", "json", "yaml", "sarif", "junit")
LEVELS = tuple(str(v) for v in range(10))


def _forms(secret: str, user: str = "ops") -> List[str]:
    return [secret, b64(secret), b64(f"{user}:{secret}"), b64(f"{user}:{secret}").rstrip("=")]


ALL_FORMS = [f for s in (PULL_PW, KEY_PW, OPAQUE, TOKEN, WRONG_TOKEN, STDIN_PW) for f in _forms(s)]


def _assert_clean(proc: subprocess.CompletedProcess[str], what: str) -> None:
    text = proc.stdout + proc.stderr
    leaked = [f for f in ALL_FORMS if f in text]
    assert not leaked, f"{what}: leaked {leaked}\n{text[-2000:]}"
    assert "\x1b" not in proc.stderr


@pytest.fixture
def echoing_registry() -> Iterator[StubServer]:
    """A registry (plain http) that challenges for Basic auth and answers 403 echoing the Authorization."""
    def handler(req: Request) -> Reply:
        auth = req.header("authorization")
        if req.path == "/v2/" and not auth:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="registry"'})
        if not auth:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="registry"'})
        body = json.dumps({"errors": [{"code": "DENIED", "message": f"denied for request with Authorization: "
                                                                     f"{auth} ({auth.split(' ')[-1]})"}]})
        return Reply(403, {"Content-Type": "application/json"}, body.encode())

    with StubServer(handler) as stub:
        yield stub


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cluster(sandbox: Sandbox, echoing_registry: StubServer, tmp_path: Path) -> Tuple[Sandbox, str, str]:
    registry = f"127.0.0.1:{echoing_registry.port}"
    elsewhere = f"127.0.0.1:{_closed_port()}"
    sandbox.add_user("canary", TOKEN, superuser=True)
    config = {"auths": {f"https://ops:{KEY_PW}@{registry}": {"username": "ops", "password": PULL_PW}}}
    sandbox.add(secret("pull", "apps", doc=config))
    sandbox.add(secret("app-config", "apps", type_="Opaque", data={"password": b64(OPAQUE)}))
    for name, image, pull in (("d1", f"{registry}/team/app:v1", ["pull"]), ("d2", f"{elsewhere}/team/other:v1", [])):
        sandbox.add(domain(name, "apps", uid=name, source_type="Image", image=image, pull=pull))
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    kc = tmp_path / "kubeconfig"
    kc.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": sandbox.url, "certificate-authority": sandbox.ca_file}}],
        "users": [{"name": "canary", "user": {"tokenFile": str(token_file)}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "canary", "namespace": "apps"}}]}))
    return sandbox, str(kc), registry


def _run(args: Sequence[str], home: Path, stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "HTTP", "HTTPS", "NO_PROXY"))}
    env.update({"HOME": str(home), "NO_COLOR": "1"})
    return subprocess.run([script(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def _many(runs: Sequence[Tuple[str, List[str], Optional[str]]],
          home: Path) -> Dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = {name: pool.submit(_run, args, home, stdin) for name, args, stdin in runs}
        return {name: fut.result() for name, fut in done.items()}


def test_check_with_probe_in_every_format_and_level(cluster: Tuple[Sandbox, str, str], tmp_path: Path) -> None:
    _, kc, registry = cluster
    runs = [(f"{fmt} -v {level}", ["check", "--kubeconfig", kc, "--probe", "--insecure-registry", registry,
                                   "-o", fmt, "-v", level, "--request-timeout", "10s"], None)
            for fmt in FORMATS for level in LEVELS]
    results = _many(runs, tmp_path)
    assert len(results) == 60
    for name, proc in results.items():
        assert proc.returncode == 1, f"{name}: {proc.stderr[-1000:]}"
        _assert_clean(proc, name)
    # the echoed header did reach the tool: the registry's answer is shown, only redacted
    assert "<redacted>" in results["json -v 0"].stdout
    assert "denied for request with Authorization" in results["json -v 0"].stdout


def test_unauthorized_token_at_every_level(cluster: Tuple[Sandbox, str, str], tmp_path: Path) -> None:
    sandbox, _, _ = cluster
    bad = tmp_path / "bad-kubeconfig"
    bad.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": sandbox.url, "certificate-authority": sandbox.ca_file}}],
        "users": [{"name": "x", "user": {"token": WRONG_TOKEN}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "x"}}]}))
    results = _many([(f"401 -v {level}", ["check", "-A", "--kubeconfig", str(bad), "-v", level], None)
                     for level in LEVELS], tmp_path)
    for name, proc in results.items():
        assert proc.returncode == 2 and "401" in proc.stderr, f"{name}: {proc.stderr[-500:]}"
        _assert_clean(proc, name)


def test_fix_with_a_password_on_stdin_in_every_format(cluster: Tuple[Sandbox, str, str], tmp_path: Path) -> None:
    _, kc, _ = cluster
    runs = [(f"fix {fmt} -v {level}", ["fix", "d2", "--kubeconfig", kc, "--secret", "new", "--docker-server",
                                       "127.0.0.1:5999", "--docker-username", "ops", "--password-stdin",
                                       "--dry-run", "client", "-o", fmt, "-v", level], STDIN_PW + "\n")
            for fmt in ("table", "json", "yaml") for level in ("0", "6", "9")]
    results = _many(runs, tmp_path)
    for name, proc in results.items():
        assert proc.returncode == 0, f"{name}: {proc.stderr[-800:]}"
        assert "Secret" in proc.stdout
        _assert_clean(proc, name)


@pytest.mark.parametrize("argv", [["--password-stdin=" + STDIN_PW], ["-p" + STDIN_PW], ["--password", STDIN_PW],
                                  ["--docker-password=" + STDIN_PW], ["--password-file", STDIN_PW]])
def test_mistyped_password_flags(argv: List[str], tmp_path: Path) -> None:
    proc = _run(["fix", "--secret", "s", "--docker-username", "u", *argv, "--kubeconfig", str(tmp_path / "none")],
                tmp_path)
    assert proc.returncode == 2
    _assert_clean(proc, " ".join(argv))
