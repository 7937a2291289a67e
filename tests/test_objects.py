"""objects.slotted: a dataclass made again with __slots__ of its fields, the same on every supported Python."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import sys
from dataclasses import dataclass, field
from typing import List, Optional

import pytest

from kubectl_imgaccess import objects
from kubectl_imgaccess.audit.report import DomainReport, Finding, ImageEntry
from kubectl_imgaccess.audit.run import audit
from kubectl_imgaccess.audit.snapshot import ProvidedSecret, Snapshot, Unreadable
from kubectl_imgaccess.objects import Credential, FieldRef, Location, ObjectKey, shared_set, shared_tuple, slotted
from kubectl_imgaccess.weblogic.domain import DomainModel, ImageUse, PodGroup, model_domain
from tests.builders import domain, secret


@slotted
@dataclass(frozen=True, order=True)
class _Frozen:
    name: str
    count: int = 3
    tags: List[str] = field(default_factory=list, compare=False)


@slotted
@dataclass
class _Plain:
    name: str
    note: Optional[str] = None
    items: List[int] = field(default_factory=list)

    def described(self) -> str:
        return f"{self.name}: {self.note}"


@slotted
@dataclass
class _Child(_Plain):
    extra: int = 0


def test_instances_have_slots_and_no_dict() -> None:
    for obj in (_Frozen("a"), _Plain("a"), _Child("a")):
        assert not hasattr(obj, "__dict__")
    assert _Frozen.__dict__["__slots__"] == ("name", "count", "tags")
    assert _Child.__dict__["__slots__"] == ("extra",)  # the base's fields are its own slots


def test_dataclass_behaviour_is_kept() -> None:
    a = _Frozen("a")
    assert a == _Frozen("a", 3) and a < _Frozen("b") and hash(a) == hash(_Frozen("a"))
    assert a.count == 3 and a.tags == [] and a.tags is not _Frozen("a").tags  # defaults, fresh factories
    assert repr(a) == "_Frozen(name='a', count=3, tags=[])"
    assert _Frozen.__qualname__ == "_Frozen" and _Frozen.__module__ == __name__
    assert [f.name for f in dataclasses.fields(_Child)] == ["name", "note", "items", "extra"]
    assert dataclasses.replace(_Child("a", extra=2), note="n") == _Child("a", "n", [], 2)
    assert dataclasses.asdict(_Plain("a", "n", [1])) == {"name": "a", "note": "n", "items": [1]}
    assert _Child("a", "n").described() == "a: n"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "b"  # type: ignore[misc]


def test_no_attribute_that_is_not_a_field() -> None:
    plain = _Plain("a")
    plain.note = "set"
    with pytest.raises(AttributeError):
        plain.other = 1  # type: ignore[attr-defined]
    with pytest.raises((AttributeError, TypeError)):
        _Frozen("a").other = 1  # type: ignore[attr-defined]


def test_copies_and_pickles_frozen_and_plain() -> None:
    for obj in (_Frozen("a", 4, ["x"]), _Plain("a", "n", [1, 2]), _Child("a", None, [], 7)):
        for twin in (copy.deepcopy(obj), copy.copy(obj), pickle.loads(pickle.dumps(obj))):
            assert twin == obj and twin is not obj and type(twin) is type(obj)
    deep = copy.deepcopy(_Plain("a", None, [1]))
    assert deep.items == [1]


def test_only_dataclasses_without_their_own_slots() -> None:
    class NotData:
        pass

    with pytest.raises(TypeError, match="not a dataclass"):
        slotted(NotData)
    with pytest.raises(TypeError, match="not a dataclass"):
        slotted(_Frozen)


@pytest.mark.parametrize("obj", [
    ObjectKey("Domain", "ns", "d"),
    FieldRef(ObjectKey("Domain", "ns", "d"), "spec.image"),
    Location("f.yaml", 3),
    Credential("s", "ns", "r.io", "u", "p"),
    Unreadable("Secret", "ns", None, "forbidden"),
    ProvidedSecret("ns", "s", None, ("r.io",), ObjectKey("SealedSecret", "ns", "s")),
    Finding("IA001", "n", "error", "m"),
    ImageEntry("i", "r", "t", "f", (), "default", "none", (), (), "IfNotPresent", ()),
    DomainReport("ns", "d", "d"),
    ImageUse("i", FieldRef(ObjectKey("Domain", "ns", "d"), "spec.image"), frozenset(), "IfNotPresent", None,
             False),
], ids=lambda obj: type(obj).__name__)
def test_the_many_small_records_are_slotted(obj: object) -> None:
    """What a big cluster's snapshot, operator models and report hold by the ten thousand."""
    assert not hasattr(obj, "__dict__")
    assert copy.deepcopy(obj) == obj


def test_models_are_slotted() -> None:
    for cls in (DomainModel, PodGroup):
        assert "__slots__" in cls.__dict__


def test_shared_tuple_is_one_tuple_per_combination() -> None:
    first = shared_tuple(["server", "".join(["intro", "spector"])])
    again = shared_tuple(iter(("server", "".join(["intro", "spector"]))))
    assert first == ("server", "introspector") and again is first
    assert first[1] is again[1] is sys.intern("introspector")  # one copy of each text
    assert shared_tuple([]) == () and shared_tuple(["b", "a"]) != shared_tuple(["a", "b"])


def test_shared_tuple_stops_sharing_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(objects, "_SHARED", {})
    monkeypatch.setattr(objects, "_MAX_SHARED", 2)
    kept = [shared_tuple([f"t{n}"]) for n in range(5)]
    assert len(objects._SHARED) == 2
    assert shared_tuple(["t0"]) is kept[0]
    late = shared_tuple(["t4"])
    assert late == kept[4] and late is not kept[4]  # made each time, still the same value


def test_a_report_shares_its_lists_of_names_across_domains() -> None:
    """What every Domain's images list (pods, roles, pull secret names) is held once per combination."""
    snap = Snapshot(mode="cluster")
    for obj in (domain("d1", pull=["ocr"]), domain("d2", pull=["ocr"]), secret("ocr")):
        snap.add(obj)
    report = audit(snap)
    one, two = (d.images[0] for d in report.domains)
    assert one.pods is two.pods and one.roles is two.roles and one.pull_names is two.pull_names
    assert one.pull_names == ("ocr",)
    assert one.credentials[0].key is two.credentials[0].key  # the registry key as shown, redacted once each
    first, second = report.domains
    assert first.annotation_ignores is second.annotation_ignores == frozenset()
    terms = [f for d in report.domains for f in d.findings if f.rule == "IA016"]  # made after the probe's place
    assert len(terms) == 2 and terms[0].message is terms[1].message and terms[0].fix is terms[1].fix


def test_shared_set_is_one_frozenset_per_combination() -> None:
    first = shared_set(["server", "introspector"])
    assert shared_set(iter(["introspector", "server", "server"])) is first == {"server", "introspector"}
    assert shared_set(()) is shared_set([]) == frozenset()
    assert shared_set(["a"]) == frozenset(["a"]) and shared_tuple(["a"]) == ("a",)  # one cache, two kinds


def test_operator_models_share_what_every_domain_repeats() -> None:
    """The models a reader hands to the audit (one per Domain, all held at once): the kinds of pod of each image,
    the annotation's rules and the field paths are held once."""
    one, two = (model_domain(domain(name, pull=["ocr"]), {}) for name in ("d1", "d2"))
    uses = [m.groups[0].images[0] for m in (one, two)]
    assert uses[0].pods is uses[1].pods and uses[0].field.path is uses[1].field.path
    assert one.ignore is two.ignore == frozenset()
    assert one.pull_secrets[0].field.path is two.pull_secrets[0].field.path == "spec.imagePullSecrets[0]"
