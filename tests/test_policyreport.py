"""`-o policyreport` and `--write-reports`: PolicyReports valid against the wgpolicyk8s.io CRD's schema, written with
optimistic concurrency, not written again when nothing changed, emptied (never deleted) when the Domains are gone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from tests.clitools import ROOT, SHARED, run
from tools.sandbox import Rule
from tools.sandbox.server import Fault, Sandbox

EXAMPLES = ROOT / "examples"
CRD = SHARED / "schemas" / "wgpolicyk8s.io_policyreports-v1alpha2.yaml"
REPORTS = "/apis/wgpolicyk8s.io/v1alpha2"


def report_schema() -> Dict[str, Any]:
    if not CRD.is_file():
        pytest.skip(f"{CRD} is absent (the shared test data sits beside the clone)")
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha2")
    schema: Dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def assert_valid(report: Dict[str, Any]) -> None:
    """The CRD's openAPIV3Schema, strictly: no property the schema does not name (the API server would prune it)."""
    import jsonschema

    schema = report_schema()

    def strict(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: strict(v) for k, v in node.items()}
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
        elif isinstance(node, list):
            node = [strict(v) for v in node]
        return node

    jsonschema.validate(report, strict(schema))
    assert report["apiVersion"] == "wgpolicyk8s.io/v1alpha2" and report["kind"] == "PolicyReport"


def written(sandbox: Sandbox) -> List[Any]:
    return [r for r in sandbox.requests if r.path.startswith(REPORTS) and r.method not in ("GET", "HEAD")]


def test_output_is_a_list_of_valid_reports_one_per_namespace(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    doc = json.loads(run(["check", "-A", "-o", "json"], env=kube_env).stdout)
    proc = run(["check", "-A", "-o", "policyreport"], env=kube_env)
    assert proc.returncode == 1, proc.stderr  # the gate still decides the exit code
    out = yaml.safe_load(proc.stdout)
    assert out["apiVersion"] == "v1" and out["kind"] == "List"
    by_ns = {r["metadata"]["namespace"]: r for r in out["items"]}
    assert sorted(by_ns) == sorted({d["namespace"] for d in doc["domains"]})
    for report in out["items"]:
        assert_valid(report)
        assert report["metadata"]["name"] == "kubectl-imgaccess"
        counts = {k: sum(1 for r in report["results"] if r["result"] == k) for k in report["summary"]}
        assert counts == report["summary"]
    for d in doc["domains"]:
        results = [r for r in by_ns[d["namespace"]]["results"] if r["resources"][0]["name"] == d["name"]]
        active = [f for f in d["findings"] if not f["suppressed"]]
        expected = {(f["rule"], f["name"], {"error": "fail", "warning": "warn", "info": "pass"}[f["severity"]])
                    for f in active}
        assert {(r.get("rule"), r["policy"], r["result"]) for r in results if r.get("rule")} == expected
        passes = [r for r in results if r["policy"] == "image-pull-access"]
        assert len(passes) == (1 if d["verdict"] == "pass" else 0)
        uid = sandbox.get("Domain", d["namespace"], d["name"])["metadata"]["uid"]  # type: ignore[index]
        for r in results:
            assert r["source"] == "kubectl-imgaccess"
            assert r["resources"] == [{"apiVersion": "weblogic.oracle/v9", "kind": "Domain",
                                       "namespace": d["namespace"], "name": d["name"], "uid": uid}]
    assert by_ns["orders-ns"]["summary"]["fail"] >= 3


def test_suppressed_findings_are_not_results(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    domain = sandbox.get("Domain", "reports-ns", "reports")
    assert domain is not None
    rules = {f["rule"] for d in json.loads(run(["check", "-n", "reports-ns", "-o", "json"], env=kube_env).stdout)
             ["domains"] for f in d["findings"]}
    assert "IA011" in rules
    domain["metadata"].setdefault("annotations", {})["imgaccess.weblogic.oracle/ignore"] = "IA011"
    sandbox.replace(domain)
    out = yaml.safe_load(run(["check", "-n", "reports-ns", "-o", "policyreport"], env=kube_env).stdout)
    [report] = out["items"]
    assert_valid(report)
    assert "IA011" not in {r.get("rule") for r in report["results"]}


def test_write_creates_then_changes_nothing_then_updates_and_empties(sandbox: Sandbox,
                                                                     kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    first = run(["check", "-A", "--write-reports", "-o", "json"], env=kube_env)
    assert first.returncode == 1, first.stderr
    expected = yaml.safe_load(run(["check", "-A", "-o", "policyreport"], env=kube_env).stdout)["items"]
    stored = sandbox.objects("policyreports")
    assert [(r["metadata"]["namespace"], r["results"], r["summary"]) for r in stored] == \
           [(r["metadata"]["namespace"], r["results"], r["summary"]) for r in expected]
    for report in stored:
        assert_valid(report)
    assert "8 created" in first.stderr

    sandbox.clear_requests()
    again = run(["check", "-A", "--write-reports", "-o", "json"], env=kube_env)
    assert again.returncode == 1 and "0 created, 0 updated, 8 unchanged" in again.stderr
    assert written(sandbox) == []  # nothing changed: nothing sent

    # A Domain fixed, another one gone: one report updated, one emptied (kept, with no results)
    sandbox.delete("Domain", "hr-ns", "hr")
    other = sandbox.get("PolicyReport", "orders-ns", "kubectl-imgaccess")
    assert other is not None
    other["metadata"].setdefault("annotations", {})["team"] = "orders"  # someone else's annotation stays
    sandbox.replace(other)
    account = sandbox.get("ServiceAccount", "billing-ns", "default")
    assert account is not None
    account["imagePullSecrets"] = [*(account.get("imagePullSecrets") or []), {"name": "does-not-exist"}]
    sandbox.replace(account)
    sandbox.clear_requests()
    third = run(["check", "-A", "--write-reports", "-o", "json"], env=kube_env)
    assert third.returncode == 1, third.stderr
    sent = written(sandbox)
    assert {r.method for r in sent} == {"PUT"}, sent  # never DELETE, no create: the reports exist
    emptied = sandbox.get("PolicyReport", "hr-ns", "kubectl-imgaccess")
    assert emptied is not None and emptied["results"] == []
    assert emptied["summary"] == {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    assert "(1 emptied: no Domains left)" in third.stderr
    orders = sandbox.get("PolicyReport", "orders-ns", "kubectl-imgaccess")
    assert orders is not None and orders["metadata"]["annotations"] == {"team": "orders"}
    for r in sent:
        assert r.json()["metadata"]["resourceVersion"]  # optimistic concurrency: every update names its version


def test_conflict_reads_again_and_retries(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    assert run(["check", "-n", "hr-ns", "--write-reports"], env=kube_env).returncode == 1
    sandbox.delete("Domain", "hr-ns", "hr")
    sandbox.inject(Fault(method="PUT", path_regex="policyreports/kubectl-imgaccess$", status=409, times=1))
    sandbox.clear_requests()
    proc = run(["check", "-n", "hr-ns", "--write-reports"], env=kube_env)
    assert proc.returncode == 0, proc.stderr
    calls = [(r.method, r.status) for r in sandbox.requests if r.path.startswith(REPORTS)]
    assert calls == [("GET", 200), ("PUT", 409), ("GET", 200), ("PUT", 200)]
    report = sandbox.get("PolicyReport", "hr-ns", "kubectl-imgaccess")
    assert report is not None and report["results"] == []


def test_a_report_that_keeps_changing_stops_after_max_tries(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    from kubectl_imgaccess.kube.reports import MAX_TRIES

    sandbox.load_dir(str(EXAMPLES))
    assert run(["check", "-n", "hr-ns", "--write-reports"], env=kube_env).returncode == 1
    sandbox.delete("Domain", "hr-ns", "hr")
    sandbox.inject(Fault(method="PUT", path_regex="policyreports/kubectl-imgaccess$", status=409, times=MAX_TRIES))
    sandbox.clear_requests()
    proc = run(["check", "-n", "hr-ns", "--write-reports"], env=kube_env)
    assert proc.returncode == 2
    assert f"PolicyReport hr-ns/kubectl-imgaccess: still changing after {MAX_TRIES} tries; run again" in proc.stderr
    calls = [r.method for r in sandbox.requests if r.path.startswith(REPORTS)]
    assert calls == ["GET"] + ["PUT", "GET"] * (MAX_TRIES - 1) + ["PUT"]


def test_incomplete_domain_list_empties_nothing(sandbox: Sandbox, kube_env: Dict[str, str], tmp_path: Path) -> None:
    """A namespace whose Domains could not be listed is not "Domains gone": its report is left as it was."""
    sandbox.load_dir(str(EXAMPLES))
    assert run(["check", "-A", "--write-reports"], env=kube_env).returncode == 1
    sandbox.add_user("auditor", "auditor-token")
    for resource in ("secrets", "serviceaccounts", "pods", "events", "nodes", "clusters"):
        sandbox.allow(Rule("auditor", ["get", "list"], [resource]))
    sandbox.allow(Rule("auditor", ["get", "list", "create", "update"], ["policyreports"]))
    sandbox.allow(Rule("auditor", ["list"], ["domains"], namespaces=["orders-ns"]))
    env = dict(kube_env, KUBECONFIG=sandbox.write_kubeconfig(str(tmp_path / "auditor"), user="auditor"))
    sandbox.clear_requests()
    proc = run(["check", "-n", "orders-ns", "--write-reports"], env=env)
    assert proc.returncode == 1, proc.stderr
    blind = run(["check", "-A", "--write-reports"], env=env)
    assert blind.returncode in (1, 3), blind.stderr
    assert all(r.json()["metadata"]["namespace"] == "orders-ns" for r in written(sandbox))
    assert sandbox.get("PolicyReport", "hr-ns", "kubectl-imgaccess")["results"]  # type: ignore[index]


@pytest.mark.parametrize("args", [["orders"], ["-l", "team=x"], ["-f", str(EXAMPLES)], ["--offline", "-f", "x"]])
def test_write_reports_takes_whole_namespaces(args: List[str], kube_env: Dict[str, str]) -> None:
    proc = run(["check", "-n", "orders-ns", "--write-reports", *args], env=kube_env)
    assert proc.returncode == 2 and "--write-reports" in proc.stderr and "Traceback" not in proc.stderr
