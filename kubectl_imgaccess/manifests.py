"""Manifests (YAML or JSON; files, directories, stdin, kustomizations) -> Snapshot, remembering the line of
every field.

Only the kinds the audit reads are kept; other documents are passed over. Objects that make a Secret the
tool cannot read (SealedSecret, ExternalSecret, Vault Secrets Operator secrets, SOPS-encrypted Secrets)
become `ProvidedSecret`s: present with their name and type, content unknown. A document with a syntax
error, or one that is not a mapping, is an input error naming file:line. Under a directory, Helm charts and
templates are skipped with a note; a directory holding a kustomization is refused (render it with -k).

Input is bounded (generous for real manifests; a 20 MB Helm-rendered file passes): the limits below are
checked before anything is built, so a hostile file costs bounded time and memory and ends in one line
naming file:line. A kept object whose fields the audit reads have the wrong type is refused the same way
(`kubectl apply` refuses it too), instead of failing somewhere inside the audit.
"""

from __future__ import annotations

import base64
import codecs
import io
import json
import os
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple, Union

import yaml

from kubectl_imgaccess.audit.config import DEFAULT, Config, config_from
from kubectl_imgaccess.audit.snapshot import REGISTRIES_ANNOTATION, ProvidedSecret, Snapshot
from kubectl_imgaccess.errors import InputError, UsageError
from kubectl_imgaccess.kubelet.pullsecret import CANDIDATE_KEYS, PULL_SECRET_TYPES
from kubectl_imgaccess.objects import STDIN_NAME, Location, ObjectKey
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

#: Input limits (docs/security.md lists them). Each is far above what real manifests need.
MAX_FILE_BYTES = 256 * 1024 * 1024  # one file or stdin
MAX_DOCUMENTS = 100_000  # YAML documents in one file
MAX_DEPTH = 100  # nesting of mappings and sequences in one document (Kubernetes objects stay under ~20)
MAX_ALIAS_NODES = 100_000  # nodes that YAML aliases add when expanded, per document
MAX_INT_DIGITS = 4000  # an integer literal longer than this is refused before Python parses it
_CORE = "tag:yaml.org,2002:"  # YAML's core schema tags
_INT_TAG, _STR_TAG = _CORE + "int", _CORE + "str"

Located = Tuple[Dict[str, Any], Dict[str, Location]]


def read_files(paths: Sequence[str], default_namespace: str, stdin: Optional[IO[str]] = None,
               kustomizations: Sequence[str] = ()) -> Snapshot:
    """Read every manifest named by `paths` ('-' = stdin) and rendered from `kustomizations` (-k) into one
    files-mode Snapshot. Files are read as they are parsed, never held whole; every input is checked
    (exists, regular, size, UTF-8) before any is parsed."""
    snap = Snapshot(mode="files")
    sources: List[Tuple[str, _Input, bool]] = list(_expand(paths, stdin, snap.notes))
    sources += [(kustomize_name(d), render_kustomization(d), False) for d in kustomizations]
    for name, data, walked in sources:
        try:
            documents = read_source(name, data)
        except InputError:
            if not (walked and "{{" in read_text(name)):  # walked: always a file
                raise
            # ExternalSecret templates hold {{ }} in strings and parse; a Helm template does not.
            snap.notes.append(f"skipped {name}: a template, not a manifest ({HELM_HINT})")
            continue
        snap.files.append(name)
        if walked and documents and not any(isinstance(obj.get("kind"), str) for obj, _ in documents):
            snap.notes.append(f"skipped {name}: not a Kubernetes manifest (no kind; a values or config file?)")
            continue
        documents.reverse()  # added one by one and let go: the snapshot holds the only copy
        while documents:
            obj, locs = documents.pop()
            add_object(snap, obj, locs, default_namespace, name)
    return snap


# One input: None = the file of that name (checked, read as it is parsed), bytes = stdin (checked UTF-8), text
_Input = Union[None, str, bytes]


def read_source(name: str, data: _Input) -> List[Located]:
    """The objects of one input as check reads them (fix reads its edits back through it too): the fast reader
    where it can, else the full one, whose reading (and errors) are the reference. Fed to the parser in
    chunks: never a second copy of the whole input."""
    try:
        if data is None:
            with open(name, "rb") as fh:
                return _read_chunks(_ChunkReader(fh), name)
        return _read_chunks(_ChunkReader(io.BytesIO(data)) if isinstance(data, bytes) else _TextChunks(data), name)
    except Exception:  # anything the fast reader does not read exactly is read again, in full
        pass
    text = read_text(name) if data is None else data.decode("utf-8") if isinstance(data, bytes) else data
    documents = parse_manifests(text, name, lines_for=_lines_wanted)
    for obj, _ in documents:
        _slim(obj)
    return documents


def _read_chunks(chunks: Union[_ChunkReader, _TextChunks], name: str) -> List[Located]:
    documents = _read_fast(chunks, name, slim=True)
    if isinstance(chunks, _ChunkReader) and chunks.failed:
        raise _Fallback
    return documents


def add_object(snap: Snapshot, obj: Dict[str, Any], locs: Dict[str, Location], default_namespace: str,
         name: str) -> None:
    provided = provided_secret(obj, locs, default_namespace, name)
    if provided is not None:
        snap.provided[ObjectKey("Secret", provided.namespace, provided.name)] = provided
        return
    if _keep(obj):
        check_shape(obj, locs, name)
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


def _expand(paths: Sequence[str], stdin: Optional[IO[str]],
            notes: List[str]) -> Iterator[Tuple[str, _Input, bool]]:
    """(name, input, found by walking a directory) for every input, each checked as read_text checks it."""
    for path in paths:
        if path == "-":
            if stdin is None:
                raise InputError("stdin is not available", STDIN_NAME)
            yield STDIN_NAME, _read_stdin(stdin), False
        elif os.path.isdir(path):
            for f in _walk_dir(path, notes):
                check_text(f)
                yield f, None, True
        else:
            check_text(path)
            yield path, None, False


def _walk_dir(path: str, notes: List[str]) -> List[str]:
    """Manifest files under a directory; refuses a kustomization (as kubectl apply -f does), skips charts."""
    found: List[str] = []
    for root, dirs, files in os.walk(path, onerror=_unreadable_dir):
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
        for f in files:
            full = os.path.join(root, f)
            if f.endswith(MANIFEST_SUFFIXES) and _regular(full, notes):
                found.append(full)
    return sorted(found)


def _unreadable_dir(exc: OSError) -> None:
    """A directory under -f that cannot be listed is an error naming it, never a silent gap in the audit."""
    raise InputError(f"cannot read directory: {exc.strerror or exc}", exc.filename) from None


def _regular(path: str, notes: List[str]) -> bool:
    """Found by walking: only regular files are read. A FIFO, socket or device is never opened (opening a FIFO
    blocks until someone writes); one named on the command line is refused by read_text."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True  # a dangling link or a vanished file: reading it reports the error with its name
    if stat.S_ISREG(mode):
        return True
    notes.append(f"skipped {path}: not a regular file")
    return False


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
    """A regular file's text (UTF-8, at most MAX_FILE_BYTES); a FIFO or device is refused, never opened."""
    _check_regular(path)
    try:
        with open(path, "rb") as fh:
            return _decode(fh.read(MAX_FILE_BYTES + 1), path)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None


def check_text(path: str) -> None:
    """What read_text checks (a regular UTF-8 file of at most MAX_FILE_BYTES), reading the file in chunks
    without keeping it: the same errors, in bounded memory."""
    _check_regular(path)
    try:
        with open(path, "rb") as fh:
            _check_utf8(iter(lambda: fh.read(_CHECK_CHUNK), b""), path)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None


_CHECK_CHUNK = 1 << 20


def _check_utf8(chunks: Iterator[bytes], name: str) -> None:
    """Bytes that are UTF-8 and at most MAX_FILE_BYTES, checked chunk by chunk: read_text's errors."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = lines = 0
    for data in chunks:
        size += len(data)
        if size > MAX_FILE_BYTES:
            raise InputError(f"larger than the {_mib(MAX_FILE_BYTES)} limit for one file", name)
        try:
            decoder.decode(data)
        except UnicodeDecodeError as exc:
            raise _not_utf8(exc, name, lines) from None
        lines += data.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc, name, lines) from None


def _read_stdin(stream: IO[str]) -> Union[str, bytes]:
    """stdin as read_stream checks it, kept as bytes when it gives bytes (the parser reads them in chunks;
    no decoded copy of the whole)."""
    raw = getattr(stream, "buffer", None)
    if raw is None:
        return read_stream(stream, STDIN_NAME)
    data: bytes = raw.read(MAX_FILE_BYTES + 1)
    _check_utf8((data[i:i + _CHECK_CHUNK] for i in range(0, len(data), _CHECK_CHUNK)), STDIN_NAME)
    return data


def _check_regular(path: str) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file or directory", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file (a FIFO or device would block; pipe it with -f - instead)", path)
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(f"larger than the {_mib(MAX_FILE_BYTES)} limit for one file", path)


def read_stream(stream: IO[str], name: str) -> str:
    """A stream's text (stdin), bounded like a file; bytes that are not UTF-8 name their line."""
    raw = getattr(stream, "buffer", None)
    data: Any = raw.read(MAX_FILE_BYTES + 1) if raw is not None else stream.read(MAX_FILE_BYTES + 1)
    if isinstance(data, str):
        if len(data) > MAX_FILE_BYTES:
            raise InputError(f"larger than the {_mib(MAX_FILE_BYTES)} limit for one file", name)
        return data
    return _decode(data, name)


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"larger than the {_mib(MAX_FILE_BYTES)} limit for one file", name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(exc, name, 0) from None


def _not_utf8(exc: UnicodeDecodeError, name: str, lines_before: int) -> InputError:
    """The error for bytes that are not UTF-8, at their line (`lines_before`: lines of earlier chunks)."""
    data = exc.object
    line = lines_before + data.count(b"\n", 0, exc.start) + 1
    return InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x})", name, line)


def _mib(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB"


def parse_manifests(text: str, name: str,
                    lines_for: Optional[Callable[[Dict[str, Any]], bool]] = None) -> List[Located]:
    """Every object in a YAML/JSON stream, List kinds unwrapped, each with its field -> line map (only for
    the objects `lines_for` accepts, when given: nothing else is reported)."""
    out: List[Located] = []
    try:
        _prescan_depth(text, name)
        loader = _Loader(text)
        try:
            documents = 0
            while loader.check_node():
                node = loader.get_node()
                if node is None:
                    continue
                documents += 1
                if documents > MAX_DOCUMENTS:
                    raise InputError(f"more than {MAX_DOCUMENTS} YAML documents in one file", name,
                                     node.start_mark.line + 1)
                bound_node(node, name)
                try:
                    data = loader.construct_document(node)
                except (ValueError, OverflowError, RecursionError) as exc:
                    raise InputError(f"cannot read a value: {type(exc).__name__}", name,
                                     node.start_mark.line + 1) from None
                _collect(data, node, name, out, lines_for)
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
    except yaml.YAMLError as exc:  # the reader: a NUL byte or another character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        character = getattr(exc, "character", None)
        code = ord(character) if isinstance(character, str) and len(character) == 1 else character
        what = f"character U+{code:04X}" if isinstance(code, int) else "a character"
        raise InputError(f"invalid YAML: {what} is not allowed in YAML", name, line) from None
    return out


# ------------------------------------------------------------------------------------ the fast reader
#
# `parse_manifests` composes each whole document into a node graph, then builds the data from it: for one
# 100 MB List that is every node, mark and value of the file at once (6x the file in memory). The fast
# reader builds the data straight from the parser's events, one List item at a time, with the same
# resolver and constructors, and never holds the node graph or the whole text. It reads the common subset
# of YAML (no anchors or aliases, no merge keys, only the core scalar tags, nesting well under MAX_DEPTH);
# on anything else, and on every error, the source is read again by `parse_manifests`, which decides: the
# objects, their lines and every error message are that reader's.


class _Fallback(Exception):
    """The fast reader met something only the full reader reads exactly."""


_SCALAR_TAGS = frozenset(_CORE + t for t in ("null", "bool", "int", "float", "str", "timestamp"))
_MAP_TAGS = (None, "!", _CORE + "map")
_SEQ_TAGS = (None, "!", _CORE + "seq")
_CACHED_PLAIN = 64  # plain scalars up to this length are resolved once per value ("v1", "true", "Pod" ...)
_CACHE_ENTRIES = 100_000
_MISSING = object()
# A Secret value of a key the audit never reads is elided above this length (see _slim)
_SLIM_ABOVE = 256
_INVALID_BASE64 = "!"


class _TextChunks:
    """Text for the parser in chunks (given whole, the C parser would first copy all of it as UTF-8)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0

    def read(self, size: int = -1) -> str:
        chunk = self._text[self._at:self._at + max(size, 1 << 16)]
        self._at += len(chunk)
        return chunk


class _ChunkReader:
    """A file's text for the parser, decoded as it is read; a problem (not UTF-8, too large, unreadable)
    ends the text early and is remembered, so the full reader reports it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._read = 0
        self._done = False
        self.failed = False

    def read(self, size: int = -1) -> str:
        if self._done:
            return ""
        try:
            data = self._fh.read(max(size, 1 << 16))
            self._read += len(data)
            if self._read > MAX_FILE_BYTES:
                raise ValueError("too large")
            text = self._decoder.decode(data, final=not data)
        except (OSError, ValueError):  # UnicodeDecodeError is a ValueError
            self.failed = True
            text, data = "", b""
        if not data:
            self._done = True
        return text


def _read_fast(stream: Any, name: str, slim: bool) -> List[Located]:
    """What `parse_manifests(..., lines_for=_lines_wanted)` returns for this source (`slim`: Secret values the
    audit never reads elided), or _Fallback. `stream` is the text or a _ChunkReader."""
    loader = _Loader(stream)
    try:
        return _FastReader(loader, name, slim).read()
    finally:
        loader.dispose()


class _FastReader:
    def __init__(self, loader: Any, name: str, slim: bool) -> None:
        self.get_event = loader.get_event
        self.loader = loader
        self.name = name
        self.slim = slim
        self.cache: Dict[str, Any] = {}

    def read(self) -> List[Located]:
        out: List[Located] = []
        documents = 0
        while True:
            event = self.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return out
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > MAX_DOCUMENTS:
                    raise _Fallback
                self._document(self.get_event(), out)

    def scalar(self, event: Any) -> Any:
        if event.anchor is not None:
            raise _Fallback
        tag, value = event.tag, event.value
        plain = False
        if tag is None or tag == "!":
            if not event.implicit[0]:
                return value  # quoted: a string
            if tag is None and len(value) <= _CACHED_PLAIN:
                hit = self.cache.get(value, _MISSING)
                if hit is not _MISSING:
                    return hit
                plain = True
            tag = self.loader.resolve(yaml.ScalarNode, value, event.implicit)
        if tag not in _SCALAR_TAGS or (tag == _INT_TAG and len(value) > MAX_INT_DIGITS):
            raise _Fallback
        result = value if tag == _STR_TAG else self.loader.yaml_constructors[tag](
            self.loader, yaml.ScalarNode(tag, value))
        if plain and len(self.cache) < _CACHE_ENTRIES:
            self.cache[value] = result
        return result

    def _document(self, first: Any, out: List[Located]) -> None:
        """One document: its object, or the items of a List, appended to `out`."""
        if isinstance(first, yaml.ScalarEvent):
            if self.scalar(first) is None:
                return  # an empty document
            raise _Fallback
        if not isinstance(first, yaml.MappingStartEvent) or first.anchor is not None or first.tag not in _MAP_TAGS:
            raise _Fallback
        name, get_event, scalar, cache_get = self.name, self.get_event, self.scalar, self.cache.get
        scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
        mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
        root: Dict[str, Any] = {}
        start: Any = first.start_mark
        locs: Dict[str, Location] = {"": Location(name, start.line + 1)}
        items: List[Located] = []  # the root's `items`, each with its own lines
        item_keys = 0
        # a frame: [container, its path, lines, key (_MISSING: a key comes next), key's path, a mapping?,
        #           the root's items?]
        frame: List[Any] = [root, "", locs, _MISSING, "", True, False]
        stack: List[List[Any]] = [frame]
        while True:
            event = get_event()
            cls = type(event)
            if cls is scalar_event:
                text = event.value
                if event.tag is None and event.anchor is None:
                    if not event.implicit[0]:
                        value: Any = text  # quoted: a string
                    elif len(text) <= _CACHED_PLAIN:
                        value = cache_get(text, _MISSING)
                        if value is _MISSING:
                            value = scalar(event)
                    else:
                        value = scalar(event)
                else:
                    value = scalar(event)
                if frame[5]:
                    if frame[3] is _MISSING:  # a key
                        path = f"{frame[1]}.{text}" if frame[1] else text
                        frame[2][path] = Location(name, event.start_mark.line + 1)
                        frame[3], frame[4] = value, path
                        if path == "items" and len(stack) == 1:
                            item_keys += 1
                        continue
                    frame[0][frame[3]] = value
                    frame[3] = _MISSING
                elif frame[6]:
                    items.append((value, {"": Location(name, event.start_mark.line + 1)}))
                    frame[0].append(value)
                else:
                    frame[2][f"{frame[1]}[{len(frame[0])}]"] = Location(name, event.start_mark.line + 1)
                    frame[0].append(value)
            elif cls is mapping_start or cls is sequence_start:
                if frame[5]:
                    if frame[3] is _MISSING:
                        raise _Fallback  # a key that is a mapping or a sequence
                    path = frame[4]
                else:
                    path = f"{frame[1]}[{len(frame[0])}]"
                    if not frame[6]:
                        frame[2][path] = Location(name, event.start_mark.line + 1)
                mapping = cls is mapping_start
                if event.anchor is not None or len(stack) >= MAX_DEPTH - 1 or \
                        event.tag not in (_MAP_TAGS if mapping else _SEQ_TAGS):
                    raise _Fallback
                child_locs = frame[2]
                if frame[6]:  # an item of the root's `items`: lines of its own, from its root
                    child_locs = {"": Location(name, event.start_mark.line + 1)}
                    path = ""
                frame = [{} if mapping else [], path, child_locs, _MISSING, "", mapping,
                         not mapping and path == "items" and len(stack) == 1]
                stack.append(frame)
            elif cls is mapping_end or cls is sequence_end:
                stack.pop()
                if not stack:
                    break
                done, done_locs = frame[0], frame[2]
                frame = stack[-1]
                if frame[5]:
                    frame[0][frame[3]] = done
                    frame[3] = _MISSING
                else:
                    if frame[6]:
                        if self.slim and isinstance(done, dict):
                            _slim(done)  # the root is a List: known only at its end (kubectl writes `kind` last)
                        items.append((done, done_locs))
                    frame[0].append(done)
            else:  # an alias
                raise _Fallback
        if item_keys > 1:
            raise _Fallback  # `items` given twice
        kind = root.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(root.get("items"), list):
            for item, item_locs in items:
                if item is None:
                    continue
                if not isinstance(item, dict) or (isinstance(item.get("kind"), str) and item["kind"].endswith("List")
                                                  and isinstance(item.get("items"), list)):
                    raise _Fallback  # not a mapping (an error), or a List in a List
                out.append((item, item_locs if _lines_wanted(item) else {}))
            return
        if items:
            raise _Fallback  # not a List after all: its items' lines were taken from the items (rare)
        if self.slim:
            _slim(root)
        out.append((root, locs if _lines_wanted(root) else {}))


def _slim(obj: Dict[str, Any]) -> bool:
    """Elide what the audit never reads of a Secret the kubelet does not pull with (an Opaque blob): long
    values of keys other than CANDIDATE_KEYS. The keys stay; a data value becomes "" when it was valid
    base64, else an invalid one, so everything that reads the Secret (the audit, fix's comparisons, the
    redacted view) sees what it saw. True when something was elided."""
    kind, type_ = obj.get("kind"), obj.get("type")
    if kind != "Secret" or _group_version(obj)[0] != "" or "sops" in obj or \
            (type_ is not None and not isinstance(type_, str)) or type_ in PULL_SECRET_TYPES:
        return False
    elided = False
    for part in ("data", "stringData"):
        values = obj.get(part)
        if not isinstance(values, dict) or not any(_elidable(k, v) for k, v in values.items()):
            continue
        obj[part] = {k: ("" if part == "stringData" or _valid_base64(v) else _INVALID_BASE64)
                     if _elidable(k, v) else v for k, v in values.items()}  # a new map: it may be shared
        elided = True
    return elided


def _elidable(key: Any, value: Any) -> bool:
    return isinstance(value, str) and len(value) > _SLIM_ABOVE and key not in CANDIDATE_KEYS


def _valid_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        return False
    return True


# The C composer recurses once per nesting level without a recursion check, so a document nested tens of
# thousands of levels deep overflows the C stack on some Pythons (a crash, not an error). Before composing,
# cheap whole-text hints look for anything that could nest that deep; only then are the parser's events (an
# iterative state machine) walked to find the first level past MAX_DEPTH.
_SAFE_COMPOSE_DEPTH = 1000
_DEEP_INDENT = re.compile(rf"^[ \t]{{{_SAFE_COMPOSE_DEPTH}}}", re.MULTILINE)
_COMPACT_RUN = re.compile(rf"(?:[-?:][ \t]+){{{_SAFE_COMPOSE_DEPTH // 10}}}")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _prescan_depth(text: str, name: str) -> None:
    if not _may_nest_deeply(text):
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise InputError(f"nested more than {MAX_DEPTH} levels deep", name,
                                     mark.line + 1 if mark is not None else None)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.DocumentEndEvent):
                depth = 0
    except yaml.YAMLError:
        return  # the composer reports syntax errors with their position


def _may_nest_deeply(text: str) -> bool:
    """True when flow brackets, compact block indicators or indentation could reach the unsafe depth."""
    if _DEEP_INDENT.search(text) or _COMPACT_RUN.search(text):
        return True
    brackets = _NOT_BRACKET.sub("", text)
    if len(brackets) <= _SAFE_COMPOSE_DEPTH:
        return False
    depth = deepest = 0
    for ch in brackets:
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest > _SAFE_COMPOSE_DEPTH


def bound_node(root: yaml.Node, name: str) -> None:
    """Refuse a composed document that is too deep, recursive, expands too far through aliases, or holds
    an integer too long to parse: checked on the node graph (shared by aliases) before anything is built.

    Recursion here is bounded by MAX_DEPTH, which is checked before descending."""
    sizes: Dict[int, int] = {}  # id(node) -> nodes it expands to, itself included
    heights: Dict[int, int] = {}  # id(node) -> nesting height of what it expands to
    open_nodes: Set[int] = set()
    unique = [0]

    def visit(node: yaml.Node, depth: int) -> None:
        key = id(node)
        if key in sizes:
            if depth + heights[key] - 1 > MAX_DEPTH:
                raise InputError(f"nested more than {MAX_DEPTH} levels deep", name, node.start_mark.line + 1)
            return
        if key in open_nodes:
            raise InputError("a YAML alias refers to a node that contains it (recursive alias)", name,
                             node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            raise InputError(f"nested more than {MAX_DEPTH} levels deep", name, node.start_mark.line + 1)
        unique[0] += 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _INT_TAG and len(node.value) > MAX_INT_DIGITS:
                raise InputError(f"an integer longer than {MAX_INT_DIGITS} digits", name, node.start_mark.line + 1)
            sizes[key] = heights[key] = 1
            return
        open_nodes.add(key)
        children = _children(node)
        for child in children:
            visit(child, depth + 1)
        open_nodes.discard(key)
        sizes[key] = 1 + sum(sizes[id(c)] for c in children)
        heights[key] = 1 + max((heights[id(c)] for c in children), default=0)
        if sizes[key] - unique[0] > MAX_ALIAS_NODES:
            raise InputError(f"YAML aliases expand to more than {MAX_ALIAS_NODES} extra nodes (an alias bomb?)",
                             name, node.start_mark.line + 1)

    visit(root, 1)


def _children(node: yaml.Node) -> List[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _parse_json(text: str, name: str) -> List[Located]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", name, exc.lineno) from None
    except (RecursionError, ValueError) as exc:
        problem = f"nested more than {MAX_DEPTH} levels deep" if isinstance(exc, RecursionError) else \
            f"cannot read a value: {type(exc).__name__}"
        raise InputError(f"invalid JSON: {problem}", name) from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(f"invalid JSON: nested more than {MAX_DEPTH} levels deep", name)
    out: List[Located] = []
    _collect(data, None, name, out)
    return out


def _collect(data: Any, node: Optional[yaml.Node], name: str, out: List[Located],
             lines_for: Optional[Callable[[Dict[str, Any]], bool]] = None) -> None:
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
            _collect(item, sub, name, out, lines_for)
        return
    locs: Dict[str, Location] = {}
    if node is not None and (lines_for is None or lines_for(data)):
        locs[""] = Location(name, node.start_mark.line + 1)
        _walk(node, "", name, locs)
    out.append((data, locs))


def _depth(data: Any) -> int:
    """Nesting depth of plain data, without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return deepest


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


def _lines_wanted(obj: Dict[str, Any]) -> bool:
    """Field lines are worth computing only for what a report can name: kept kinds and Secret sources."""
    kind = obj.get("kind")
    return _keep(obj) or (isinstance(kind, str) and kind in SECRET_SOURCES)


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
                bound_node(node, name)
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


# The fields the audit reads, per kind, with the type each must have ("[]" = every list item, "{}" = every
# map value). A value of another type is refused with the field's file:line, as `kubectl apply` refuses it;
# null counts as absent. Domain and Cluster specs are read by the operator model, which reports its own.
_STR, _MAP, _LIST = (str,), (dict,), (list,)
_COMMON: Tuple[Tuple[str, Tuple[type, ...]], ...] = (
    ("metadata", _MAP), ("metadata.name", _STR), ("metadata.namespace", _STR), ("metadata.labels", _MAP),
    ("metadata.labels.{}", _STR), ("metadata.annotations", _MAP), ("metadata.annotations.{}", _STR),
)
_CONTAINER_LISTS = ("spec.containers", "spec.initContainers", "spec.ephemeralContainers")
_STATUS_LISTS = ("status.containerStatuses", "status.initContainerStatuses", "status.ephemeralContainerStatuses")
_SHAPES: Dict[str, Tuple[Tuple[str, Tuple[type, ...]], ...]] = {
    "Domain": (("spec", _MAP), ("status", _MAP), ("status.conditions", _LIST), ("status.conditions[]", _MAP),
               ("status.conditions[].type", _STR), ("status.conditions[].reason", _STR),
               ("status.conditions[].message", _STR)),
    "Cluster": (("spec", _MAP),),
    "Secret": (("type", _STR), ("data", _MAP), ("stringData", _MAP)),
    "ServiceAccount": (("imagePullSecrets", _LIST), ("imagePullSecrets[]", _MAP), ("imagePullSecrets[].name", _STR),
                       ("secrets", _LIST), ("secrets[]", _MAP), ("secrets[].name", _STR)),
    "Pod": (("spec", _MAP), ("spec.serviceAccountName", _STR), ("spec.imagePullSecrets", _LIST),
            ("spec.imagePullSecrets[]", _MAP), ("spec.imagePullSecrets[].name", _STR), ("status", _MAP),
            *((p, _LIST) for p in _CONTAINER_LISTS), *((f"{p}[]", _MAP) for p in _CONTAINER_LISTS),
            *((f"{p}[].{f}", _STR) for p in _CONTAINER_LISTS for f in ("name", "image", "imagePullPolicy")),
            *((p, _LIST) for p in _STATUS_LISTS), *((f"{p}[]", _MAP) for p in _STATUS_LISTS),
            *((f"{p}[].{f}", _STR) for p in _STATUS_LISTS for f in ("name", "image", "imageID")),
            *((f"{p}[].state", _MAP) for p in _STATUS_LISTS),
            *((f"{p}[].state.waiting", _MAP) for p in _STATUS_LISTS),
            *((f"{p}[].state.waiting.{f}", _STR) for p in _STATUS_LISTS for f in ("reason", "message"))),
    "Event": (("involvedObject", _MAP), ("involvedObject.name", _STR), ("involvedObject.kind", _STR),
              ("regarding", _MAP), ("regarding.name", _STR), ("regarding.kind", _STR), ("reason", _STR),
              ("message", _STR), ("note", _STR), ("type", _STR)),
    "Node": (("status", _MAP), ("status.images", _LIST), ("status.images[]", _MAP),
             ("status.images[].names", _LIST), ("status.images[].names[]", _STR)),
}
_TYPE_NAMES: Dict[type, str] = {str: "a string", dict: "a mapping", list: "a list"}


def check_shape(obj: Dict[str, Any], locs: Dict[str, Location], name: str) -> None:
    """Refuse a kept object whose identifying or audited fields have the wrong type, naming file:line."""
    kind = str(obj.get("kind"))
    wrong = _first_wrong(obj, _TREES[kind])  # only kept objects are checked: their kind has a tree
    if wrong is not None:
        parts, value, types = wrong
        path = "".join(reversed(parts)).lstrip(".")
        want = " or ".join(_TYPE_NAMES[t] for t in types)
        raise InputError(f"{kind} {path} must be {want}, found {_kind_of(value)}", name, _line(locs, path))
    meta = obj.get("metadata") or {}
    if not meta.get("name"):
        raise InputError(f"{kind} without metadata.name", name, _line(locs, "metadata"))


# The patterns of a kind as a tree, so one walk of an object checks them all: (field, every list item?) ->
# (the types wanted there, or None when only a path to deeper patterns; the tree below)
_Tree = Dict[Tuple[str, bool], Tuple[Optional[Tuple[type, ...]], Any]]


def _tree(shapes: Tuple[Tuple[str, Tuple[type, ...]], ...]) -> _Tree:
    root: _Tree = {}
    for pattern, types in shapes:
        node, parts = root, pattern.split(".")
        for i, part in enumerate(parts):
            step = (part[:-2], True) if part.endswith("[]") else (part, False)
            wanted, below = node.get(step, (None, {}))
            node[step] = (types if i == len(parts) - 1 else wanted, below)
            node = below
    return root


_TREES: Dict[str, _Tree] = {kind: _tree(_COMMON + _SHAPES.get(kind, ())) for kind in _KINDS}


def _first_wrong(value: Dict[str, Any], tree: _Tree) -> Optional[Tuple[List[str], Any, Tuple[type, ...]]]:
    """The first value, in the tree's order, that a pattern names and that is present with another type:
    (its path as parts from the deepest up, the value, the types wanted), else None. One walk checks every
    pattern of the kind; a path is spelled only for the wrong value ("a.b[2].c"; "{}" is any key)."""
    for (step, every), (types, below) in tree.items():
        found: Iterable[Tuple[Any, Any]]
        if step == "{}":
            found = value.items()
        elif step not in value:
            continue
        elif every:
            child = value[step]
            found = enumerate(child) if isinstance(child, list) else ()
        else:
            found = ((None, value[step]),)
        for key, item in found:
            if types is not None and item is not None and not isinstance(item, types):
                wrong: Optional[Tuple[List[str], Any, Tuple[type, ...]]] = ([], item, types)
            elif below and isinstance(item, dict):
                wrong = _first_wrong(item, below)
            else:
                wrong = None
            if wrong is not None:
                if step == "{}":
                    wrong[0].append(f".{key}")
                elif every:
                    wrong[0].extend((f"[{key}]", f".{step}"))
                else:
                    wrong[0].append(f".{step}")
                return wrong
    return None


def _kind_of(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _line(locs: Dict[str, Location], path: str) -> Optional[int]:
    while True:
        if path in locs:
            return locs[path].line
        if not path:
            return None
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""


def load_config(path: Optional[str]) -> Config:
    """Read a config file (None = built-in defaults only). Errors name file:line."""
    if path is None:
        return DEFAULT
    docs = parse_manifests(read_text(path), path)
    if not docs:
        return Config(source=path)
    data, locs = docs[0]
    return config_from(path, data, locs)
