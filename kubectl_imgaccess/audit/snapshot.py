"""The objects one audit sees, plus what could not be read.

Sources (files, cluster) fill a Snapshot; the audit only reads it. Objects are plain dicts in the API's
JSON shape. Files can be laid over a cluster snapshot ("what happens if I apply these files now").
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Literal, Mapping, Optional, Tuple, TypeVar, cast

from kubectl_imgaccess.objects import Credential, FieldRef, Location, ObjectKey, slotted
from kubectl_imgaccess.weblogic.domain import DomainModel

Obj = Dict[str, Any]
T = TypeVar("T")
# Where a snapshot's objects come from: manifests only, a cluster, or manifests laid over a cluster.
Mode = Literal["files", "cluster", "mixed"]

# On the object a Secret is made from (SealedSecret, ExternalSecret ...): the registries that Secret serves.
REGISTRIES_ANNOTATION = "imgaccess.weblogic.oracle/registries"


@slotted
@dataclass(frozen=True)
class Unreadable:
    """Objects the source could not read. namespace None = cluster-wide; name None = the whole list."""

    kind: str
    namespace: Optional[str]
    name: Optional[str]
    reason: str

    def covers(self, kind: str, namespace: str, name: Optional[str] = None) -> bool:
        if kind != self.kind:
            return False
        if self.namespace is not None and self.namespace != namespace:
            return False
        return self.name is None or name is None or self.name == name


@slotted
@dataclass(frozen=True)
class ProvidedSecret:
    """A Secret that will exist but whose content cannot be read here: made by a controller from a
    SealedSecret, ExternalSecret or Vault resource, kept SOPS-encrypted, or declared in the config.

    It exists with its type; it matches only the registries declared for it."""

    namespace: str
    name: str
    type: Optional[str]  # None when the type itself cannot be read (encrypted)
    registries: Tuple[str, ...]  # kubelet-style keys declared for it (annotation or config)
    source: ObjectKey  # the object it comes from (kind "config" for a config entry)
    location: Optional[Location] = None

    def describe(self) -> str:
        """e.g. "SealedSecret team/ocr-pull (repo/ocr.yaml:3)"."""
        what = f"config entry {self.source.name}" if self.source.kind == "config" else str(self.source)
        return what + (f" ({self.location})" if self.location is not None else "")

    def credentials(self) -> Tuple[Credential, ...]:
        """One entry per declared registry, standing for content that cannot be read."""
        return tuple(Credential(self.name, self.namespace, reg, "", "", "", provided_by=self.describe())
                     for reg in self.registries)


@dataclass
class Snapshot:
    objects: Dict[ObjectKey, Obj] = field(default_factory=dict)
    # field path -> where it was written, per object (files only; "" is the object itself)
    locations: Dict[ObjectKey, Dict[str, Location]] = field(default_factory=dict)
    unreadable: List[Unreadable] = field(default_factory=list)
    mode: Mode = "files"
    context: Optional[str] = None
    files: List[str] = field(default_factory=list)
    # Namespaces whose Secrets were all listed (IA008 may only claim "nowhere else" over these).
    secrets_listed_everywhere: bool = False
    # Domains to audit (None = every Domain in the snapshot).
    audit_domains: Optional[List[ObjectKey]] = None
    # Secrets that will exist, by the Secret's key (files: SealedSecret, ExternalSecret, SOPS, Vault)
    provided: Dict[ObjectKey, ProvidedSecret] = field(default_factory=dict)
    # What the source wants the user to know (files skipped, and why): stderr and the JSON's notes
    notes: List[str] = field(default_factory=list)
    # The cluster scope: its namespace (None: every namespace), and namespaces the API says do not exist.
    scope_namespace: Optional[str] = None
    missing_namespaces: List[str] = field(default_factory=list)

    # (kind, namespace or None) -> objects; built on first use, dropped whenever objects change
    _index: Optional[Dict[Tuple[str, Optional[str]], List[Obj]]] = field(default=None, repr=False, compare=False)
    # name -> a value computed from the objects (see derived); dropped with the index
    _derived: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # Operator models a reader built (see hand_over), with the Domain object each was built from
    _models: Dict[ObjectKey, Tuple[Obj, DomainModel]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, obj: Obj, locations: Optional[Mapping[str, Location]] = None) -> ObjectKey:
        key = key_of(obj)
        self._index = None
        self._derived.clear()
        if self._models and key.kind in ("Domain", "Cluster"):
            self._models = {k: m for k, m in self._models.items() if k.namespace != key.namespace}
        self.objects[key] = obj
        if locations is not None:
            self.locations[key] = dict(locations)
        else:
            self.locations.pop(key, None)
        return key

    def get(self, kind: str, namespace: str, name: str) -> Optional[Obj]:
        return self.objects.get(ObjectKey(kind, namespace, name))

    def of_kind(self, kind: str, namespace: Optional[str] = None) -> Iterator[Obj]:
        """Objects of a kind (in a namespace), in insertion order; indexed so big snapshots stay linear."""
        if self._index is None:
            index: Dict[Tuple[str, Optional[str]], List[Obj]] = {}
            for key, obj in self.objects.items():
                index.setdefault((key.kind, key.namespace), []).append(obj)
                index.setdefault((key.kind, None), []).append(obj)
            self._index = index
        return iter(list(self._index.get((kind, namespace), [])))

    def derived(self, name: str, build: Callable[[Snapshot], T]) -> T:
        """A value computed once from the objects (an index over them), until the objects change."""
        if self._index is None:
            self._derived.clear()
        if name not in self._derived:
            self._derived[name] = build(self)
        return cast(T, self._derived[name])

    def location(self, ref: Optional[FieldRef]) -> Optional[Location]:
        """The location of a field, else of its nearest written parent, else of the object."""
        if ref is None:
            return None
        locs = self.locations.get(ref.obj)
        if not locs:
            return None
        path = ref.path
        while True:
            if path in locs:
                return locs[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""

    def is_unreadable(self, kind: str, namespace: str, name: Optional[str] = None) -> Optional[Unreadable]:
        for u in self.unreadable:
            if u.covers(kind, namespace, name):
                return u
        return None

    def hand_over(self, domain: Obj, model: DomainModel) -> None:
        """A Domain's operator model, built by a reader with the Clusters of its namespace in this snapshot, for
        the audit to take instead of modelling the Domain again (see take_model)."""
        self._models[key_of(domain)] = (domain, model)

    def take_model(self, key: ObjectKey) -> Optional[DomainModel]:
        """The model handed over for this Domain, once: an audit takes it (and frees it); another audit of the
        same snapshot models the Domain again. None unless the snapshot still holds the very Domain object the
        model was built from, and neither that Domain nor a Cluster of its namespace was added since."""
        kept = self._models.pop(key, None)
        if kept is None or self.objects.get(key) is not kept[0]:
            return None
        return kept[1]

    def __deepcopy__(self, memo: Dict[int, Any]) -> Snapshot:
        """A copy is made to be changed in place (fix plans on one): handed-over models are not carried over."""
        copied = Snapshot.__new__(Snapshot)
        memo[id(self)] = copied
        for f in dataclasses.fields(self):
            value = {} if f.name == "_models" else copy.deepcopy(getattr(self, f.name), memo)
            object.__setattr__(copied, f.name, value)
        return copied

    def overlay(self, files: Snapshot) -> None:
        """Lay objects read from files over this (cluster) snapshot: same kind/namespace/name replaces."""
        self._index = None
        self._derived.clear()
        self._models.clear()
        for key, obj in files.objects.items():
            self.objects[key] = obj
            if key in files.locations:
                self.locations[key] = files.locations[key]
        self.files.extend(files.files)
        self.provided.update(files.provided)
        self.notes.extend(files.notes)
        self.mode = "mixed"


def key_of(obj: Mapping[str, Any]) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return ObjectKey(str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name") or ""))
