"""No verdict built on missing data; no credential made of nothing.

- Every object a verdict depends on that could not be read makes that verdict `unknown` (forbidding each kind in
  turn in the sandbox); evidence-only objects (Pods, Events, Nodes) leave the verdict and mark the run incomplete.
- IA008 only when the Domain's own namespace's Secrets were read; otherwise IA004 says they could not be read.
- Entries with nothing in them (identity token only, registry token only, {}, null, empty user and password)
  never match: the image gets IA004 at its severity, and IA003 says why the entry is unusable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import pytest

from kubectl_imgaccess.audit.run import audit
from kubectl_imgaccess.audit.snapshot import Mode, Snapshot, Unreadable
from tests.builders import domain, secret, service_account
from tests.clitools import ROOT, run
from tools.sandbox import Rule
from tools.sandbox.server import Sandbox

EXAMPLES = ROOT / "examples"
RESOURCES = ["domains", "clusters", "serviceaccounts", "secrets", "pods", "events", "nodes"]

# What each kind feeds, for the two example Domains that pass with full rights:
# sample-domain1 lists its own pull Secret, runs as `default` and names a Cluster resource;
# sample-domain2 lists none and pulls with its ServiceAccount wls-sa's Secret.
FEEDS: Dict[str, Dict[str, str]] = {
    "clusters": {"sample-domain1": "unknown", "sample-domain2": "pass"},  # a Cluster shapes its server pods
    "serviceaccounts": {"sample-domain1": "pass", "sample-domain2": "unknown"},  # admission and the SA's Secrets
    "secrets": {"sample-domain1": "unknown", "sample-domain2": "unknown"},  # the credentials on the pull path
    "pods": {"sample-domain1": "pass", "sample-domain2": "pass"},  # live evidence (IA009) only
    "events": {"sample-domain1": "pass", "sample-domain2": "pass"},  # live evidence (IA009) only
    "nodes": {"sample-domain1": "pass", "sample-domain2": "pass"},  # node cache evidence (IA011) only
}


def _verdicts(doc: Dict[str, Any]) -> Dict[str, str]:
    return {d["name"]: d["verdict"] for d in doc["domains"]}


@pytest.mark.parametrize("forbidden", RESOURCES)
def test_each_unreadable_kind_in_turn(forbidden: str, sandbox: Sandbox, tmp_path: Path,
                                      kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    full = json.loads(run(["check", "-A", "-o", "json"], env=kube_env).stdout)
    before = _verdicts(full)
    assert before["sample-domain1"] == before["sample-domain2"] == "pass"
    sandbox.add_user("viewer", "viewer-token")
    sandbox.allow(Rule("viewer", ["get", "list"], [r for r in RESOURCES if r != forbidden]))
    cfg = sandbox.write_kubeconfig(str(tmp_path / "viewer"), user="viewer")
    proc = run(["check", "-A", "-o", "json"], env=dict(kube_env, KUBECONFIG=cfg))
    doc = json.loads(proc.stdout)
    assert doc["summary"]["incomplete"] is True
    assert proc.returncode in (1, 3), proc.stderr
    if forbidden == "domains":
        assert doc["domains"] == [] and [f["rule"] for f in doc["findings"]] == ["IA017"]
        assert proc.returncode == 3
        return
    after = _verdicts(doc)
    assert set(after) == set(before)
    for name, verdict in before.items():
        if verdict == "fail":
            # still failing, or unknown when the failure's own evidence became unreadable (a ServiceAccount that
            # may exist after all, a Secret whose type cannot be seen; a warning that does not depend on it still
            # outranks unknown, as the contract's verdict order says); never a pass
            assert after[name] != "pass", (forbidden, name)
        elif name in FEEDS[forbidden]:
            assert after[name] == FEEDS[forbidden][name], (forbidden, name, after[name])
        else:
            assert after[name] in (verdict, "unknown"), (forbidden, name)
    if forbidden in ("pods", "events", "nodes"):
        assert all(any(f["rule"] == "IA017" for f in d["findings"]) for d in doc["domains"])


def _snapshot(*objs: Dict[str, Any], mode: Mode = "cluster") -> Snapshot:
    snap = Snapshot(mode=mode)
    for obj in objs:
        snap.add(obj)
    snap.add(service_account(ns="app"))
    return snap


def test_ia008_only_when_the_own_namespace_was_read() -> None:
    elsewhere = secret("ocr", "ops", user="u", password="p")
    read = _snapshot(domain("d", "app", pull=[]), elsewhere)
    read.secrets_listed_everywhere = True
    findings = audit(read).domains[0].findings
    assert {f.rule for f in findings} >= {"IA004", "IA008"}
    blind = _snapshot(domain("d", "app", pull=[]), elsewhere)
    blind.unreadable.append(Unreadable("Secret", "app", None, 'secrets is forbidden: User "ci" cannot list'))
    d = audit(blind).domains[0]
    rules = {f.rule for f in d.findings}
    assert "IA008" not in rules and "IA007" not in rules
    ia004 = next(f for f in d.findings if f.rule == "IA004")
    assert "the Secrets of namespace app could not be listed" in ia004.message
    assert "--copy-from" not in (ia004.fix or "")
    assert d.verdict == "fail"  # the pull path itself was read: it holds no credential


EMPTY_ENTRIES = {
    "identity token only": {"identitytoken": "abc"},
    "registry token only": {"registrytoken": "abc"},
    "empty object": {},
    "null": None,
    "empty user and password": {"username": "", "password": ""},
}


@pytest.mark.parametrize("entry", sorted(EMPTY_ENTRIES))
@pytest.mark.parametrize("alone", [True, False])
def test_empty_entry_never_matches(entry: str, alone: bool) -> None:
    auths: Dict[str, Any] = {"container-registry.oracle.com": EMPTY_ENTRIES[entry]}
    if not alone:  # a usable entry for another registry beside it
        auths["ghcr.io"] = {"username": "u", "password": "p"}
    items = [domain("d", "app", pull=["pull"]), secret("pull", "app", doc={"auths": auths})]
    proc = run(["check", "--offline", "-o", "json", "-f", "-"],
               stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    d = json.loads(proc.stdout)["domains"][0]
    assert d["images"][0]["credentials"] == []
    ia004 = [f for f in d["findings"] if f["rule"] == "IA004"]
    assert ia004 and ia004[0]["severity"] == "error" and "IA003" in ia004[0]["causes"]
    ia003 = [f for f in d["findings"] if f["rule"] == "IA003"]
    assert ia003 and all(f["severity"] == "warning" for f in ia003)
    why = " ".join(f["message"] for f in ia003)
    assert ("no username or password" in why) or ("gives no credential" in why), why
    assert all(f["explains"] == ["IA004"] for f in ia003)
    # the Secret is on the path: an empty entry is not a credential "elsewhere" either
    assert not {"IA006", "IA007", "IA008"} & {f["rule"] for f in d["findings"]}


def test_fix_treats_an_empty_entry_as_no_match() -> None:
    from kubectl_imgaccess.fix.credentials import matches

    pull = secret("pull", "app", doc={"auths": {"container-registry.oracle.com": {"identitytoken": "abc"}}})
    assert not matches(pull["type"], pull["data"], "container-registry.oracle.com/middleware/weblogic")
