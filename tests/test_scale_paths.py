"""The paths big clusters take: the sandbox's paging by bisect, the JSON written Domain by Domain, the node
cache index. Each is checked against the plain computation it replaces."""

from __future__ import annotations

import gc
import io
import json
from pathlib import Path
from typing import Any, List, Mapping, Optional, Tuple

import pytest

from kubectl_imgaccess.audit import evidence, run
from kubectl_imgaccess.audit.evidence import node_holders, nodes_caching
from kubectl_imgaccess.audit.report import Gate, ImageEntry
from kubectl_imgaccess.audit.run import audit
from kubectl_imgaccess.audit.snapshot import Snapshot
from kubectl_imgaccess.kube import reader
from kubectl_imgaccess.render.structured import render_json, write_json
from tests.builders import IMAGE, domain, node, secret, service_account
from tools.sandbox import Sandbox, resources
from tools.sandbox.store import Store


def _pages(store: Store, namespace: Optional[str], limit: int, match: Any = lambda o: True) -> List[List[str]]:
    rt = resources.by_kind("ConfigMap", "v1")
    assert rt is not None
    pages, token = [], None
    while True:
        items, _, token, remaining = store.list(rt, namespace, match, limit, token)
        pages.append([f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in items])
        if token is None:
            assert remaining is None
            return pages


def _flat(pages: List[List[str]]) -> List[str]:
    return [name for page in pages for name in page]


def test_sandbox_pages_follow_the_key_order_per_namespace_and_across() -> None:
    store = Store()
    rt = resources.by_kind("ConfigMap", "v1")
    assert rt is not None
    names = [(f"ns-{n % 3}", f"cm-{n:03d}") for n in range(50)]
    for ns, name in names:
        store.create(rt, None, {"metadata": {"name": name, "namespace": ns}}, seed=True)
    everything = [f"{ns}/{name}" for ns, name in sorted(names)]
    assert _flat(_pages(store, None, 7)) == everything
    assert _flat(_pages(store, "ns-1", 4)) == [x for x in everything if x.startswith("ns-1/")]
    assert _flat(_pages(store, "ns", 4)) == []  # a prefix of other namespaces is not one of them
    odd = _flat(_pages(store, None, 3, lambda o: int(o["metadata"]["name"][3:]) % 2 == 1))
    assert odd == [x for x in everything if int(x.split("/cm-")[1]) % 2 == 1]
    # remainingItemCount: what is left after the page, exactly
    items, _, token, remaining = store.list(rt, None, lambda o: True, 10, None)
    assert len(items) == 10 and remaining == 40 and token
    # a write between pages is seen by the next page (keys re-sorted)
    store.create(rt, None, {"metadata": {"name": "cm-zzz", "namespace": "ns-2"}}, seed=True)
    rest, _, _, _ = store.list(rt, None, lambda o: True, 100, token)
    assert [o["metadata"]["name"] for o in rest][-1] == "cm-zzz" and len(items) + len(rest) == 51


def _report_snapshot(domains: int) -> Snapshot:
    snap = Snapshot()
    for obj in [secret("ocr"), service_account(pull=["ocr"])]:
        snap.add(obj)
    for n in range(domains):
        image = f"example.com/app:{n}" if n % 3 == 0 else IMAGE
        snap.add(domain(f"d{n}", pull=["ocr"] if n % 2 else None, image=image))
    return snap


def test_json_written_domain_by_domain_is_the_document() -> None:
    for count in (0, 1, 7):
        report = audit(_report_snapshot(count))
        out = io.StringIO()
        write_json(report, Gate("error"), out)
        assert out.getvalue() == render_json(report, Gate("error"))
        assert len(json.loads(out.getvalue())["domains"]) == count


def _entry(image: str, repository: str) -> ImageEntry:
    return ImageEntry(image=image, repository=repository, reference="1", field="spec.image", pods=(),
                      service_account="default", pull_from="none", pull_names=(), credentials=(),
                      pull_policy="IfNotPresent", roles=("server",))


def test_node_cache_index_answers_like_a_scan_and_follows_new_nodes() -> None:
    snap = Snapshot(mode="cluster")
    snap.add(node("n2", images=["docker.io/library/nginx:1.25", "ghcr.io/o/a@sha256:" + "a" * 64], kubelet="v1.32.0"))
    snap.add(node("n1", images=["nginx:1.25"], kubelet="v1.35.0"))
    entry = _entry("nginx:1.25", "docker.io/library/nginx")
    assert node_holders(snap, entry) == (["n1", "n2"], 2)
    assert nodes_caching(snap, entry) == [("n1", "v1.35.0"), ("n2", "v1.32.0")]
    snap.add(node("n3", images=[], kubelet="v1.32.0"))  # the index is rebuilt when the objects change
    assert node_holders(snap, entry) == (["n1", "n2"], 3)
    other = _entry("ghcr.io/o/b:1", "ghcr.io/o/b")
    assert node_holders(snap, other) == ([], 3) and nodes_caching(snap, other) == []


def test_the_nodes_cloud_is_found_once_per_snapshot_not_once_per_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    snap = Snapshot(mode="cluster")
    for n in range(3):
        snap.add(domain(f"d{n}", image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/wls:1"))
    snap.add(service_account())
    for n in range(2):
        snap.add(node(f"n{n}", provider_id=f"aws:///eu-west-1a/i-{n}"))
    calls: List[int] = []
    real = evidence.cluster_cloud

    def counted(s: Snapshot, prefixes: Mapping[str, str]) -> Optional[str]:
        calls.append(1)
        return real(s, prefixes)

    monkeypatch.setattr(run, "cluster_cloud", counted)
    first = audit(snap)
    assert len(calls) == 1
    # on aws nodes the ECR image needs no pull Secret (IA020 info), for every Domain
    assert [[f.rule for f in d.findings] for d in first.domains] == [["IA020"]] * 3
    snap.add(node("n2", provider_id="gce://project/zone/n2"))  # nodes on two clouds: none is assumed
    assert all("IA020" not in [f.rule for f in d.findings] for d in audit(snap).domains)
    assert len(calls) == 2


def test_no_full_collection_while_a_command_runs(sandbox: Sandbox, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Full collections wait for the end of the command (the read and the audit alike), set once for the
    process by cli.main; the young generations are collected as before; the thresholds are put back after
    the command, also when it fails."""
    from kubectl_imgaccess.cli import check
    from kubectl_imgaccess.cli.main import main

    sandbox.add(domain("d1", ns="shop"))
    cfg = sandbox.write_kubeconfig(str(tmp_path / "kubeconfig"))
    read_during: List[Tuple[int, int, int]] = []
    audit_during: List[Tuple[int, int, int]] = []
    real_read = reader._Reader.read

    def observed_read(self: Any) -> Snapshot:
        read_during.append(gc.get_threshold())
        return real_read(self)

    def observed_audit(*args: Any, **kwargs: Any) -> Any:
        audit_during.append(gc.get_threshold())
        return audit(*args, **kwargs)

    monkeypatch.setattr(reader._Reader, "read", observed_read)
    monkeypatch.setattr(check, "audit", observed_audit)
    before = gc.get_threshold()
    paused = (before[0], before[1], 2**31 - 1)
    assert main(["check", "-A", "--kubeconfig", cfg, "-o", "json", "--output-file", f"json={tmp_path / 'r.json'}"]) \
        in (0, 1)
    assert read_during == [paused] and audit_during == [paused] and gc.get_threshold() == before
    sandbox.stop()  # a failed read restores it too
    assert main(["check", "-A", "--kubeconfig", cfg, "--request-timeout", "5s"]) == 2
    assert gc.get_threshold() == before
