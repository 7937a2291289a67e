"""The fix planner, pure: which actions for which findings, strategies, refusals, payloads, redaction."""

from __future__ import annotations

import base64
import json
import logging
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, cast

import pytest

from kubectl_imgaccess.audit.run import audit
from kubectl_imgaccess.audit.snapshot import Snapshot
from kubectl_imgaccess.errors import AlreadyExists, ClusterError, Conflict
from kubectl_imgaccess.fix import credentials
from kubectl_imgaccess.fix.apply import MAX_TRIES, Applier
from kubectl_imgaccess.fix.plan import Action, FixOptions, Plan, make_plan
from kubectl_imgaccess.fix.view import document, render_plan
from kubectl_imgaccess.manifests import read_files
from tests.builders import IMAGE, NS, OCR, domain, secret, service_account
from tests.clitools import FIXTURES

PASSWORD = "pa&ss<w>rd\"é"  # Go escapes &, <, > as \u0026...; the payload must match byte for byte


def snapshot(*objs: Dict[str, Any]) -> Snapshot:
    snap = Snapshot(mode="cluster")
    for obj in objs:
        snap.add(json.loads(json.dumps(obj)))
    return snap


def plan_for(snap: Snapshot, **options: Any) -> Plan:
    return make_plan(snap, audit(snap), FixOptions(**options))


def applied(snap: Snapshot, plan: Plan) -> Snapshot:
    """The snapshot with the plan's objects written, as a cluster would hold them."""
    out = snapshot(*snap.objects.values())
    for action in plan.actions:
        out.add(json.loads(json.dumps(action.after)))
    return out


def names(obj: Optional[Dict[str, Any]], *path: str) -> List[str]:
    cur: Any = obj
    for p in path:
        cur = (cur or {}).get(p)
    return [e["name"] for e in cur or []]


def flags_source(name: str = "regcred", password: str = PASSWORD) -> credentials.CredentialSource:
    return credentials.from_flags(name, OCR, "scott", password, "ops@example.com")


def test_ia007_auto_appends_to_the_serviceaccount_that_already_lists_secrets() -> None:
    snap = snapshot(domain(), service_account(pull=["a"]), secret("a", registry="ghcr.io"), secret("regcred"))
    plan = plan_for(snap)
    assert [(a.op, a.kind, a.name, a.reason) for a in plan.actions] == [
        ("patch", "ServiceAccount", "default", ["IA007"])]
    assert names(plan.actions[0].after, "imagePullSecrets") == ["a", "regcred"]
    assert plan.actions[0].add_names == ["regcred"]
    assert plan.expected.domains[0].verdict == "pass"
    assert plan_for(applied(snap, plan)).actions == []


def test_ia007_domain_strategy_carries_the_serviceaccount_list_over() -> None:
    snap = snapshot(domain(), service_account(pull=["a"]), secret("a", registry="ghcr.io"), secret("regcred"))
    plan = plan_for(snap, strategy="domain")
    (action,) = plan.actions
    assert action.kind == "Domain" and action.op == "patch"
    # The first Domain entry would cut the pods off `a`: it is carried over, never lost.
    assert names(action.after, "spec", "imagePullSecrets") == ["a", "regcred"]
    assert "rolls every server pod" in " ".join(action.effects)
    assert plan_for(applied(snap, plan), strategy="domain").actions == []


def test_serviceaccount_strategy_is_refused_when_the_domain_lists_its_own() -> None:
    snap = snapshot(domain(pull=["other"]), service_account(), secret("other", registry="ghcr.io"), secret("regcred"))
    plan = plan_for(snap, strategy="serviceaccount")
    assert plan.refused
    assert "lists its own spec.imagePullSecrets" in plan.refusals[0]
    auto = plan_for(snap)
    assert not auto.refused
    assert names(auto.actions[0].after, "spec", "imagePullSecrets") == ["other", "regcred"]


def test_ia006_domain_strategy_adds_the_serviceaccount_secret() -> None:
    (snap_path,) = [FIXTURES / "ia006-serviceaccount-secrets-ignored.yaml"]
    snap = read_files([str(snap_path)], "default", None)
    snap.mode = "cluster"
    plan = plan_for(snap, strategy="domain")
    (action,) = plan.actions
    assert action.reason == ["IA006"]
    assert names(action.after, "spec", "imagePullSecrets") == ["dockerhub", "ocr-cred"]
    assert plan_for(snap, strategy="serviceaccount").refused


def test_ia005_serviceaccount_strategy_creates_it_with_the_secret() -> None:
    snap = snapshot(domain(service_account="wls"), service_account(), secret("regcred"))
    plan = plan_for(snap, strategy="serviceaccount")
    created = [a for a in plan.actions if a.kind == "ServiceAccount"]
    assert [(a.op, a.name) for a in created] == [("create", "wls")]
    assert names(created[0].after, "imagePullSecrets") == ["regcred"]
    assert set(created[0].reason) == {"IA005", "IA007"}
    assert plan_for(applied(snap, plan), strategy="serviceaccount").actions == []


def test_ia001_and_ia004_create_the_secret_kubectl_would_write() -> None:
    snap = snapshot(domain(pull=["regcred"]), service_account())
    plan = plan_for(snap, source=flags_source())
    (action,) = plan.actions
    assert (action.op, action.kind, action.name) == ("create", "Secret", "regcred")
    assert set(action.reason) == {"IA001", "IA004"}
    raw = base64.b64decode(action.after["data"][".dockerconfigjson"])
    auth = base64.b64encode(f"scott:{PASSWORD}".encode()).decode()
    expected = ('{"auths":{"container-registry.oracle.com":{"username":"scott","password":'
                '"pa\\u0026ss\\u003cw\\u003erd\\"é","email":"ops@example.com","auth":"' + auth + '"}}}')
    assert raw == expected.encode()
    assert plan.expected.domains[0].verdict == "pass"


def test_ia004_only_for_images_the_credential_covers() -> None:
    snap = snapshot(domain(), service_account())
    ghcr = credentials.from_flags("regcred", "ghcr.io", "u", "p")
    assert plan_for(snap, source=ghcr).actions == []
    plan = plan_for(snap, source=flags_source())
    assert [(a.kind, a.name) for a in plan.actions] == [("Secret", "regcred"), ("Domain", "d1")]


def test_existing_different_secret_is_refused_identical_is_reused() -> None:
    other = secret("regcred", registry="quay.io")
    plan = plan_for(snapshot(domain(pull=["x"]), service_account(), other, secret("x", registry="ghcr.io")),
                    source=flags_source())
    assert plan.refused and "different content" in plan.refusals[0]
    same = credentials.secret_object(NS, "regcred", "kubernetes.io/dockerconfigjson", flags_source().data)
    plan = plan_for(snapshot(domain(pull=["x"]), service_account(), same, secret("x", registry="ghcr.io")),
                    source=flags_source())
    assert [(a.op, a.kind) for a in plan.actions] == [("patch", "Domain")]


def test_ia008_copy_keeps_type_and_data_and_labels_the_origin() -> None:
    source_secret = secret("ocr", ns="ops", type_="kubernetes.io/dockercfg", key=".dockercfg")
    source_secret["data"][".dockercfg"] = base64.b64encode(json.dumps(
        {OCR: {"auth": base64.b64encode(b"u:p").decode()}}).encode()).decode()
    source_secret["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}
    snap = snapshot(domain(), service_account(), source_secret)
    assert {f.rule for f in audit(snap).domains[0].findings} >= {"IA008"}
    unasked = plan_for(snap)
    assert unasked.actions == [] and any(u.rule == "IA008" for u in unasked.unfixed)
    copy = credentials.from_secret("ocr", source_secret, "ops/ocr")
    plan = plan_for(snap, source=copy)
    secret_action = plan.actions[0]
    assert secret_action.reason == ["IA008"] and secret_action.namespace == NS
    after = secret_action.after
    assert after["type"] == "kubernetes.io/dockercfg" and after["data"] == source_secret["data"]
    assert after["metadata"]["labels"] == {"imgaccess.weblogic.oracle/copied-from-namespace": "ops"}
    assert after["metadata"]["annotations"] == {"imgaccess.weblogic.oracle/copied-from": "ops/ocr"}
    assert plan.expected.domains[0].verdict == "pass"


def test_docker_config_copies_only_matching_entries() -> None:
    config: Dict[str, Any] = {"auths": {OCR: {"auth": base64.b64encode(b"a:b").decode()},
                        "quay.io": {"auth": base64.b64encode(b"c:d").decode()}},
              "credsStore": "desktop"}
    source = credentials.from_docker_config("regcred", json.dumps(config), "config.json")
    plan = plan_for(snapshot(domain(), service_account()), source=source)
    doc = json.loads(base64.b64decode(plan.actions[0].after["data"][".dockerconfigjson"]))
    assert list(doc["auths"]) == [OCR]
    assert doc == {"auths": {OCR: config["auths"][OCR]}}


def test_ia002_builds_a_typed_sibling_and_keeps_the_original() -> None:
    snap = read_files([str(FIXTURES / "three-mistakes.yaml")], "default", None)
    snap.mode = "cluster"
    snap.add(service_account(ns="sample-domain1-ns"))
    plan = plan_for(snap, source=flags_source("weblogic-repo-credentials"))
    by_name = {(a.kind, a.name): a for a in plan.actions}
    sibling = by_name[("Secret", "ghcr-cred-dockerconfigjson")]
    assert sibling.after["type"] == "kubernetes.io/dockerconfigjson" and sibling.reason == ["IA002"]
    dom = by_name[("Domain", "sample-domain1")]
    assert names(dom.after, "spec", "imagePullSecrets") == [
        "weblogic-repo-credentials", "ghcr-cred", "ghcr-cred-dockerconfigjson"]
    assert by_name[("ServiceAccount", "wls-admin")].op == "create"
    assert by_name[("Secret", "weblogic-repo-credentials")].reason == ["IA001", "IA004"]
    assert all(a.op in ("create", "patch") for a in plan.actions)
    assert {f.severity for d in plan.expected.domains for f in d.findings if f.rule == "IA002"} == {"warning"}
    assert plan.expected.domains[0].verdict == "warn"
    assert plan_for(applied(snap, plan), source=flags_source("weblogic-repo-credentials")).actions == []


def test_restart_bumps_restart_or_introspect_version() -> None:
    pod: Dict[str, Any] = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "d1-introspector-abcde", "namespace": NS, "labels": {"weblogic.domainUID": "d1"}},
           "status": {"containerStatuses": [{"name": "c", "image": IMAGE,
                                             "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}
    snap = snapshot(domain(pull=["regcred"]), service_account(), pod)
    plan = plan_for(snap, source=flags_source(), restart=True)
    dom = next(a for a in plan.actions if a.kind == "Domain")
    assert dom.set_fields == {"introspectVersion": "1"} and "IA009" in dom.reason
    pod["metadata"]["name"] = "d1-admin-server"
    d = domain(pull=["regcred"])
    d["spec"]["restartVersion"] = "7"
    plan = plan_for(snapshot(d, service_account(), pod), source=flags_source(), restart=True)
    dom = next(a for a in plan.actions if a.kind == "Domain")
    assert dom.set_fields == {"restartVersion": "8"}


def _restarted_field(*objs: Dict[str, Any]) -> List[str]:
    plan = plan_for(snapshot(domain(pull=["regcred"]), service_account(), *objs), source=flags_source(), restart=True)
    return sorted(next(a for a in plan.actions if a.kind == "Domain").set_fields)


def test_restart_or_introspect_is_decided_by_the_failing_pod_not_by_message_text() -> None:
    def pod(name: str, labels: Dict[str, str], message: str = "") -> Dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "namespace": NS, "labels": {"weblogic.domainUID": "d1", **labels}},
                "status": {"containerStatuses": [{"name": "c", "image": IMAGE, "state": {"waiting": {
                    "reason": "ImagePullBackOff", "message": message}}}]}}

    # The introspector Job's pod, known by its job-name label whatever its name.
    assert _restarted_field(pod("renamed", {"job-name": "d1-introspector"})) == ["introspectVersion"]
    # A server pod whose message happens to say "introspector" is still a server pod.
    server = pod("d1-admin-server", {"weblogic.serverName": "admin-server"}, "introspector image pull failed")
    assert _restarted_field(server) == ["restartVersion"]
    # An event about the introspector's pod, and the operator's Failed condition for the introspector.
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": NS},
             "involvedObject": {"kind": "Pod", "name": "d1-introspector-x1"},
             "reason": "FailedToRetrieveImagePullSecret", "message": "regcred"}
    quiet = pod("d1-introspector-x1", {})
    quiet["status"] = {}
    assert _restarted_field(quiet, event) == ["introspectVersion"]
    failed = domain(pull=["regcred"])
    failed["status"] = {"conditions": [{"type": "Failed", "reason": "Introspection",
                                        "message": "Back-off pulling image " + IMAGE}]}
    plan = plan_for(snapshot(failed, service_account()), source=flags_source(), restart=True)
    assert next(a for a in plan.actions if a.kind == "Domain").set_fields == {"introspectVersion": "1"}
    failed["status"]["conditions"][0]["reason"] = "ServerPod"
    plan = plan_for(snapshot(failed, service_account()), source=flags_source(), restart=True)
    assert next(a for a in plan.actions if a.kind == "Domain").set_fields == {"restartVersion": "1"}


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_views_never_show_a_secret_value(fmt: str) -> None:
    snap = snapshot(domain(pull=["regcred"]), service_account())
    plan = plan_for(snap, source=flags_source())
    data = plan.actions[0].after["data"][".dockerconfigjson"]
    text = render_plan(plan, "none") if fmt == "table" else json.dumps(document(plan, "none", False, None))
    auth = base64.b64encode(f"scott:{PASSWORD}".encode()).decode()
    for value in (PASSWORD, "pa&ss", auth, data, data[:20], json.dumps(PASSWORD)[1:-1]):
        assert value not in text
    assert "<redacted>" in text
    assert PASSWORD not in repr(plan.actions[0]) and data not in repr(plan.actions[0])


def test_fix_json_has_the_contract_keys() -> None:
    snap = snapshot(domain(), service_account(pull=["a"]), secret("a", registry="ghcr.io"), secret("regcred"))
    doc = document(plan_for(snap), "client", False, None)
    assert {"schemaVersion", "dryRun", "applied", "actions", "before", "after"} <= set(doc)
    assert doc["before"] == {"fail": 1, "warn": 0} and doc["after"] is None
    action = doc["actions"][0]
    assert {k: action[k] for k in ("op", "kind", "namespace", "name", "reason")} == {
        "op": "patch", "kind": "ServiceAccount", "namespace": NS, "name": "default", "reason": ["IA007"]}
    assert action["summary"] == "append regcred to imagePullSecrets"


class RacingWriter:
    """A cluster where someone else writes first: the first `races` writes lose (Conflict, or
    AlreadyExists for a create), then they go through."""

    def __init__(self, objects: Dict[str, Dict[str, Any]], races: int) -> None:
        self.objects = objects  # kind -> the one object of that kind
        self.races = races
        self.reads = 0
        self.written: List[str] = []

    def read(self, kind: str, namespace: str, name: str) -> Optional[Dict[str, Any]]:
        self.reads += 1
        obj = self.objects.get(kind)
        return json.loads(json.dumps(obj)) if obj is not None else None

    def _race(self, error: Exception) -> None:
        if self.races > 0:
            self.races -= 1
            raise error

    def create(self, kind: str, namespace: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self._race(AlreadyExists("sandbox", 409, "exists", "Conflict"))
        self.written.append(f"create {kind}")
        return body

    def replace(self, kind: str, namespace: str, name: str, body: Dict[str, Any]) -> Dict[str, Any]:
        self._race(Conflict("sandbox", 409, "changed", "Conflict"))
        self.written.append(f"replace {kind} {[e['name'] for e in body['imagePullSecrets']]}")
        return body

    def json_patch(self, kind: str, namespace: str, name: str, ops: List[Dict[str, Any]]) -> Dict[str, Any]:
        self._race(Conflict("sandbox", 409, "changed", "Conflict"))
        self.written.append(f"patch {kind}")
        return {}


def _plan(kind: str) -> Plan:
    """A plan of one action, as apply reads it (its actions and refusals)."""
    action = Action("patch", kind, NS, "d1" if kind == "Domain" else "default", [], "appended regcred", [],
                    add_names=["regcred"])
    return cast(Plan, SimpleNamespace(actions=[action], refusals=[]))


@pytest.mark.parametrize("kind, objects, written, said", [
    ("ServiceAccount", {"ServiceAccount": service_account(pull=["a"])}, "replace ServiceAccount ['a', 'regcred']",
     "changed meanwhile (try 1)"),
    ("ServiceAccount", {}, "create ServiceAccount", "appeared meanwhile"),
    ("Domain", {"Domain": domain(pull=["a"])}, "patch Domain", "changed meanwhile (try 1)"),
])
def test_a_lost_race_is_read_again_and_retried(kind: str, objects: Dict[str, Dict[str, Any]], written: str,
                                               said: str, caplog: pytest.LogCaptureFixture) -> None:
    writer = RacingWriter(objects, races=MAX_TRIES - 1)
    with caplog.at_level(logging.INFO, logger="kubectl_imgaccess.fix"):
        assert Applier(writer, {NS}).apply(_plan(kind)) and writer.written == [written]
    assert writer.reads == MAX_TRIES
    assert said in caplog.messages[0] and len(caplog.messages) == MAX_TRIES  # each lost race, then the result


@pytest.mark.parametrize("kind", ["ServiceAccount", "Domain"])
def test_an_object_that_keeps_changing_stops_after_max_tries(kind: str) -> None:
    objects = {"ServiceAccount": service_account(pull=["a"]), "Domain": domain(pull=["a"])}
    writer = RacingWriter(objects, races=MAX_TRIES)
    applier = Applier(writer, {NS})
    with pytest.raises(ClusterError, match=f"still changing after {MAX_TRIES} tries; nothing lost, run fix again"):
        applier.apply(_plan(kind))
    assert writer.written == [] and writer.reads == MAX_TRIES and applier.applied == []
