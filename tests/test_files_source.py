from __future__ import annotations

import copy
import functools
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_imgaccess import manifests
from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.fix.credentials import decoded_data
from kubectl_imgaccess.fix.view import redacted
from kubectl_imgaccess.kubelet.pullsecret import looks_like_pull_credentials, read_pull_secret
from kubectl_imgaccess.manifests import read_files
from kubectl_imgaccess.objects import FieldRef, ObjectKey
from tests import builders

DOC = """\
# comment
apiVersion: weblogic.oracle/v9
kind: Domain
metadata:
  name: d1
spec:
  image: reg.io/wls:1
  imagePullSecrets:
    - name: a
    - name: b
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: not-ours
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ignored
"""


def test_lines_of_fields_and_default_namespace(tmp_path: Path) -> None:
    f = tmp_path / "d.yaml"
    f.write_text(DOC)
    snap = read_files([str(f)], "team")
    key = ObjectKey("Domain", "team", "d1")
    assert list(snap.objects) == [key]
    assert snap.location(FieldRef(key, "spec.image")).line == 7  # type: ignore[union-attr]
    assert snap.location(FieldRef(key, "spec.imagePullSecrets[1]")).line == 10  # type: ignore[union-attr]
    assert snap.location(FieldRef(key, "spec.imagePullSecrets[1].name.deeper")).line == 10  # type: ignore[union-attr]
    assert snap.location(FieldRef(key, "spec.nothing")).line == 6  # type: ignore[union-attr]


def test_json_with_tabs_and_lists_and_stdin(tmp_path: Path) -> None:
    f = tmp_path / "d.json"
    f.write_text('{\n\t"apiVersion": "v1", "kind": "List", "items": [\n\t{"apiVersion": "v1", "kind": "Secret",'
                 ' "metadata": {"name": "s", "namespace": "x"}}]}\n')
    snap = read_files([str(f)], "default")
    assert ObjectKey("Secret", "x", "s") in snap.objects
    snap = read_files(["-"], "default", io.StringIO("kind: Domain\nmetadata: {name: z}\n"))
    assert ObjectKey("Domain", "default", "z") in snap.objects and snap.files == ["<stdin>"]


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("kind: Domain\nmetadata:\n  name: [x\n", 4, "invalid YAML"),
        ("- just\n- a list\n", 1, "must be a mapping"),
        ("a: 1\n---\nkind: Secret\n\tbad: tab\n", 4, "invalid YAML"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(InputError) as err:
        read_files([str(f)], "default")
    assert str(err.value).startswith(f"{f}:{line}: ") and message in str(err.value)


def test_directories_are_read_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.yml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n")
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    snap = read_files([str(tmp_path)], "ns")
    assert snap.files == [str(tmp_path / "a.yaml"), str(tmp_path / "b" / "x.yml")]
    assert ObjectKey("Node", "", "n1") in snap.objects  # cluster-scoped: no namespace
    assert ObjectKey("ServiceAccount", "ns", "sa") in snap.objects


def test_missing_file() -> None:
    with pytest.raises(InputError, match="no such file"):
        read_files(["/nonexistent.yaml"], "default")


# ------------------------------------------------------------------ the fast reader against the full one

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "wko"


def _full(text: str, name: str = "f.yaml") -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
    return manifests.parse_manifests(text, name, lines_for=manifests._lines_wanted)


def _fast(text: str, name: str = "f.yaml", slim: bool = False) -> List[Tuple[Dict[str, Any], Dict[str, Any]]]:
    return manifests._read_fast(text, name, slim=slim)


def _inputs() -> List[Path]:
    found = sorted((ROOT / "tests" / "fixtures").rglob("*.y*ml")) + sorted((ROOT / "examples").glob("*.yaml"))
    return found + (sorted(CORPUS.glob("*.yaml")) if CORPUS.is_dir() else [])


@pytest.mark.parametrize("loader", ["C", "Python"])
def test_fast_reader_reads_every_fixture_example_and_corpus_file_as_the_full_one(
        loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader == "Python":  # where PyYAML was built without libyaml
        monkeypatch.setattr(manifests, "_Loader", yaml.SafeLoader)
    fast = 0
    inputs = _inputs()
    for path in inputs:
        text = path.read_text(encoding="utf-8")
        try:
            full = _full(text, str(path))
        except InputError:
            continue  # a fixture of a bad input: the full reader's error is what read_files reports
        try:
            got = _fast(text, str(path))
        except manifests._Fallback:
            continue
        assert got == full, path
        fast += 1
    assert fast >= len(inputs) // 2  # the common case is read fast, not handed over


KUBECTL_LIST = """\
apiVersion: v1
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: a, namespace: n}
  type: Opaque
  data:
    blob: %s
- null
- apiVersion: weblogic.oracle/v9
  kind: Domain
  metadata:
    name: d
  spec:
    image: "reg.io/wls:1"
    replicas: 2
    enabled: yes
    ratio: 1.5
    created: 2024-01-02
    "1": quoted key
    2: int key
    empty:
    tilde: ~
    tagged: !!str 3
    dup: first
    dup: second
    flow: {a: [1, "2", {b: c}]}
    folded: >
      two
      lines
- kind: ConfigMap
  apiVersion: v1
  metadata: {name: ignored}
kind: List
metadata:
  resourceVersion: ""
""" % ("QUJD" * 100)


@pytest.mark.parametrize("text", [
    KUBECTL_LIST,
    "kind: List\nitems: []\n",
    "---\n---\nkind: Domain\nmetadata: {name: a}\n...\n---\n# only a comment\n",
    "kind: Domain\nmetadata: {name: a}\nitems: 3\n",
    '{"kind": "List", "items": [{"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s"}}]}',
    "kind: v1List\nitems: [{kind: Domain, metadata: {name: a}}]\n",
])
def test_fast_reader_is_the_full_one_on_the_common_subset(text: str) -> None:
    assert _fast(text) == _full(text)


@pytest.mark.parametrize("text", [
    "a: &x {kind: Domain}\nb: *x\n",  # anchors and aliases
    "base: &b {x: 1}\nkind: Domain\nmetadata:\n  <<: *b\n  name: a\n",  # merge key
    "kind: Domain\nmetadata: {name: a}\nspec: !!set {a, b}\n",  # a tag outside the core scalars
    "kind: Domain\nmetadata: {name: a}\nspec: {? [a, b] : c}\n",  # a key that is a sequence
    "kind: List\nitems:\n- kind: List\n  items: [{kind: Domain, metadata: {name: a}}]\n",  # a List in a List
    "kind: List\nitems: [{kind: Domain, metadata: {name: a}}]\nitems: []\n",  # items twice
    "kind: Domain\nmetadata: {name: a}\nitems:\n- {x: 1}\n- - 1\n  - 2\n- 3\n",  # not a List, with items
    "- a\n- b\n",  # not a mapping: the full reader's error
    "kind: Domain\nspec: " + "[" * 120 + "]" * 120 + "\n",  # deeper than the full reader allows
    "kind: Domain\nreplicas: " + "9" * 5000 + "\n",  # an integer too long
    "kind: Domain\ncreated: 2024-13-45\n",  # a value its constructor refuses
    "kind: Domain\nmetadata: {name: a\n",  # a syntax error
])
def test_fast_reader_hands_over_what_it_does_not_read_exactly(text: str) -> None:
    with pytest.raises(Exception):  # noqa: B017 - _Fallback, or the parser's own error: either way, handed over
        _fast(text)


def test_read_files_reads_what_it_hands_over_the_full_way(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("apiVersion: v1\nkind: List\nbase: &b {x: y}\nitems:\n- apiVersion: weblogic.oracle/v9\n"
                 "  kind: Domain\n  metadata:\n    name: d\n    labels: *b\n")
    snap = read_files([str(f)], "ns")
    key = ObjectKey("Domain", "ns", "d")
    assert snap.objects[key]["metadata"]["labels"] == {"x": "y"}
    assert snap.location(FieldRef(key, "metadata.labels")).line == 9  # type: ignore[union-attr]
    f.write_text("kind: Domain\nspec: " + "[" * 120 + "]" * 120 + "\n")
    with pytest.raises(InputError, match="nested more than 100 levels deep"):
        read_files([str(f)], "ns")


BLOB = "QUJD" * 100


# The Secret "s" in namespace "n", with whatever type and data a case needs.
one_secret = functools.partial(builders.secret, "s", "n")


@pytest.mark.parametrize("secret, elided", [
    (one_secret(type_="Opaque", data={"blob": BLOB, "short": "QUJD", "config.json": BLOB}),
     {"blob": "", "short": "QUJD", "config.json": BLOB}),
    (one_secret(type_="Opaque", data={"blob": "%" + BLOB}), {"blob": "!"}),  # invalid base64 stays invalid
    (one_secret(data={"extra": BLOB}), None),  # a pull Secret: read as it is
    ({**one_secret(type_="Opaque", data={"blob": BLOB}), "sops": {"version": "3"}}, None),  # SOPS: values looked at
    (one_secret(type_="Opaque", data={}, string_data={"big": "x" * 300, ".dockercfg": "y" * 300}), None),
])
def test_secret_values_the_audit_never_reads_are_elided(tmp_path: Path, secret: Dict[str, Any],
                                                         elided: Optional[Dict[str, Any]]) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [secret]}))
    got = read_files([str(f)], "default").objects[ObjectKey("Secret", "n", "s")]
    if secret.get("stringData"):
        assert got["stringData"] == {"big": "", ".dockercfg": "y" * 300}
    else:
        assert got["data"] == (secret["data"] if elided is None else elided)
    assert got["type"] == secret["type"]


def test_elided_secret_reads_the_same_to_the_audit_and_to_fix() -> None:
    full = one_secret(type_="Opaque", data={"blob": BLOB, ".dockerconfigjson": "e30=", "bad": "%" * 300})
    slim = copy.deepcopy(full)
    assert manifests._slim(slim) and slim["data"]["blob"] == ""
    assert read_pull_secret(slim) == read_pull_secret(full)
    assert looks_like_pull_credentials(slim) == looks_like_pull_credentials(full)
    assert decoded_data(slim) is None and decoded_data(full) is None  # an invalid value stays invalid
    assert redacted(slim) == redacted(full)


def test_a_non_list_keeps_its_items_whole() -> None:
    text = "kind: Thing\nitems:\n- " + json.dumps(one_secret(type_="Opaque", data={"blob": BLOB})) + "\n"
    with pytest.raises(manifests._Fallback):
        _fast(text, slim=True)  # items elided before the root turned out not to be a List: read again
    assert manifests.read_source("t.yaml", text)[0][0]["items"][0]["data"]["blob"] == BLOB


def test_a_file_is_checked_in_chunks_with_the_errors_of_a_whole_read(tmp_path: Path) -> None:
    f = tmp_path / "big.yaml"
    f.write_bytes(b"kind: Domain\n" + b"# padding\n" * 200_000 + b"metadata: {name: \xff}\n")
    with pytest.raises(InputError) as whole:
        manifests.read_text(str(f))
    with pytest.raises(InputError) as chunked:
        read_files([str(f)], "ns")
    assert str(chunked.value) == str(whole.value) and "200002" in str(whole.value)
    f.write_bytes(b"kind: Domain\nmetadata: {name: caf\xc3\xa9}\n" + b"# padding\n" * 200_000)
    assert ObjectKey("Domain", "ns", "caf\u00e9") in read_files([str(f)], "ns").objects


# Property checks: generated objects and streams, the fast ways against the reference ones.
_FIELDS = sorted({part[:-2] if part.endswith("[]") else part
                  for shapes in (manifests._COMMON, *manifests._SHAPES.values()) for pattern, _ in shapes
                  for part in pattern.split(".") if part != "{}"} | {"x"})
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=4))
_SHAPED = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_FIELDS), inner, max_size=4)), max_leaves=12)
_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(kind=st.sampled_from(sorted(manifests._KINDS)), body=st.dictionaries(st.sampled_from(_FIELDS), _SHAPED,
                                                                             max_size=5))
def test_one_walk_finds_a_wrong_field_exactly_when_some_pattern_does(kind: str, body: Dict[str, Any]) -> None:
    """The tree walk against each pattern followed on its own (the reference): the same verdict, and the
    path it names is one the reference finds wrong."""
    obj = {**body, "kind": kind}
    wrong = [path for pattern, types in manifests._COMMON + manifests._SHAPES.get(kind, ())
             for path, value in _matches(obj, pattern) if value is not None and not isinstance(value, types)]
    found = manifests._first_wrong(obj, manifests._TREES[kind])
    assert (found is None) is (not wrong)
    if found is not None:
        assert "".join(reversed(found[0])).lstrip(".") in wrong


def _matches(obj: Any, pattern: str) -> List[Tuple[str, Any]]:
    """(concrete path, value) for every present value a shape pattern names, one pattern at a time."""
    items: List[Tuple[str, Any]] = [("", obj)]
    for part in pattern.split("."):
        step = part[:-2] if part.endswith("[]") else part
        nxt: List[Tuple[str, Any]] = []
        for path, value in items:
            if not isinstance(value, dict):
                continue
            if step == "{}":
                nxt.extend((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
                continue
            if step not in value:
                continue
            here = f"{path}.{step}" if path else step
            child = value[step]
            if part.endswith("[]"):
                if isinstance(child, list):
                    nxt.extend((f"{here}[{i}]", v) for i, v in enumerate(child))
            else:
                nxt.append((here, child))
        items = nxt
    return items


_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
              st.sampled_from(["yes", "No", "~", "0x1F", "1e3", "2024-01-02", "12:30", ".inf", "", "<<", "="])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(
        st.one_of(st.text(max_size=6), st.integers(), st.sampled_from(["items", "kind"])), inner, max_size=3)),
    max_leaves=15)
_DOCUMENT = st.one_of(_VALUES, st.builds(lambda kind, items: {"kind": kind, "items": items},
                                         st.sampled_from(["List", "DomainList", "Domain"]),
                                         st.lists(_VALUES, max_size=3)))


@_SETTINGS
@given(docs=st.lists(_DOCUMENT, max_size=3), flow=st.sampled_from([None, True, False]))
def test_fast_reader_reads_generated_streams_as_the_full_one(docs: List[Any], flow: Optional[bool]) -> None:
    text = yaml.safe_dump_all(docs, default_flow_style=flow, allow_unicode=True)
    try:
        full = _full(text)
    except InputError:
        full = None
    try:
        fast = _fast(text)
    except Exception:  # handed over: read_files then reads it the full way
        return
    assert fast == full


@pytest.mark.parametrize("text", ["kind: []\n", "kind: {a: b}\nmetadata: {name: x}\n"])
def test_a_kind_that_is_not_a_string_is_passed_over(tmp_path: Path, text: str) -> None:
    f = tmp_path / "k.yaml"
    f.write_text(text)
    assert read_files([str(f)], "ns").objects == {}  # was an internal error (an unhashable kind)


def _stdin(data: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


def test_stdin_bytes_are_checked_and_read_in_chunks_as_text_is() -> None:
    text = "kind: List\nitems:\n- kind: Domain\n  metadata: {name: caf\u00e9}\n"
    fast = read_files(["-"], "ns", _stdin(text.encode()))
    whole = read_files(["-"], "ns", io.StringIO(text))
    assert fast.objects == whole.objects and fast.locations == whole.locations and fast.objects
    bad = b"kind: Domain\n" + b"# padding\n" * 300_000 + b"metadata: {name: \xe9t\xe9}\n"
    with pytest.raises(InputError) as chunked:
        read_files(["-"], "ns", _stdin(bad))
    with pytest.raises(InputError) as whole_error:
        manifests.read_stream(_stdin(bad), "<stdin>")
    assert str(chunked.value) == str(whole_error.value) == "<stdin>:300002: not UTF-8 text (byte 0xe9)"
    anchored = b"kind: Domain\nmetadata: {name: a, labels: &l {k: v}}\nspec: {x: *l}\n"  # read again, in full
    assert read_files(["-"], "ns", _stdin(anchored)).objects[ObjectKey("Domain", "ns", "a")]["spec"] == \
        {"x": {"k": "v"}}
