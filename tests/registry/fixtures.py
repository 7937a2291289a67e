"""Session fixtures: two real docker-registry instances (Basic and Bearer) over TLS, with images pushed.

Registered for every test module by tests/conftest.py (`pytest_plugins`): request `registry_env` or
`registry_pki` as a parameter, never import them by name.
`registry_pki` alone (certificates for local stubs) needs no registry binary.
Without the docker-registry binary the tests skip, unless CI=true, where they fail.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from typing import Dict, Iterator, Tuple

import pytest

from tools.registry.certs import RegistryPKI, make_pki
from tools.registry.push import Pusher
from tools.registry.registry import RegistryProcess, base_config, find_binary
from tools.registry.token_server import TokenServer

# Test-only passwords; the leak tests search all output for them.
BASIC_USERS: Dict[str, str] = {"alice": "alice-Pw-7f3e9a", "bob": "bob-Pw-c41d02"}
TOKEN_USERS: Dict[str, str] = {"carol": "carol-Pw-9b8a77", "dave": "dave-Pw-1e5f60"}
APP_TAGS = ("v1", "v2", "v3", "v4", "v5")


@dataclass
class RegistryEnv:
    """Everything a probe test needs: both registries, the token server, the CA and what was pushed."""

    pki: RegistryPKI
    basic: RegistryProcess  # htpasswd Basic auth
    bearer: RegistryProcess  # token auth, same storage
    tokens: TokenServer
    digests: Dict[Tuple[str, str], str] = field(default_factory=dict)  # (name, tag) -> manifest digest

    @property
    def ca_file(self) -> str:
        return self.pki.ca_file


def require_binary() -> str:
    """The docker-registry path; skip the test without it (fail when CI=true)."""
    path = find_binary()
    if path is None:
        message = "Debian's docker-registry is not installed (apt-get install docker-registry apache2-utils)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def _htpasswd(path: str, users: Dict[str, str]) -> None:
    lines = []
    for user, password in users.items():
        out = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True)
        lines.append(out.stdout.strip())
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def registry_pki(tmp_path_factory: pytest.TempPathFactory) -> RegistryPKI:
    """CA, loopback server certificate and token signing key; needs no registry binary."""
    return make_pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="session")
def registry_env(tmp_path_factory: pytest.TempPathFactory, registry_pki: RegistryPKI) -> Iterator[RegistryEnv]:
    binary = require_binary()
    root = str(tmp_path_factory.mktemp("registry"))
    pki = registry_pki
    storage = os.path.join(root, "storage")

    htpasswd = os.path.join(root, "htpasswd")
    _htpasswd(htpasswd, BASIC_USERS)
    cfg = base_config(storage, pki.server_cert, pki.server_key)
    cfg["auth"] = {"htpasswd": {"realm": "imgaccess-test", "path": htpasswd}}
    basic = RegistryProcess(binary, os.path.join(root, "basic"), cfg, pki.ca_file).start()

    tokens = TokenServer(pki.signing_key, pki.signing_kid, (pki.server_cert, pki.server_key), users=dict(TOKEN_USERS))
    tokens.allow("carol", "*", {"pull"})
    tokens.allow("dave", "team/*", {"pull"})  # authenticated everywhere, but no rights on private/*
    tokens.allow(None, "public/*", {"pull"})
    tokens.start()
    env = RegistryEnv(pki=pki, basic=basic, bearer=basic, tokens=tokens)
    try:
        pusher = Pusher(basic.url, pki.ca_file, ("alice", BASIC_USERS["alice"]))
        for tag in APP_TAGS:
            env.digests[("team/app", tag)] = pusher.image("team/app", tag, text=f"app {tag}")
        for name in ("private/secret", "public/hello"):
            env.digests[(name, "v1")] = pusher.image(name, "v1", text=name)

        tcfg = base_config(storage, pki.server_cert, pki.server_key)
        tcfg["auth"] = {
            "token": {
                "realm": tokens.realm,
                "service": tokens.service,
                "issuer": tokens.issuer,
                "rootcertbundle": pki.signing_cert,
            }
        }
        env.bearer = RegistryProcess(binary, os.path.join(root, "bearer"), tcfg, pki.ca_file).start()
        yield env
    finally:
        if env.bearer is not basic:
            env.bearer.stop()
        basic.stop()
        tokens.stop()
