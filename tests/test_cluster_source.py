"""The cluster source against the sandbox API server: what it reads, how many requests, and how it
copes with pages, retries, expired continue tokens and RBAC."""

from __future__ import annotations

import base64
import functools
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any, List

import pytest

from kubectl_imgaccess.audit.snapshot import Unreadable
from kubectl_imgaccess.errors import ClusterError
from kubectl_imgaccess.kube import client as cluster_client
from kubectl_imgaccess.kube.reader import read_cluster, read_cluster_for
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.objects import ObjectKey
from kubectl_imgaccess.weblogic.domain import V9_API_VERSION
from tests import builders
from tests.builders import NS, dockerconfig, domain, event, node, pod, service_account
from tools.sandbox import Fault, Recorded, Rule, Sandbox

SECRET_VALUE = "s3cr3t-Pa55word-do-not-log"


# Every pull secret here holds SECRET_VALUE: the leak tests look for it in everything said.
secret = functools.partial(builders.secret, password=SECRET_VALUE)
CACHED = [["example.com/app@sha256:ab", "example.com/app:1"]]  # a node's cached image, by digest and tag


def scope(kubeconfig: str, **kw: Any) -> ClusterScope:
    return ClusterScope(kubeconfig=kubeconfig, **kw)


def lists(sb: Sandbox, path_suffix: str = "") -> List[Recorded]:
    """The first page of every LIST (GETs of a collection without a continue token)."""
    out = []
    for r in sb.requests:
        if r.method != "GET" or "continue" in r.query or r.path == "/version":
            continue
        if not any(r.path.endswith("/" + plural) for plural in PLURALS):
            continue
        if r.path.endswith(path_suffix):
            out.append(r)
    return out


PLURALS = ("domains", "clusters", "serviceaccounts", "secrets", "pods", "events", "nodes")


def named_gets(sb: Sandbox, plural: str) -> List[str]:
    return sorted(r.path.rsplit("/", 1)[1] for r in sb.requests
                  if r.method == "GET" and f"/{plural}/" in r.path)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    """Back-off is recorded, not waited for."""
    slept: List[float] = []
    monkeypatch.setattr(cluster_client, "sleep", slept.append)
    return slept


@pytest.fixture
def kubeconfig(sandbox: Sandbox, tmp_path: Path) -> str:
    return sandbox.write_kubeconfig(str(tmp_path / "kubeconfig"), namespace=NS)


def test_reads_what_the_domains_need_with_kind_and_api_version(sandbox: Sandbox, kubeconfig: str) -> None:
    sb = sandbox
    sb.add(domain("d1", pull=["ocr"], clusters=["c1"]))
    sb.add({"apiVersion": "weblogic.oracle/v1", "kind": "Cluster", "metadata": {"name": "c1", "namespace": NS},
            "spec": {"clusterName": "cluster-1", "serverPod": {"serviceAccountName": "wls"}}})
    sb.add(secret("ocr"))
    sb.add(secret("legacy", type_="kubernetes.io/dockercfg"))
    sb.add(secret("tls", type_="kubernetes.io/tls"))
    sb.add(service_account("default"))
    sb.add(service_account("wls"))
    sb.add(pod("d1-admin-server", "d1"))
    sb.add(pod("web-1", None))
    sb.add(event("e1", "FailedToRetrieveImagePullSecret", "d1-admin-server"))
    sb.add(event("e2", "Scheduled", "d1-admin-server"))
    sb.add(event("e3", "BackOff", "d1-admin-server"))  # the audit reads no such event: not kept
    sb.add(node("n1", images=CACHED))
    sb.add(domain("other", ns="elsewhere"))

    snap = read_cluster(scope(kubeconfig))

    assert snap.mode == "cluster" and snap.context == "sandbox"
    keys = set(snap.objects)
    assert {ObjectKey("Domain", NS, "d1"), ObjectKey("Cluster", NS, "c1"), ObjectKey("Secret", NS, "ocr"),
            ObjectKey("Secret", NS, "legacy"), ObjectKey("ServiceAccount", NS, "wls"),
            ObjectKey("ServiceAccount", NS, "default"), ObjectKey("Pod", NS, "d1-admin-server"),
            ObjectKey("Event", NS, "e1"), ObjectKey("Node", "", "n1")} <= keys
    assert ObjectKey("Secret", NS, "tls") not in keys  # not a pull secret and nobody names it
    assert ObjectKey("Pod", NS, "web-1") not in keys  # not a Domain's pod
    assert ObjectKey("Event", NS, "e3") not in keys and ObjectKey("Event", NS, "e2") not in keys
    assert ObjectKey("Event", NS, "e2") not in keys  # not pull evidence
    assert ObjectKey("Domain", "elsewhere", "other") not in keys  # another namespace
    for obj in snap.objects.values():
        assert obj["kind"] and obj["apiVersion"]
    api_versions = {k.kind: o["apiVersion"] for k, o in snap.objects.items()}
    assert api_versions["Domain"] == "weblogic.oracle/v9" and api_versions["Cluster"] == "weblogic.oracle/v1"
    assert api_versions["Secret"] == api_versions["Pod"] == api_versions["Node"] == "v1"
    assert snap.unreadable == [] and not snap.secrets_listed_everywhere
    assert {r.path for r in lists(sb)} == {
        f"/apis/weblogic.oracle/v9/namespaces/{NS}/domains", f"/apis/weblogic.oracle/v1/namespaces/{NS}/clusters",
        f"/api/v1/namespaces/{NS}/serviceaccounts", f"/api/v1/namespaces/{NS}/secrets",
        f"/api/v1/namespaces/{NS}/pods", f"/api/v1/namespaces/{NS}/events", "/api/v1/nodes"}
    pods_list = lists(sb, "/pods")[0]
    assert pods_list.query["labelSelector"] == ["weblogic.domainUID"]
    # Only the events the audit reads are sent: kubelet's Warning about a pull secret it cannot retrieve.
    assert [r.query["fieldSelector"] for r in lists(sb, "/events")] == [
        ["involvedObject.kind=Pod,type=Warning,reason=FailedToRetrieveImagePullSecret"]]
    assert all(r.query["limit"] == ["500"] for r in lists(sb))


def test_secret_lists_use_the_two_pull_secret_type_selectors(sandbox: Sandbox, kubeconfig: str) -> None:
    read_cluster(scope(kubeconfig))
    selectors = sorted(q for r in lists(sandbox, "/secrets") for q in r.query.get("fieldSelector", []))
    assert selectors == ["type=kubernetes.io/dockercfg", "type=kubernetes.io/dockerconfigjson"]


def test_pages_are_followed_until_every_item_is_read(sandbox: Sandbox, kubeconfig: str) -> None:
    for i in range(1203):
        sandbox.add(secret(f"pull-{i:04d}"))
    snap = read_cluster(scope(kubeconfig))
    assert len(list(snap.of_kind("Secret", NS))) == 1203
    pages = [r for r in sandbox.requests if r.path.endswith("/secrets")
             and r.query.get("fieldSelector") == ["type=kubernetes.io/dockerconfigjson"]]
    assert len(pages) == 3
    assert "continue" not in pages[0].query
    assert all(p.query.get("continue") and p.query["limit"] == ["500"] for p in pages[1:])


def test_only_referenced_names_missing_from_the_typed_lists_are_fetched(
        sandbox: Sandbox, kubeconfig: str) -> None:
    sb = sandbox
    sb.add(domain("d1", pull=["ocr", "opaque-one", "gone"]))
    sb.add(domain("d2", service_account="wls"))
    sb.add(service_account("wls", pull=["legacy", "sa-opaque", "sa-gone"]))
    sb.add(service_account("unused", pull=["never-fetched"]))
    sb.add(secret("ocr"))
    sb.add(secret("legacy", type_="kubernetes.io/dockercfg"))
    sb.add(secret("opaque-one", type_="Opaque"))
    sb.add(secret("sa-opaque", type_="Opaque"))
    sb.add(secret("never-fetched", type_="Opaque"))

    snap = read_cluster(scope(kubeconfig))

    assert named_gets(sb, "secrets") == ["gone", "opaque-one", "sa-gone", "sa-opaque"]
    wrong_type = snap.get("Secret", NS, "opaque-one")
    assert wrong_type is not None and wrong_type["type"] == "Opaque" and wrong_type["kind"] == "Secret"
    assert snap.get("Secret", NS, "sa-opaque") is not None
    assert snap.get("Secret", NS, "gone") is None and snap.get("Secret", NS, "never-fetched") is None
    assert snap.unreadable == []


def test_429_with_retry_after_and_503_are_retried(
        sandbox: Sandbox, kubeconfig: str, no_sleep: List[float]) -> None:
    sandbox.add(domain("d1"))
    sandbox.add(pod("d1-ms-1", "d1"))
    sandbox.inject(Fault(method="GET", path_regex=r"/domains$", status=429, retry_after=3, times=1))
    sandbox.inject(Fault(method="GET", path_regex=r"/pods$", status=503, times=2))

    snap = read_cluster(scope(kubeconfig))

    assert snap.get("Domain", NS, "d1") is not None and snap.get("Pod", NS, "d1-ms-1") is not None
    assert [r.status for r in lists(sandbox, "/domains")] == [429, 200]
    assert [r.status for r in lists(sandbox, "/pods")] == [503, 503, 200]
    assert 3.0 in no_sleep and len(no_sleep) == 3


def test_retries_are_bounded(sandbox: Sandbox, kubeconfig: str, no_sleep: List[float]) -> None:
    sandbox.inject(Fault(method="GET", path_regex=r"/nodes$", status=503, times=None))
    with pytest.raises(ClusterError) as err:
        read_cluster(scope(kubeconfig))
    assert "503 Service Unavailable" in str(err.value) and sandbox.url in str(err.value)
    assert len(lists(sandbox, "/nodes")) == cluster_client.MAX_TRIES
    assert len(no_sleep) == cluster_client.MAX_TRIES - 1


def test_connection_cut_mid_body_is_retried(sandbox: Sandbox, kubeconfig: str) -> None:
    sandbox.add(domain("d1"))
    sandbox.inject(Fault(method="GET", path_regex=r"/domains$", cut_body=True, times=1))
    snap = read_cluster(scope(kubeconfig))
    assert snap.get("Domain", NS, "d1") is not None
    assert len(lists(sandbox, "/domains")) == 2


def test_expired_continue_token_restarts_the_list(sandbox: Sandbox, kubeconfig: str) -> None:
    for i in range(700):
        sandbox.add(pod(f"d1-ms-{i:03d}", "d1"))
    sandbox.add(domain("d1"))
    sandbox.inject(Fault(method="GET", path_regex=r"/pods$", gone=True, times=1))

    snap = read_cluster(scope(kubeconfig))

    assert len(list(snap.of_kind("Pod", NS))) == 700
    pods = [r for r in sandbox.requests if r.path.endswith("/pods")]
    assert [("continue" in r.query, r.status) for r in pods] == [
        (False, 200), (True, 410), (False, 200), (True, 200)]


def test_forbidden_lists_fall_back_to_gets_and_record_what_stays_unreadable(
        sandbox: Sandbox, tmp_path: Path) -> None:
    sb = sandbox
    sb.add(domain("d1", pull=["ocr", "hidden"], service_account="wls"))
    sb.add(service_account("wls", pull=["legacy"]))
    sb.add(secret("ocr"))
    sb.add(secret("hidden"))
    sb.add(secret("legacy", type_="kubernetes.io/dockercfg"))
    sb.add(node("n1", images=CACHED))
    sb.add_user("auditor", "auditor-token")
    sb.allow(Rule("auditor", ["get", "list"], ["domains", "clusters", "pods", "events"], namespaces=[NS]))
    sb.allow(Rule("auditor", ["get"], ["serviceaccounts"], namespaces=[NS]))  # GET only: no LIST
    sb.allow(Rule("auditor", ["get"], ["secrets"], namespaces=[NS], resource_names=["ocr", "legacy"]))
    kc = sb.write_kubeconfig(str(tmp_path / "kc"), user="auditor", namespace=NS)

    snap = read_cluster(scope(kc))

    assert snap.get("Secret", NS, "ocr") is not None and snap.get("Secret", NS, "legacy") is not None
    assert snap.get("ServiceAccount", NS, "wls") is not None
    assert snap.get("Secret", NS, "hidden") is None
    reasons = {(u.kind, u.namespace, u.name) for u in snap.unreadable}
    assert reasons == {("Secret", NS, None), ("Secret", NS, "hidden"), ("Node", None, None)}
    hidden = snap.is_unreadable("Secret", NS, "hidden")
    assert isinstance(hidden, Unreadable) and "forbidden" in hidden.reason
    assert named_gets(sb, "secrets") == ["hidden", "legacy", "ocr"]
    assert "default" in named_gets(sb, "serviceaccounts") and "wls" in named_gets(sb, "serviceaccounts")
    assert not snap.secrets_listed_everywhere


def test_forbidden_domain_list_is_unreadable_not_an_error(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_user("viewer", "viewer-token")
    sandbox.allow(Rule("viewer", ["get", "list"], ["pods", "events", "secrets", "serviceaccounts", "clusters"],
                  namespaces=[NS]))
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="viewer", namespace=NS)
    snap = read_cluster(scope(kc))
    assert snap.is_unreadable("Domain", NS) is not None
    assert snap.is_unreadable("Node", "") is not None


def test_all_namespaces_lists_each_kind_once_cluster_wide(sandbox: Sandbox, kubeconfig: str) -> None:
    sb = sandbox
    sb.add(domain("d1", ns="a", pull=["p"]))
    sb.add(domain("d2", ns="b", pull=["p"]))
    sb.add(secret("p", ns="a"))
    sb.add(secret("p", ns="c"))  # a namespace without Domains: still read, for IA008
    sb.add(service_account("default", ns="a"))
    sb.add(service_account("default", ns="z"))

    snap = read_cluster(scope(kubeconfig, all_namespaces=True))

    firsts = lists(sb)
    assert all("/namespaces/" not in r.path for r in firsts)
    assert sorted(r.path for r in firsts) == sorted([
        "/apis/weblogic.oracle/v9/domains", "/apis/weblogic.oracle/v1/clusters", "/api/v1/serviceaccounts",
        "/api/v1/secrets", "/api/v1/secrets", "/api/v1/pods", "/api/v1/events", "/api/v1/nodes"])
    assert snap.secrets_listed_everywhere
    assert snap.get("Domain", "a", "d1") and snap.get("Domain", "b", "d2")
    assert snap.get("Secret", "c", "p") is not None
    assert snap.get("ServiceAccount", "z", "default") is None  # no Domain there
    assert named_gets(sb, "secrets") == ["p"]  # b/p is missing: fetched (404), a/p was listed


def _count_lists(sb: Sandbox, tmp_path: Path, n: int) -> int:
    sb.clear_requests()
    for i in range(n):
        name = f"n{n}-d{i:04d}"
        sb.add(domain(name, ns=f"scale-{n}", pull=[f"{name}-pull"], service_account=f"{name}-sa"))
        sb.add(secret(f"{name}-pull", ns=f"scale-{n}"))
        sb.add(service_account(f"{name}-sa", ns=f"scale-{n}"))
    kc = sb.write_kubeconfig(str(tmp_path / f"kc-{n}"), namespace=f"scale-{n}")
    snap = read_cluster(scope(kc))
    assert len(list(snap.of_kind("Domain"))) == n
    assert all(r.method == "GET" for r in sb.requests)
    assert named_gets(sb, "secrets") == [] and named_gets(sb, "domains") == []
    return len(lists(sb))


def test_list_requests_do_not_grow_with_the_number_of_domains(sandbox: Sandbox, tmp_path: Path) -> None:
    few = _count_lists(sandbox, tmp_path, 10)
    many = _count_lists(sandbox, tmp_path, 1000)
    assert few == many == 8


def test_named_domains_and_selector_narrow_the_domains(sandbox: Sandbox, kubeconfig: str) -> None:
    sandbox.add(domain("d1"))
    sandbox.add(domain("d2"))
    sandbox.add(pod("d1-as", "d1"))
    sandbox.add(pod("d2-as", "d2"))
    snap = read_cluster(scope(kubeconfig, domains=["d1", "absent"], selector="team!=x"))
    assert [k.name for k in snap.objects if k.kind == "Domain"] == ["d1"]
    assert [k.name for k in snap.objects if k.kind == "Pod"] == ["d1-as"]
    assert snap.audit_domains == [ObjectKey("Domain", NS, "d1"), ObjectKey("Domain", NS, "absent")]
    assert lists(sandbox, "/domains")[0].query["labelSelector"] == ["team!=x"]


def test_mixed_mode_reads_what_file_domains_need_without_listing_domains(
        sandbox: Sandbox, kubeconfig: str) -> None:
    sandbox.add(secret("opaque", ns="files-ns", type_="Opaque"))
    sandbox.add(service_account("default", ns="files-ns", pull=["sa-pull"]))
    sandbox.add(pod("fd-as", "fd", ns="files-ns"))
    from_file = domain("fd", ns="files-ns", pull=["opaque"])
    key = ObjectKey("Domain", "files-ns", "fd")

    snap = read_cluster_for(scope(kubeconfig), [key], [from_file])

    assert lists(sandbox, "/domains") == []
    assert all("/namespaces/files-ns/" in r.path for r in lists(sandbox) if not r.path.endswith("/nodes"))
    assert snap.get("Secret", "files-ns", "opaque") is not None
    assert named_gets(sandbox, "secrets") == ["opaque", "sa-pull"]
    assert snap.get("Pod", "files-ns", "fd-as") is not None
    assert snap.get("Domain", "files-ns", "fd") is None  # the files' Domain is laid over by the caller
    assert snap.audit_domains == [key]


def test_secret_values_never_reach_the_logs(
        sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sandbox.add(domain("d1", pull=["ocr", "opaque"]))
    sandbox.add(secret("ocr"))
    sandbox.add(secret("opaque", type_="Opaque"))
    sandbox.add_user("eve", SECRET_VALUE + "-token", superuser=True)
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="eve", namespace=NS)
    sandbox.inject(Fault(method="GET", path_regex=r"/secrets$", status=429, retry_after=1, times=1))
    caplog.set_level(logging.DEBUG)

    snap = read_cluster(scope(kc, verbosity=9))

    assert snap.get("Secret", NS, "opaque") is not None
    text = caplog.text
    assert "GET https://127.0.0.1" in text and "/secrets/opaque 200 OK" in text
    assert "Authorization" in text and "<masked>" in text
    encoded = dockerconfig(password=SECRET_VALUE)
    for needle in (SECRET_VALUE, encoded, encoded[:24], base64.b64encode(f"scott:{SECRET_VALUE}".encode()).decode()):
        assert needle not in text
    assert SECRET_VALUE not in repr(snap.unreadable)


def test_importing_the_source_does_not_import_the_client() -> None:
    code = ("import sys, kubectl_imgaccess.kube.reader; "
            "sys.exit(1 if any(m == 'kubernetes' or m.startswith('kubernetes.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_missing_cluster_resource_is_empty_but_missing_domain_resource_is_an_error(
        sandbox: Sandbox, kubeconfig: str) -> None:
    sandbox.add(domain("d1"))
    sandbox.inject(Fault(method="GET", path_regex=r"/clusters$", status=404, times=1))
    snap = read_cluster(scope(kubeconfig))
    assert snap.get("Domain", NS, "d1") is not None and snap.unreadable == []

    sandbox.inject(Fault(method="GET", path_regex=r"/domains$", status=404, times=1))
    with pytest.raises(ClusterError) as err:
        read_cluster(scope(kubeconfig))
    assert "WebLogic Kubernetes Operator" in str(err.value) and sandbox.url in str(err.value)


def test_domains_are_read_only_as_v9(sandbox: Sandbox, kubeconfig: str) -> None:
    """Operator 4.x stores Domains as weblogic.oracle/v9 and serves v8 only by conversion: the reader asks
    for v9 alone, so what it audits is the object the operator reads, whatever version it was applied in."""
    v8 = domain("d8")
    v8["apiVersion"] = "weblogic.oracle/v8"
    sandbox.add(v8)
    sandbox.add(domain("d9"))
    for named in ([], ["d8"]):
        snap = read_cluster(scope(kubeconfig, domains=named))
        assert {o["apiVersion"] for k, o in snap.objects.items() if k.kind == "Domain"} == {V9_API_VERSION}
    domain_paths = {r.path for r in sandbox.requests if "/domains" in r.path}
    assert domain_paths and all(p.startswith(f"/apis/{V9_API_VERSION}/") for p in domain_paths)
