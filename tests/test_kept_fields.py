"""What the cluster reader keeps of each object it lists (the fields the audit reads, taken as each page
arrives): the audit of the kept objects says exactly what the audit of the whole objects says, and the kept
objects hold none of what a big cluster's objects carry besides."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

import pytest

from kubectl_imgaccess.audit import run
from kubectl_imgaccess.audit.evidence import (
    evidence_pods,
    keep_domain,
    keep_event,
    keep_node,
    keep_pod,
    pull_event_pods,
)
from kubectl_imgaccess.audit.report import Gate
from kubectl_imgaccess.audit.run import AuditOptions, audit, keep_secret, keep_service_account
from kubectl_imgaccess.audit.snapshot import Obj, Snapshot
from kubectl_imgaccess.kube import reader
from kubectl_imgaccess.kube.reader import read_cluster
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.objects import ObjectKey
from kubectl_imgaccess.render.structured import render_json
from kubectl_imgaccess.weblogic.domain import IGNORE_ANNOTATION, DomainModel, model_domain
from tests.builders import DOCKERCFG, OCR, secret
from tools.sandbox import Sandbox

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
KEEP: Dict[str, Callable[[Obj], Obj]] = {"Pod": keep_pod, "Event": keep_event, "Node": keep_node,
                                         "Secret": keep_secret, "Domain": keep_domain,
                                         "ServiceAccount": keep_service_account}
# What real objects carry besides the fields the audit reads.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
NOISE_META = {"uid": "0b0e", "resourceVersion": "77", "generation": 3,
              "annotations": {LAST_APPLIED: "{" + "x" * 4000 + "}"},
              "ownerReferences": [{"kind": "ReplicaSet", "name": "rs"}]}


def _noisy(obj: Obj) -> Obj:
    meta = obj.setdefault("metadata", {})
    for key, value in NOISE_META.items():
        meta.setdefault(key, copy.deepcopy(value))
    meta.setdefault("labels", {}).setdefault("app.kubernetes.io/part-of", "shop")
    meta.setdefault("managedFields", [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:data": {}},
                                       "time": "2020-01-01T00:00:00Z"}])
    return obj


def _status(name: str, image: str, state: Dict[str, Any]) -> Obj:
    return {"name": name, "image": image, "imageID": "", "ready": False, "restartCount": 4, "state": state,
            "lastState": {"terminated": {"exitCode": 1}}}


def cluster() -> List[Obj]:
    """Two namespaces exercising every live rule: pods waiting on pulls (init containers too) and on other
    things, pull-secret events (old and new Event shapes), node caches on two clouds' worth of kubelets,
    short-lived tokens with written times, a wrong-type Secret, a Secret only another namespace holds."""
    objs: List[Obj] = []
    image = f"{OCR}/middleware/weblogic:14.1.2.0"
    for n, ns in enumerate(("shop", "bank")):
        objs.append({"apiVersion": "weblogic.oracle/v9", "kind": "Domain", "metadata": {"name": "d", "namespace": ns},
                     "spec": {"domainUID": f"uid-{ns}", "image": image, "imagePullPolicy": "IfNotPresent",
                              "imagePullSecrets": [{"name": n} for n in ("ocr", "gone", "ecr", "opaque")],
                              "configuration": {"model": {"auxiliaryImages": [{"image": f"{ECR}/wdt:{n}"}]}}},
                     "status": {"conditions": [{"type": "Available", "status": "False",
                                                "message": f"Back-off pulling image {image}"},
                                               {"type": "Failed", "reason": "ServerPod",
                                                "message": f"Back-off pulling image {image}"}],
                                "servers": [{"serverName": "ms1", "state": "SHUTDOWN"}]}})
        objs.append({"apiVersion": "weblogic.oracle/v9", "kind": "Domain",
                     "metadata": {"name": "plain", "namespace": ns,
                                  "annotations": {IGNORE_ANNOTATION: "IA011", LAST_APPLIED: "{" + "x" * 4000 + "}"}},
                     "spec": {"domainUID": "plain", "image": "docker.io/library/wls-custom:dev"}})
        objs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns},
                     "imagePullSecrets": [{"name": "legacy"}]})
        objs.append(secret("ocr", ns, registry="other.example.com" if ns == "shop" else OCR))
        token = secret("ecr", ns, registry=ECR, user="AWS", password="eyJ" + "a" * 40)
        token["metadata"]["creationTimestamp"] = "2020-01-01T00:00:00Z"
        token["metadata"]["managedFields"] = [{"manager": "refresher", "time": "2020-01-02T00:00:00Z"},
                                              {"manager": "no-time"}]
        objs.append(token)
        objs.append(secret("legacy", ns, registry=OCR, type_=DOCKERCFG))
        # a pull payload in a Secret the kubelet ignores for its type: IA002
        objs.append(secret("opaque", ns, registry=OCR, key=".dockerconfigjson", type_="Opaque"))
        states: List[Tuple[Obj, Optional[Obj]]] = [
                ({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}, None),
                ({"waiting": {"reason": "CrashLoopBackOff"}}, {"waiting": {"reason": "ErrImagePull"}}),
                ({"running": {"startedAt": "2020-01-01T00:00:00Z"}}, {"terminated": {"exitCode": 0}}),
                ({"waiting": {"reason": "InvalidImageName", "message": "bad"}}, None),
                ({"running": {}}, None)]
        for p, (state, init) in enumerate(states):
            uid = f"uid-{ns}" if p < 3 else "plain"
            status: Obj = {"phase": "Pending", "containerStatuses": [_status("weblogic-server", image, state)]}
            if init is not None:
                status["initContainerStatuses"] = [_status("aux", f"{ECR}/wdt:{n}", init)]
            objs.append({"apiVersion": "v1", "kind": "Pod",
                         "metadata": {"name": f"{uid}-server-{p}", "namespace": ns,
                                      "labels": {"weblogic.domainUID": uid, "weblogic.serverName": f"s{p}"}},
                         "spec": {"serviceAccountName": "default", "imagePullSecrets": [{"name": "ocr"}],
                                  "nodeName": f"node-{p}", "containers": [{"name": "weblogic-server",
                                                                           "image": image}]},
                         "status": status})
        objs.append({"apiVersion": "v1", "kind": "Pod",  # the introspector Job's pod (pod_kind reads job-name)
                     "metadata": {"name": f"uid-{ns}-introspector-x1z9q", "namespace": ns,
                                  "labels": {"weblogic.domainUID": f"uid-{ns}", "job-name": f"uid-{ns}-introspector",
                                             "controller-uid": "77"}},
                     "status": {"containerStatuses": [_status("introspector", image,
                                                              {"waiting": {"reason": "ErrImagePull"}})]}})
        objs.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": ns},
                     "involvedObject": {"kind": "Pod", "name": f"uid-{ns}-server-0"},
                     "reason": "FailedToRetrieveImagePullSecret", "type": "Warning", "message": "gone is missing",
                     "count": 12, "source": {"component": "kubelet"}})
        objs.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e2", "namespace": ns},
                     "regarding": {"kind": "Pod", "name": f"uid-{ns}-server-1"},
                     "reason": "FailedToRetrieveImagePullSecret", "type": "Warning", "note": "events.k8s.io shape"})
        objs.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e3", "namespace": ns},
                     "involvedObject": {"kind": "Pod", "name": f"uid-{ns}-server-2"},  # running, yet named
                     "reason": "FailedToRetrieveImagePullSecret", "type": "Warning", "message": "ocr is missing"})
    for i, kubelet in enumerate(("v1.35.0", "v1.32.4", "v1.30.2-eks-1552ad0")):
        held = [image, f"{image}@sha256:{'a' * 64}", "docker.io/library/wls-custom:dev"] if i else [image]
        objs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i}"},
                     "spec": {"providerID": f"aws:///eu-west-1a/i-{i}", "podCIDR": "10.0.0.0/24"},
                     "status": {"nodeInfo": {"kubeletVersion": kubelet, "osImage": "Linux"},
                                "conditions": [{"type": "Ready", "status": "True"}],
                                "images": [{"names": [name], "sizeBytes": 10**8} for name in held]}})
    return [_noisy(o) for o in objs]


def _report(objs: List[Obj], keep: bool) -> str:
    """The JSON report of the objects, or of what the reader keeps of them (kept fields, evidence pods)."""
    objs = copy.deepcopy(objs)
    if keep:
        objs = [KEEP[o["kind"]](o) if o["kind"] in KEEP else o for o in objs]
        pods = evidence_pods([o for o in objs if o["kind"] == "Pod"], [o for o in objs if o["kind"] == "Event"])
        objs = [o for o in objs if o["kind"] != "Pod" or any(o is p for p in pods)]
    snap = Snapshot(mode="cluster", context="c")
    for obj in objs:
        snap.add(obj)
    snap.secrets_listed_everywhere = True
    report = audit(snap, options=AuditOptions(now=_NOW))
    kinds = [(f.message, f.pod_kind) for d in report.domains for f in d.findings if f.rule == "IA009"]
    return render_json(report, Gate("error")) + repr(kinds)  # what fix --restart reads besides


_NOW = __import__("datetime").datetime(2020, 1, 3, tzinfo=__import__("datetime").timezone.utc)


def test_the_audit_of_the_kept_fields_is_the_audit_of_the_whole_objects() -> None:
    objs = cluster()
    whole = _report(objs, keep=False)
    assert whole == _report(objs, keep=True)
    rules = {f["rule"] for d in json.loads(whole[:whole.rindex("}") + 1])["domains"] for f in d["findings"]}
    assert {"IA001", "IA002", "IA004", "IA009", "IA011", "IA021", "IA022"} <= rules, rules  # the test tests
    assert "pod uid-shop-server-2: FailedToRetrieveImagePullSecret" in whole
    assert "'introspector'" in whole and "'server'" in whole  # both kinds of failing pod are told apart
    assert f'"source": "{IGNORE_ANNOTATION}"' in whole  # the Domain's own annotation suppressed a finding


def test_only_pods_that_hold_pull_evidence_are_kept() -> None:
    objs = [KEEP[o["kind"]](o) if o["kind"] in KEEP else o for o in cluster()]
    pods = evidence_pods([o for o in objs if o["kind"] == "Pod"], [o for o in objs if o["kind"] == "Event"])
    kept = sorted(f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods)
    # server-1 waits on a pull in an init container only; server-2 runs but a pull event names it;
    # plain-server-4 runs and no event names it
    assert kept == [f"{ns}/{name}" for ns in ("bank", "shop")
                    for name in ("plain-server-3", f"uid-{ns}-introspector-x1z9q", f"uid-{ns}-server-0",
                                 f"uid-{ns}-server-1", f"uid-{ns}-server-2")]


def test_kept_objects_hold_only_what_the_audit_reads() -> None:
    kept = {o["kind"] + "/" + o["metadata"]["name"]: KEEP[o["kind"]](copy.deepcopy(o))
            for o in cluster() if o["kind"] in KEEP and o["metadata"].get("namespace", "bank") == "bank"}
    for name, obj in kept.items():
        if obj["kind"] == "Domain":
            continue
        assert set(obj["metadata"]) <= {"name", "namespace", "labels", "creationTimestamp", "managedFields"}, name
        assert "annotations" not in obj["metadata"] and "uid" not in obj["metadata"]
    assert kept["ServiceAccount/default"] == {"apiVersion": "v1", "kind": "ServiceAccount",
                                              "metadata": {"name": "default", "namespace": "bank"},
                                              "imagePullSecrets": [{"name": "legacy"}]}
    d, plain = kept["Domain/d"], kept["Domain/plain"]
    assert set(d) == {"apiVersion", "kind", "metadata", "spec", "status"} and d["spec"]["domainUID"] == "uid-bank"
    assert d["metadata"] == {"name": "d", "namespace": "bank", "uid": "0b0e"}  # no annotation the audit reads
    assert d["status"] == {"conditions": [{"type": "Failed", "reason": "ServerPod", "message":
                                           "Back-off pulling image " + OCR + "/middleware/weblogic:14.1.2.0"}]}
    assert plain["metadata"]["annotations"] == {IGNORE_ANNOTATION: "IA011"} and "status" not in plain
    assert kept["Pod/uid-bank-server-2"] == {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "uid-bank-server-2", "namespace": "bank", "labels": {"weblogic.domainUID": "uid-bank",
                                                                      "weblogic.serverName": "s2"}},
        "spec": {"imagePullSecrets": [{"name": "ocr"}]}}  # running: no status kept; only the labels read
    waiting = kept["Pod/uid-bank-server-1"]["status"]
    assert [cs["state"]["waiting"]["reason"] for cs in waiting["initContainerStatuses"]] == ["ErrImagePull"]
    assert "containerStatuses" not in waiting  # CrashLoopBackOff is not a pull
    assert kept["Secret/ecr"]["metadata"]["managedFields"] == [{"time": "2020-01-02T00:00:00Z"}]
    node = keep_node(next(o for o in cluster() if o["kind"] == "Node"))
    assert node["status"] == {"nodeInfo": {"kubeletVersion": "v1.35.0"},
                              "images": [{"names": ["container-registry.oracle.com/middleware/weblogic:14.1.2.0"]}]}
    assert node["spec"] == {"providerID": "aws:///eu-west-1a/i-0"}


def test_the_reader_keeps_the_fields_of_every_page_as_it_arrives(sandbox: Sandbox, tmp_path: Path) -> None:
    objs = cluster()
    for obj in objs:
        sandbox.add(copy.deepcopy(obj))
    cfg = sandbox.write_kubeconfig(str(tmp_path / "kubeconfig"))
    snap = read_cluster(ClusterScope(kubeconfig=cfg, all_namespaces=True))
    pod = snap.get("Pod", "shop", "uid-shop-server-2")
    assert pod is not None and set(pod) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(pod["metadata"]) == {"name", "namespace", "labels"}
    assert snap.get("Pod", "shop", "plain-server-4") is None  # no pull evidence: not kept
    assert snap.get("Pod", "shop", "plain-server-3") is not None
    secret = snap.get("Secret", "bank", "ecr")
    assert secret is not None and "annotations" not in secret["metadata"]
    node = snap.objects[ObjectKey("Node", "", "node-1")]
    assert set(node["status"]) == {"nodeInfo", "images"}
    domain = snap.get("Domain", "shop", "d")
    assert domain is not None and "annotations" in domain["metadata"]  # Domains are kept whole: fix patches them
    sa = snap.get("ServiceAccount", "shop", "default")
    assert sa is not None and "uid" in sa["metadata"]
    # A read that is only audited (check) keeps of them what the audit reads, listed or got by name.
    for named in ([], ["d"]):
        scope = ClusterScope(kubeconfig=cfg, all_namespaces=True, domains=named)
        cut = read_cluster(scope, audit_only=True)
        domain = cut.get("Domain", "shop", "d")
        assert domain is not None and set(domain) == {"apiVersion", "kind", "metadata", "spec", "status"}
        assert set(domain["metadata"]) == {"name", "namespace", "uid"}
        assert [c["type"] for c in domain["status"]["conditions"]] == ["Failed"] and "servers" not in domain["status"]
        plain = cut.get("Domain", "shop", "plain")
        assert named or (plain is not None and plain["metadata"]["annotations"] == {IGNORE_ANNOTATION: "IA011"})
        sa = cut.get("ServiceAccount", "shop", "default")
        assert sa is not None and set(sa["metadata"]) == {"name", "namespace"}


def _counting(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Every Domain modelled, by name, wherever the reader or the audit models one."""
    modelled: List[str] = []

    def model(domain: Mapping[str, Any], *args: Any, **kwargs: Any) -> DomainModel:
        modelled.append(domain["metadata"]["name"])
        return model_domain(domain, *args, **kwargs)

    monkeypatch.setattr(reader, "model_domain", model)
    monkeypatch.setattr(run, "model_domain", model)
    return modelled


def test_a_read_and_its_audit_model_each_domain_once(sandbox: Sandbox, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    objs = cluster()
    for obj in objs:
        sandbox.add(copy.deepcopy(obj))
    modelled = _counting(monkeypatch)
    snap = read_cluster(ClusterScope(kubeconfig=sandbox.write_kubeconfig(str(tmp_path / "kc")), all_namespaces=True))
    once = render_json(audit(snap, options=AuditOptions(now=_NOW)), Gate("error"))
    assert sorted(modelled) == ["d", "d", "plain", "plain"]  # two namespaces, each Domain once
    assert '"rule": "IA009"' in once and '"rule": "IA022"' in once
    # The models were handed over once: another audit of the snapshot (check --probe) models again, and the
    # reports of the handed-over models and of fresh ones are the same.
    assert render_json(audit(snap, options=AuditOptions(now=_NOW)), Gate("error")) == once
    assert len(modelled) == 8


def test_a_handed_over_model_holds_only_for_the_object_it_was_built_from() -> None:
    snap = Snapshot(mode="cluster")
    d = next(o for o in cluster() if o["kind"] == "Domain")
    snap.add(d)
    key = ObjectKey("Domain", "shop", "d")
    model = model_domain(d, {}, namespace="shop")
    snap.hand_over(d, model)
    assert copy.deepcopy(snap).take_model(key) is None  # a copy is made to be changed: models stay behind
    assert snap.take_model(key) is model and snap.take_model(key) is None  # taken once
    snap.hand_over(d, model)
    snap.add({"apiVersion": "weblogic.oracle/v1", "kind": "Cluster", "metadata": {"name": "c", "namespace": "shop"}})
    assert snap.take_model(key) is None  # a Cluster of its namespace came: the model may be stale
    snap.hand_over(d, model)
    snap.add(copy.deepcopy(d))
    assert snap.take_model(key) is None  # another object now
    snap.hand_over(d, model)
    snap.overlay(Snapshot())
    assert snap.take_model(key) is None


def test_pages_of_pods_keep_only_the_evidence_and_the_pull_secret_names() -> None:
    """As each page arrives, a Pod that is no evidence (no pull waited on, no pull event about it) leaves only
    the names of its pull secrets, by namespace and domainUID: the read never holds a big cluster's Pods."""
    objs = cluster()
    events = [keep_event(o) for o in objs if o["kind"] == "Event"]
    pods = [o for o in objs if o["kind"] == "Pod"]
    pages = reader._PodPages([("pull events", None), ("denied", "elsewhere")])
    pages.events_listed(("denied", "elsewhere"), reader._Listed(denied="forbidden"))
    pages.events_listed(("pull events", None), reader._Listed(items=events))
    assert pages.named == pull_event_pods(events)
    kept = [pages.keep(copy.deepcopy(pod)) for pod in pods]
    held = [k for k in kept if k is not None]
    assert held == evidence_pods([keep_pod(pod) for pod in pods], events)
    assert len(held) == 10 and len(kept) == 12  # plain-server-4 in each namespace is let go
    assert pages.pull_secrets == {(ns, uid): {"ocr"} for ns in ("shop", "bank") for uid in (f"uid-{ns}", "plain")}


def test_pages_of_pods_wait_for_every_list_of_pull_events() -> None:
    """The Pods a namespace's pull events name count only once all its event LISTs have returned, and only when
    they could all be read (the audit reads no event of a namespace whose events are partly unreadable)."""
    pages = reader._PodPages([("a", "shop"), ("b", "shop"), ("a", "bank")])
    named = {"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "FailedToRetrieveImagePullSecret"}
    pages.events_listed(("a", "shop"), reader._Listed(items=[{**named, "metadata": {"namespace": "shop"}}]))
    pages.events_listed(("a", "bank"), reader._Listed(items=[{**named, "metadata": {"namespace": "bank"}}]))
    kept: List[Optional[Obj]] = []
    worker = threading.Thread(target=lambda: kept.append(pages.keep({"metadata": {"name": "p", "namespace": "bank"}})))
    worker.start()
    worker.join(0.2)
    assert worker.is_alive() and not kept  # a LIST of events is still out: the page waits
    pages.events_listed(("b", "shop"), reader._Listed(denied="forbidden"))
    worker.join(5)
    assert pages.named == {("bank", "p")} and kept[0] is not None
