"""Helpers shared by the probe test modules: test credentials, options and one-target probes."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple, Union

import pytest

from kubectl_imgaccess.objects import Credential
from kubectl_imgaccess.probe import ProbeOptions, ProbeResult, ProbeTarget, probe
from tests.registry.fixtures import BASIC_USERS, TOKEN_USERS, RegistryEnv
from tools.registry.certs import RegistryPKI

PROXY_VARS = ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


def clear_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy in the developer's environment must not change what loopback tests see."""
    for name in (*PROXY_VARS, "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def cred(user: str, password: str, secret: str = "pull", key: str = "registry") -> Credential:
    return Credential(secret=secret, namespace="ns", key=key, username=user, password=password)


ALICE = cred("alice", BASIC_USERS["alice"], "alice-secret")
BOB_WRONG = cred("bob", "not-" + BASIC_USERS["bob"], "bob-secret")
ALICE_WRONG = cred("alice", "wrong-password", "alice-old")
CAROL = cred("carol", TOKEN_USERS["carol"], "carol-secret")
CAROL_WRONG = cred("carol", "wrong-password", "carol-old")
DAVE = cred("dave", TOKEN_USERS["dave"], "dave-secret")


def opts(env: Union[RegistryEnv, RegistryPKI], **kw: Any) -> ProbeOptions:
    """Options trusting the test CA; keyword arguments override fields."""
    o = ProbeOptions(timeout=20, ca_file=env.ca_file)
    for k, v in kw.items():
        setattr(o, k, v)
    return o


def one(
    env: Union[RegistryEnv, RegistryPKI], repository: str, reference: str, *creds: Credential, **kw: Any
) -> ProbeResult:
    """Probe a single target."""
    target = ProbeTarget(repository, reference, tuple(creds))
    return probe([target], opts(env, **kw))[target]


def manifest_requests(reqs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [r for r in reqs if "/manifests/" in r["path"]]


def tls(pki: RegistryPKI) -> Tuple[str, str]:
    return pki.server_cert, pki.server_key
