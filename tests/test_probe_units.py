"""Pure parts of the probe: challenge parsing, proxy selection, API hosts, result -> rule mapping."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import pytest

from kubectl_imgaccess.kubelet import imageref
from kubectl_imgaccess.objects import Credential
from kubectl_imgaccess.probe import ProbeResult, api_base, probe_rule
from kubectl_imgaccess.probe.challenge import Challenge, parse_challenges, parse_one, pick
from kubectl_imgaccess.probe.client import split_repository
from kubectl_imgaccess.probe.transport import scrub
from kubectl_imgaccess.probe.types import ProbeStatus
from kubectl_imgaccess.proxies import no_proxy_matches, proxy_for


def simple(value: str) -> List[Tuple[str, Dict[str, str], Optional[str]]]:
    return [(c.scheme, c.params, c.token68) for c in parse_one(value)]


@pytest.mark.parametrize(
    "header, expected",
    [
        ('Basic realm="registry"', [("basic", {"realm": "registry"}, None)]),
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io"',
            [("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io"}, None)],
        ),
        (  # case-insensitive scheme and parameter names, spaces around "="
            'BEARER Realm = "https://a/token" , SERVICE=reg',
            [("bearer", {"realm": "https://a/token", "service": "reg"}, None)],
        ),
        (  # commas and escapes inside a quoted string
            r'Bearer realm="https://a/t",scope="repository:x/y:pull,push",error="a \"quoted\" \\ word"',
            [
                (
                    "bearer",
                    {"realm": "https://a/t", "scope": "repository:x/y:pull,push", "error": 'a "quoted" \\ word'},
                    None,
                )
            ],
        ),
        (  # several challenges in one value
            'Basic realm="simple", Newauth realm="apps", type=1, title="Login to \\"apps\\"", Bearer realm="r"',
            [
                ("basic", {"realm": "simple"}, None),
                ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}, None),
                ("bearer", {"realm": "r"}, None),
            ],
        ),
        ("Negotiate abc+/def==, Basic realm=x", [("negotiate", {}, "abc+/def=="), ("basic", {"realm": "x"}, None)]),
        ("Basic", [("basic", {}, None)]),
        ("Basic, Bearer", [("basic", {}, None), ("bearer", {}, None)]),
        ('Bearer realm="unterminated', [("bearer", {"realm": "unterminated"}, None)]),
        ('realm="no scheme", Basic realm=y', [("basic", {"realm": "y"}, None)]),
        ("", []),
        (' , ,Bearer realm="a",, service="b" ,', [("bearer", {"realm": "a", "service": "b"}, None)]),
        ('Bearer realm="first", realm="second"', [("bearer", {"realm": "first"}, None)]),
    ],
)
def test_parse_challenges(header: str, expected: List[Tuple[str, Dict[str, str], Optional[str]]]) -> None:
    assert simple(header) == expected


def test_several_headers_and_pick_prefers_bearer() -> None:
    found = parse_challenges(['Basic realm="b"', 'Bearer realm="https://auth/t",service="s"'])
    assert [c.scheme for c in found] == ["basic", "bearer"]
    chosen = pick(found)
    assert chosen is not None and chosen.scheme == "bearer" and chosen.get("SERVICE") == "s"
    assert pick([Challenge("bearer", {}), Challenge("basic", {"realm": "x"})]) == Challenge("basic", {"realm": "x"})
    assert pick(parse_challenges(["Negotiate abc"])) is None


@pytest.mark.parametrize(
    "host, no_proxy, expected",
    [
        ("registry.example.com", "*", True),
        ("registry.example.com", "example.com", True),
        ("registry.example.com", ".example.com", True),
        ("example.com", ".example.com", True),
        ("notexample.com", "example.com", False),
        ("REGISTRY.Example.COM", "example.com", True),
        ("registry.example.com", "other.org, example.com", True),
        ("registry.example.com", "other.org example.com", True),
        ("registry.example.com", "example.com:5000", True),
        ("registry.example.com.", "example.com", True),
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "10.1.2.3", True),
        ("10.1.2.3", "192.168.0.0/16", False),
        ("10.1.2.3", "10.1", False),
        ("::1", "::1", True),
        ("[::1]", "::1/128", True),
        ("127.0.0.1", "localhost", False),
        ("registry.example.com", "", False),
        ("registry.example.com", "*.example.com", False),  # curl: only a lone "*" is a wildcard
    ],
)
def test_no_proxy_matches_like_curl(host: str, no_proxy: str, expected: bool) -> None:
    assert no_proxy_matches(host, no_proxy) is expected


def test_proxy_for_environment() -> None:
    env = {"HTTPS_PROXY": "http://proxy:3128", "http_proxy": "proxy2:8080", "NO_PROXY": "internal.corp"}
    assert proxy_for("https://registry-1.docker.io/v2/", env) == "http://proxy:3128"
    assert proxy_for("http://insecure.example/v2/", env) == "http://proxy2:8080"
    assert proxy_for("https://r.internal.corp/v2/", env) is None
    lower_wins = {"https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2", "no_proxy": "", "NO_PROXY": "x"}
    assert proxy_for("https://x/v2/", lower_wins) is None
    assert proxy_for("https://y/v2/", lower_wins) == "http://lower:1"
    assert proxy_for("https://y/v2/", {"ALL_PROXY": "http://all:3"}) == "http://all:3"
    assert proxy_for("https://y/v2/", {}) is None


def test_scrub_removes_userinfo() -> None:
    assert scrub("proxy http://user:pa55@proxy:3128 refused") == "proxy http://proxy:3128 refused"


@pytest.mark.parametrize(
    "host, insecure, expected",
    [
        ("docker.io", frozenset(), "https://registry-1.docker.io"),
        ("index.docker.io", frozenset(), "https://registry-1.docker.io"),
        ("ghcr.io", frozenset(), "https://ghcr.io"),
        ("container-registry.oracle.com", frozenset(), "https://container-registry.oracle.com"),
        ("127.0.0.1:5000", frozenset({"127.0.0.1:5000"}), "http://127.0.0.1:5000"),
        ("127.0.0.1:5000", frozenset({"127.0.0.1"}), "https://127.0.0.1:5000"),
        ("Registry.Local:5000", frozenset({"registry.local:5000"}), "http://Registry.Local:5000"),
    ],
)
def test_api_base(host: str, insecure: frozenset, expected: str) -> None:  # type: ignore[type-arg]
    assert api_base(host, insecure) == expected


def test_split_and_validate() -> None:
    assert split_repository("docker.io/library/busybox") == ("docker.io", "library/busybox")
    assert split_repository("127.0.0.1:5000/team/app") == ("127.0.0.1:5000", "team/app")
    assert split_repository("localhost/app") == ("localhost", "app")
    assert split_repository("busybox") == ("docker.io", "library/busybox")
    assert split_repository("team/app") == ("docker.io", "team/app")
    valid_path, valid_reference = imageref.valid_path, imageref.valid_tag_or_digest
    assert valid_path("team/app-1/x_y.z") and not valid_path("team/../x") and not valid_path("Team/app")
    assert valid_reference("v1.2-rc_3") and valid_reference("sha256:" + "a" * 64)
    assert not valid_reference("v1/../../x") and not valid_reference("") and not valid_reference("-x")


@pytest.mark.parametrize("reference", ["vé", "v1", "sha256:" + "a" * 64, "sha256:" + "A" * 64, "v" * 129, "_x"])
def test_the_probe_and_the_parser_agree_on_references(reference: str) -> None:
    """The probe has no grammar of its own: a reference it accepts is one the kubelet's parser accepts."""
    separator = "@" if ":" in reference else ":"
    try:
        imageref.parse("nginx" + separator + reference)
        parsed = True
    except imageref.InvalidReference:
        parsed = False
    assert imageref.valid_tag_or_digest(reference) is parsed


CRED = Credential(secret="ocr", namespace="ns", key="container-registry.oracle.com", username="u", password="p")


def result(status: ProbeStatus, credential: Optional[Credential] = CRED, attempts: int = 1) -> ProbeResult:
    return ProbeResult(status, 401, "X", credential, "registry said so", attempts)


def test_probe_rule_mapping() -> None:
    assert probe_rule(result("ok"), "ghcr.io/a/b") is None
    assert probe_rule(result("error"), "ghcr.io/a/b") is None
    assert probe_rule(result("unauthorized", attempts=2), "ghcr.io/a/b") == (
        "IA012",
        "ghcr.io/a/b: the registry rejected 2 credential(s): registry said so",
    )
    rule = probe_rule(result("unauthorized", None, 0), "ghcr.io/a/b")
    assert rule is not None and rule[0] == "IA012" and "anonymous" in rule[1]
    plain = probe_rule(result("denied"), "ghcr.io/a/b")
    assert plain is not None and plain[0] == "IA013" and "license" not in plain[1]
    oracle = probe_rule(result("denied"), "container-registry.oracle.com/middleware/weblogic")
    assert oracle is not None and oracle[0] == "IA013" and "license terms" in oracle[1]
    assert "https://container-registry.oracle.com" in oracle[1] and "ns/ocr" in oracle[1]
    assert probe_rule(result("not-found"), "ghcr.io/a/b") == ("IA014", "ghcr.io/a/b: registry said so")
    unreachable = probe_rule(result("unreachable"), "ghcr.io/a/b")
    assert unreachable is not None and unreachable[0] == "IA015"
    named = ProbeResult("not-found", 404, "MANIFEST_UNKNOWN", None, "ghcr.io/a/b:v2: tag or digest not found", 1)
    assert probe_rule(named, "ghcr.io/a/b") == ("IA014", "ghcr.io/a/b:v2: tag or digest not found")


def test_result_repr_hides_password() -> None:
    r = result("ok", Credential("s", "ns", "k", "user", "hunter2-secret"))
    assert "hunter2-secret" not in repr(r) and "hunter2-secret" not in str(r)
