"""Image reference parsing must accept, reject and normalize exactly what the kubelet does.

The tables port the cases of distribution/reference v0.6.0 (normalize_test.go,
reference_test.go, regexp_test.go) as data, add the image rows of the design
document's vectors, and pin the edge cases whose outcome depends on the order
of the library's checks (which decides the error message).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import pytest

from kubectl_imgaccess.kubelet.imageref import (
    DOMAIN_RE,
    ERR_DIGEST_INVALID_FORMAT,
    ERR_DIGEST_INVALID_LENGTH,
    ERR_DIGEST_UNSUPPORTED,
    ERR_NAME_CONTAINS_UPPERCASE,
    ERR_NAME_EMPTY,
    ERR_NAME_TOO_LONG,
    ERR_REFERENCE_INVALID_FORMAT,
    IDENTIFIER_RE,
    NAME_RE,
    REFERENCE_RE,
    ImageRef,
    InvalidReference,
    _parse_strict,
    parse,
    repository,
)

F64 = "f" * 64
F128 = "f" * 128
SHA_F = "sha256:" + F64
HEX_A = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
HEX_B = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
HEX_C = "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582"
LONG_NS = "_".join(["this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255"] * 4)


def lowercase_err(remote: str) -> str:
    return f"invalid reference format: repository name ({remote}) must be lowercase"


def hex_err(s: str) -> str:
    return f"invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"


# ---------------------------------------------------------------------------
# ParseNormalizedNamed: input -> (domain, path, tag, digest)
# ---------------------------------------------------------------------------
NORMALIZED: List[Tuple[str, str, str, Optional[str], Optional[str]]] = [
    # normalize_test.go TestParseRepositoryInfo (familiar, full and ambiguous spellings)
    ("fooo/bar", "docker.io", "fooo/bar", None, None),
    ("docker.io/fooo/bar", "docker.io", "fooo/bar", None, None),
    ("index.docker.io/fooo/bar", "docker.io", "fooo/bar", None, None),
    ("ubuntu", "docker.io", "library/ubuntu", None, None),
    ("docker.io/library/ubuntu", "docker.io", "library/ubuntu", None, None),
    ("library/ubuntu", "docker.io", "library/ubuntu", None, None),
    ("nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", None, None),
    ("docker.io/nonlibrary/ubuntu", "docker.io", "nonlibrary/ubuntu", None, None),
    ("other/library", "docker.io", "other/library", None, None),
    ("docker.io/other/library", "docker.io", "other/library", None, None),
    ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase", None, None),
    ("127.0.0.1:8000/privatebase", "127.0.0.1:8000", "privatebase", None, None),
    ("example.com/private/moonbase", "example.com", "private/moonbase", None, None),
    ("example.com/privatebase", "example.com", "privatebase", None, None),
    ("example.com:8000/private/moonbase", "example.com:8000", "private/moonbase", None, None),
    ("example.com:8000/privatebasee", "example.com:8000", "privatebasee", None, None),
    ("ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", None, None),
    ("docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", None, None),
    ("index.docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", None, None),
    ("foo", "docker.io", "library/foo", None, None),
    ("docker.io/library/foo", "docker.io", "library/foo", None, None),
    ("docker.io/foo", "docker.io", "library/foo", None, None),
    ("library/foo/bar", "docker.io", "library/foo/bar", None, None),
    ("docker.io/library/foo/bar", "docker.io", "library/foo/bar", None, None),
    ("store/foo/bar", "docker.io", "store/foo/bar", None, None),
    ("docker.io/store/foo/bar", "docker.io", "store/foo/bar", None, None),
    ("Foo/bar", "Foo", "bar", None, None),
    ("FOO/bar", "FOO", "bar", None, None),
    # normalize_test.go TestNormalizedSplitHostname
    ("test.com/foo", "test.com", "foo", None, None),
    ("test_com/foo", "docker.io", "test_com/foo", None, None),
    ("docker/migrator", "docker.io", "docker/migrator", None, None),
    ("test.com:8080/foo", "test.com:8080", "foo", None, None),
    ("test-com:8080/foo", "test-com:8080", "foo", None, None),
    ("xn--n3h.com/foo", "xn--n3h.com", "foo", None, None),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", None, None),
    # normalize_test.go TestParseAnyReference (the named ones)
    ("redis", "docker.io", "library/redis", None, None),
    ("redis:latest", "docker.io", "library/redis", "latest", None),
    ("docker.io/library/redis:latest", "docker.io", "library/redis", "latest", None),
    ("redis@sha256:" + HEX_A, "docker.io", "library/redis", None, "sha256:" + HEX_A),
    ("docker.io/library/redis@sha256:" + HEX_A, "docker.io", "library/redis", None, "sha256:" + HEX_A),
    ("dmcgowan/myapp", "docker.io", "dmcgowan/myapp", None, None),
    ("dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp", "latest", None),
    ("docker.io/mcgowan/myapp:latest", "docker.io", "mcgowan/myapp", "latest", None),
    ("dmcgowan/myapp@sha256:" + HEX_A, "docker.io", "dmcgowan/myapp", None, "sha256:" + HEX_A),
    ("docker.io/dmcgowan/myapp@sha256:" + HEX_A, "docker.io", "dmcgowan/myapp", None, "sha256:" + HEX_A),
    (HEX_A[:63], "docker.io", "library/" + HEX_A[:63], None, None),
    ("dbcc1", "docker.io", "library/dbcc1", None, None),
    # a bare digest is a Docker Hub image named "sha256" tagged with the hex
    ("sha256:" + HEX_A, "docker.io", "library/sha256", HEX_A, None),
    # normalize_test.go TestParseReferenceWithTagAndDigest
    ("busybox:latest@sha256:" + HEX_C, "docker.io", "library/busybox", "latest", "sha256:" + HEX_C),
    # normalize_test.go TestValidateReferenceName (valid list)
    ("docker/docker", "docker.io", "docker/docker", None, None),
    ("debian", "docker.io", "library/debian", None, None),
    ("index.docker.io/debian", "docker.io", "library/debian", None, None),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", None, None),
    ("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", None, None),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", None, None),
    # single components are never a registry, whatever they look like
    ("192.168.0.1", "docker.io", "library/192.168.0.1", None, None),
    ("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", None),
    ("192.168.0.1:8/debian", "192.168.0.1:8", "debian", None, None),
    ("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", None, None),
    (
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "docker.io",
        "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        None,
        None,
    ),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", None, None),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", None, None),
    ("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian", None, None),
    ("docker.io/" + HEX_B, "docker.io", "library/" + HEX_B, None, None),
    ("Docker/docker", "Docker", "docker", None, None),
    ("DOCKER/docker", "DOCKER", "docker", None, None),
    # normalize_test.go TestValidateRemoteName (valid list)
    ("docker-rules/docker", "docker.io", "docker-rules/docker", None, None),
    ("docker---rules/docker", "docker.io", "docker---rules/docker", None, None),
    ("doc/docker", "docker.io", "doc/docker", None, None),
    ("d/docker", "docker.io", "d/docker", None, None),
    ("jess/t", "docker.io", "jess/t", None, None),
    ("dock__er/docker", "docker.io", "dock__er/docker", None, None),
    # design document, section 4 (images)
    ("nginx", "docker.io", "library/nginx", None, None),
    ("index.docker.io/myorg/app", "docker.io", "myorg/app", None, None),
    ("myorg/app:1.0", "docker.io", "myorg/app", "1.0", None),
    ("localhost:5000/app", "localhost:5000", "app", None, None),
    ("registry.example.com/app", "registry.example.com", "app", None, None),
    ("us.gcr.io/proj/img", "us.gcr.io", "proj/img", None, None),
    ("gcr.io/proj/img", "gcr.io", "proj/img", None, None),
    ("a.b.registry.io/x", "a.b.registry.io", "x", None, None),
    ("prefix-good.kubernetes.io/x", "prefix-good.kubernetes.io", "x", None, None),
    ("quay.io/org/app", "quay.io", "org/app", None, None),
    ("registry.example.com/team", "registry.example.com", "team", None, None),
    ("registry.example.com/other/app", "registry.example.com", "other/app", None, None),
    ("10.0.0.5:5000/app", "10.0.0.5:5000", "app", None, None),
    ("registry.example.com/app@" + SHA_F, "registry.example.com", "app", None, SHA_F),
    ("registry.example.com:5000/team/app:v1", "registry.example.com:5000", "team/app", "v1", None),
    ("my-registry.io/images", "my-registry.io", "images", None, None),
    ("a.sub.my-registry.io/images/my-image", "a.sub.my-registry.io", "images/my-image", None, None),
    ("registry.io/team/app", "registry.io", "team/app", None, None),
    ("a.registry.io/x", "a.registry.io", "x", None, None),
    # localhost: a registry only when a path follows
    ("localhost", "docker.io", "library/localhost", None, None),
    ("localhost:5000", "docker.io", "library/localhost", "5000", None),
    ("localhost/app", "localhost", "app", None, None),
    ("localhost/app:v2", "localhost", "app", "v2", None),
    ("example.com", "docker.io", "library/example.com", None, None),
    ("registry.example.com:5000", "docker.io", "library/registry.example.com", "5000", None),
    ("registry:5000/app", "registry:5000", "app", None, None),
    # domain letter case is kept; only the exact legacy spelling is rewritten
    ("Registry.Example.COM/app", "Registry.Example.COM", "app", None, None),
    ("INDEX.DOCKER.IO/nginx", "INDEX.DOCKER.IO", "nginx", None, None),
    ("registry-1.docker.io/library/nginx", "registry-1.docker.io", "library/nginx", None, None),
    ("index.docker.io/nginx", "docker.io", "library/nginx", None, None),
    ("docker.io/nginx:1.25", "docker.io", "library/nginx", "1.25", None),
    # the normalizer calls it a registry, the grammar cannot: the whole name becomes the path
    ("foo_bar.com/x", "", "foo_bar.com/x", None, None),
    # IPv6
    ("[::1]:5000/repo", "[::1]:5000", "repo", None, None),
    ("[::1]/repo", "[::1]", "repo", None, None),
    ("[FC00::1]:5000/app", "[FC00::1]:5000", "app", None, None),
    ("[2001:db8::1]:5000/repo:tag@" + SHA_F, "[2001:db8::1]:5000", "repo", "tag", SHA_F),
    # tags
    ("nginx:" + "t" * 128, "docker.io", "library/nginx", "t" * 128, None),
    ("nginx:_x", "docker.io", "library/nginx", "_x", None),
    ("nginx:V1.0-rc_1", "docker.io", "library/nginx", "V1.0-rc_1", None),
    # digests of every registered algorithm
    ("app@sha384:" + "a" * 96, "docker.io", "library/app", None, "sha384:" + "a" * 96),
    ("app@sha512:" + "a" * 128, "docker.io", "library/app", None, "sha512:" + "a" * 128),
    (
        "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + F128,
        "xn--7o8h.com",
        "myimage",
        "xn--7o8h.com",
        "sha512:" + F128,
    ),
    # v0.6.0 limits the path to 255 characters and does not count the domain
    ("example.com/" + "a" * 255, "example.com", "a" * 255, None, None),
    ("a" * 247, "docker.io", "library/" + "a" * 247, None, None),
    ("d" * 300 + ".com/app", "d" * 300 + ".com", "app", None, None),
]


@pytest.mark.parametrize(("image", "domain", "path", "tag", "digest"), NORMALIZED, ids=lambda v: str(v)[:60])
def test_parse_normalized(
    image: str, domain: str, path: str, tag: Optional[str], digest: Optional[str]
) -> None:
    ref = parse(image)
    assert (ref.domain, ref.path, ref.tag, ref.digest) == (domain, path, tag, digest)
    assert ref.name == (domain + "/" + path if domain else path)
    assert repository(image) == ref.name


# ---------------------------------------------------------------------------
# Normalized string and FamiliarString
# ---------------------------------------------------------------------------
STRINGS: List[Tuple[str, str, str]] = [
    # (input, String(), FamiliarString())
    ("nginx", "docker.io/library/nginx", "nginx"),
    ("docker.io/library/nginx", "docker.io/library/nginx", "nginx"),
    ("index.docker.io/library/nginx:1.25", "docker.io/library/nginx:1.25", "nginx:1.25"),
    ("fooo/bar", "docker.io/fooo/bar", "fooo/bar"),
    ("index.docker.io/fooo/bar", "docker.io/fooo/bar", "fooo/bar"),
    ("library/foo/bar", "docker.io/library/foo/bar", "library/foo/bar"),
    ("other/library", "docker.io/other/library", "other/library"),
    ("docker.io/library/ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base"),
    ("127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase"),
    (
        "example.com:8000/private/moonbase",
        "example.com:8000/private/moonbase",
        "example.com:8000/private/moonbase",
    ),
    ("Foo/bar", "Foo/bar", "Foo/bar"),
    ("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"),
    ("redis@sha256:" + HEX_A, "docker.io/library/redis@sha256:" + HEX_A, "redis@sha256:" + HEX_A),
    (
        "busybox:latest@sha256:" + HEX_C,
        "docker.io/library/busybox:latest@sha256:" + HEX_C,
        "busybox:latest@sha256:" + HEX_C,
    ),
    ("dmcgowan/myapp:latest", "docker.io/dmcgowan/myapp:latest", "dmcgowan/myapp:latest"),
    ("foo_bar.com/x:1", "foo_bar.com/x:1", "foo_bar.com/x:1"),
    ("[::1]:5000/repo:tag", "[::1]:5000/repo:tag", "[::1]:5000/repo:tag"),
    (
        "registry-1.docker.io/library/nginx",
        "registry-1.docker.io/library/nginx",
        "registry-1.docker.io/library/nginx",
    ),
]


@pytest.mark.parametrize(("image", "full", "familiar"), STRINGS, ids=lambda v: str(v)[:60])
def test_string_and_familiar(image: str, full: str, familiar: str) -> None:
    ref = parse(image)
    assert str(ref) == full
    assert ref.familiar() == familiar
    # Both forms parse back to the same reference.
    assert parse(full) == ref
    assert parse(familiar) == ref


# ---------------------------------------------------------------------------
# What a pull asks for (normalize_test.go TestParseDockerRef: TagNameOnly, digest wins)
# ---------------------------------------------------------------------------
PULLS: List[Tuple[str, str]] = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:latest", "docker.io/library/busybox:latest"),
    ("busybox@sha256:" + HEX_C, "docker.io/library/busybox@sha256:" + HEX_C),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox:latest", "docker.io/library/busybox:latest"),
    ("library/busybox:latest", "docker.io/library/busybox:latest"),
    ("docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
    ("gcr.io/library/busybox", "gcr.io/library/busybox:latest"),
    ("gcr.io/library/busybox:latest@sha256:" + HEX_C, "gcr.io/library/busybox@sha256:" + HEX_C),
    ("localhost:5000/app:v1", "localhost:5000/app:v1"),
    ("nginx:stable", "docker.io/library/nginx:stable"),
]


@pytest.mark.parametrize(("image", "pull"), PULLS, ids=lambda v: str(v)[:60])
def test_reference_for_pull(image: str, pull: str) -> None:
    ref = parse(image)
    sep = "@" if ref.digest else ":"
    assert ref.name + sep + ref.reference == pull


def test_reference_prefers_digest_then_tag_then_latest() -> None:
    assert ImageRef("docker.io", "library/a", "v1", SHA_F).reference == SHA_F
    assert ImageRef("docker.io", "library/a", "v1", None).reference == "v1"
    assert ImageRef("docker.io", "library/a", None, None).reference == "latest"


# ---------------------------------------------------------------------------
# ParseNormalizedNamed rejections, with the exact reason
# ---------------------------------------------------------------------------
INVALID: List[Tuple[str, str]] = [
    # normalize_test.go TestValidateReferenceName (invalid list)
    ("https://github.com/docker/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker/Docker", lowercase_err("docker/Docker")),
    ("-docker", ERR_REFERENCE_INVALID_FORMAT),
    ("-docker/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("-docker.io/docker/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker///docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker.io/docker/Docker", lowercase_err("docker/Docker")),
    ("docker.io/docker///docker", ERR_REFERENCE_INVALID_FORMAT),
    ("[fc00::1]", ERR_REFERENCE_INVALID_FORMAT),
    ("[fc00::1]:5000", ERR_REFERENCE_INVALID_FORMAT),
    ("fc00::1:5000/debian", ERR_REFERENCE_INVALID_FORMAT),
    ("[fe80::1%eth0]:5000/debian", ERR_REFERENCE_INVALID_FORMAT),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", ERR_REFERENCE_INVALID_FORMAT),
    (HEX_B, hex_err(HEX_B)),
    # normalize_test.go TestValidateRemoteName (invalid list)
    ("docker-/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("-docker-/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("____/____", ERR_REFERENCE_INVALID_FORMAT),
    ("_docker/_docker", ERR_REFERENCE_INVALID_FORMAT),
    ("dock..er/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("dock_.er/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("dock-.er/docker", ERR_REFERENCE_INVALID_FORMAT),
    ("docker/", ERR_REFERENCE_INVALID_FORMAT),
    (LONG_NS + "/docker", ERR_NAME_TOO_LONG),
    # normalize_test.go TestInvalidReferenceComponents
    ("-foo", ERR_REFERENCE_INVALID_FORMAT),
    # design document: an uppercase path is invalid (InvalidImageName)
    ("registry.example.com/App", lowercase_err("App")),
    # empty, whitespace, stray separators
    ("", ERR_REFERENCE_INVALID_FORMAT),
    (" nginx", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx ", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx\n", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx@", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:a:b", ERR_REFERENCE_INVALID_FORMAT),
    (":justtag", ERR_REFERENCE_INVALID_FORMAT),
    ("@" + SHA_F, ERR_REFERENCE_INVALID_FORMAT),
    ("/nginx", ERR_REFERENCE_INVALID_FORMAT),
    ("registry.example.com/", ERR_REFERENCE_INVALID_FORMAT),
    ("registry:http/app", ERR_REFERENCE_INVALID_FORMAT),
    ("registry.example.com/app/", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:.tag", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:-tag", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:invalid~tag", ERR_REFERENCE_INVALID_FORMAT),
    ("nginx:" + "t" * 129, ERR_REFERENCE_INVALID_FORMAT),
    ("bad_hostname.com:8080/myapp:tag", ERR_REFERENCE_INVALID_FORMAT),
    ("ngïnx", ERR_REFERENCE_INVALID_FORMAT),
    # the lowercase rule runs first and quotes the path as normalized so far
    ("Foo", lowercase_err("library/Foo")),
    ("Uppercase:tag", lowercase_err("library/Uppercase")),
    ("test:5000/Uppercase/lowercase:tag", lowercase_err("Uppercase/lowercase")),
    ("docker.io/Foo", lowercase_err("library/Foo")),
    ("index.docker.io/Org/app", lowercase_err("Org/app")),
    ("localhost/App", lowercase_err("App")),
    (HEX_B.upper(), lowercase_err("library/" + HEX_B.upper())),
    # ...and it reads up to the first ":", so an untagged digest's algorithm is included
    ("foo@SHA256:" + "a" * 64, lowercase_err("library/foo@SHA256")),
    ("example.com/Foo@sha256:" + "a" * 64, lowercase_err("Foo@sha256")),
    # an uppercase first component is a registry, and a registry cannot hold "_"
    ("FOO_BAR/x", ERR_NAME_CONTAINS_UPPERCASE),
    # 64 lowercase hex characters alone are an image ID, never a name
    (HEX_A, hex_err(HEX_A)),
    # path length (v0.6.0: path only, 255 characters)
    ("example.com/" + "a" * 256, ERR_NAME_TOO_LONG),
    ("a" * 248, ERR_NAME_TOO_LONG),
    ("domain/" + "a" * 256 + ":tag", ERR_NAME_TOO_LONG),
    # digests, checked by go-digest v1.0.0 after the grammar
    ("repo@sha256:" + "f" * 34, ERR_DIGEST_INVALID_LENGTH),
    ("foo@sha256:" + "a" * 63, ERR_DIGEST_INVALID_LENGTH),
    ("foo@sha256:" + "a" * 65, ERR_DIGEST_INVALID_LENGTH),
    ("foo@sha512:" + "a" * 64, ERR_DIGEST_INVALID_LENGTH),
    ("foo@sha384:" + "a" * 64, ERR_DIGEST_INVALID_LENGTH),
    ("foo@sha256:" + "A" * 64, ERR_DIGEST_INVALID_FORMAT),
    ("foo:v1@SHA256:" + "a" * 64, ERR_DIGEST_INVALID_FORMAT),
    ("foo:v1@Sha256:" + "a" * 64, ERR_DIGEST_INVALID_FORMAT),
    ("validname@invaliddigest:" + F64, ERR_DIGEST_UNSUPPORTED),
    ("foo@md5:" + "a" * 32, ERR_DIGEST_UNSUPPORTED),
    ("foo@sha256+b64:" + "a" * 64, ERR_DIGEST_UNSUPPORTED),
    ("foo@sha256.x:" + "a" * 64, ERR_DIGEST_UNSUPPORTED),
    # fewer than 32 hex digits, or not hex at all, fails the grammar
    ("foo@sha256:" + "a" * 31, ERR_REFERENCE_INVALID_FORMAT),
    ("foo@sha256:" + "g" * 64, ERR_REFERENCE_INVALID_FORMAT),
    ("registry.com:8080/myapp@sha256:badbadbadbad", ERR_REFERENCE_INVALID_FORMAT),
    ("registry.com:8080/myapp@bad", ERR_REFERENCE_INVALID_FORMAT),
    ("registry.com:8080/myapp@2bad", ERR_REFERENCE_INVALID_FORMAT),
    ("foo@1sha256:" + "a" * 64, ERR_REFERENCE_INVALID_FORMAT),
]


@pytest.mark.parametrize(("image", "reason"), INVALID, ids=lambda v: repr(v)[:60])
def test_parse_rejects(image: str, reason: str) -> None:
    with pytest.raises(InvalidReference) as info:
        parse(image)
    assert str(info.value) == reason
    assert info.value.image == image
    with pytest.raises(InvalidReference):
        repository(image)


def test_invalid_reference_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^invalid reference format$"):
        parse("a//b")


# ---------------------------------------------------------------------------
# Parse (no normalization): reference_test.go TestReferenceParse
# ---------------------------------------------------------------------------
# (input, error or None, name, domain, tag, digest)
STRICT: List[Tuple[str, Optional[str], str, str, Optional[str], Optional[str]]] = [
    ("test_com", None, "test_com", "", None, None),
    ("test.com:tag", None, "test.com", "", "tag", None),
    ("test.com:5000", None, "test.com", "", "5000", None),
    ("test.com/repo:tag", None, "test.com/repo", "test.com", "tag", None),
    ("test:5000/repo", None, "test:5000/repo", "test:5000", None, None),
    ("test:5000/repo:tag", None, "test:5000/repo", "test:5000", "tag", None),
    ("test:5000/repo@" + SHA_F, None, "test:5000/repo", "test:5000", None, SHA_F),
    ("test:5000/repo:tag@" + SHA_F, None, "test:5000/repo", "test:5000", "tag", SHA_F),
    ("", ERR_NAME_EMPTY, "", "", None, None),
    (":justtag", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("@" + SHA_F, ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("repo@sha256:" + "f" * 34, ERR_DIGEST_INVALID_LENGTH, "", "", None, None),
    ("validname@invaliddigest:" + F64, ERR_DIGEST_UNSUPPORTED, "", "", None, None),
    ("Uppercase:tag", ERR_NAME_CONTAINS_UPPERCASE, "", "", None, None),
    ("test:5000/Uppercase/lowercase:tag", ERR_NAME_CONTAINS_UPPERCASE, "", "", None, None),
    ("lowercase:Uppercase", None, "lowercase", "", "Uppercase", None),
    ("domain/" + "a" * 256 + ":tag", ERR_NAME_TOO_LONG, "", "", None, None),
    ("a/" * 127 + "a:tag-puts-this-over-max", None, "a/" * 127 + "a", "a", "tag-puts-this-over-max", None),
    ("aa/asdf$$^/aa", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("sub-dom1.foo.com/bar/baz/quux", None, "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", None, None),
    (
        "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
        None,
        "sub-dom1.foo.com/bar/baz/quux",
        "sub-dom1.foo.com",
        "some-long-tag",
        None,
    ),
    (
        "b.gcr.io/test.example.com/my-app:test.example.com",
        None,
        "b.gcr.io/test.example.com/my-app",
        "b.gcr.io",
        "test.example.com",
        None,
    ),
    ("xn--n3h.com/myimage:xn--n3h.com", None, "xn--n3h.com/myimage", "xn--n3h.com", "xn--n3h.com", None),
    (
        "xn--7o8h.com/myimage:xn--7o8h.com@sha512:" + F128,
        None,
        "xn--7o8h.com/myimage",
        "xn--7o8h.com",
        "xn--7o8h.com",
        "sha512:" + F128,
    ),
    ("foo_bar.com:8080", None, "foo_bar.com", "", "8080", None),
    ("foo/foo_bar.com:8080", None, "foo/foo_bar.com", "foo", "8080", None),
    ("192.168.1.1", None, "192.168.1.1", "", None, None),
    ("192.168.1.1:tag", None, "192.168.1.1", "", "tag", None),
    ("192.168.1.1:5000", None, "192.168.1.1", "", "5000", None),
    ("192.168.1.1/repo", None, "192.168.1.1/repo", "192.168.1.1", None, None),
    ("192.168.1.1:5000/repo", None, "192.168.1.1:5000/repo", "192.168.1.1:5000", None, None),
    ("192.168.1.1:5000/repo:5050", None, "192.168.1.1:5000/repo", "192.168.1.1:5000", "5050", None),
    ("[2001:db8::1]", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("[2001:db8::1]:5000", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("[2001:db8::1]:tag", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("[2001:db8::1]/repo", None, "[2001:db8::1]/repo", "[2001:db8::1]", None, None),
    (
        "[2001:db8:1:2:3:4:5:6]/repo:tag",
        None,
        "[2001:db8:1:2:3:4:5:6]/repo",
        "[2001:db8:1:2:3:4:5:6]",
        "tag",
        None,
    ),
    ("[2001:db8::1]:5000/repo", None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", None, None),
    ("[2001:db8::1]:5000/repo:tag", None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "tag", None),
    ("[2001:db8::1]:5000/repo@" + SHA_F, None, "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", None, SHA_F),
    (
        "[2001:db8::1]:5000/repo:tag@" + SHA_F,
        None,
        "[2001:db8::1]:5000/repo",
        "[2001:db8::1]:5000",
        "tag",
        SHA_F,
    ),
    ("[2001:db8::]:5000/repo", None, "[2001:db8::]:5000/repo", "[2001:db8::]:5000", None, None),
    ("[::1]:5000/repo", None, "[::1]:5000/repo", "[::1]:5000", None, None),
    ("[fe80::1%eth0]:5000/repo", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("[fe80::1%@invalidzone]:5000/repo", ERR_REFERENCE_INVALID_FORMAT, "", "", None, None),
    ("example.com/" + "a" * 255 + ":tag", None, "example.com/" + "a" * 255, "example.com", "tag", None),
    # reference_test.go TestSerialization
    ("example.com:8000/named", None, "example.com:8000/named", "example.com:8000", None, None),
    ("example.com:8000/named:tagged", None, "example.com:8000/named", "example.com:8000", "tagged", None),
    (
        "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
        None,
        "other.com/named",
        "other.com",
        None,
        "sha256:1234567890098765432112345667890098765432112345667890098765432112",
    ),
]


@pytest.mark.parametrize(
    ("image", "err", "name", "domain", "tag", "digest"), STRICT, ids=lambda v: repr(v)[:60]
)
def test_library_parse(
    image: str, err: Optional[str], name: str, domain: str, tag: Optional[str], digest: Optional[str]
) -> None:
    if err is not None:
        with pytest.raises(InvalidReference) as info:
            _parse_strict(image)
        assert str(info.value) == err
        return
    ref = _parse_strict(image)
    assert str(ref) == image
    assert (ref.name, ref.domain, ref.tag, ref.digest) == (name, domain, tag, digest)


# ---------------------------------------------------------------------------
# Grammar: regexp_test.go, as data
# ---------------------------------------------------------------------------
DOMAINS: List[Tuple[str, bool]] = [
    ("test.com", True),
    ("test.com:10304", True),
    ("test.com:http", False),
    ("localhost", True),
    ("localhost:8080", True),
    ("a", True),
    ("a.b", True),
    ("ab.cd.com", True),
    ("a-b.com", True),
    ("-ab.com", False),
    ("ab-.com", False),
    ("ab.c-om", True),
    ("ab.-com", False),
    ("ab.com-", False),
    ("0101.com", True),
    ("001a.com", True),
    ("b.gbc.io:443", True),
    ("b.gbc.io", True),
    ("xn--n3h.com", True),
    ("Asdf.com", True),
    ("192.168.1.1:75050", True),
    ("192.168.1.1:750050", True),
    ("[fd00:1:2::3]:75050", True),
    ("[fd00:1:2::3]75050", False),
    ("[fd00:1:2::3]::75050", False),
    ("[fd00:1:2::3%eth0]:75050", False),
    ("[fd00123123123]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050", True),
    ("[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:750505", True),
    ("fd00:1:2::3:75050", False),
]


@pytest.mark.parametrize(("text", "match"), DOMAINS)
def test_domain_grammar(text: str, match: bool) -> None:
    assert (DOMAIN_RE.fullmatch(text) is not None) is match


# (input, None if no match else (domain, path))
NAMES: List[Tuple[str, Optional[Tuple[str, str]]]] = [
    ("", None),
    ("short", ("", "short")),
    ("simple/name", ("simple", "name")),
    ("library/ubuntu", ("library", "ubuntu")),
    ("docker/stevvooe/app", ("docker", "stevvooe/app")),
    ("aa/aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb", ("aa", "aa/aa/aa/aa/aa/aa/aa/aa/bb/bb/bb/bb/bb/bb")),
    ("aa/aa/bb/bb/bb", ("aa", "aa/bb/bb/bb")),
    ("a/a/a/a", ("a", "a/a/a")),
    ("a/a/a/a/", None),
    ("a//a/a", None),
    ("a", ("", "a")),
    ("a/aa", ("a", "aa")),
    ("a/aa/a", ("a", "aa/a")),
    ("foo.com", ("", "foo.com")),
    ("foo.com/", None),
    ("foo.com:8080/bar", ("foo.com:8080", "bar")),
    ("foo.com:http/bar", None),
    ("foo.com/bar", ("foo.com", "bar")),
    ("foo.com/bar/baz", ("foo.com", "bar/baz")),
    ("localhost:8080/bar", ("localhost:8080", "bar")),
    ("sub-dom1.foo.com/bar/baz/quux", ("sub-dom1.foo.com", "bar/baz/quux")),
    ("blog.foo.com/bar/baz", ("blog.foo.com", "bar/baz")),
    ("a^a", None),
    ("aa/asdf$$^/aa", None),
    ("asdf$$^/aa", None),
    ("aa-a/a", ("aa-a", "a")),
    ("a/" * 128 + "a", ("a", "a/" * 127 + "a")),
    ("a-/a/a/a", None),
    ("foo.com/a-/a/a", None),
    ("-foo/bar", None),
    ("foo/bar-", None),
    ("foo-/bar", None),
    ("foo/-bar", None),
    ("_foo/bar", None),
    ("foo_bar", ("", "foo_bar")),
    ("foo_bar.com", ("", "foo_bar.com")),
    ("foo_bar.com:8080", None),
    ("foo_bar.com:8080/app", None),
    ("foo.com/foo_bar", ("foo.com", "foo_bar")),
    ("____/____", None),
    ("_docker/_docker", None),
    ("docker_/docker_", None),
    ("b.gcr.io/test.example.com/my-app", ("b.gcr.io", "test.example.com/my-app")),
    ("xn--n3h.com/myimage", ("xn--n3h.com", "myimage")),
    ("xn--7o8h.com/myimage", ("xn--7o8h.com", "myimage")),
    ("example.com/xn--7o8h.com/myimage", ("example.com", "xn--7o8h.com/myimage")),
    ("example.com/some_separator__underscore/myimage", ("example.com", "some_separator__underscore/myimage")),
    ("example.com/__underscore/myimage", None),
    ("example.com/..dots/myimage", None),
    ("example.com/.dots/myimage", None),
    ("example.com/nodouble..dots/myimage", None),
    ("docker./docker", None),
    (".docker/docker", None),
    ("docker-/docker", None),
    ("-docker/docker", None),
    ("do..cker/docker", None),
    ("do__cker:8080/docker", None),
    ("do__cker/docker", ("", "do__cker/docker")),
    (
        "registry.io/foo/project--id.module--name.ver---sion--name",
        ("registry.io", "foo/project--id.module--name.ver---sion--name"),
    ),
    ("Asdf.com/foo/bar", ("Asdf.com", "foo/bar")),
    ("Foo/FarB", None),
    # reference_test.go TestDomainAndPath
    ("test.com/foo", ("test.com", "foo")),
    ("test_com/foo", ("", "test_com/foo")),
    ("test:8080/foo", ("test:8080", "foo")),
    ("test.com:8080/foo", ("test.com:8080", "foo")),
    ("test-com:8080/foo", ("test-com:8080", "foo")),
    ("xn--n3h.com:18080/foo", ("xn--n3h.com:18080", "foo")),
]


@pytest.mark.parametrize(("text", "expected"), NAMES, ids=lambda v: repr(v)[:60])
def test_name_grammar(text: str, expected: Optional[Tuple[str, str]]) -> None:
    m = NAME_RE.fullmatch(text)
    if expected is None:
        assert m is None
    else:
        assert m is not None
        assert (m.group(1) or "", m.group(2)) == expected


SHA_BE = "sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912"
# (input, None if no match else (name, tag, digest))
REFERENCES: List[Tuple[str, Optional[Tuple[str, str, str]]]] = [
    ("registry.com:8080/myapp:tag", ("registry.com:8080/myapp", "tag", "")),
    ("registry.com:8080/myapp@" + SHA_BE, ("registry.com:8080/myapp", "", SHA_BE)),
    ("registry.com:8080/myapp:tag2@" + SHA_BE, ("registry.com:8080/myapp", "tag2", SHA_BE)),
    ("registry.com:8080/myapp@sha256:badbadbadbad", None),
    ("registry.com:8080/myapp:invalid~tag", None),
    ("bad_hostname.com:8080/myapp:tag", None),
    ("localhost:8080@" + SHA_BE, ("localhost", "8080", SHA_BE)),
    ("localhost:8080/name@" + SHA_BE, ("localhost:8080/name", "", SHA_BE)),
    ("localhost:http/name@" + SHA_BE, None),
    ("localhost@" + SHA_BE, ("localhost", "", SHA_BE)),
    ("registry.com:8080/myapp@bad", None),
    ("registry.com:8080/myapp@2bad", None),
]


@pytest.mark.parametrize(("text", "expected"), REFERENCES, ids=lambda v: repr(v)[:60])
def test_reference_grammar(text: str, expected: Optional[Tuple[str, str, str]]) -> None:
    m = REFERENCE_RE.fullmatch(text)
    if expected is None:
        assert m is None
    else:
        assert m is not None
        assert (m.group(1), m.group(2) or "", m.group(3) or "") == expected


IDENTIFIERS: List[Tuple[str, bool]] = [
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", True),
    ("7EC43B381E5AEFE6E04EFB0B3F0693FF2A4A50652D64AEC573905F2DB5889A1C", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf", False),
    ("sha256:da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf9821", False),
    ("da304e823d8ca2b9d863a3c897baeb852ba21ea9a9f1414736394ae7fcaf98218482", False),
]


@pytest.mark.parametrize(("text", "match"), IDENTIFIERS)
def test_identifier_grammar(text: str, match: bool) -> None:
    assert (IDENTIFIER_RE.fullmatch(text) is not None) is match


def test_image_ref_is_a_value() -> None:
    assert parse("nginx") == parse("docker.io/library/nginx") == parse("index.docker.io/nginx")
    assert len({parse("nginx"), parse("library/nginx")}) == 1
    assert parse("nginx") != parse("nginx:latest")
