"""WWW-Authenticate parsing (RFC 7235): the registry says here how it wants to be authenticated.

One header value may hold several challenges, and a response may carry several headers. Schemes and
parameter names are case-insensitive; values are tokens or quoted strings in which commas are literal
and a backslash escapes the next character. Malformed parts are skipped rather than fatal, because a
registry's odd header must not hide a usable challenge next to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

_TCHAR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


@dataclass(frozen=True)
class Challenge:
    """One challenge: lower-cased scheme, parameters with lower-cased names, or a token68."""

    scheme: str
    params: Dict[str, str] = field(default_factory=dict, hash=False)
    token68: Optional[str] = None

    def get(self, name: str) -> Optional[str]:
        return self.params.get(name.lower())


def _skip(s: str, i: int, chars: str) -> int:
    while i < len(s) and s[i] in chars:
        i += 1
    return i


def _quoted(s: str, i: int) -> Tuple[str, int]:
    """Read a quoted-string starting at the opening quote; return (value, index after it)."""
    out: List[str] = []
    i += 1
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i  # unterminated: take what there is


def _skip_item(s: str, i: int) -> int:
    """Skip a malformed list element up to the next comma outside quotes."""
    while i < len(s) and s[i] != ",":
        i = _quoted(s, i)[1] if s[i] == '"' else i + 1
    return i


def parse_one(value: str) -> List[Challenge]:
    """Challenges in one header value."""
    out: List[Challenge] = []
    scheme: Optional[str] = None
    params: Dict[str, str] = {}
    token68: Optional[str] = None

    def flush() -> None:
        if scheme is not None:
            out.append(Challenge(scheme, dict(params), token68))

    i, n = 0, len(value)
    while i < n:
        i = _skip(value, i, " \t,")
        if i >= n:
            break
        m = _TCHAR.match(value, i)
        if not m:
            i = _skip_item(value, i)
            continue
        name, j = m.group(0), m.end()
        k = _skip(value, j, " \t")
        if scheme is None and k < n and value[k] == "=":
            i = _skip_item(value, k)  # a parameter before any scheme
            continue
        if scheme is not None and k < n and value[k] == "=":
            # An auth-param of the current challenge ("name = value"), or a token68 such as "abc==".
            v = _skip(value, k + 1, " \t")
            if v < n and value[v] == '"':
                val, i = _quoted(value, v)
            else:
                vm = _TCHAR.match(value, v)
                if vm is None:
                    eq_end = _skip(value, k, "=")
                    rest = _skip(value, eq_end, " \t")
                    if not params and token68 is None and k == j and (rest >= n or value[rest] == ","):
                        token68 = value[i:eq_end]
                        i = eq_end
                    else:
                        i = _skip_item(value, v)
                    continue
                val, i = vm.group(0), vm.end()
            params.setdefault(name.lower(), val)
            continue
        # A new challenge: flush the previous one.
        flush()
        scheme, params, token68 = name.lower(), {}, None
        i = k
        if k > j and k < n and value[k] != ",":
            t = _TOKEN68.match(value, k)
            if t is not None:
                after = _skip(value, t.end(), " \t")
                if after >= n or value[after] == ",":
                    token68 = t.group(0)
                    i = t.end()
    flush()
    return out


def parse_challenges(values: Iterable[str]) -> List[Challenge]:
    """Challenges in every WWW-Authenticate header value, in order."""
    out: List[Challenge] = []
    for value in values:
        out.extend(parse_one(value))
    return out


def pick(challenges: Iterable[Challenge]) -> Optional[Challenge]:
    """The challenge to answer: Bearer with a realm first (what the big registries want), then Basic."""
    found = list(challenges)
    for c in found:
        if c.scheme == "bearer" and c.get("realm"):
            return c
    for c in found:
        if c.scheme == "basic":
            return c
    return None
