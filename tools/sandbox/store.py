"""In-memory object storage with the API server's write rules: metadata assignment, validation, conflicts.

Objects are kept in their storage version; a Domain read as v8 is the same object relabelled (the real
cluster converts through the operator's webhook, which the audit never depends on).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import datetime
import json
import re
import secrets as _secrets
import threading
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import errors
from .resources import RESOURCES, ResourceType

Obj = Dict[str, Any]
Predicate = Callable[[Obj], bool]

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DOCKER_KEYS = {"kubernetes.io/dockerconfigjson": ".dockerconfigjson", "kubernetes.io/dockercfg": ".dockercfg"}


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cause(field: str, message: str, reason: str = "FieldValueInvalid") -> Dict[str, str]:
    return {"reason": reason, "message": message, "field": field}


def name_errors(rt: ResourceType, name: str) -> List[Dict[str, str]]:
    """RFC 1123 checks on metadata.name (a label for namespaces, a subdomain for the rest)."""
    if rt.name_rule == "label":
        ok, limit, msg = bool(_LABEL.fullmatch(name)), 63, _LABEL_MSG
    else:
        ok, limit, msg = bool(_SUBDOMAIN.fullmatch(name)), 253, _SUBDOMAIN_MSG
    out: List[Dict[str, str]] = []
    if not ok:
        out.append(_cause("metadata.name", f'Invalid value: "{name}": {msg}'))
    if len(name) > limit:
        out.append(_cause("metadata.name", f'Invalid value: "{name}": must be no more than {limit} characters'))
    return out


def _secret_errors(obj: Obj, old: Optional[Obj]) -> List[Dict[str, str]]:
    causes: List[Dict[str, str]] = []
    data = obj.get("data") or {}
    for key in data:
        if not _CONFIG_KEY.fullmatch(key):
            causes.append(
                _cause(
                    f"data[{key}]",
                    f'Invalid value: "{key}": a valid config key must consist of '
                    "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  "
                    "or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
                )
            )
    stype = obj.get("type") or "Opaque"
    key = DOCKER_KEYS.get(stype)
    if key is not None:
        if key not in data:
            causes.append(_cause(f"data[{key}]", "Required value", "FieldValueRequired"))
        else:
            raw = base64.b64decode(data[key] or "")
            problem = None
            try:
                parsed = json.loads(raw.decode("utf-8"))
                # Go's json.Unmarshal into a map accepts `null` and refuses every other non-object.
                if parsed is not None and not isinstance(parsed, dict):
                    target = "map[string]interface {}"
                    problem = f"json: cannot unmarshal {_go_type(parsed)} into Go value of type {target}"
            except (ValueError, UnicodeDecodeError) as exc:
                problem = "unexpected end of JSON input" if not raw.strip() else f"invalid character: {exc}"
            if problem:
                causes.append(_cause(f"data[{key}]", f'Invalid value: "<secret contents redacted>": {problem}'))
    if old is not None and (old.get("type") or "Opaque") != stype:
        causes.append(_cause("type", f'Invalid value: "{stype}": field is immutable'))
    if old is not None and old.get("immutable") and (old.get("data") != obj.get("data")):
        causes.append(_cause("data", "Forbidden: field is immutable when `immutable` is set", "FieldValueForbidden"))
    return causes


def _go_type(value: Any) -> str:
    """The JSON type name Go's decoder uses in its errors."""
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _normalize_secret(obj: Obj) -> None:
    """stringData is write-only: merge it into data (base64), as the real server does, and drop it."""
    data = obj.get("data")
    if data is None:
        data = {}
    for k, v in data.items():
        try:
            base64.b64decode(v if isinstance(v, str) else "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise errors.bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data[{k}]'
            ) from exc
    string_data = obj.pop("stringData", None) or {}
    for k, v in string_data.items():
        data[k] = base64.b64encode(str(v).encode("utf-8")).decode("ascii")
    if data or "data" in obj:
        obj["data"] = data
    obj.setdefault("type", "Opaque")


def _strip_volatile(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    meta = out.get("metadata") or {}
    meta.pop("resourceVersion", None)
    meta.pop("managedFields", None)
    return out


class ContinueToken:
    """Where a paged list resumes; `epoch` lets tests expire every outstanding token at once."""

    @staticmethod
    def encode(epoch: int, rv: int, after: Tuple[str, str]) -> str:
        raw = json.dumps({"e": epoch, "rv": rv, "k": list(after)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(token: str) -> Tuple[int, int, Tuple[str, str]]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            return int(data["e"]), int(data["rv"]), (str(data["k"][0]), str(data["k"][1]))
        except (ValueError, KeyError, IndexError, TypeError, binascii.Error) as exc:
            raise errors.bad_request(f"continue key is not valid: {exc}") from exc


class Store:
    """All objects, one resourceVersion counter, one lock: writes are serialised like etcd's revisions."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._rv = 1
        self._objects: Dict[str, Dict[Tuple[str, str], Obj]] = {rt.group_resource: {} for rt in RESOURCES}
        # Each table's keys in order, rebuilt after a write that adds or removes one, so that a page costs
        # the page (a bisect to where the token left off), not a sort of the whole table.
        self._sorted: Dict[str, List[Tuple[str, str]]] = {}
        self.continue_epoch = 0

    @property
    def resource_version(self) -> int:
        return self._rv

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _table(self, rt: ResourceType) -> Dict[Tuple[str, str], Obj]:
        return self._objects[rt.group_resource]

    def namespace_exists(self, name: str) -> bool:
        return ("", name) in self._objects["namespaces"]

    def get(self, rt: ResourceType, namespace: str, name: str) -> Obj:
        with self.lock:
            obj = self._table(rt).get((namespace if rt.namespaced else "", name))
            if obj is None:
                raise errors.not_found(rt, name)
            return copy.deepcopy(obj)

    def find(self, rt: ResourceType, namespace: str, name: str) -> Optional[Obj]:
        with self.lock:
            obj = self._table(rt).get((namespace if rt.namespaced else "", name))
            return copy.deepcopy(obj) if obj is not None else None

    def all(self, rt: ResourceType) -> List[Obj]:
        with self.lock:
            return [copy.deepcopy(o) for _, o in sorted(self._table(rt).items())]

    def list(
        self, rt: ResourceType, namespace: Optional[str], match: Predicate, limit: int, token: Optional[str]
    ) -> Tuple[List[Obj], int, Optional[str], Optional[int]]:
        """One page: items after the token's key, the list's resourceVersion, the next token, the rest."""
        with self.lock:
            list_rv = self._rv
            after: Optional[Tuple[str, str]] = None
            if token:
                epoch, list_rv, after = ContinueToken.decode(token)
                if epoch != self.continue_epoch:
                    raise errors.expired()
            table = self._table(rt)
            keys = self._sorted.get(rt.group_resource)
            if keys is None:
                keys = self._sorted[rt.group_resource] = sorted(table)
            lo, hi = 0, len(keys)
            if namespace is not None:  # one namespace's keys are a contiguous run
                lo = bisect.bisect_left(keys, (namespace, ""))
                hi = bisect.bisect_left(keys, (namespace + "\0", ""))
            if after is not None:
                lo = max(lo, bisect.bisect_right(keys, after))
            matched: List[Obj] = []
            pos = lo
            while pos < hi and (limit <= 0 or len(matched) <= limit):
                obj = table[keys[pos]]
                if match(obj):
                    matched.append(obj)
                pos += 1
            if limit > 0 and len(matched) > limit:
                page = matched[:limit]
                last = page[-1]["metadata"]
                next_token = ContinueToken.encode(
                    self.continue_epoch, list_rv, (last.get("namespace", ""), last["name"])
                )
                # Exact when nothing is filtered out, the only case the server reports it in.
                remaining = hi - pos + 1
                return [copy.deepcopy(o) for o in page], list_rv, next_token, remaining
            return [copy.deepcopy(o) for o in matched], list_rv, None, None

    # -- writes -------------------------------------------------------------------------------------

    def _prepare(self, rt: ResourceType, obj: Obj, old: Optional[Obj]) -> None:
        if rt.kind == "Secret":
            _normalize_secret(obj)
        causes: List[Dict[str, str]] = []
        if rt.kind == "Secret":
            causes += _secret_errors(obj, old)
        if causes:
            raise errors.invalid(rt, obj["metadata"]["name"], causes)

    def create(
        self, rt: ResourceType, namespace: Optional[str], body: Obj, dry_run: bool = False, seed: bool = False
    ) -> Obj:
        """Store a new object; `seed` keeps given uid/creationTimestamp and creates the namespace."""
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        obj["apiVersion"] = rt.api_version()
        obj["kind"] = rt.kind
        if rt.namespaced:
            body_ns = meta.get("namespace")
            if namespace is None:
                namespace = body_ns or "default"
            elif body_ns and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
            namespace = ""
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + _secrets.token_hex(3)[:5]
        name = meta.get("name")
        if not name:
            raise errors.invalid(
                rt,
                "",
                [
                    _cause(
                        "metadata.name",
                        "Required value: name or generateName is required",
                        "FieldValueRequired",
                    )
                ],
            )
        causes = name_errors(rt, name)
        if causes:
            raise errors.invalid(rt, name, causes)
        with self.lock:
            if rt.namespaced and not self.namespace_exists(namespace):
                if not seed:
                    raise errors.namespace_not_found(namespace)
                self.create(_rt("namespaces"), None, {"metadata": {"name": namespace}}, seed=True)
            table = self._table(rt)
            if (namespace, name) in table:
                raise errors.already_exists(rt, name)
            self._prepare(rt, obj, None)
            if not (seed and meta.get("uid")):
                meta["uid"] = str(uuid.uuid4())
            if not (seed and meta.get("creationTimestamp")):
                meta["creationTimestamp"] = now_rfc3339()
            for volatile in ("deletionTimestamp", "selfLink", "managedFields"):
                meta.pop(volatile, None)
            if rt.custom:
                meta["generation"] = 1
            if rt.kind == "Namespace":
                obj.setdefault("spec", {"finalizers": ["kubernetes"]})
                obj["status"] = {"phase": "Active"}
            if dry_run:
                meta.pop("resourceVersion", None)
                return obj
            meta["resourceVersion"] = self._next_rv()
            table[(namespace, name)] = obj
            self._sorted.pop(rt.group_resource, None)
            return copy.deepcopy(obj)

    def update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        body: Obj,
        dry_run: bool = False,
        subresource: Optional[str] = None,
    ) -> Obj:
        """Replace an object (PUT, or the result of a PATCH); a stale resourceVersion is a 409."""
        ns = namespace if rt.namespaced else ""
        obj = copy.deepcopy(body)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if meta.get("name") and meta["name"] != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if rt.namespaced and meta.get("namespace") and meta["namespace"] != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        with self.lock:
            table = self._table(rt)
            old = table.get((ns, name))
            if old is None:
                raise errors.not_found(rt, name)
            rv = meta.get("resourceVersion")
            if rv and rv != old["metadata"]["resourceVersion"]:
                raise errors.conflict(rt, name)
            if subresource == "status":
                new = copy.deepcopy(old)
                if "status" in obj:
                    new["status"] = obj["status"]
                else:
                    new.pop("status", None)
                obj = new
            elif rt.status_subresource:
                # With a status subresource the main resource ignores status.
                if "status" in old:
                    obj["status"] = copy.deepcopy(old["status"])
                else:
                    obj.pop("status", None)
            obj["apiVersion"] = rt.api_version()
            obj["kind"] = rt.kind
            meta = obj["metadata"]
            meta["name"] = name
            if rt.namespaced:
                meta["namespace"] = namespace
            for kept in ("uid", "creationTimestamp", "generation"):
                if kept in old["metadata"]:
                    meta[kept] = old["metadata"][kept]
                else:
                    meta.pop(kept, None)
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            self._prepare(rt, obj, old)
            if rt.custom and obj.get("spec") != old.get("spec"):
                meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
            if _strip_volatile(obj) == _strip_volatile(old):
                return copy.deepcopy(old)
            if dry_run:
                return obj
            meta["resourceVersion"] = self._next_rv()
            table[(ns, name)] = obj
            return copy.deepcopy(obj)

    def delete(self, rt: ResourceType, namespace: str, name: str, dry_run: bool = False) -> Obj:
        ns = namespace if rt.namespaced else ""
        with self.lock:
            table = self._table(rt)
            old = table.get((ns, name))
            if old is None:
                raise errors.not_found(rt, name)
            if dry_run:
                return copy.deepcopy(old)
            del table[(ns, name)]
            self._sorted.pop(rt.group_resource, None)
            if rt.kind == "Namespace":
                for other in RESOURCES:
                    if other.namespaced:
                        t = self._table(other)
                        for key in [k for k in t if k[0] == name]:
                            del t[key]
            self._next_rv()
            return old


def _rt(plural: str) -> ResourceType:
    for rt in RESOURCES:
        if rt.plural == plural and rt.group == "":
            return rt
    raise KeyError(plural)
