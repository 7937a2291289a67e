"""The three patch formats the API server accepts for updates.

JSON patch (RFC 6902) and merge patch (RFC 7386) are generic. Strategic merge patch follows each field's
patch strategy from k8s.io/api: only the fields that matter to the audit and to kubectl's own patches are
described here; every other list is replaced whole, which is also the real default.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple

Strategy = Tuple[str, Optional[str]]  # ("merge", key) for keyed lists, ("merge", None) for sets of primitives


class PatchError(ValueError):
    """The patch cannot be applied (a failed `test`, a missing path): HTTP 422."""


# -- RFC 6902 -----------------------------------------------------------------------------------------


def _pointer(path: str) -> List[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _index(container: List[Any], token: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in {path}")
    i = int(token)
    if i > len(container) or (i == len(container) and not allow_end):
        raise PatchError(f"array index {i} out of bounds in {path}")
    return i


def _parent(doc: Any, path: str) -> Tuple[Any, str]:
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("the root cannot be the target of this operation")
    cur = doc
    for t in tokens[:-1]:
        if isinstance(cur, dict):
            if t not in cur:
                raise PatchError(f"doc is missing path: {path}")
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t, path, False)]
        else:
            raise PatchError(f"doc is missing path: {path}")
    return cur, tokens[-1]


def _get(doc: Any, path: str) -> Any:
    cur = doc
    for t in _pointer(path):
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list):
            cur = cur[_index(cur, t, path, False)]
        else:
            raise PatchError(f"doc is missing path: {path}")
    return cur


def _add(doc: Any, path: str, value: Any) -> Any:
    if path == "":
        return value
    parent, key = _parent(doc, path)
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, key, path, True), value)
    else:
        raise PatchError(f"doc is missing path: {path}")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parent, key = _parent(doc, path)
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"unable to remove nonexistent key: {key}: missing value")
        return parent.pop(key)
    if isinstance(parent, list):
        return parent.pop(_index(parent, key, path, False))
    raise PatchError(f"doc is missing path: {path}")


def json_patch(doc: Any, operations: List[Any]) -> Any:
    """Apply RFC 6902 operations in order; the first failure aborts the whole patch."""
    doc = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError("invalid JSON patch operation")
        kind, path = op["op"], op.get("path")
        if not isinstance(path, str):
            raise PatchError(f"operation {kind!r} is missing a path")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"operation {kind!r} is missing a value")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if path == "":
                doc = copy.deepcopy(op["value"])
            else:
                _remove(doc, path)
                doc = _add(doc, path, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            source = op.get("from")
            if not isinstance(source, str):
                raise PatchError(f"operation {kind!r} is missing from")
            value = copy.deepcopy(_get(doc, source))
            if kind == "move":
                _remove(doc, source)
            doc = _add(doc, path, value)
        elif kind == "test":
            try:
                actual = _get(doc, path)
            except PatchError as exc:
                raise PatchError(f"testing value {path} failed: {exc}") from exc
            if actual != op["value"]:
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


# -- RFC 7386 -----------------------------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    """Objects merge key by key, null deletes, everything else (lists included) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- strategic merge patch ------------------------------------------------------------------------------

_CONTAINER: Dict[Tuple[str, ...], Strategy] = {
    ("env",): ("merge", "name"),
    ("ports",): ("merge", "containerPort"),
    ("volumeMounts",): ("merge", "mountPath"),
    ("volumeDevices",): ("merge", "devicePath"),
}

_POD_SPEC: Dict[Tuple[str, ...], Strategy] = {
    ("imagePullSecrets",): ("merge", "name"),
    ("containers",): ("merge", "name"),
    ("initContainers",): ("merge", "name"),
    ("ephemeralContainers",): ("merge", "name"),
    ("volumes",): ("merge", "name"),
    ("tolerations",): ("replace", None),
    ("hostAliases",): ("merge", "ip"),
}
for _field in ("containers", "initContainers", "ephemeralContainers"):
    for _sub, _strategy in _CONTAINER.items():
        _POD_SPEC[(_field, *_sub)] = _strategy

_METADATA: Dict[Tuple[str, ...], Strategy] = {
    ("metadata", "finalizers"): ("merge", None),
    ("metadata", "ownerReferences"): ("merge", "uid"),
}


def _with_prefix(prefix: Tuple[str, ...], table: Dict[Tuple[str, ...], Strategy]) -> Dict[Tuple[str, ...], Strategy]:
    return {prefix + k: v for k, v in table.items()}


# Patch strategies by kind, from the patchStrategy/patchMergeKey tags of k8s.io/api. ServiceAccount
# imagePullSecrets carries no strategy (listType=atomic): a strategic patch replaces that list.
STRATEGIES: Dict[str, Dict[Tuple[str, ...], Strategy]] = {
    "Pod": {**_METADATA, **_with_prefix(("spec",), _POD_SPEC)},
    "ServiceAccount": {**_METADATA, ("secrets",): ("merge", "name")},
    "Secret": dict(_METADATA),
    "ConfigMap": dict(_METADATA),
    "Namespace": dict(_METADATA),
    "Node": {**_METADATA, ("spec", "taints"): ("merge", "key")},
    "Event": dict(_METADATA),
}

_DIRECTIVE = "$patch"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_PRIMITIVE_PREFIX = "$deleteFromPrimitiveList/"
_RETAIN_KEYS = "$retainKeys"


def strategic_merge_patch(original: Dict[str, Any], patch: Dict[str, Any], kind: str) -> Dict[str, Any]:
    """Apply a strategic merge patch to a built-in object of `kind`."""
    result: Dict[str, Any] = _smp_map(copy.deepcopy(original), patch, (), STRATEGIES.get(kind, dict(_METADATA)))
    return result


def _smp_map(
    original: Any, patch: Dict[str, Any], path: Tuple[str, ...], strategies: Dict[Tuple[str, ...], Strategy]
) -> Any:
    directive = patch.get(_DIRECTIVE)
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: v for k, v in patch.items() if k != _DIRECTIVE}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}")
    result: Dict[str, Any] = original if isinstance(original, dict) else {}
    retain = patch.get(_RETAIN_KEYS)
    if isinstance(retain, list):
        for key in [k for k in result if k not in retain and k not in patch]:
            del result[key]
    for key, value in patch.items():
        if key in (_DIRECTIVE, _RETAIN_KEYS) or key.startswith(_ORDER_PREFIX):
            continue
        if key.startswith(_DELETE_PRIMITIVE_PREFIX):
            field = key[len(_DELETE_PRIMITIVE_PREFIX) :]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        child = (*path, key)
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _smp_map(result.get(key), value, child, strategies)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _smp_list(result.get(key), value, child, strategies)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _smp_list(
    original: Any, patch: List[Any], path: Tuple[str, ...], strategies: Dict[Tuple[str, ...], Strategy]
) -> List[Any]:
    strategy = strategies.get(path)
    if strategy is None or strategy[0] != "merge":
        return [_strip_directives(v) for v in patch]
    current: List[Any] = list(original) if isinstance(original, list) else []
    key = strategy[1]
    if key is None:  # a set of primitives: union, keeping the original order first
        return current + [v for v in patch if v not in current]
    if any(isinstance(v, dict) and v.get(_DIRECTIVE) == "replace" for v in patch):
        return [_strip_directives(v) for v in patch if not (isinstance(v, dict) and v.get(_DIRECTIVE) == "replace")]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}")
        position = next((i for i, c in enumerate(current) if isinstance(c, dict) and c.get(key) == item[key]), None)
        if item.get(_DIRECTIVE) == "delete":
            if position is not None:
                current.pop(position)
            continue
        if position is None:
            current.append(_strip_directives(item))
        else:
            current[position] = _smp_map(current[position], item, path, strategies)
    return current


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return copy.deepcopy(value)
