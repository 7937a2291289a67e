"""Label and field selectors with the real server's grammar and its 400 answers for what it refuses."""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

Predicate = Callable[[Dict[str, Any]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"


class SelectorError(ValueError):
    """The selector does not parse or names a field the kind cannot be selected on (HTTP 400)."""


def _split_top(text: str) -> List[str]:
    """Split on commas that are not inside `(...)`, since `in (a,b)` holds commas itself."""
    parts: List[str] = []
    depth = 0
    cur = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _check(text: str, pattern: str, what: str, requirement: str) -> str:
    if not re.fullmatch(pattern, text):
        raise SelectorError(f"unable to parse requirement: invalid {what} {text!r} in {requirement!r}")
    return text


def parse_label_selector(text: str) -> Predicate:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` into a predicate over an object's labels."""
    tests: List[Callable[[Mapping[str, str]], bool]] = []
    for req in _split_top(text):
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s*\(([^)]*)\)", req)
        if m:
            key = _check(m.group(1), _KEY, "label key", req)
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            for v in values:
                _check(v, _VALUE, "label value", req)
            if m.group(2) == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
            continue
        m = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(\S*)", req)
        if m:
            key = _check(m.group(1), _KEY, "label key", req)
            value = _check(m.group(3), _VALUE, "label value", req)
            if m.group(2) == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
            continue
        if req.startswith("!"):
            key = _check(req[1:].strip(), _KEY, "label key", req)
            tests.append(lambda labels, k=key: k not in labels)
            continue
        key = _check(req, _KEY, "label key", req)
        tests.append(lambda labels, k=key: k in labels)

    def predicate(obj: Dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(t(labels) for t in tests)

    return predicate


def field_value(obj: Dict[str, Any], path: str) -> str:
    """The string form of a dotted field, "" when absent, as the server's field sets compare it."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str, allowed: Sequence[str]) -> Predicate:
    """Parse `f=v,g!=w`; a field the kind does not index is refused like the real server refuses it."""
    tests: List[Tuple[str, str, bool]] = []
    for req in _split_top(text):
        m = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(.*)", req)
        if not m:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{req}'")
        field, op, value = m.group(1), m.group(2), m.group(3).strip()
        if field not in allowed:
            raise SelectorError(f"field label not supported: {field}")
        tests.append((field, value, op == "!="))

    def predicate(obj: Dict[str, Any]) -> bool:
        return all((field_value(obj, field) == value) != negate for field, value, negate in tests)

    return predicate
