"""Image references parsed and normalized the way the kubelet does it.

The kubelet runs every container image through distribution/reference v0.6.0
(`ParseNormalizedNamed`) before it looks up credentials or pulls: the
normalized `.Name()` is what credential keys are matched against, and a string
the library rejects never reaches a registry (the pod reports
InvalidImageName). Verdicts are only right if we accept, reject and normalize
exactly the same strings, so this module follows that library's grammar,
its order of checks and its error wording, including its quirks.
Digest checks follow opencontainers/go-digest v1.0.0, which the library uses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Dict, Optional, Pattern, Tuple

from kubectl_imgaccess.objects import slotted

__all__ = ["DEFAULT_DOMAIN", "DEFAULT_TAG", "ImageRef", "InvalidReference", "parse", "repository"]

DEFAULT_DOMAIN = "docker.io"
"""Registry assumed when the image names none (Docker Hub)."""

LEGACY_DEFAULT_DOMAIN = "index.docker.io"
"""Old Docker Hub name; rewritten to DEFAULT_DOMAIN when written as the first component."""

OFFICIAL_REPO_PREFIX = "library/"
"""Docker Hub namespace of single-component names ("nginx" is "library/nginx")."""

DEFAULT_TAG = "latest"
"""Tag a pull asks for when the image has neither tag nor digest."""

LOCALHOST = "localhost"
"""The one first component without "." or ":" that is still a registry host."""

NAME_TOTAL_LENGTH_MAX = 255
"""Longest accepted path (v0.6.0 counts the path only, not the domain)."""

# --- Grammar (regexp.go). Character classes are spelled out in ASCII on
# purpose: Go's \w and [[:xdigit:]] are ASCII-only, Python's are not.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_OPTIONAL_PORT = r"(?::[0-9]+)?"
_TAG = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_IDENTIFIER = r"[a-f0-9]{64}"
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r"(?:\." + _DOMAIN_NAME_COMPONENT + r")*"
_HOST = r"(?:" + _DOMAIN_NAME + r"|" + _IPV6_ADDRESS + r")"
_DOMAIN_AND_PORT = _HOST + _OPTIONAL_PORT
_PATH_COMPONENT = _ALPHANUMERIC + r"(?:" + _SEPARATOR + _ALPHANUMERIC + r")*"
_REMOTE_NAME = _PATH_COMPONENT + r"(?:/" + _PATH_COMPONENT + r")*"
_NAME = r"(?:" + _DOMAIN_AND_PORT + r"/)?" + _REMOTE_NAME

# All are used with fullmatch(), the equivalent of Go's ^...$ (Python's `$`
# would also accept a trailing newline). Python's backtracking picks the same
# submatches as Go's leftmost-first matching for these expressions.
DOMAIN_RE: Pattern[str] = re.compile(_DOMAIN_AND_PORT)
NAME_RE: Pattern[str] = re.compile(r"(?:(" + _DOMAIN_AND_PORT + r")/)?(" + _REMOTE_NAME + r")")
REFERENCE_RE: Pattern[str] = re.compile(r"(" + _NAME + r")(?::(" + _TAG + r"))?(?:@(" + _DIGEST + r"))?")
IDENTIFIER_RE: Pattern[str] = re.compile(_IDENTIFIER)
PATH_RE: Pattern[str] = re.compile(_REMOTE_NAME)
TAG_RE: Pattern[str] = re.compile(_TAG)

# --- go-digest v1.0.0: registered algorithms and their hex lengths.
_DIGEST_HEX_LENGTHS: Dict[str, int] = {"sha256": 64, "sha384": 96, "sha512": 128}
_GO_DIGEST_RE: Pattern[str] = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")

# --- Error texts, worded as the libraries word them.
ERR_REFERENCE_INVALID_FORMAT = "invalid reference format"
ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase"
ERR_NAME_EMPTY = "repository name must have at least one component"
ERR_NAME_TOO_LONG = f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"
ERR_DIGEST_INVALID_FORMAT = "invalid checksum digest format"
ERR_DIGEST_INVALID_LENGTH = "invalid checksum digest length"
ERR_DIGEST_UNSUPPORTED = "unsupported digest algorithm"


class InvalidReference(ValueError):
    """The image string is not a reference the kubelet accepts (it reports InvalidImageName).

    `str()` is the library's own reason, so messages match what users see in
    pod events; `image` is the string that was rejected.
    """

    def __init__(self, reason: str, image: Optional[str] = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.image = image


@slotted
@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalized image reference.

    `domain` is empty only in the library's corner case where the first
    component was taken as a registry by the normalizer but is not valid
    host syntax while still valid path syntax (e.g. "foo_bar.com/app"): the
    whole name then becomes the path, exactly as the kubelet sees it.
    """

    domain: str
    path: str
    tag: Optional[str] = None
    digest: Optional[str] = None

    @property
    def name(self) -> str:
        """Tag- and digest-less name; what credential keys are matched against."""
        if not self.domain:
            return self.path
        return self.domain + "/" + self.path

    @property
    def reference(self) -> str:
        """What a pull asks the registry for: the digest wins over the tag; neither means "latest"."""
        if self.digest:
            return self.digest
        if self.tag:
            return self.tag
        return DEFAULT_TAG

    def familiar(self) -> str:
        """The short form users write and tools print ("nginx", "myorg/app:1")."""
        domain, path = self.domain, self.path
        if domain == DEFAULT_DOMAIN:
            domain = ""
            if path.startswith(OFFICIAL_REPO_PREFIX):
                # Only a single component under library/ loses the prefix.
                rest = path[len(OFFICIAL_REPO_PREFIX) :]
                if "/" not in rest:
                    path = rest
        name = domain + "/" + path if domain else path
        return name + self._suffix()

    def _suffix(self) -> str:
        out = ""
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out

    def __str__(self) -> str:
        """The fully qualified form: name[:tag][@digest]."""
        return self.name + self._suffix()


def _split_docker_domain(name: str) -> Tuple[str, str]:
    """Decide registry vs. path the way the normalizer does, before any syntax check.

    A single component is always a Docker Hub official image (even
    "localhost" or "example.com"). Otherwise the first component is a registry
    if it is "localhost", contains "." or ":", or has a letter that lowercasing
    changes (paths must be lowercase, so such a component cannot be a path).
    """
    maybe_domain, sep, maybe_remote = name.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    if maybe_domain == LEGACY_DEFAULT_DOMAIN:
        domain, remote = DEFAULT_DOMAIN, maybe_remote
    elif (
        maybe_domain == LOCALHOST
        or "." in maybe_domain
        or ":" in maybe_domain
        or maybe_domain.lower() != maybe_domain
    ):
        domain, remote = maybe_domain, maybe_remote
    else:
        domain, remote = DEFAULT_DOMAIN, name
    if domain == DEFAULT_DOMAIN and "/" not in remote:
        remote = OFFICIAL_REPO_PREFIX + remote
    return domain, remote


def _validate_digest(digest: str) -> None:
    """go-digest v1.0.0 `Parse`: only sha256/sha384/sha512 with lowercase hex of the exact length."""
    algorithm, _, encoded = digest.partition(":")
    if not algorithm or not encoded:
        raise InvalidReference(ERR_DIGEST_INVALID_FORMAT)
    expected_len = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected_len is None:
        if _GO_DIGEST_RE.fullmatch(digest) is None:
            raise InvalidReference(ERR_DIGEST_INVALID_FORMAT)
        raise InvalidReference(ERR_DIGEST_UNSUPPORTED)
    if len(encoded) != expected_len:
        raise InvalidReference(ERR_DIGEST_INVALID_LENGTH)
    if re.fullmatch(r"[a-f0-9]+", encoded) is None:
        raise InvalidReference(ERR_DIGEST_INVALID_FORMAT)


def _parse_strict(s: str) -> ImageRef:
    """The library's `Parse`: grammar, path length, then digest; no normalization."""
    m = REFERENCE_RE.fullmatch(s)
    if m is None:
        if s == "":
            raise InvalidReference(ERR_NAME_EMPTY)
        lowered = s.lower()
        if lowered != s and REFERENCE_RE.fullmatch(lowered) is not None:
            raise InvalidReference(ERR_NAME_CONTAINS_UPPERCASE)
        raise InvalidReference(ERR_REFERENCE_INVALID_FORMAT)
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    nm = NAME_RE.fullmatch(name)
    if nm is not None:
        domain, path = nm.group(1) or "", nm.group(2)
    else:  # pragma: no cover - REFERENCE_RE already guarantees the name matches
        domain, path = "", name
    if len(path.encode("utf-8")) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(ERR_NAME_TOO_LONG)
    if digest:
        _validate_digest(digest)
    return ImageRef(domain=domain, path=path, tag=tag or None, digest=digest or None)


@functools.lru_cache(maxsize=16384)  # a cluster names the same few images in every Domain; ImageRef is frozen
def parse(image: str) -> ImageRef:
    """Parse `image` as the kubelet does (`ParseNormalizedNamed`); raise InvalidReference otherwise.

    The checks run in the library's order because the first failing one
    decides the message: bare 64-hex identifier, lowercase path (before any
    grammar check, hence its own wording), grammar, length, digest.
    """
    try:
        if IDENTIFIER_RE.fullmatch(image) is not None:
            raise InvalidReference(
                f"invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
            )
        domain, remainder = _split_docker_domain(image)
        # The lowercase rule looks at everything up to the first ":", which may
        # include an "@algorithm" when there is no tag; the library does the same.
        remote = remainder.split(":", 1)[0]
        if remote.lower() != remote:
            raise InvalidReference(
                f"{ERR_REFERENCE_INVALID_FORMAT}: repository name ({remote}) must be lowercase"
            )
        return _parse_strict(domain + "/" + remainder)
    except InvalidReference as exc:
        if exc.image is None:
            exc.image = image
        raise


def repository(image: str) -> str:
    """The normalized repository (`ParseNormalizedNamed(image).Name()`), e.g. docker.io/library/nginx."""
    return parse(image).name


def valid_path(path: str) -> bool:
    """A repository path as the grammar allows it (no domain): `team/app`, `library/nginx`."""
    return PATH_RE.fullmatch(path) is not None and len(path.encode("utf-8")) <= NAME_TOTAL_LENGTH_MAX


def valid_tag_or_digest(reference: str) -> bool:
    """What may follow a repository in a pull: a tag, or a digest the library accepts."""
    if TAG_RE.fullmatch(reference) is not None:
        return True
    try:
        _validate_digest(reference)
    except InvalidReference:
        return False
    return True
