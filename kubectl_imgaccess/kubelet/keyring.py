"""The kubelet's credential keyring: which pull-secret entries apply to an image repository, in what order.

This mirrors `BasicDockerKeyring` in kubernetes/kubernetes `pkg/credentialprovider/keyring.go`. Registry keys
are read with Go `net/url` rules and host labels are matched with Go `path/filepath.Match`, because the
surprising cases (a key the kubelet silently drops, a glob that never crosses a dot, a port that must be
spelled identically) are exactly what users get wrong. Everything here works on normalized repository
names ("docker.io/library/nginx", "localhost:5000/app"): tag and digest already removed.

Go version notes: hosts follow the current `net/url` (Go 1.25.8 and later): a `[` anywhere but at the start
of the host, or brackets around anything but an IPv6 address, make the key unparseable; an unbracketed
host with two colons is unparseable as well.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

from kubectl_imgaccess.objects import Credential

__all__ = ["DOCKER_HUB_KEY", "Keyring", "key_matches", "normalize_key"]

#: The normalized key whose credentials serve Docker Hub images when no key matched them.
DOCKER_HUB_KEY = "index.docker.io"

# Which part of a URL is being unescaped; decides what `%XX` and raw bytes are allowed.
_HOST, _ZONE, _OTHER = 1, 2, 3

_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# ASCII bytes a Go URL host may hold unescaped (RFC 3986 sub-delims plus the extras Go allows).
_HOST_OK = _ALNUM | frozenset(b"-_.~!$&'()*+,;=:[]<>\"")
_USERINFO_OK = _ALNUM | frozenset(b"-._:~!$&'()*+,;=%@")
_HEX = frozenset(b"0123456789abcdefABCDEF")


class _URL(NamedTuple):
    host: bytes
    path: bytes


def _to_bytes(text: str) -> Optional[bytes]:
    """Go strings are bytes; surrogate escapes stand for raw bytes, other surrogates cannot occur in Go."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None


def _to_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _unescape(s: bytes, mode: int) -> Optional[bytes]:
    """Go `url.unescape`: None where Go reports an error."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # '%'
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                return None
            triple = s[i : i + 3]
            value = int(triple[1:].decode("ascii"), 16)
            # In a host, %-escapes may only spell non-ASCII bytes (and %25 inside an IPv6 zone).
            if mode == _HOST and value < 0x80 and triple != b"%25":
                return None
            if mode == _ZONE and triple != b"%25" and value != 0x20 and value not in _HOST_OK:
                return None
            out.append(value)
            i += 3
            continue
        if mode in (_HOST, _ZONE) and c < 0x80 and c not in _HOST_OK:
            return None
        out.append(c)
        i += 1
    return bytes(out)


def _valid_optional_port(port: bytes) -> bool:
    if not port:
        return True
    return port[:1] == b":" and all(0x30 <= b <= 0x39 for b in port[1:])


def _is_ipv6(text: bytes) -> bool:
    """Go `netip.ParseAddr` accepting only IPv6 (an IPv4 address is not allowed inside brackets)."""
    try:
        literal = text.decode("ascii")
    except UnicodeDecodeError:
        return False
    if ":" not in literal:
        return False
    address, sep, zone = literal.partition("%")
    if sep and not zone:
        return False
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return False
    return True


def _parse_host(scheme: str, host: bytes) -> Optional[bytes]:
    open_bracket = host.rfind(b"[")
    if open_bracket > 0:
        return None
    if open_bracket == 0:
        close_bracket = host.rfind(b"]")
        if close_bracket < 0:
            return None
        colon_port = host[close_bracket + 1 :]
        if not _valid_optional_port(colon_port):
            return None
        inner = host[1:close_bracket]
        zone_at = inner.find(b"%25")
        if zone_at >= 0:
            address = _unescape(inner[:zone_at], _HOST)
            zone = _unescape(inner[zone_at:], _ZONE)
            unescaped = None if address is None or zone is None else address + zone
        else:
            unescaped = _unescape(inner, _HOST)
        if unescaped is None or not _is_ipv6(unescaped):
            return None
        return b"[" + unescaped + b"]" + colon_port
    colon = host.find(b":")
    if colon >= 0:
        last = host.rfind(b":")
        if last != colon and scheme not in ("http", "https"):
            colon = last
        if not _valid_optional_port(host[colon:]):
            return None
    return _unescape(host, _HOST)


@functools.lru_cache(maxsize=8192)  # keys and repositories repeat across every Domain of a cluster
def _parse_url(raw: str) -> Optional[_URL]:
    """Go `url.Parse` for "http://..." / "https://..." text; only host and decoded path are kept."""
    data = _to_bytes(raw)
    if data is None:
        return None
    data, _, fragment = data.partition(b"#")
    if any(b < 0x20 or b == 0x7F for b in data):
        return None
    colon = data.find(b":")
    if colon <= 0:
        return None
    scheme = data[:colon].decode("ascii", "replace").lower()
    rest = data[colon + 1 :]
    rest = rest.partition(b"?")[0]  # the query is never validated; "?" just ends the path
    if not rest.startswith(b"//"):
        return None  # never the case here: callers always pass a scheme and "//"
    authority, slash, path = rest[2:].partition(b"/")
    path = slash + path
    at = authority.rfind(b"@")
    host = _parse_host(scheme, authority[at + 1 :])
    if host is None:
        return None
    if at >= 0:
        userinfo = authority[:at]
        if any(b not in _USERINFO_OK for b in userinfo):
            return None
        if any(_unescape(part, _OTHER) is None for part in userinfo.split(b":", 1)):
            return None
    decoded_path = _unescape(path, _OTHER)
    if decoded_path is None:
        return None
    if fragment and _unescape(fragment, _OTHER) is None:
        return None
    return _URL(host, decoded_path)


def normalize_key(key: str) -> Optional[str]:
    """The index key the kubelet files a registry key under, or None when it drops the entry as unparseable.

    "https://index.docker.io/v1/" -> "index.docker.io"; "registry.io:5000/team" stays as written.
    """
    value = key if key.startswith(("https://", "http://")) else "https://" + key
    parsed = _parse_url(value)
    if parsed is None:
        return None
    path = parsed.path
    if path.startswith((b"/v2/", b"/v1/")):
        path = path[3:]
    if path and path != b"/":
        return _to_text(parsed.host + path)
    return _to_text(parsed.host)


def _split_host_port(host: str) -> Tuple[List[str], str]:
    """Go `net.SplitHostPort`, falling back (as the kubelet does) to the whole host and no port."""
    colon = host.rfind(":")
    if colon < 0:
        return host.split("."), ""
    start, end_search = 0, 0
    if host.startswith("["):
        end = host.find("]")
        if end < 0 or end + 1 != colon:
            return host.split("."), ""
        name = host[1:end]
        start, end_search = 1, end + 1
    else:
        name = host[:colon]
        if ":" in name:
            return host.split("."), ""
    if "[" in host[start:] or "]" in host[end_search:]:
        return host.split("."), ""
    return name.split("."), host[colon + 1 :]


def _get_class_char(chunk: str) -> Tuple[Optional[str], str]:
    """One (possibly escaped) character of a `[...]` class; None for a malformed pattern."""
    if not chunk or chunk[0] in "-]":
        return None, chunk
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            return None, chunk
    char, rest = chunk[0], chunk[1:]
    if not rest:
        return None, rest
    return char, rest


def _match_chunk(chunk: str, s: str) -> Tuple[Optional[str], bool]:
    """Go `matchChunk`: (rest of s, ok); rest is None when the chunk is malformed."""
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        head = chunk[0]
        if head == "[":
            char = ""
            if not failed:
                char, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = chunk[:1] == "^"
            if negated:
                chunk = chunk[1:]
            matched = False
            ranges = 0
            while True:
                if chunk[:1] == "]" and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_class_char(chunk)
                if lo is None:
                    return None, False
                hi = lo
                if chunk[0] == "-":
                    upper, chunk = _get_class_char(chunk[1:])
                    if upper is None:
                        return None, False
                    hi = upper
                if not failed and lo <= char <= hi:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif head == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if head == "\\":
                chunk = chunk[1:]
                if not chunk:
                    return None, False
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return "", False
    return s, True


def _scan_chunk(pattern: str) -> Tuple[bool, str, str]:
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _glob(pattern: str, name: str) -> bool:
    """Go `path/filepath.Match` on Unix; a malformed pattern matches nothing (the kubelet treats it so)."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name
        rest, ok = _match_chunk(chunk, name)
        if ok and rest is not None and (not rest or pattern):
            name = rest
            continue
        if rest is None:
            return False
        advanced = False
        if star:
            i = 0
            while i < len(name) and name[i] != "/":
                rest, ok = _match_chunk(chunk, name[i + 1 :])
                if ok and rest is not None:
                    if not pattern and rest:
                        i += 1
                        continue
                    name = rest
                    advanced = True
                    break
                if rest is None:
                    return False
                i += 1
        if advanced:
            continue
        return False
    return not name


def _urls_match(glob_key: str, repository: str) -> bool:
    """Go `URLsMatchStr`: same port string, same label count, path prefix, each label globbed."""
    glob_url = _parse_url("https://" + glob_key)
    target_url = _parse_url("https://" + repository)
    if glob_url is None or target_url is None:
        return False
    glob_labels, glob_port = _split_host_port(_to_text(glob_url.host))
    target_labels, target_port = _split_host_port(_to_text(target_url.host))
    if glob_port != target_port or len(glob_labels) != len(target_labels):
        return False
    if not target_url.path.startswith(glob_url.path):
        return False
    return all(_glob(g, t) for g, t in zip(glob_labels, target_labels))


def key_matches(key: str, repository: str) -> bool:
    """Whether a registry key as written in a secret matches a normalized repository (no fallback)."""
    normalized = normalize_key(key)
    return normalized is not None and _urls_match(normalized, repository)


def _is_docker_hub_name(repository: str) -> bool:
    """Go `isDefaultRegistryMatch`: names the kubelet treats as Docker Hub for the fallback."""
    first, slash, _ = repository.partition("/")
    if not first:
        return False
    if not slash or first in ("docker.io", "index.docker.io"):
        return True
    return "." not in first and ":" not in first


def _byte_order(key: str) -> bytes:
    raw = _to_bytes(key)
    return raw if raw is not None else key.encode("utf-8", "replace")


class Keyring:
    """The pull-secret part of a pod's keyring, from credentials in the order the pod lists its secrets."""

    __slots__ = ("_creds", "_index", "unparseable")  # one per pull Secret of a cluster, in an audit

    def __init__(self, credentials: Iterable[Credential]) -> None:
        self._creds: Dict[str, List[Credential]] = {}
        dropped: List[Credential] = []
        for cred in credentials:
            key = normalize_key(cred.key)
            if key is None:
                dropped.append(cred)
                continue
            self._creds.setdefault(key, []).append(cred)
        #: Credentials whose registry key the kubelet cannot parse and silently ignores.
        self.unparseable: Tuple[Credential, ...] = tuple(dropped)
        # Descending byte order puts longer paths of the same host first ("quay.io/team" before "quay.io").
        self._index: List[str] = sorted(self._creds, key=_byte_order, reverse=True)

    @property
    def keys(self) -> List[str]:
        """Normalized keys in the order the kubelet consults them."""
        return list(self._index)

    def matching_keys(self, repository: str) -> List[str]:
        """The normalized keys whose credentials `lookup` returns, in order."""
        keys = [key for key in self._index if _urls_match(key, repository)]
        if keys:
            return keys
        if DOCKER_HUB_KEY in self._creds and _is_docker_hub_name(repository):
            return [DOCKER_HUB_KEY]
        return []

    def lookup(self, repository: str) -> List[Credential]:
        """Every credential the kubelet would try for this repository, in the order it tries them."""
        found: List[Credential] = []
        for key in self.matching_keys(repository):
            found.extend(self._creds[key])
        return found
