from __future__ import annotations

import io
from pathlib import Path

import pytest

from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.manifests import read_files
from kubectl_imgaccess.objects import FieldRef, ObjectKey

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
