"""Kubernetes label selectors (-l), evaluated on objects read from files."""

from __future__ import annotations

import re
from typing import Callable, List, Mapping

from kubectl_imgaccess.errors import UsageError

Predicate = Callable[[Mapping[str, str]], bool]
_SET = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(r"^\s*([A-Za-z0-9_./-]+)\s*(==|=|!=)\s*([A-Za-z0-9_.-]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([A-Za-z0-9_./-]+)\s*$")


def parse_selector(text: str) -> Predicate:
    """A predicate over labels; raises UsageError naming the flag for a selector that does not parse."""
    terms: List[Predicate] = []
    for part in split_terms(text):
        m = _SET.match(part)
        if m:
            key, op, values = m.group(1), m.group(2), {v.strip() for v in m.group(3).split(",") if v.strip()}
            terms.append(_in(key, values) if op == "in" else _notin(key, values))
            continue
        m = _EQ.match(part)
        if m:
            key, op, value = m.groups()
            terms.append(_eq(key, value, op != "!="))
            continue
        m = _EXISTS.match(part)
        if m:
            terms.append(_exists(m.group(2), not m.group(1)))
            continue
        raise UsageError(f"-l/--selector: cannot parse {part.strip()!r}")
    return lambda labels: all(t(labels) for t in terms)


def split_terms(text: str) -> List[str]:
    """Split a selector at the commas outside parentheses (`a in (x, y),b`), terms stripped, empties dropped."""
    parts, depth, cur = [], 0, ""
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


def _in(key: str, values: set[str]) -> Predicate:
    return lambda labels: key in labels and labels[key] in values


def _notin(key: str, values: set[str]) -> Predicate:
    return lambda labels: key not in labels or labels[key] not in values


def _eq(key: str, value: str, equal: bool) -> Predicate:
    if equal:
        return lambda labels: labels.get(key) == value
    return lambda labels: labels.get(key) != value


def _exists(key: str, present: bool) -> Predicate:
    return lambda labels: (key in labels) == present
