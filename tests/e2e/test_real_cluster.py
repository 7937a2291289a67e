"""The example scenarios against a real cluster (kind in CI elsewhere), when IMGACCESS_E2E_KUBECONFIG is set.

Installs the project's minimal Domain and Cluster CRDs unless the cluster already serves them, applies the
examples into namespaces prefixed `imgaccess-e2e-` (Pods and Nodes left out: a real cluster makes its own),
runs check through the real kubectl plugin path and the script, and deletes everything it created.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from tests.clitools import ROOT, run, script

KUBECONFIG = os.environ.get("IMGACCESS_E2E_KUBECONFIG", "")
PREFIX = "imgaccess-e2e-"
APPLIED_KINDS = ("Namespace", "ServiceAccount", "Secret", "Domain", "Cluster")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not KUBECONFIG, reason="set IMGACCESS_E2E_KUBECONFIG to run against a real cluster"),
]


def kubectl(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    binary = shutil.which("kubectl")
    assert binary, "kubectl is needed for the end-to-end suite"
    return subprocess.run([binary, "--kubeconfig", KUBECONFIG, *args], input=stdin, capture_output=True,
                          text=True, timeout=180, check=False)


def scenario_objects() -> List[Dict[str, Any]]:
    objs: List[Dict[str, Any]] = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if not obj or obj.get("kind") not in APPLIED_KINDS:
                continue
            meta = obj["metadata"]
            if obj["kind"] == "Namespace":
                meta["name"] = PREFIX + meta["name"]
            else:
                meta["namespace"] = PREFIX + meta["namespace"]
            objs.append(obj)
    return objs


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    served = kubectl("api-resources", "--api-group=weblogic.oracle", "-o", "name").stdout.split()
    installed_crds = "domains.weblogic.oracle" not in served
    if installed_crds:
        out = kubectl("apply", "-f", str(Path(__file__).with_name("crds.yaml")))
        assert out.returncode == 0, out.stderr
        for crd in ("domains.weblogic.oracle", "clusters.weblogic.oracle"):
            kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
    objs = scenario_objects()
    namespaces = [o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"]
    try:
        ns_list = {"apiVersion": "v1", "kind": "List", "items": [o for o in objs if o["kind"] == "Namespace"]}
        assert kubectl("apply", "--validate=false", "-f", "-", stdin=json.dumps(ns_list)).returncode == 0
        rest = {"apiVersion": "v1", "kind": "List", "items": [o for o in objs if o["kind"] != "Namespace"]}
        out = kubectl("apply", "--validate=false", "-f", "-", stdin=json.dumps(rest))
        assert out.returncode == 0, out.stderr
        yield
    finally:
        kubectl("delete", "namespace", "--wait=false", "--ignore-not-found", *namespaces)
        if installed_crds:
            kubectl("delete", "-f", str(Path(__file__).with_name("crds.yaml")), "--ignore-not-found")


def e2e_env(tmp_path: Path) -> Dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "kubectl-imgaccess").exists():
        os.symlink(script(), bin_dir / "kubectl-imgaccess")
    return {"KUBECONFIG": KUBECONFIG, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])}


def audit(tmp_path: Path) -> Dict[str, Any]:
    proc = run(["check", "-A", "-o", "json"], env=e2e_env(tmp_path))
    assert proc.returncode in (1, 3), proc.stderr
    doc: Dict[str, Any] = json.loads(proc.stdout)
    doc["domains"] = [d for d in doc["domains"] if d["namespace"].startswith(PREFIX)]
    return doc


def test_scenarios_on_a_real_cluster(cluster: None, tmp_path: Path) -> None:
    doc = audit(tmp_path)
    rules = {d["name"]: {f["rule"] for f in d["findings"]} for d in doc["domains"]}
    verdicts = {d["name"]: d["verdict"] for d in doc["domains"]}
    assert verdicts["sample-domain1"] == "pass" and verdicts["sample-domain2"] == "pass"
    assert {"IA001", "IA008"} <= rules["orders"]
    assert "IA002" in rules["billing"]
    assert "IA006" in rules["payments"]
    assert "IA007" in rules["inventory"]
    assert "IA005" in rules["hr"]


def test_plugin_path_on_a_real_cluster(cluster: None, tmp_path: Path) -> None:
    env = dict(os.environ, **e2e_env(tmp_path))
    via_kubectl = subprocess.run(["kubectl", "imgaccess", "check", "-n", PREFIX + "orders-ns", "-o", "json"],
                                 env=env, capture_output=True, text=True, timeout=180, check=False)
    via_script = run(["check", "-n", PREFIX + "orders-ns", "-o", "json"], env=e2e_env(tmp_path))
    assert via_kubectl.returncode == via_script.returncode
    assert json.loads(via_kubectl.stdout)["domains"] == json.loads(via_script.stdout)["domains"]
