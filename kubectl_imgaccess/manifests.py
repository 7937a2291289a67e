"""Manifests (YAML or JSON; files, directories, stdin, kustomizations) -> Snapshot, remembering the line of
every field.

Only the kinds the audit reads are kept; other documents are passed over. Objects that make a Secret the
tool cannot read (SealedSecret, ExternalSecret, Vault Secrets Operator secrets, SOPS-encrypted Secrets)
become `ProvidedSecret`s: present with their name and type, content unknown. A document with a syntax
error, or one that is not a mapping, is an input error naming file:line. Under a directory, Helm charts and
templates are skipped with a note; a directory holding a kustomization is refused (render it with -k).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import IO, Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

import yaml

from kubectl_imgaccess.audit.snapshot import REGISTRIES_ANNOTATION, ProvidedSecret, Snapshot
from kubectl_imgaccess.errors import InputError, UsageError
from kubectl_imgaccess.objects import Location, ObjectKey
from kubectl_imgaccess.weblogic.domain import unserved_api_version

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
# Objects that make a Secret whose content cannot be read here: kind -> (API group, versions)
SECRET_SOURCES: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "SealedSecret": ("bitnami.com", ("v1alpha1",)),
    "ExternalSecret": ("external-secrets.io", ("v1beta1", "v1")),
    "VaultStaticSecret": ("secrets.hashicorp.com", ("v1beta1",)),
    "VaultDynamicSecret": ("secrets.hashicorp.com", ("v1beta1",)),
}
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
HELM_CHART_FILE = "Chart.yaml"
HELM_HINT = "render it first: helm template RELEASE CHART | kubectl imgaccess check -f - --offline"
KUSTOMIZE_TIMEOUT = 120.0

STDIN_NAME = "<stdin>"

Located = Tuple[Dict[str, Any], Dict[str, Location]]


def read_files(paths: Sequence[str], default_namespace: str, stdin: Optional[IO[str]] = None,
               kustomizations: Sequence[str] = ()) -> Snapshot:
    """Read every manifest named by `paths` ('-' = stdin) and rendered from `kustomizations` (-k) into one
    files-mode Snapshot."""
    snap = Snapshot(mode="files")
    sources = [(name, text, walked) for name, text, walked in _expand(paths, stdin, snap.notes)]
    sources += [(kustomize_name(d), render_kustomization(d), False) for d in kustomizations]
    for name, text, walked in sources:
        try:
            documents = parse_manifests(text, name)
        except InputError:
            if not (walked and "{{" in text):
                raise
            # ExternalSecret templates hold {{ }} in strings and parse; a Helm template does not.
            snap.notes.append(f"skipped {name}: a template, not a manifest ({HELM_HINT})")
            continue
        snap.files.append(name)
        if walked and documents and not any(isinstance(obj.get("kind"), str) for obj, _ in documents):
            snap.notes.append(f"skipped {name}: not a Kubernetes manifest (no kind; a values or config file?)")
            continue
        for obj, locs in documents:
            add_object(snap, obj, locs, default_namespace, name)
    return snap


def add_object(snap: Snapshot, obj: Dict[str, Any], locs: Dict[str, Location], default_namespace: str,
         name: str) -> None:
    provided = provided_secret(obj, locs, default_namespace, name)
    if provided is not None:
        snap.provided[ObjectKey("Secret", provided.namespace, provided.name)] = provided
        return
    if _keep(obj):
        _check_served(obj, locs, name)
        meta = obj.setdefault("metadata", {})
        if obj["kind"] not in _CLUSTER_SCOPED and not meta.get("namespace"):
            meta["namespace"] = default_namespace
        snap.add(obj, locs)


def _check_served(obj: Dict[str, Any], locs: Dict[str, Location], name: str) -> None:
    """A Domain version operator 4.x does not serve is an input error at its apiVersion line."""
    if obj["kind"] != "Domain":
        return
    message = unserved_api_version(obj.get("apiVersion") or "")
    if message is not None:
        loc = locs.get("apiVersion") or locs.get("")
        raise InputError(f"Domain {_name(obj)}: {message}", name, loc.line if loc else None)


def _name(obj: Dict[str, Any]) -> str:
    meta = obj.get("metadata")
    value = meta.get("name") if isinstance(meta, dict) else None
    return value if isinstance(value, str) and value else "(unnamed)"


def _expand(paths: Sequence[str], stdin: Optional[IO[str]], notes: List[str]) -> Iterator[Tuple[str, str, bool]]:
    """(name, text, found by walking a directory) for every input."""
    for path in paths:
        if path == "-":
            if stdin is None:
                raise InputError("stdin is not available", STDIN_NAME)
            yield STDIN_NAME, stdin.read(), False
        elif os.path.isdir(path):
            for f in _walk_dir(path, notes):
                yield f, read_text(f), True
        else:
            yield path, read_text(path), False


def _walk_dir(path: str, notes: List[str]) -> List[str]:
    """Manifest files under a directory; refuses a kustomization (as kubectl apply -f does), skips charts."""
    found: List[str] = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        kustomization = next((k for k in KUSTOMIZATION_FILES if k in files), None)
        if kustomization is not None:
            raise InputError(f"{root} holds a {kustomization}: its files are patches and bases, not "
                             f"what gets applied; render it with -k {root} (kubectl kustomize), or "
                             "name the manifest files with -f one by one")
        if HELM_CHART_FILE in files:
            notes.append(f"skipped {root}: a Helm chart ({HELM_HINT})")
            dirs[:] = []
            continue
        found.extend(os.path.join(root, f) for f in files if f.endswith(MANIFEST_SUFFIXES))
    return sorted(found)


def kustomize_name(directory: str) -> str:
    """How findings name manifests rendered from a kustomization (lines are those of the rendered stream)."""
    return f"<kustomize {directory}>"


def render_kustomization(directory: str, kubectl: Optional[str] = None) -> str:
    """`kubectl kustomize DIR`, the rendered stream; a missing kubectl or a failed build is one clear line."""
    if not os.path.isdir(directory):
        raise UsageError(f"-k {directory}: not a directory")
    exe = kubectl or shutil.which("kubectl")
    if exe is None:
        raise UsageError(f"-k {directory} renders with `kubectl kustomize`, and kubectl is not on PATH: "
                         "install kubectl, or render it yourself and pipe it in: kustomize build DIR | "
                         "kubectl imgaccess check -f - --offline")
    try:
        done = subprocess.run([exe, "kustomize", directory], capture_output=True, text=True,
                              timeout=KUSTOMIZE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"kubectl kustomize did not finish within {KUSTOMIZE_TIMEOUT:.0f}s",
                         directory) from None
    except OSError as exc:
        raise UsageError(f"-k {directory}: cannot run kubectl: {exc.strerror or exc}") from None
    if done.returncode != 0:
        first = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "no message")
        raise InputError(f"kubectl kustomize failed: {first[:300]}", directory)
    return done.stdout


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
        hint = f" (a Helm template? {HELM_HINT})" if "{{" in text else ""
        raise InputError(f"invalid YAML: {problem}{hint}", name, line) from None
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


# ------------------------------------------------------------------------------------ Secrets that will exist


def _group_version(obj: Mapping[str, Any]) -> Tuple[str, str]:
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str):
        return "", ""
    group, _, version = api_version.rpartition("/")
    return group, version


def _at(locs: Mapping[str, Location], path: str, name: str) -> Tuple[str, Optional[int]]:
    while path and path not in locs:
        path = path.rpartition(".")[0]
    loc = locs.get(path)
    return name, (loc.line if loc is not None else None)


def _text(obj: Mapping[str, Any], path: str, locs: Mapping[str, Location], name: str) -> Optional[str]:
    """A string field by dotted path; None when absent; a non-string is an input error naming file:line."""
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    if cur is None:
        return None
    if not isinstance(cur, str):
        raise InputError(f"{obj.get('kind')} {path} must be a string", *_at(locs, path, name))
    return cur


def _encrypted(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("ENC[") and value.endswith("]")


def _registries(obj: Mapping[str, Any], locs: Mapping[str, Location], name: str) -> Tuple[str, ...]:
    """The registries declared on the source object (or its Secret template) with the annotation."""
    out: List[str] = []
    for path in ("metadata.annotations", "spec.template.metadata.annotations"):
        cur: Any = obj
        for part in path.split("."):
            cur = cur.get(part) if isinstance(cur, Mapping) else None
        text = cur.get(REGISTRIES_ANNOTATION) if isinstance(cur, Mapping) else None
        if text is None or _encrypted(text):
            continue
        if not isinstance(text, str):
            raise InputError(f"annotation {REGISTRIES_ANNOTATION} must be a string of registry keys, "
                             "comma-separated", *_at(locs, f"{path}.{REGISTRIES_ANNOTATION}", name))
        for item in text.replace("\n", ",").split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return tuple(out)


def provided_secret(obj: Mapping[str, Any], locs: Mapping[str, Location], default_namespace: str,
                    name: str) -> Optional[ProvidedSecret]:
    """The Secret this object makes (name, namespace, type), or None when it is not such an object."""
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    namespace = str(meta.get("namespace") or default_namespace)
    own_name = str(meta.get("name") or "")
    group, version = _group_version(obj)
    secret_name: Optional[str] = own_name
    type_: Optional[str]
    if kind == "Secret" and group == "" and isinstance(obj.get("sops"), Mapping):
        values = [v for part in ("data", "stringData") if isinstance(obj.get(part), Mapping)
                  for v in obj[part].values()]
        if not any(_encrypted(v) for v in values):
            return None  # nothing encrypted: an ordinary Secret
        raw_type = obj.get("type")
        type_ = None if _encrypted(raw_type) else str(raw_type or "Opaque")
    elif kind in SECRET_SOURCES and group == SECRET_SOURCES[kind][0]:
        if version not in SECRET_SOURCES[kind][1]:
            raise InputError(f"{kind} {namespace}/{own_name}: apiVersion {group}/{version} is not one this tool "
                             f"reads ({', '.join(group + '/' + v for v in SECRET_SOURCES[kind][1])})",
                             *_at(locs, "apiVersion", name))
        if kind == "SealedSecret":
            # The controller names the Secret after the SealedSecret, in its namespace.
            type_ = _text(obj, "spec.template.type", locs, name) or "Opaque"
        elif kind == "ExternalSecret":
            secret_name = _text(obj, "spec.target.name", locs, name) or own_name
            policy = _text(obj, "spec.target.creationPolicy", locs, name) or "Owner"
            if policy == "None":
                return None  # the ExternalSecret makes no Secret
            # Merge writes into a Secret made elsewhere: its type is that Secret's.
            type_ = None if policy == "Merge" else (_text(obj, "spec.target.template.type", locs, name) or "Opaque")
        else:  # VaultStaticSecret, VaultDynamicSecret
            secret_name = _text(obj, "spec.destination.name", locs, name)
            if not secret_name:
                raise InputError(f"{kind} {namespace}/{own_name}: spec.destination.name is required",
                                 *_at(locs, "spec.destination", name))
            spec = obj.get("spec")
            destination = spec.get("destination") if isinstance(spec, Mapping) else None
            create = destination.get("create", False) if isinstance(destination, Mapping) else False
            # type applies only with create: true; otherwise the Secret exists already, type unknown
            type_ = (_text(obj, "spec.destination.type", locs, name) or "Opaque") if create is True else None
    else:
        return None
    root = locs.get("")
    return ProvidedSecret(namespace, secret_name or own_name, type_, _registries(obj, locs, name),
                          ObjectKey(kind, namespace, own_name), root)


# ------------------------------------------------------------------------------------ positions for file edits


@dataclass(frozen=True)
class Span:
    """Where a node sits in its file (0-based lines and columns, as the parser reports them).

    `key_line`/`key_column`: the mapping key that holds it (the node itself for sequence items and roots);
    `last_line`: the last line that holds its content (comments and blank lines after it excluded)."""

    line: int
    column: int
    end_line: int
    end_column: int
    key_line: int
    key_column: int
    last_line: int
    kind: str  # "mapping" | "sequence" | "scalar"
    flow: bool  # written in flow style ({...}, [...]); JSON is all flow
    empty: bool  # a collection with no entries, or a scalar with no text (an implicit null)


Spanned = Tuple[Dict[str, Any], Dict[str, Span]]


def document_spans(text: str, name: str) -> List[Spanned]:
    """Every object of a YAML/JSON stream (List kinds unwrapped) with the span of each field path: what a
    line-based edit of the file needs (`parse_manifests` keeps only lines, which is all a report needs)."""
    out: List[Spanned] = []
    try:
        loader = _Loader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                data = loader.construct_document(node)
                _collect_spans(data, node, out)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(f"invalid YAML: {exc.problem or 'cannot parse'}", name,
                         mark.line + 1 if mark is not None else None) from None
    return out


def _collect_spans(data: Any, node: yaml.Node, out: List[Spanned]) -> None:
    if not isinstance(data, dict):
        return
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        item_nodes = _child(node, "items")
        if isinstance(item_nodes, yaml.SequenceNode):
            for item, sub in zip(items, item_nodes.value):
                _collect_spans(item, sub, out)
        return
    spans: Dict[str, Span] = {}
    _span_walk(node, "", node.start_mark.line, node.start_mark.column, spans)
    out.append((data, spans))


def _last_line(node: yaml.Node) -> int:
    """The last line holding the node's own text; a block node's end mark may lie past trailing comments."""
    if isinstance(node, yaml.ScalarNode):
        end = node.end_mark
        if node.style in ("|", ">") and end.column == 0 and end.line > node.start_mark.line:
            return int(end.line) - 1
        return int(end.line)
    if getattr(node, "flow_style", False):
        return int(node.end_mark.line)
    children: List[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            children += [k, v]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    if not children:
        return int(node.start_mark.line)
    return max(_last_line(c) for c in children)


def _span_walk(node: yaml.Node, path: str, key_line: int, key_column: int, spans: Dict[str, Span]) -> None:
    if isinstance(node, yaml.MappingNode):
        kind, empty = "mapping", not node.value
    elif isinstance(node, yaml.SequenceNode):
        kind, empty = "sequence", not node.value
    else:
        kind, empty = "scalar", node.start_mark.index == node.end_mark.index
    spans[path] = Span(node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column,
                       key_line, key_column, _last_line(node), kind, bool(getattr(node, "flow_style", False)),
                       empty)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            child = f"{path}.{k.value}" if path else str(k.value)
            _span_walk(v, child, k.start_mark.line, k.start_mark.column, spans)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _span_walk(v, f"{path}[{i}]", v.start_mark.line, v.start_mark.column, spans)
