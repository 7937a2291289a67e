"""The probe against local stubs, for what a real registry will not answer on demand: 429, 405,
redirects to another host, odd challenges, plain http. Needs no registry binary."""

from __future__ import annotations

import base64
import socket
from typing import Iterator, List

import pytest

from tests.registry.fixtures import BASIC_USERS
from tests.registry.helpers import (
    ALICE,
    clear_proxy_env,
    one,
    tls,
)
from tools.registry.certs import RegistryPKI
from tools.registry.httpstub import Reply, Request, StubServer


@pytest.fixture(autouse=True)
def _clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxy_env(monkeypatch)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused at once."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    try:
        yield s.getsockname()[1]
    finally:
        s.close()


def test_closed_port_is_unreachable(registry_pki: RegistryPKI, closed_port: int) -> None:
    r = one(registry_pki, f"127.0.0.1:{closed_port}/team/app", "v1", ALICE)
    assert (r.status, r.error_code, r.http_status, r.attempts) == ("unreachable", "CONNECTION", None, 1)


def test_rate_limit_is_unreachable(registry_pki: RegistryPKI) -> None:
    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return Reply(200, body=b"{}")
        body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
        return Reply(429, {"Retry-After": "60", "Content-Type": "application/json"}, body)

    with StubServer(handler, tls=tls(registry_pki)) as stub:
        r = one(registry_pki, f"127.0.0.1:{stub.port}/team/app", "v1", ALICE)
    assert (r.status, r.http_status, r.error_code) == ("unreachable", 429, "TOOMANYREQUESTS")


def test_head_405_falls_back_to_get(registry_pki: RegistryPKI) -> None:
    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return Reply(200)
        if req.method == "HEAD":
            return Reply(405)
        return Reply(200, {"Docker-Content-Digest": "sha256:" + "a" * 64}, b"{}")

    with StubServer(handler, tls=tls(registry_pki)) as stub:
        r = one(registry_pki, f"127.0.0.1:{stub.port}/team/app", "v1")
        methods = [q.method for q in stub.seen() if "/manifests/" in q.path]
    assert r.status == "ok" and methods == ["HEAD", "GET"]


def test_head_403_reads_the_error_code_with_get(registry_pki: RegistryPKI) -> None:
    def handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return Reply(200)
        return Reply(403, {"Content-Type": "application/json"}, b'{"errors":[{"code":"DENIED","message":"no"}]}')

    with StubServer(handler, tls=tls(registry_pki)) as stub:
        r = one(registry_pki, f"127.0.0.1:{stub.port}/team/app", "v1", ALICE)
    assert (r.status, r.http_status, r.error_code) == ("denied", 403, "DENIED")


def test_insecure_registry_over_plain_http(registry_pki: RegistryPKI) -> None:
    def handler(req: Request) -> Reply:
        return Reply(200, {"Docker-Content-Digest": "sha256:" + "b" * 64})

    with StubServer(handler) as stub:
        host = f"127.0.0.1:{stub.port}"
        r = one(registry_pki, f"{host}/team/app", "v1", insecure_registries=frozenset({host}))
        assert r.status == "ok"
        r = one(registry_pki, f"{host}/team/app", "v1")  # https to a plain http server
        assert (r.status, r.error_code) == ("unreachable", "TLS")


def test_redirect_to_another_host_drops_authorization(registry_pki: RegistryPKI) -> None:
    other: List[StubServer] = []

    def origin_handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return Reply(401, {"WWW-Authenticate": 'Basic realm="stub"'})
        if req.header("authorization") is None:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="stub"'})
        if req.path.startswith("/v2/team/app/"):  # same origin first, then another host
            return Reply(307, {"Location": "/v2/moved/app/manifests/v1"})
        return Reply(307, {"Location": f"{other[0].url('localhost')}/v2/team/app/manifests/v1"})

    def other_handler(req: Request) -> Reply:
        return Reply(200, {"Docker-Content-Digest": "sha256:" + "c" * 64})

    with (
        StubServer(other_handler, tls=tls(registry_pki)) as far,
        StubServer(origin_handler, tls=tls(registry_pki)) as near,
    ):
        other.append(far)
        r = one(registry_pki, f"127.0.0.1:{near.port}/team/app", "v1", ALICE)
        near_seen, far_seen = near.seen(), far.seen()
    assert r.status == "ok"
    expected = "Basic " + base64.b64encode(f"alice:{BASIC_USERS['alice']}".encode()).decode()
    manifest_hits = [q for q in near_seen if "/manifests/" in q.path]
    assert [q.header("authorization") for q in manifest_hits] == [expected, expected]
    assert far_seen and all(q.header("authorization") is None for q in far_seen)


def test_plain_http_realm_on_another_host_gets_no_credentials(registry_pki: RegistryPKI) -> None:
    with StubServer(lambda req: Reply(200, {}, b'{"token":"t"}'), host="127.0.0.1") as realm:
        challenge = f'Bearer realm="http://localhost:{realm.port}/token",service="x"'

        def handler(req: Request) -> Reply:
            return Reply(401, {"WWW-Authenticate": challenge})

        with StubServer(handler, tls=tls(registry_pki)) as reg:
            r = one(registry_pki, f"127.0.0.1:{reg.port}/team/app", "v1", ALICE)
        assert (r.status, r.error_code) == ("error", "INSECURE_REALM")
        assert realm.seen() == []


def test_manifest_challenge_after_an_open_ping_and_a_realm_on_another_https_host(registry_pki: RegistryPKI) -> None:
    """/v2/ answers 200 but the manifest wants a token from a realm on another host (https): the probe
    answers that challenge once, and the credential goes to the realm, nowhere else."""
    good = "Basic " + base64.b64encode(f"alice:{BASIC_USERS['alice']}".encode()).decode()
    holder: List[StubServer] = []

    def realm_handler(req: Request) -> Reply:
        if req.header("authorization") != good:
            return Reply(401)
        return Reply(200, {"Content-Type": "application/json"}, b'{"access_token":"tok-123","expires_in":0}')

    def registry_handler(req: Request) -> Reply:
        if req.path == "/v2/":
            return Reply(200, body=b"{}")
        if req.header("authorization") == "Bearer tok-123":
            return Reply(200, {"Docker-Content-Digest": "sha256:" + "d" * 64})
        realm = f"{holder[0].url('localhost')}/token"
        challenge = f'Bearer realm="{realm}",service="stub",scope="repository:team/app:pull"'
        return Reply(401, {"WWW-Authenticate": challenge}, b'{"errors":[{"code":"UNAUTHORIZED"}]}')

    with (
        StubServer(realm_handler, tls=tls(registry_pki)) as realm,
        StubServer(registry_handler, tls=tls(registry_pki)) as reg,
    ):
        holder.append(realm)
        r = one(registry_pki, f"127.0.0.1:{reg.port}/team/app", "v1", ALICE)
        realm_seen, reg_seen = realm.seen(), reg.seen()
    assert (r.status, r.credential) == ("ok", ALICE)
    assert [q.path for q in realm_seen] == ["/token?service=stub&scope=repository%3Ateam%2Fapp%3Apull"]
    assert [q.header("authorization") for q in reg_seen if "/manifests/" in q.path] == [None, "Bearer tok-123"]


@pytest.mark.parametrize("status, expected", [(500, "error"), (418, "error"), (404, "not-found")])
def test_other_statuses(registry_pki: RegistryPKI, status: int, expected: str) -> None:
    def handler(req: Request) -> Reply:
        return Reply(200) if req.path == "/v2/" else Reply(status)

    with StubServer(handler, tls=tls(registry_pki)) as stub:
        r = one(registry_pki, f"127.0.0.1:{stub.port}/team/app", "v1")
    assert (r.status, r.http_status, r.error_code) == (expected, status, None)


def test_silent_server_is_a_timeout(registry_pki: RegistryPKI) -> None:
    """A listening socket that never answers: the TLS handshake waits for the read timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    try:
        r = one(registry_pki, f"127.0.0.1:{s.getsockname()[1]}/team/app", "v1", ALICE, timeout=0.2)
    finally:
        s.close()
    assert (r.status, r.error_code) == ("unreachable", "TIMEOUT")


def test_missing_binary_skips_or_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.registry import fixtures

    monkeypatch.setattr(fixtures, "find_binary", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        fixtures.require_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        fixtures.require_binary()
