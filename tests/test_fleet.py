"""A fleet in one kubeconfig: two sandboxes, a dead address and a refused token. `--context` repeated and
`--all-contexts` read every cluster; one that cannot be read is named on stderr and in the top-level findings
(IA023), the others' results are printed in full, and the exit code is 2."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml

from kubectl_imgaccess.audit.config import Config
from tests.clitools import ROOT, run
from tools.sandbox.server import Sandbox

EXAMPLES = ROOT / "examples"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Tuple[Dict[str, str], Sandbox, Sandbox]]:
    east, west = Sandbox(), Sandbox()
    east.start()
    west.start()
    try:
        east.load_dir(str(EXAMPLES))
        west.load_yaml((EXAMPLES / "01-healthy.yaml").read_text(encoding="utf-8"))
        docs = [json.loads(Path(sb.write_kubeconfig(str(tmp_path / f"{name}.json"), context=name)).read_text())
                for name, sb in (("east", east), ("west", west))]
        merged: Dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": "east",
                                  "clusters": [], "users": [], "contexts": []}
        for name, doc in zip(("east", "west"), docs):
            for section in ("clusters", "users", "contexts"):
                for entry in doc[section]:
                    entry = dict(entry, name=f"{name}-{entry['name']}" if section != "contexts" else name)
                    if section == "contexts":
                        entry["context"] = dict(entry["context"], cluster=f"{name}-{entry['context']['cluster']}",
                                                user=f"{name}-{entry['context']['user']}")
                    merged[section].append(entry)
        east_cluster = merged["clusters"][0]["cluster"]
        merged["clusters"].append({"name": "dead", "cluster": dict(east_cluster,
                                                                   server=f"https://127.0.0.1:{_closed_port()}")})
        merged["users"].append({"name": "stranger", "user": {"token": "nobody-knows-this"}})
        merged["contexts"] += [{"name": "dead", "context": {"cluster": "dead", "user": "east-" + docs[0]["users"][0]
                                                            ["name"]}},
                               {"name": "refused", "context": {"cluster": merged["clusters"][0]["name"],
                                                               "user": "stranger"}}]
        path = tmp_path / "fleet.yaml"
        path.write_text(yaml.safe_dump(merged), encoding="utf-8")
        home = tmp_path / "home"
        home.mkdir()
        yield {"KUBECONFIG": str(path), "HOME": str(home)}, east, west
    finally:
        east.stop()
        west.stop()


def _contexts(doc: Dict[str, Any]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for d in doc["domains"]:
        out.setdefault(d["context"], []).append(d["name"])
    return out


def test_repeated_context_reads_both_clusters(fleet: Tuple[Dict[str, str], Sandbox, Sandbox]) -> None:
    env, _, _ = fleet
    proc = run(["check", "-A", "--context", "east", "--context", "west", "-o", "json"], env=env)
    assert proc.returncode == 1, proc.stderr  # east has failing Domains
    doc = json.loads(proc.stdout)
    alone = {c: json.loads(run(["check", "-A", "--context", c, "-o", "json"], env=env).stdout)
             for c in ("east", "west")}
    assert _contexts(doc) == {c: [d["name"] for d in alone[c]["domains"]] for c in ("east", "west")}
    assert doc["source"]["contexts"] == ["east", "west"] and doc["source"]["unreachable"] == []
    for d in doc["domains"]:  # each Domain's result is the one a single-cluster run gives
        [same] = [x for x in alone[d["context"]]["domains"] if x["name"] == d["name"]]
        assert d["findings"] == same["findings"] and d["verdict"] == same["verdict"]
    assert doc["summary"]["domains"] == sum(a["summary"]["domains"] for a in alone.values())


def test_the_config_file_is_read_once_for_the_whole_fleet(fleet: Tuple[Dict[str, str], Sandbox, Sandbox],
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kubectl_imgaccess.cli import check
    from kubectl_imgaccess.cli.main import main
    from kubectl_imgaccess.manifests import load_config

    env, _, _ = fleet
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = tmp_path / "imgaccess.yaml"
    config.write_text("ignore: []\n", encoding="utf-8")
    calls: List[Optional[str]] = []

    def counted(path: Optional[str]) -> Config:
        calls.append(path)
        return load_config(path)

    monkeypatch.setattr(check, "load_config", counted)
    assert main(["check", "-A", "--context", "east", "--context", "west", "--config", str(config), "-o", "name"]) == 1
    assert calls == [str(config)]


def test_all_contexts_with_dead_and_refused_clusters(fleet: Tuple[Dict[str, str], Sandbox, Sandbox]) -> None:
    env, _, _ = fleet
    proc = run(["check", "-A", "--all-contexts", "-o", "json", "--request-timeout", "5s"], env=env)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)  # the reachable clusters' results, in full
    assert set(_contexts(doc)) == {"east", "west"}
    assert len(_contexts(doc)["east"]) == 8
    top = {f["message"].split(":")[0]: f for f in doc["findings"] if f["rule"] == "IA023"}
    assert set(top) == {"context dead", "context refused"}
    assert all(f["name"] == "cluster-unreachable" and f["severity"] == "error" for f in top.values())
    assert "401" in top["context refused"]["message"]
    assert doc["source"]["unreachable"] == ["dead", "refused"]
    assert "error: context dead" in proc.stderr and "error: context refused" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_table_sarif_junit_and_reports_name_the_context(fleet: Tuple[Dict[str, str], Sandbox, Sandbox]) -> None:
    env, _, _ = fleet
    table = run(["check", "-A", "--all-contexts"], env=env)
    assert table.returncode == 2
    header, *rows = table.stdout.split("\n\n")[0].splitlines()
    assert header.split()[:3] == ["CONTEXT", "NAMESPACE", "DOMAIN"]
    assert {r.split()[0] for r in rows} == {"east", "west"}
    assert "IA023" in table.stdout and "context dead" in table.stdout

    sarif = json.loads(run(["check", "-A", "--all-contexts", "-o", "sarif"], env=env).stdout)
    results = sarif["runs"][0]["results"]
    assert {r["properties"].get("context") for r in results if r["properties"]["domain"]} == {"east", "west"}
    assert any(r["ruleId"] == "IA023" and "context dead" in r["message"]["text"] for r in results)

    junit = ET.fromstring(run(["check", "-A", "--all-contexts", "-o", "junit"], env=env).stdout)
    names = {s.get("name") for s in junit.iter("testsuite")}
    assert "east/orders-ns/orders" in names
    errors = [e for c in junit.iter("testcase") for e in c.findall("error")]
    assert any(e.get("type") == "IA023" and "context dead" in (e.get("message") or "") for e in errors)

    reports = yaml.safe_load(run(["check", "-A", "--context", "east", "--context", "west", "-o", "policyreport"],
                                 env=env).stdout)["items"]
    by_context: Dict[str, List[str]] = {}
    for r in reports:
        by_context.setdefault(r["metadata"]["annotations"]["imgaccess.weblogic.oracle/context"], []).append(
            r["metadata"]["namespace"])
    assert set(by_context) == {"east", "west"} and "orders-ns" not in by_context["west"]


def test_write_reports_per_cluster(fleet: Tuple[Dict[str, str], Sandbox, Sandbox]) -> None:
    env, east, west = fleet
    proc = run(["check", "-A", "--context", "east", "--context", "west", "--write-reports"], env=env)
    assert proc.returncode == 1, proc.stderr
    east_ns = {r["metadata"]["namespace"] for r in east.objects("policyreports")}
    west_ns = {r["metadata"]["namespace"] for r in west.objects("policyreports")}
    assert "orders-ns" in east_ns and "orders-ns" not in west_ns and west_ns <= east_ns and west_ns
    for sb in (east, west):  # what each cluster holds is its own audit, without the -o annotation
        for r in sb.objects("policyreports"):
            assert "annotations" not in r["metadata"]
    assert "context east: PolicyReports: " in proc.stderr and "context west: PolicyReports: " in proc.stderr


@pytest.mark.parametrize("args,words", [
    (["fix", "--context", "east", "--context", "west", "--dry-run=client"], "fix plans and writes against one"),
    (["check", "--all-contexts", "--context", "east"], "--all-contexts"),
    (["check", "--context", "east", "--context", "west", "-f", str(EXAMPLES)], "one cluster"),
])
def test_refusals(fleet: Tuple[Dict[str, str], Sandbox, Sandbox], args: List[str], words: str) -> None:
    env, _, _ = fleet
    proc = run(args, env=env)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_policyreports_of_a_fleet_name_their_context_when_one_cluster_has_no_domains() -> None:
    """-o policyreport annotates by fleet, as the other formats name contexts: not by how many contexts happen
    to hold Domains."""
    import dataclasses

    from kubectl_imgaccess.audit.policyreport import CONTEXT_ANNOTATION
    from kubectl_imgaccess.audit.run import audit
    from kubectl_imgaccess.cli.check import merge_fleet
    from kubectl_imgaccess.manifests import read_files
    from kubectl_imgaccess.render.policyreport import render_policyreport

    east = audit(read_files([str(EXAMPLES / "01-healthy.yaml")], "default"))
    east.domains = [dataclasses.replace(d, context="east") for d in east.domains]
    west = audit(read_files([], "default"))
    doc = yaml.safe_load(render_policyreport(merge_fleet([("east", east), ("west", west)], [])))
    assert doc["items"]
    assert [r["metadata"]["annotations"] for r in doc["items"]] == [{CONTEXT_ANNOTATION: "east"}] * len(doc["items"])
