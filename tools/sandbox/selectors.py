"""Label and field selectors with the real server's grammar and its 400 answers for what it refuses."""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Sequence, Tuple

from kubectl_imgaccess.selectors import split_terms

Predicate = Callable[[Dict[str, Any]], bool]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"


class SelectorError(ValueError):
    """The selector does not parse or names a field the kind cannot be selected on (HTTP 400)."""


def _check(text: str, pattern: str, what: str, requirement: str) -> str:
    if not re.fullmatch(pattern, text):
        raise SelectorError(f"unable to parse requirement: invalid {what} {text!r} in {requirement!r}")
    return text


def _holds(labels: Mapping[str, str], key: str, op: str, values: FrozenSet[str]) -> bool:
    """`!=` and `notin` also match objects without the label, as in the real selector semantics."""
    if op == "exists":
        return key in labels
    if op == "!exists":
        return key not in labels
    present = key in labels and labels[key] in values
    return present if op == "in" else not present


def parse_label_selector(text: str) -> Predicate:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` into a predicate over an object's labels."""
    requirements: List[Tuple[str, str, FrozenSet[str]]] = []  # (key, operator, values)
    for req in split_terms(text):
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s*\(([^)]*)\)", req)
        if m:
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            for v in values:
                _check(v, _VALUE, "label value", req)
            requirements.append((_check(m.group(1), _KEY, "label key", req), m.group(2), values))
            continue
        m = re.fullmatch(r"([^=!\s]+)\s*(==|=|!=)\s*(\S*)", req)
        if m:
            value = _check(m.group(3), _VALUE, "label value", req)
            op = "notin" if m.group(2) == "!=" else "in"
            requirements.append((_check(m.group(1), _KEY, "label key", req), op, frozenset([value])))
            continue
        if req.startswith("!"):
            requirements.append((_check(req[1:].strip(), _KEY, "label key", req), "!exists", frozenset()))
            continue
        requirements.append((_check(req, _KEY, "label key", req), "exists", frozenset()))

    def predicate(obj: Dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(_holds(labels, key, op, values) for key, op, values in requirements)

    return predicate


# Field labels that name another path (an Event's `source` is its source.component).
_FIELD_PATHS = {"source": "source.component"}


def field_value(obj: Dict[str, Any], path: str) -> str:
    """The string form of a dotted field, "" when absent, as the server's field sets compare it."""
    cur: Any = obj
    for part in _FIELD_PATHS.get(path, path).split("."):
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
    for req in split_terms(text):
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
