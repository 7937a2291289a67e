"""The kubelet's keyring rules: key normalization (Go net/url), host-label globs, ports, paths, ordering, fallback.

Rows come from docs kubelet-credentials.md section 4 and from the cases of kubernetes keyring_test.go,
with image names already normalized the way the kubelet passes them (`nginx` -> docker.io/library/nginx).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from kubectl_imgaccess.kubelet import keyring
from kubectl_imgaccess.kubelet.keyring import DOCKER_HUB_KEY, Keyring, key_matches, normalize_key
from kubectl_imgaccess.objects import Credential


def cred(key: str, user: str = "u", secret: str = "s", password: str = "p") -> Credential:
    return Credential(secret=secret, namespace="ns", key=key, username=user, password=password)


def users(creds: List[Credential]) -> List[str]:
    return [c.username for c in creds]


# --- kubelet-credentials.md section 4 ---------------------------------------------------------------
# (repository as the kubelet sees it, key in a valid secret, match, how: "direct" | "fallback" | None)
SPEC_VECTORS: List[Tuple[str, str, bool, Optional[str]]] = [
    ("docker.io/library/nginx", "https://index.docker.io/v1/", True, "fallback"),
    ("docker.io/library/nginx", "docker.io", True, "direct"),
    ("docker.io/library/nginx", "https://docker.io/v1/", True, "direct"),
    ("docker.io/library/nginx", "registry-1.docker.io", False, None),
    ("docker.io/myorg/app", "index.docker.io", True, "fallback"),  # index.docker.io/myorg/app
    ("docker.io/myorg/app", "https://index.docker.io/v1/", True, "fallback"),  # myorg/app:1.0
    ("localhost:5000/app", "https://index.docker.io/v1/", False, None),
    ("localhost:5000/app", "localhost:5000", True, "direct"),
    ("localhost:5000/app", "localhost", False, None),
    ("registry.example.com/app", "registry.example.com:443", False, None),
    ("us.gcr.io/proj/img", "*.gcr.io", True, "direct"),
    ("gcr.io/proj/img", "*.gcr.io", False, None),
    ("a.b.registry.io/x", "*.registry.io", False, None),
    ("a.b.registry.io/x", "*.*.registry.io", True, "direct"),
    ("prefix-good.kubernetes.io/x", "*-good.kubernetes.io", True, "direct"),
    ("docker.io/library/nginx", "*.io", True, "direct"),
    ("quay.io/org/app", "k*.io", False, None),
    ("registry.example.com/team", "registry.example.com/team/", False, None),
    ("registry.example.com/other/app", "registry.example.com/team", False, None),
    ("registry.example.com/app", "https://registry.example.com/v2/", True, "direct"),
    ("registry.example.com/app", "http://registry.example.com", True, "direct"),
    ("10.0.0.5:5000/app", "10.0.0.*:5000", True, "direct"),
    ("registry.example.com/app", "registry.example.com", True, "direct"),  # @sha256:... dropped
    ("registry.example.com:5000/team/app", "registry.example.com:5000/team", True, "direct"),
    ("my-registry.io/images", "my-registry.io/images", True, "direct"),
    ("a.sub.my-registry.io/images/my-image", "*.my-registry.io/images", False, None),
]


@pytest.mark.parametrize(("repository", "key", "match", "how"), SPEC_VECTORS)
def test_spec_vectors(repository: str, key: str, match: bool, how: Optional[str]) -> None:
    ring = Keyring([cred(key)])
    assert bool(ring.lookup(repository)) is match
    assert key_matches(key, repository) is (how == "direct")
    expected_keys = [] if how is None else [normalize_key(key)]
    assert ring.matching_keys(repository) == expected_keys


# --- ordering -----------------------------------------------------------------------------------------
ORDER_CASES: List[Tuple[str, List[Tuple[str, str]], str, List[str]]] = [
    ("longer path first", [("registry.io", "A"), ("registry.io/team", "B")], "registry.io/team/app", ["B", "A"]),
    ("exact host before glob", [("*.registry.io", "A"), ("a.registry.io", "B")], "a.registry.io/x", ["B", "A"]),
    ("same key keeps secret order", [("quay.io", "first"), ("quay.io", "second")], "quay.io/x", ["first", "second"]),
    (
        "same normalized key from different spellings",
        [("https://quay.io/v1/", "first"), ("quay.io", "second"), ("http://quay.io/", "third")],
        "quay.io/x",
        ["first", "second", "third"],
    ),
    (
        "every matching key, descending byte order",
        [("*.io", "glob"), ("reg.io", "host"), ("reg.io/team/app", "repo"), ("reg.io/team", "team")],
        "reg.io/team/app",
        ["repo", "team", "host", "glob"],
    ),
    (
        "fallback unused once anything matched",
        [("https://index.docker.io/v1/", "hub"), ("*.io", "glob")],
        "docker.io/library/nginx",
        ["glob"],
    ),
    (
        "fallback returns every hub credential in order",
        [("index.docker.io", "one"), ("https://index.docker.io/v1/", "two"), ("quay.io", "quay")],
        "docker.io/library/busybox",
        ["one", "two"],
    ),
    # keyring_test.go TestDockerKeyringLookup: bar.example.com/pong (grace), bar.example.com (ada)
    ("go lookup direct", [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")], "bar.example.com", ["ada"]),
    (
        "go lookup deeper",
        [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")],
        "bar.example.com/pong",
        ["grace", "ada"],
    ),
    (
        "go lookup other path",
        [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")],
        "bar.example.com/ping",
        ["ada"],
    ),
    (
        "go lookup string prefix",
        [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")],
        "bar.example.com/pongz",
        ["grace", "ada"],
    ),
    (
        "go lookup sub-path",
        [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")],
        "bar.example.com/pong/pang",
        ["grace", "ada"],
    ),
    ("go lookup no host", [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")], "example.com", []),
    ("go lookup other host", [("bar.example.com/pong", "grace"), ("bar.example.com", "ada")], "foo.example.com", []),
    # TestIssue3797: a key with scheme and /v1/ matches the bare host and anything under it
    ("issue 3797 host", [("https://quay.io/v1/", "rex")], "quay.io", ["rex"]),
    ("issue 3797 repo", [("https://quay.io/v1/", "rex")], "quay.io/foo", ["rex"]),
    ("issue 3797 deep", [("https://quay.io/v1/", "rex")], "quay.io/foo/bar", ["rex"]),
]


@pytest.mark.parametrize(
    ("entries", "repository", "expected"),
    [case[1:] for case in ORDER_CASES],
    ids=[case[0] for case in ORDER_CASES],
)
def test_lookup_order(entries: List[Tuple[str, str]], repository: str, expected: List[str]) -> None:
    ring = Keyring([cred(key, user) for key, user in entries])
    assert users(ring.lookup(repository)) == expected


def test_index_is_deduplicated_and_sorted_descending() -> None:
    ring = Keyring([cred(k) for k in ["a.io", "https://b.io/v2/", "b.io", "*.io", "a.io/x", "B.io"]])
    assert ring.keys == ["b.io", "a.io/x", "a.io", "B.io", "*.io"]


def test_matching_keys_names_normalized_keys() -> None:
    ring = Keyring([cred("https://reg.io/v2/"), cred("reg.io/team"), cred("other.io")])
    assert ring.matching_keys("reg.io/team/app") == ["reg.io/team", "reg.io"]
    assert ring.matching_keys("third.io/app") == []


def test_unparseable_keys_are_dropped_and_reported() -> None:
    bad = cred("reg.io:https", "bad")
    ring = Keyring([bad, cred("reg.io", "good")])
    assert ring.unparseable == (bad,)
    assert users(ring.lookup("reg.io/app")) == ["good"]
    assert ring.keys == ["reg.io"]


def test_empty_keyring() -> None:
    assert Keyring([]).lookup("docker.io/library/nginx") == []
    assert Keyring([]).matching_keys("docker.io/library/nginx") == []


# --- keyring_test.go TestUrlsMatch --------------------------------------------------------------------
URL_MATCH: List[Tuple[str, str, bool]] = [
    ("*.kubernetes.io", "prefix.kubernetes.io", True),
    ("prefix.*.io", "prefix.kubernetes.io", True),
    ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
    ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
    ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
    ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
    ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
    ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
    ("*.kubernetes.io", "kubernetes.io", False),
    ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
    ("*.*.kubernetes.io", "kubernetes.io", False),
    ("kubernetes.io", "kubernetes.com", False),
    ("k*.io", "quay.io", False),
    ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
    ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
]


@pytest.mark.parametrize(("key", "repository", "match"), URL_MATCH)
def test_go_urls_match(key: str, repository: str, match: bool) -> None:
    assert key_matches(key, repository) is match


# --- keyring_test.go TestDockerKeyringForGlob / TestKeyringMiss (lookup of TARGET + "/foo/bar") -------
GLOB_HITS: List[Tuple[str, str]] = [
    ("https://hello.kubernetes.io", "hello.kubernetes.io"),
    ("https://*.docker.io", "prefix.docker.io"),
    ("https://prefix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.*", "prefix.docker.io"),
    ("https://*.docker.io/path", "prefix.docker.io/path"),
    ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
    ("https://prefix.docker.*/path", "prefix.docker.io/path"),
    ("https://*.docker.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
    ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
    ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
    ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
    ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
    ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
    ("*.docker.io:1111", "prefix.docker.io:1111/path"),
]

GLOB_MISSES: List[Tuple[str, str]] = [
    ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
    ("https://*.docker.com", "prefix.docker.io"),
    ("https://suffix.*.io", "prefix.docker.io"),
    ("https://prefix.docker.c*", "prefix.docker.io"),
    ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
    ("suffix.*.io", "prefix.docker.io"),
]


@pytest.mark.parametrize(("key", "target"), GLOB_HITS)
def test_go_keyring_for_glob(key: str, target: str) -> None:
    found = Keyring([cred(key, "foo", password="bar")]).lookup(target + "/foo/bar")
    assert [(c.username, c.password) for c in found] == [("foo", "bar")]


@pytest.mark.parametrize(("key", "target"), GLOB_MISSES)
def test_go_keyring_miss(key: str, target: str) -> None:
    assert Keyring([cred(key)]).lookup(target + "/foo/bar") == []


# --- Docker Hub fallback (TestKeyring*DockerHub*, TestIsDefaultRegistryMatch) ---------------------------
HUB_FALLBACK: List[Tuple[str, bool]] = [
    ("world.mesos.org/foo/bar", False),
    ("google/docker-registry", True),
    ("jenkins", True),
    ("foo/bar", True),
    ("docker.io/foo/bar", True),
    ("index.docker.io/foo/bar", True),
    ("foo", True),
    ("", False),
    ("registry.tld/foo/bar", False),
    ("registry:5000/foo/bar", False),
    ("myhostdocker.io/foo/bar", False),
    ("localhost/app", True),  # no '.' or ':' in the first component
    ("localhost:5000/app", False),
]


@pytest.mark.parametrize(("repository", "hub"), HUB_FALLBACK)
def test_docker_hub_fallback(repository: str, hub: bool) -> None:
    ring = Keyring([cred("https://index.docker.io/v1/", "hub")])
    assert users(ring.lookup(repository)) == (["hub"] if hub else [])


def test_fallback_needs_the_index_docker_io_key() -> None:
    assert Keyring([cred("https://registry-1.docker.io/v2/")]).lookup("docker.io/library/nginx") == []
    assert normalize_key("https://index.docker.io/v1/") == DOCKER_HUB_KEY


def test_qualified_docker_hub_key_matches_directly() -> None:
    # TestKeyringHitWithQualifiedDockerHub: lookup("index.docker.io/v1/" + "/google/docker-registry")
    ring = Keyring([cred("https://index.docker.io/v1/", "hub")])
    assert ring.matching_keys("index.docker.io/v1//google/docker-registry") == ["index.docker.io"]
    assert users(ring.lookup("index.docker.io/v1//google/docker-registry")) == ["hub"]


# --- key normalization (Go net/url) ----------------------------------------------------------------
NORMALIZE: List[Tuple[str, Optional[str]]] = [
    ("https://index.docker.io/v1/", "index.docker.io"),
    ("index.docker.io/v1/", "index.docker.io"),
    ("https://docker.io/v2/", "docker.io"),
    ("http://registry.example.com", "registry.example.com"),
    ("registry.example.com/", "registry.example.com"),
    ("registry.example.com/v1", "registry.example.com/v1"),  # no trailing slash: not a /v1/ prefix
    ("registry.example.com/v1/team", "registry.example.com/team"),
    ("registry.example.com/v2/team/", "registry.example.com/team/"),
    ("registry.example.com/v3/", "registry.example.com/v3/"),
    ("Registry.Example.COM", "Registry.Example.COM"),  # host case kept
    ("HTTPS://reg.io", "HTTPS://reg.io"),  # scheme test is case-sensitive: "HTTPS:" becomes the host
    ("reg.io:5000", "reg.io:5000"),
    ("reg.io:", "reg.io:"),
    ("reg.io:abc", None),  # non-numeric port
    ("reg.io:50 00", None),
    ("reg io", None),  # space in host
    ("reg\\io", None),  # backslash in host
    ("reg.io\t", None),  # control character
    ("reg{x}.io", None),
    ("reg.io?tab=tags", "reg.io"),  # query cut off
    ("reg.io/team?x=1", "reg.io/team"),
    ("reg.io#frag", "reg.io"),  # fragment cut off
    ("reg.io/team#x/y", "reg.io/team"),
    ("reg.io/a#%zz", None),  # a bad escape in the fragment still fails the parse
    ("reg.io/%zz", None),
    ("reg.io/a%2Fb", "reg.io/a/b"),  # the path is stored decoded
    ("reg.io/te am", "reg.io/te am"),
    ("%41.io", None),  # hosts may not %-escape ASCII
    ("%C3%A9.io", "\u00e9.io"),
    ("user:pw@reg.io/team", "reg.io/team"),
    ("[::1]:5000", "[::1]:5000"),
    ("[::1]", "[::1]"),
    ("[fe80::1%25en0]:5000", "[fe80::1%en0]:5000"),
    ("[1.2.3.4]:80", None),  # brackets only hold IPv6
    ("[a-z]*.io", None),  # a host starting with '[' is an IPv6 literal
    ("r[a-z].example.io", None),  # current Go rejects '[' after the start of the host
    ("a:1:2", None),  # two colons outside brackets
    ("*.gcr.io", "*.gcr.io"),
    ("", ""),
]


@pytest.mark.parametrize(("key", "normalized"), NORMALIZE)
def test_normalize_key(key: str, normalized: Optional[str]) -> None:
    assert normalize_key(key) == normalized


# --- matching details -------------------------------------------------------------------------------
MATCH_DETAILS: List[Tuple[str, str, bool]] = [
    ("reg.io:0443", "reg.io:443/app", False),  # ports compared as strings
    ("reg.io:443", "reg.io:443/app", True),
    ("reg.io:5000", "reg.io/app", False),
    ("h:", "h/app", True),  # "h:" splits to host "h" and an empty port
    ("h:", "h:5000/app", False),
    ("reg.io/team", "reg.io/teammate/app", True),  # plain string prefix, not per segment
    ("reg.io/team/", "reg.io/team/app", True),
    ("Reg.io", "reg.io/app", False),  # case-sensitive
    ("re?.io", "reg.io/x", False),  # '?' starts the query: the key is just "re"
    ("re?.io", "re/x", True),
    ("*", "localhost/app", True),
    ("*", "reg.io/app", False),
    ("*.*", "reg.io/app", True),
    ("*.io", "reg.io:5000/app", False),
    ("*.io:5000", "reg.io:5000/app", True),
    ("[::1]:5000", "[::1]:5000/app", True),
    ("[::1]:5000", "[::2]:5000/app", False),
    ("reg.io?x", "reg.io/app", True),
    ("reg.io:abc", "reg.io/app", False),
    ("r[a-z]g.io", "reg.io/app", False),  # unparseable under current Go
    ("reg.io/v1/", "reg.io/v1/app", True),  # normalized to reg.io first
]


@pytest.mark.parametrize(("key", "repository", "match"), MATCH_DETAILS)
def test_match_details(key: str, repository: str, match: bool) -> None:
    assert key_matches(key, repository) is match


# --- Go path/filepath.Match, the per-label glob (Go match_test.go cases) ------------------------------
# Under current Go a registry key cannot carry '[' or '\\' in its host, so classes and escapes only
# matter for older kubelets; the matcher still follows filepath.Match exactly. An error means no match.
GLOBS: List[Tuple[str, str, bool]] = [
    ("abc", "abc", True),
    ("*", "abc", True),
    ("*c", "abc", True),
    ("a*", "a", True),
    ("a*", "abc", True),
    ("a*", "ab/c", False),
    ("a*/b", "abc/b", True),
    ("a*/b", "a/c/b", False),
    ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
    ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
    ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", False),
    ("a*b?c*x", "abxbbxdbxebxczzx", True),
    ("a*b?c*x", "abxbbxdbxebxczzy", False),
    ("ab[c]", "abc", True),
    ("ab[b-d]", "abc", True),
    ("ab[e-g]", "abc", False),
    ("ab[^c]", "abc", False),
    ("ab[^b-d]", "abc", False),
    ("ab[^e-g]", "abc", True),
    ("a\\*b", "a*b", True),
    ("a\\*b", "ab", False),
    ("a?b", "a\u263ab", True),
    ("a[^a]b", "a\u263ab", True),
    ("a???b", "a\u263ab", False),
    ("a[^a][^a][^a]b", "a\u263ab", False),
    ("[a-\u03b6]*", "\u03b1", True),
    ("*[a-\u03b6]", "A", False),
    ("a?b", "a/b", False),
    ("a*b", "a/b", False),
    ("[\\]a]", "]", True),
    ("[\\-]", "-", True),
    ("[x\\-]", "x", True),
    ("[x\\-]", "-", True),
    ("[x\\-]", "z", False),
    ("[\\-x]", "x", True),
    ("[\\-x]", "-", True),
    ("[\\-x]", "a", False),
    ("[]a]", "]", False),  # malformed
    ("[-]", "-", False),  # malformed
    ("[x-]", "x", False),  # malformed
    ("[-x]", "x", False),  # malformed
    ("\\", "a", False),  # malformed
    ("[a-b-c]", "a", False),  # malformed
    ("[", "a", False),  # malformed
    ("[^", "a", False),  # malformed
    ("[^bc", "a", False),  # malformed
    ("a[", "a", False),  # malformed
    ("a[", "ab", False),  # malformed
    ("*x", "xxx", True),
    ("gcr", "GCR", False),  # case-sensitive
]


@pytest.mark.parametrize(("pattern", "name", "match"), GLOBS)
def test_filepath_match(pattern: str, name: str, match: bool) -> None:
    assert keyring._glob(pattern, name) is match
