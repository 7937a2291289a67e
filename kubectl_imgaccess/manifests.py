"""Manifests (YAML or JSON; files, directories, stdin) -> Snapshot, remembering the line of every field.

Only the kinds the audit reads are kept; other documents are passed over. A document with a syntax
error, or one that is not a mapping, is an input error naming file:line.
"""

from __future__ import annotations

import json
import os
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple

import yaml

from kubectl_imgaccess.audit.snapshot import Snapshot
from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.objects import Location

try:  # the C parser is several times faster on big manifests
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# kind -> API groups accepted for it ("" = core; None = apiVersion may be missing, as in some samples)
_KINDS: Dict[str, Tuple[str, ...]] = {
    "Domain": ("weblogic.oracle",),
    "Cluster": ("weblogic.oracle",),
    "Secret": ("",),
    "ServiceAccount": ("",),
    "Pod": ("",),
    "Event": ("", "events.k8s.io"),
    "Node": ("",),
}
_CLUSTER_SCOPED = {"Node"}

STDIN_NAME = "<stdin>"

Located = Tuple[Dict[str, Any], Dict[str, Location]]


def read_files(paths: Sequence[str], default_namespace: str, stdin: Optional[IO[str]] = None) -> Snapshot:
    """Read every manifest named by `paths` ('-' = stdin) into one files-mode Snapshot."""
    snap = Snapshot(mode="files")
    for name, text in _expand(paths, stdin):
        snap.files.append(name)
        for obj, locs in parse_manifests(text, name):
            if _keep(obj):
                meta = obj.setdefault("metadata", {})
                if obj["kind"] not in _CLUSTER_SCOPED and not meta.get("namespace"):
                    meta["namespace"] = default_namespace
                snap.add(obj, locs)
    return snap


def _expand(paths: Sequence[str], stdin: Optional[IO[str]]) -> Iterator[Tuple[str, str]]:
    for path in paths:
        if path == "-":
            if stdin is None:
                raise InputError("stdin is not available", STDIN_NAME)
            yield STDIN_NAME, stdin.read()
        elif os.path.isdir(path):
            found = sorted(
                os.path.join(root, f)
                for root, _dirs, files in os.walk(path)
                for f in files
                if f.endswith(MANIFEST_SUFFIXES)
            )
            for f in found:
                yield f, read_text(f)
        else:
            yield path, read_text(path)


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except FileNotFoundError:
        raise InputError("no such file or directory", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", path) from None


def parse_manifests(text: str, name: str) -> List[Located]:
    """Every object in a YAML/JSON stream, List kinds unwrapped, each with its field -> line map."""
    out: List[Located] = []
    try:
        loader = _Loader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                data = loader.construct_document(node)
                _collect(data, node, name, out)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if name.endswith(".json"):
            return _parse_json(text, name)  # JSON that YAML 1.1 refuses (tabs): read it without lines
        raise InputError(f"invalid YAML: {problem}", name, line) from None
    return out


def _parse_json(text: str, name: str) -> List[Located]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", name, exc.lineno) from None
    out: List[Located] = []
    _collect(data, None, name, out)
    return out


def _collect(data: Any, node: Optional[yaml.Node], name: str, out: List[Located]) -> None:
    if data is None:
        return
    line = node.start_mark.line + 1 if node is not None else None
    if not isinstance(data, dict):
        raise InputError(f"a manifest must be a mapping, found {type(data).__name__}", name, line)
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        item_nodes = _child(node, "items")
        for i, item in enumerate(items):
            sub = item_nodes.value[i] if isinstance(item_nodes, yaml.SequenceNode) else None
            _collect(item, sub, name, out)
        return
    locs: Dict[str, Location] = {}
    if node is not None:
        locs[""] = Location(name, node.start_mark.line + 1)
        _walk(node, "", name, locs)
    out.append((data, locs))


def _child(node: Optional[yaml.Node], key: str) -> Optional[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v  # type: ignore[no-any-return]
    return None


def _walk(node: yaml.Node, prefix: str, name: str, locs: Dict[str, Location]) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            path = f"{prefix}.{k.value}" if prefix else str(k.value)
            locs[path] = Location(name, k.start_mark.line + 1)
            _walk(v, path, name, locs)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            path = f"{prefix}[{i}]"
            locs[path] = Location(name, v.start_mark.line + 1)
            _walk(v, path, name, locs)


def _keep(obj: Dict[str, Any]) -> bool:
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in _KINDS:
        return False
    api_version = obj.get("apiVersion")
    if api_version is None:
        return kind in ("Domain", "Cluster")  # some published samples omit it
    if not isinstance(api_version, str):
        return False
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group in _KINDS[kind]
