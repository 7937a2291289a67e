"""The operator model against real published Domain manifests and their hand-checked answer key.

The key (`corpus/wko/INVENTORY.md`) lists, per file and document, every image-bearing field written and the
active `spec.imagePullSecrets`; it is parsed here rather than copied, so the corpus stays the one source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from kubectl_imgaccess.weblogic.domain import model_domain

yaml = pytest.importorskip("yaml")

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus" / "wko"
INVENTORY = CORPUS / "INVENTORY.md"


def _corpus_files() -> List[str]:
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


FILES = _corpus_files()


@dataclass
class Expected:
    """What INVENTORY.md says about one file."""

    images: Set[Tuple[int, str, str]] = field(default_factory=set)  # (doc, field path, image)
    pull_secrets: Optional[List[str]] = None  # None until the file's imagePullSecrets line is read


_SECTION = re.compile(r"^### `([^`]+)`\s*$")
_ROW = re.compile(r"^\|\s*(\d+)\s*\|[^|]*\|\s*`([^`]+)`\s*\|\s*`([^`]*)`\s*\|\s*$")
_SECRETS = re.compile(r"^- \*\*imagePullSecrets\*\*:\s*(.*)$")


def _parse_inventory(text: str) -> Dict[str, Expected]:
    """Per-file tables of the "Per-file detail" part: rows `| doc | ... | `path` | `image` |`."""
    files: Dict[str, Expected] = {}
    current: Optional[Expected] = None
    in_detail = False
    for line in text.splitlines():
        if line.startswith("## "):
            in_detail = line.strip() == "## Per-file detail"
            current = None
            continue
        if not in_detail:
            continue
        section = _SECTION.match(line)
        if section:
            current = files.setdefault(section.group(1), Expected())
            continue
        if current is None:
            continue
        row = _ROW.match(line)
        if row:
            current.images.add((int(row.group(1)), row.group(2), row.group(3)))
            continue
        secrets = _SECRETS.match(line)
        if secrets:
            value = secrets.group(1).strip()
            if value.startswith("none"):
                current.pull_secrets = []
            else:
                # "doc 0 `spec.imagePullSecrets`: `a`, `b`": the names follow the field's colon.
                names = value.split("`spec.imagePullSecrets`:", 1)[-1]
                current.pull_secrets = re.findall(r"`([^`]*)`", names)
    return files


@pytest.fixture(scope="module")
def inventory() -> Dict[str, Expected]:
    if not INVENTORY.is_file():
        pytest.skip(f"{INVENTORY} not present")
    return _parse_inventory(INVENTORY.read_text(encoding="utf-8"))


def test_inventory_parser_reads_rows_and_secrets() -> None:
    sample = "\n".join(
        [
            "## Summary",
            "### `ignored.yaml`",
            "| 0 | x | `spec.image` | `nope` |",
            "## Per-file detail",
            "### `a.yaml`",
            "| doc | apiVersion / kind / metadata.name | image-bearing field path | image value |",
            "| --- | --- | --- | --- |",
            "| 0 | weblogic.oracle/v9 / Domain / d | `spec.image` | `reg.io/wls:1` |",
            "| 1 | weblogic.oracle/v1 / Cluster / c | (no image field) | |",
            "- **imagePullSecrets**: doc 0 `spec.imagePullSecrets`: `s1`, `s2`",
            "### `b.yaml`",
            "- **imagePullSecrets**: none",
            "## Templated files",
            "### `c.yaml`",
        ]
    )
    parsed = _parse_inventory(sample)
    assert set(parsed) == {"a.yaml", "b.yaml"}
    assert parsed["a.yaml"].images == {(0, "spec.image", "reg.io/wls:1")}
    assert parsed["a.yaml"].pull_secrets == ["s1", "s2"]
    assert parsed["b.yaml"].images == set()
    assert parsed["b.yaml"].pull_secrets == []


def test_inventory_covers_every_concrete_file(inventory: Dict[str, Expected]) -> None:
    if not FILES:
        pytest.skip(f"{CORPUS} not present")
    assert set(inventory) == set(FILES)
    assert all(expected.pull_secrets is not None for expected in inventory.values())
    assert sum(len(expected.images) for expected in inventory.values()) > 0


def _documents(path: Path) -> List[Any]:
    with path.open(encoding="utf-8") as handle:
        return list(yaml.safe_load_all(handle))


def _is_kind(doc: Any, kind: str) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == kind


@pytest.mark.parametrize("filename", FILES or [pytest.param("", marks=pytest.mark.skip(reason="no corpus"))])
def test_corpus_file_matches_inventory(filename: str, inventory: Dict[str, Expected]) -> None:
    expected = inventory[filename]
    docs = _documents(CORPUS / filename)
    cluster_docs = {i: d for i, d in enumerate(docs) if _is_kind(d, "Cluster")}
    clusters = {d["metadata"]["name"]: d for d in cluster_docs.values()}
    cluster_doc_index = {d["metadata"]["name"]: i for i, d in cluster_docs.items()}

    found: Set[Tuple[int, str, str]] = set()
    secrets: List[str] = []
    for index, doc in enumerate(docs):
        if not _is_kind(doc, "Domain"):
            continue
        model = model_domain(doc, clusters)
        secrets.extend(ref.name for ref in model.pull_secrets)
        for group in model.groups:
            for use in group.images:
                if use.defaulted:
                    continue
                where = index if use.field.obj.kind == "Domain" else cluster_doc_index[use.field.obj.name]
                found.add((where, use.field.path, use.image))

    assert found == expected.images
    assert secrets == expected.pull_secrets


@pytest.mark.parametrize("filename", FILES or [pytest.param("", marks=pytest.mark.skip(reason="no corpus"))])
def test_corpus_file_through_the_cli(filename: str, inventory: Dict[str, Expected]) -> None:
    """The public CLI reports exactly the written images of every published manifest, and never errors."""
    import json

    from tests.clitools import run

    proc = run(["check", "--offline", "-o", "json", "-f", str(CORPUS / filename)])
    if not inventory[filename].images and "kind: Domain" not in (CORPUS / filename).read_text():
        # A fragment without a Domain (a merge patch): nothing was checked, so it is no pass.
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.startswith("error: no Domain in the input"), proc.stderr
        return
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    found = {
        (img["field"], img["image"])
        for d in doc["domains"]
        for img in d["images"]
        if not img["defaulted"]
    }
    assert found == {(path, image) for _, path, image in inventory[filename].images}
    assert "Traceback" not in proc.stderr
