"""deploy/: the in-cluster audit. The ClusterRole is enough and no more: the sandbox enforces exactly its rules for the
CronJob's ServiceAccount (through the deploy/ bindings), the CronJob's own command line runs as that ServiceAccount
from inside the "cluster" (the in-cluster configuration, no kubeconfig) and audits completely and writes its
reports; without any one rule, or any one verb of a rule, the audit is incomplete (IA017, exit 3) or cannot write."""

from __future__ import annotations

import copy
import io
import json
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from kubectl_imgaccess import __version__
from kubectl_imgaccess.cli.main import main
from kubectl_imgaccess.kube.client import SA_DIR_ENV
from tests.clitools import ROOT, script
from tools.sandbox.server import Fault, Sandbox

DEPLOY = ROOT / "deploy"
EXAMPLES = ROOT / "examples"
FILES = ("namespace.yaml", "serviceaccount.yaml", "clusterrole.yaml", "clusterrolebinding.yaml", "cronjob.yaml")
TOKEN = "imgaccess-sa-token"


def manifests() -> List[Dict[str, Any]]:
    docs: List[Dict[str, Any]] = []
    for name in FILES:
        docs += [d for d in yaml.safe_load_all((DEPLOY / name).read_text(encoding="utf-8")) if d]
    return docs


def one(kind: str, docs: List[Dict[str, Any]]) -> Dict[str, Any]:
    [found] = [d for d in docs if d["kind"] == kind]
    return found


def test_kustomization_lists_every_manifest_and_renders_them(tmp_path: Path) -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["resources"] == list(FILES)
    assert sorted(p.name for p in DEPLOY.iterdir()) == sorted([*FILES, "kustomization.yaml"])
    from tests.sandbox.fixtures import kubectl_path

    rendered = subprocess.run([kubectl_path(), "kustomize", str(DEPLOY)], capture_output=True, text=True,
                              timeout=60, check=True).stdout
    assert sorted(d["kind"] for d in yaml.safe_load_all(rendered) if d) == sorted(d["kind"] for d in manifests())


@pytest.mark.parametrize("version", ["1.28.0", "1.32.0"])
def test_manifests_pass_kubernetes_validate_strict(version: str) -> None:
    import kubernetes_validate  # type: ignore[import-untyped]

    for doc in manifests():
        kubernetes_validate.validate(doc, version, strict=True)
    broken = copy.deepcopy(one("CronJob", manifests()))
    broken["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["securityContxt"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):  # the validator does see a misspelt field
        kubernetes_validate.validate(broken, version, strict=True)


def test_cronjob_is_hardened_and_runs_the_tool_directly() -> None:
    docs = manifests()
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] in ("ServiceAccount", "CronJob")} == \
        {"imgaccess-system"}
    assert one("Namespace", docs)["metadata"]["name"] == "imgaccess-system"
    cron = one("CronJob", docs)["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == one("ServiceAccount", docs)["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    [container] = pod["containers"]
    assert container["command"] == ["kubectl-imgaccess"]  # the executable itself: no shell
    assert container["args"] == ["check", "-A", "--write-reports", "--fail-on", "never", "-o", "json"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["limits"]["memory"]
    assert container["image"].endswith(f"/kubectl-imgaccess:{__version__}")  # the Dockerfile's image, this version
    role = one("ClusterRole", docs)
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"]
        if rule["resources"] != ["policyreports"]:
            assert set(rule["verbs"]) <= {"get", "list"}  # read-only everywhere else
        assert "delete" not in rule["verbs"] and "deletecollection" not in rule["verbs"]


def _seed(sandbox: Sandbox) -> None:
    """Domains of every kind of trouble, a Cluster, a stale report to update and one whose Domains are gone."""
    sandbox.load_dir(str(EXAMPLES))
    for ns, results in (("orders-ns", []), ("retired-ns", [{"policy": "x", "result": "fail"}])):
        sandbox.add({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
                     "metadata": {"name": "kubectl-imgaccess", "namespace": ns}, "results": results,
                     "summary": {"fail": len(results)}})


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Tuple[Sandbox, Dict[str, str]]]:
    """The sandbox as seen from the CronJob's pod: KUBERNETES_SERVICE_* and the mounted ServiceAccount token."""
    sb = Sandbox()
    sb.start()
    try:
        account = one("ServiceAccount", manifests())["metadata"]
        sb.add_service_account_token(account["namespace"], account["name"], TOKEN)
        sa_dir = tmp_path / "serviceaccount"
        sa_dir.mkdir()
        (sa_dir / "token").write_text(TOKEN, encoding="utf-8")
        (sa_dir / "ca.crt").write_text(Path(sb.ca_file).read_text(encoding="utf-8"), encoding="utf-8")
        (sa_dir / "namespace").write_text(account["namespace"], encoding="utf-8")
        home = tmp_path / "home"
        home.mkdir()
        env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(sb.port),
               SA_DIR_ENV: str(sa_dir), "HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
        yield sb, env
    finally:
        sb.stop()


def _command() -> List[str]:
    container = one("CronJob", manifests())["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    return [*container["command"], *container["args"]]


def test_the_cronjob_audits_completely_and_writes_reports_with_exactly_its_role(
        cluster: Tuple[Sandbox, Dict[str, str]]) -> None:
    sandbox, env = cluster
    _seed(sandbox)
    sandbox.load_rbac(manifests())
    command = _command()
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    full_env.update(env)
    proc = subprocess.run([script(), *command[1:]], env=full_env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["incomplete"] is False and doc["summary"]["domains"] == 8
    assert {r.user for r in sandbox.requests} == {"system:serviceaccount:imgaccess-system:imgaccess"}
    assert all(r.status < 400 or r.status == 404 for r in sandbox.requests), \
        [(r.method, r.path, r.status) for r in sandbox.requests if r.status >= 400]
    reports = {r["metadata"]["namespace"]: r for r in sandbox.objects("policyreports")}
    assert set(reports) == {d["namespace"] for d in doc["domains"]} | {"retired-ns"}
    assert reports["retired-ns"]["results"] == []  # Domains gone: emptied, not deleted
    assert reports["orders-ns"]["summary"]["fail"] >= 3


def _without(docs: List[Dict[str, Any]], rule: int, verb: str = "") -> List[Dict[str, Any]]:
    docs = copy.deepcopy(docs)
    role = one("ClusterRole", docs)
    if verb:
        role["rules"][rule]["verbs"].remove(verb)
    else:
        del role["rules"][rule]
    return docs


def _cases() -> List[Tuple[str, int, str]]:
    rules = one("ClusterRole", manifests())["rules"]
    cases = []
    for i, rule in enumerate(rules):
        name = f"{rule['apiGroups'][0] or 'core'}/{rule['resources'][0]}"
        cases.append((f"{name} (the rule)", i, ""))
        if len(rule["verbs"]) > 1:
            cases += [(f"{name} {verb}", i, verb) for verb in rule["verbs"]]
    return cases


@pytest.mark.parametrize("label,rule,verb", _cases(), ids=[c[0] for c in _cases()])
def test_without_any_rule_or_verb_the_audit_is_incomplete_or_cannot_write(
        cluster: Tuple[Sandbox, Dict[str, str]], monkeypatch: pytest.MonkeyPatch,
        label: str, rule: int, verb: str) -> None:
    sandbox, env = cluster
    _seed(sandbox)
    sandbox.load_rbac(_without(manifests(), rule, verb))
    # one update meets a concurrent change (409): the writer must read the report again (get) and retry
    sandbox.inject(Fault(method="PUT", path_regex="/policyreports/kubectl-imgaccess$", status=409, times=1))
    for key in [k for k in list(__import__("os").environ) if k.startswith("KUBE")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(_command()[1:])
    if code == 3:
        doc = json.loads(out.getvalue())
        assert doc["summary"]["incomplete"] is True
        assert "IA017" in {f["rule"] for f in doc["findings"]} | {
            f["rule"] for d in doc["domains"] for f in d["findings"]}
    else:
        assert code == 2, err.getvalue()
        assert "PolicyReport" in err.getvalue() or "policyreports" in err.getvalue(), err.getvalue()
