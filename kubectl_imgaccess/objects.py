"""Plain value types shared by the pure core: object keys, field references, locations, credentials."""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple, TypeVar, cast

from kubectl_imgaccess.text import redact

STDIN_NAME = "<stdin>"  # the file name of manifests read from standard input (-f -)

C = TypeVar("C", bound=type)


def slotted(cls: C) -> C:
    """The dataclass `cls` made again with `__slots__` of its fields, on every supported Python (what
    `dataclass(slots=True)` does from 3.10 on): its instances carry no `__dict__`, which is most of the memory of
    the many small records a big cluster's snapshot and report are made of. Use it on top of `@dataclass`.

    Instances take no attribute that is not a field, and have no `__weakref__`. They copy and pickle field by
    field (frozen ones too: the state is set as their `__init__` sets it)."""
    if not dataclasses.is_dataclass(cls) or "__slots__" in cls.__dict__:
        raise TypeError(f"slotted: {cls.__name__} is not a dataclass without __slots__ of its own")
    inherited = {name for base in cls.__mro__[1:-1] for name in _slot_names(base)}
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in inherited)
    # Fields' defaults are class attributes, which a slot of the same name cannot sit beside; the generated
    # __init__ holds them.
    body = {key: value for key, value in cls.__dict__.items()
            if key not in names and key not in ("__dict__", "__weakref__")}
    body["__slots__"] = names
    body["__getstate__"] = _fields_state
    body["__setstate__"] = _set_fields_state
    metaclass: Any = type(cls)
    made = metaclass(cls.__name__, cls.__bases__, body)
    made.__qualname__ = cls.__qualname__
    return cast(C, made)


def _slot_names(cls: type) -> Tuple[str, ...]:
    slots = cls.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _fields_state(self: Any) -> List[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _set_fields_state(self: Any, state: List[Any]) -> None:
    for f, value in zip(dataclasses.fields(self), state):
        object.__setattr__(self, f.name, value)  # frozen ones too, as their __init__ does


@slotted
@dataclass(frozen=True, order=True)
class ObjectKey:
    """Identity of a Kubernetes object as the audit sees it (kind is the bare kind, e.g. "Secret")."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}" if not self.namespace else f"{self.kind} {self.namespace}/{self.name}"


@slotted
@dataclass(frozen=True)
class FieldRef:
    """A field inside one object, as a dotted path with [i] indexes: "spec.imagePullSecrets[0].name"."""

    obj: ObjectKey
    path: str


@slotted
@dataclass(frozen=True)
class Location:
    """Where something was written: file and 1-based line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@slotted
@dataclass(frozen=True)
class Credential:
    """One registry credential from a pull Secret, in the kubelet's terms.

    The password never appears in repr() or str(); only the probe reads it, to talk to the registry. A report
    keeps its `ref`, never the Credential itself.
    """

    secret: str  # Secret name ("" when not from a Secret)
    namespace: str
    key: str  # the registry key as written in the Secret (e.g. "https://index.docker.io/v1/")
    username: str
    password: str = field(repr=False)
    secret_key: str = ".dockerconfigjson"  # the data key it came from (".dockerconfigjson" or ".dockercfg")
    # Set when the Secret's content cannot be read (made by a controller, SOPS-encrypted, declared in the
    # config): the entry stands for a declared registry, with no username or password known.
    provided_by: str = ""
    entry: int = 0  # its place among the entries of its Secret's data key, in document order

    def __str__(self) -> str:
        return f"{self.namespace}/{self.secret}[{self.shown_key}]"

    @property
    def ref(self) -> CredentialRef:
        """Which credential this is, without what it holds."""
        return CredentialRef(self.namespace, self.secret, self.shown_key, self.secret_key, self.entry,
                             self.provided_by)

    @property
    def shown_key(self) -> str:
        """The registry key as any output may show it: userinfo in it (`https://user:pw@host`) is redacted."""
        return shared_text(redact(self.key))

    @property
    def empty(self) -> bool:
        """An entry that matches but carries no username/password (identity tokens only)."""
        return not self.provided_by and not self.username and not self.password


@slotted
@dataclass(frozen=True)
class CredentialRef:
    """Which credential, never what it holds: its Secret, the data key and registry key it came from (userinfo in
    the registry key redacted) and its place among the Secret's entries. What a report keeps of a credential;
    only the probe looks the Credential up again (audit.run.credentials_for)."""

    namespace: str
    secret: str  # "" when not from a Secret
    key: str  # the registry key as outputs show it (Credential.shown_key)
    secret_key: str = ".dockerconfigjson"
    entry: int = 0  # two registry keys may differ only in the userinfo that `key` redacts
    provided_by: str = ""  # the Secret's content cannot be read: stands for a declared registry

    def __str__(self) -> str:
        return f"{self.namespace}/{self.secret}[{self.key}]"


def describe_ref(ref: Optional[FieldRef]) -> str:
    """Human form of a field reference, e.g. "Cluster ns/c1 spec.serverPod.containers[0].image"."""
    if ref is None:
        return "-"
    return ref.path if ref.obj.kind == "Domain" else f"{ref.obj.kind}/{ref.obj.name} {ref.path}"


def json_kind(value: Any, objects: Tuple[type, ...] = (dict,)) -> str:
    """How an error message names the kind of a JSON/YAML value, in Go's encoding/json words."""
    if isinstance(value, objects):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "null"


S = TypeVar("S", str, Optional[str])


def shared_text(text: S) -> S:
    """The one copy of this text (sys.intern): what a big cluster's objects and their report repeat thousands of
    times over (namespaces, images, names of Secrets and ServiceAccounts, field paths, most messages) is held
    once, so memory grows with what differs."""
    return sys.intern(text) if type(text) is str else text


# The tuples and sets shared_tuple and shared_set have handed out, each its own key; bounded, past which one is
# made each time.
_SHARED: Dict[Any, Any] = {}
_MAX_SHARED = 1 << 16
F = TypeVar("F", Tuple[str, ...], FrozenSet[str])


def shared_tuple(texts: Iterable[str]) -> Tuple[str, ...]:
    """The one tuple of these texts (each text its one copy): what a report lists per image (pods, roles, pull
    secret names) comes in a few combinations repeated by every Domain, held once each."""
    return _one(tuple(shared_text(t) for t in texts))


def shared_set(texts: Iterable[str]) -> FrozenSet[str]:
    """The one frozenset of these texts (each text its one copy), as shared_tuple: the kinds of pod that pull an
    image, the rules an annotation names."""
    return _one(frozenset(shared_text(t) for t in texts))


def _one(made: F) -> F:
    shared = _SHARED.get(made)
    if shared is not None:
        return cast(F, shared)
    if len(_SHARED) < _MAX_SHARED:
        _SHARED[made] = made
    return made


V = TypeVar("V")


def share_texts(value: V) -> V:
    """A JSON value with each text in it (not the keys: the JSON decoder shares those) replaced by its one copy;
    dicts and lists are changed in place."""
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = share_texts(item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = share_texts(item)
    elif isinstance(value, str) and type(value) is str:  # isinstance: the type checker narrows on it
        return cast(V, sys.intern(value))
    return value
