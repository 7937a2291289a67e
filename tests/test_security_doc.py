"""docs/security.md is the one home of the RBAC each command needs: each command runs in the sandbox as a
user granted exactly the rules the page lists (and nothing else), and completes; without one of them the
run says what it could not read (IA017, exit 3) instead of passing."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

from tests.builders import domain, secret, service_account
from tests.clitools import ROOT, script
from tools.sandbox import Rule, Sandbox

DOC = ROOT / "docs" / "security.md"
NS = "apps"


def roles() -> Dict[str, List[Dict[str, Any]]]:
    """command -> the rules of its `# rbac: COMMAND` YAML block in docs/security.md."""
    out: Dict[str, List[Dict[str, Any]]] = {}
    for block in re.findall(r"```yaml\n(# rbac: [^\n]+\n.*?)```", DOC.read_text(), re.S):
        command = block.splitlines()[0].split(":", 1)[1].strip()
        role = yaml.safe_load(block)
        assert role["kind"] == "ClusterRole"
        out[command] = role["rules"]
    return out


def test_the_doc_lists_rbac_for_each_cluster_command() -> None:
    assert set(roles()) == {"check", "fix"}


def _seed(sandbox: Sandbox) -> None:
    sandbox.add(secret("ocr", NS, user="ops", password="pw-for-ocr"))
    sandbox.add(service_account(ns=NS))
    for name, pull in (("d1", ["ocr"]), ("d2", [])):
        sandbox.add(domain(name, NS, uid=name, source_type="Image", pull=pull))


def _grant(sandbox: Sandbox, user: str, rules: List[Dict[str, Any]], skip: Optional[int] = None) -> str:
    sandbox.add_user(user, f"{user}-token")
    for i, rule in enumerate(rules):
        if i != skip:
            sandbox.allow(Rule(user, rule["verbs"], rule["resources"], api_groups=rule["apiGroups"]))
    return f"{user}-token"


def _run(sandbox: Sandbox, tmp_path: Path, user: str, args: List[str],
         stdin: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    kc = sandbox.write_kubeconfig(str(tmp_path / f"kc-{user}"), user=user, namespace=NS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update({"HOME": str(tmp_path), "KUBECONFIG": kc})
    return subprocess.run([script(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120,
                          check=False)


def test_check_with_exactly_the_documented_rules(sandbox: Sandbox, tmp_path: Path) -> None:
    _seed(sandbox)
    _grant(sandbox, "checker", roles()["check"])
    proc = _run(sandbox, tmp_path, "checker", ["check", "-o", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert not doc["summary"]["incomplete"] and doc["summary"]["domains"] == 2
    assert {r.status for r in sandbox.requests} <= {200}


@pytest.mark.parametrize("missing", [0, 1])
def test_check_without_a_required_rule_is_incomplete(missing: int, sandbox: Sandbox, tmp_path: Path) -> None:
    """Without the Domain rule or the core rule the run reports what it could not read (exit 3), never a pass."""
    _seed(sandbox)
    _grant(sandbox, "partial", roles()["check"], skip=missing)
    proc = _run(sandbox, tmp_path, "partial", ["check", "-o", "json"])
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr
    assert json.loads(proc.stdout)["summary"]["incomplete"]


def test_check_without_the_optional_nodes_rule_still_completes(sandbox: Sandbox, tmp_path: Path) -> None:
    _seed(sandbox)
    _grant(sandbox, "nonodes", roles()["check"], skip=2)
    proc = _run(sandbox, tmp_path, "nonodes", ["check", "-o", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    assert [r for r in sandbox.requests if r.status == 403 and "/nodes" in r.path]


def test_fix_with_exactly_the_documented_rules(sandbox: Sandbox, tmp_path: Path) -> None:
    _seed(sandbox)
    _grant(sandbox, "fixer", roles()["fix"])
    proc = _run(sandbox, tmp_path, "fixer", ["fix", "d2", "--strategy", "domain", "--copy-from", f"{NS}/ocr",
                                              "--secret", "ocr-copy", "--yes", "-o", "json"])
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["applied"] is True and doc["notApplied"] == [] and doc["stopped"] is None, doc
    assert not [r for r in sandbox.requests if r.status == 403]


def test_version_needs_no_rule(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_user("nobody", "nobody-token")
    proc = _run(sandbox, tmp_path, "nobody", ["version", "--server"])
    assert proc.returncode == 0 and "Server Version" in proc.stdout, proc.stderr
