"""The probe against Debian's real docker-registry 2.8 (htpasswd Basic, and Bearer through the
project's token server), over TLS on loopback."""

from __future__ import annotations

import base64
import itertools
import logging
import sys
from typing import List, Optional

import pytest

from kubectl_imgaccess.probe import ProbeOptions, ProbeTarget, RegistryClient, probe
from kubectl_imgaccess.progress import Progress
from tests.registry.fixtures import BASIC_USERS, TOKEN_USERS, RegistryEnv
from tests.registry.helpers import (
    ALICE,
    ALICE_WRONG,
    BOB_WRONG,
    CAROL,
    CAROL_WRONG,
    DAVE,
    clear_proxy_env,
    cred,
    manifest_requests,
    one,
    opts,
)
from tools.registry.proxy import ConnectProxy


@pytest.fixture(autouse=True)
def _clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_proxy_env(monkeypatch)


pytestmark = pytest.mark.registry


# -- Basic (htpasswd) -----------------------------------------------------------------------------


def test_basic_good_credentials_pull(registry_env: RegistryEnv) -> None:
    r = one(registry_env, f"{registry_env.basic.host}/team/app", "v1", ALICE)
    assert (r.status, r.http_status, r.credential, r.attempts) == ("ok", 200, ALICE, 1)
    assert registry_env.digests[("team/app", "v1")] in r.message


def test_basic_by_digest(registry_env: RegistryEnv) -> None:
    digest = registry_env.digests[("team/app", "v2")]
    r = one(registry_env, f"{registry_env.basic.host}/team/app", digest, ALICE)
    assert r.status == "ok"


def test_basic_wrong_password_is_unauthorized(registry_env: RegistryEnv) -> None:
    r = one(registry_env, f"{registry_env.basic.host}/team/app", "v1", ALICE_WRONG)
    assert (r.status, r.http_status, r.error_code, r.credential) == ("unauthorized", 401, "UNAUTHORIZED", ALICE_WRONG)


def test_anonymous_on_a_private_registry_is_unauthorized(registry_env: RegistryEnv) -> None:
    r = one(registry_env, f"{registry_env.basic.host}/team/app", "v1")
    assert (r.status, r.credential, r.attempts) == ("unauthorized", None, 0)


def test_missing_tag_and_missing_repository_are_not_found(registry_env: RegistryEnv) -> None:
    host = registry_env.basic.host
    tag = one(registry_env, f"{host}/team/app", "no-such-tag", ALICE)
    repo = one(registry_env, f"{host}/team/no-such-repo", "v1", ALICE)
    assert (tag.status, tag.http_status, tag.error_code) == ("not-found", 404, "MANIFEST_UNKNOWN")
    assert repo.status == "not-found" and repo.error_code in ("MANIFEST_UNKNOWN", "NAME_UNKNOWN")


def test_second_credential_wins_when_the_first_is_wrong(registry_env: RegistryEnv) -> None:
    r = one(registry_env, f"{registry_env.basic.host}/team/app", "v1", BOB_WRONG, ALICE)
    assert (r.status, r.credential, r.attempts) == ("ok", ALICE, 2)


def test_no_anonymous_retry_after_matched_credentials_fail_basic(registry_env: RegistryEnv) -> None:
    reg = registry_env.basic
    mark = reg.mark()
    r = one(registry_env, f"{reg.host}/team/app", "v3", BOB_WRONG, ALICE_WRONG)
    assert (r.status, r.attempts, r.credential) == ("unauthorized", 2, ALICE_WRONG)
    manifests = manifest_requests(reg.requests_since(mark))
    assert len(manifests) == 2, manifests  # one per credential, no third (anonymous) one
    anonymous = [
        ln for ln in reg.log_lines()[mark:] if "/manifests/" in ln and "invalid authorization credential" in ln
    ]
    assert anonymous == []


# -- Bearer (token server) ------------------------------------------------------------------------


def test_bearer_good_credentials_pull(registry_env: RegistryEnv) -> None:
    registry_env.tokens.reset_log()
    r = one(registry_env, f"{registry_env.bearer.host}/team/app", "v1", CAROL)
    assert (r.status, r.credential) == ("ok", CAROL)
    log = registry_env.tokens.entries()
    assert [(e.user, e.authenticated, e.scopes) for e in log] == [("carol", True, ("repository:team/app:pull",))]
    assert log[0].service == registry_env.tokens.service


def test_bearer_wrong_password_is_unauthorized(registry_env: RegistryEnv) -> None:
    r = one(registry_env, f"{registry_env.bearer.host}/team/app", "v1", CAROL_WRONG)
    assert (r.status, r.http_status, r.error_code) == ("unauthorized", 401, "UNAUTHORIZED")


def test_token_without_pull_rights_is_denied(registry_env: RegistryEnv) -> None:
    r = one(registry_env, f"{registry_env.bearer.host}/private/secret", "v1", DAVE)
    assert (r.status, r.http_status, r.error_code, r.credential) == ("denied", 401, "INSUFFICIENT_SCOPE", DAVE)


def test_anonymous_token_for_a_public_repository(registry_env: RegistryEnv) -> None:
    registry_env.tokens.reset_log()
    r = one(registry_env, f"{registry_env.bearer.host}/public/hello", "v1")
    assert (r.status, r.credential, r.attempts) == ("ok", None, 0)
    assert [e.user for e in registry_env.tokens.entries()] == [None]


def test_no_anonymous_retry_after_matched_credentials_fail_bearer(registry_env: RegistryEnv) -> None:
    # public/hello is pullable anonymously: a fallback to anonymous would turn this into "ok".
    registry_env.tokens.reset_log()
    r = one(registry_env, f"{registry_env.bearer.host}/public/hello", "v1", CAROL_WRONG, ALICE_WRONG)
    assert (r.status, r.attempts) == ("unauthorized", 2)
    users = [e.user for e in registry_env.tokens.entries()]
    assert users == ["carol", "alice"]  # None would be an anonymous token request


def test_access_token_field_and_default_lifetime(registry_env: RegistryEnv) -> None:
    tokens = registry_env.tokens
    tokens.token_field, tokens.expires_in = "access_token", None
    try:
        r = one(registry_env, f"{registry_env.bearer.host}/team/app", "v2", CAROL)
    finally:
        tokens.token_field, tokens.expires_in = "token", 300
    assert r.status == "ok"


def test_tokens_are_cached_per_repository_and_credential(registry_env: RegistryEnv) -> None:
    host = registry_env.bearer.host
    registry_env.tokens.reset_log()
    now = [1000.0]
    with RegistryClient(opts(registry_env), clock=lambda: now[0]) as client:
        first = client.probe([ProbeTarget(f"{host}/team/app", t, (CAROL,)) for t in ("v1", "v2")])
        second = client.probe([ProbeTarget(f"{host}/team/app", "v3", (CAROL,))])
        assert len(registry_env.tokens.entries()) == 1
        now[0] += 301  # past expires_in: a new token is needed
        third = client.probe([ProbeTarget(f"{host}/team/app", "v4", (CAROL,))])
    assert {r.status for r in (*first.values(), *second.values(), *third.values())} == {"ok"}
    assert len(registry_env.tokens.entries()) == 2


def test_dedupe_one_request_chain_per_image_and_credential(registry_env: RegistryEnv) -> None:
    reg = registry_env.basic
    tags = ("v1", "v2", "v3", "v4", "v5")
    targets = []
    for i in range(100):
        # 100 distinct targets (distinct Secrets) that share 5 images and 2 username/password pairs.
        creds = (cred("bob", "not-" + BASIC_USERS["bob"], f"old-{i}"), cred("alice", BASIC_USERS["alice"], f"s-{i}"))
        targets.append(ProbeTarget(f"{reg.host}/team/app", tags[i % 5], creds))
    mark = reg.mark()
    results = probe(targets, opts(registry_env, concurrency=8))
    assert len(results) == 100
    for t, r in results.items():
        assert (r.status, r.attempts, r.credential) == ("ok", 2, t.credentials[1])
    manifests = manifest_requests(reg.requests_since(mark))
    by_tag = {tag: [m["status"] for m in manifests if m["path"].endswith("/" + tag)] for tag in tags}
    # bob's pair: one 401 per image; alice's: one 200 per image. Nothing more.
    assert {tag: sorted(v) for tag, v in by_tag.items()} == {tag: [200, 401] for tag in tags}, by_tag
    assert len(manifests) == 10
    pings = [x for x in reg.requests_since(mark) if x["path"] == "/v2/"]  # the challenge is cached
    assert len(pings) == 1


def test_untrusted_certificate_is_unreachable_tls(registry_env: RegistryEnv) -> None:
    target = ProbeTarget(f"{registry_env.basic.host}/team/app", "v1", (ALICE,))
    r = probe([target], ProbeOptions(timeout=20))[target]
    assert (r.status, r.error_code) == ("unreachable", "TLS")


def test_https_proxy_is_used_and_no_proxy_bypasses_it(
    registry_env: RegistryEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = f"{registry_env.basic.host}/team/app"
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("http://", "http://puser:ppass@"))
        assert one(registry_env, repo, "v1", ALICE).status == "ok"
        tunnels = proxy.seen()
        assert tunnels and {t for t, _ in tunnels} == {registry_env.basic.host}
        assert tunnels[0][1] == "Basic " + base64.b64encode(b"puser:ppass").decode()
        monkeypatch.setenv("NO_PROXY", "example.com, .127.0.0.1,localhost")
        assert one(registry_env, repo, "v2", ALICE).status == "ok"
        assert len(proxy.seen()) == len(tunnels)


# -- secrets never leak -------------------------------------------------------------------------------


def test_no_secret_in_logs_stderr_or_results(
    registry_env: RegistryEnv, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    registry_env.tokens.issued.clear()
    b, t = registry_env.basic.host, registry_env.bearer.host
    targets = [
        ProbeTarget(f"{b}/team/app", "v1", (BOB_WRONG, ALICE)),
        ProbeTarget(f"{b}/team/app", "nope", (ALICE_WRONG,)),
        ProbeTarget(f"{t}/team/app", "v1", (CAROL_WRONG, CAROL)),
        ProbeTarget(f"{t}/private/secret", "v1", (DAVE,)),
    ]
    ticks = itertools.count()  # a clock that moves a second per look: every update is shown
    results = probe(targets, opts(registry_env, progress=Progress(sys.stderr, clock=lambda: float(next(ticks)))))
    out = capsys.readouterr()
    assert "probing registries: 4/4" in out.err
    texts = [caplog.text, out.out, out.err]
    texts += [repr(r) + str(r.message) for r in results.values()] + [repr(t) for t in targets]
    secrets: List[Optional[str]] = [*BASIC_USERS.values(), *TOKEN_USERS.values(), "wrong-password"]
    secrets += ["not-" + BASIC_USERS["bob"], *registry_env.tokens.issued]
    for user, pw in [("alice", BASIC_USERS["alice"]), ("carol", TOKEN_USERS["carol"]), ("dave", TOKEN_USERS["dave"])]:
        secrets.append(base64.b64encode(f"{user}:{pw}".encode()).decode())
    assert registry_env.tokens.issued, "the bearer path was not exercised"
    for secret in secrets:
        assert secret
        for text in texts:
            assert secret not in text
