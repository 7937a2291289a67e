"""The sandbox through the real `kubernetes` Python client: paging, selectors, errors, retries, faults."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Iterator, List

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.builders import secret
from tools.sandbox import Fault, Rule, Sandbox


def _api(sb: Sandbox, tmp_path: Path, retries: Any = None, user: str = "admin") -> client.ApiClient:
    cfg = client.Configuration()
    config.load_kube_config(
        config_file=sb.write_kubeconfig(str(tmp_path / f"kc-{user}"), user=user), client_configuration=cfg
    )
    cfg.retries = retries
    return client.ApiClient(cfg)


@pytest.fixture
def core(sandbox: Sandbox, tmp_path: Path) -> Iterator[client.CoreV1Api]:
    with _api(sandbox, tmp_path, retries=False) as api:
        yield client.CoreV1Api(api)


# Plain Secrets: what the API server pages, selects by label and field and guards, not what they hold.
opaque = functools.partial(secret, type_="Opaque", data={"k": "dg=="})


def _status(exc: ApiException) -> Any:
    return json.loads(exc.body)


def test_pagination_three_pages(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    for i in range(7):
        sandbox.add(opaque(f"s{i}", "ns1"))
    names: List[str] = []
    token = None
    pages = []
    for _ in range(10):  # bounded: the test fails rather than loops if continue never ends
        page = core.list_namespaced_secret("ns1", limit=3, _continue=token)
        pages.append(page)
        names += [s.metadata.name for s in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert len(pages) == 3
    assert names == [f"s{i}" for i in range(7)]
    assert [p.metadata.remaining_item_count for p in pages] == [4, 1, None]
    assert all(p.metadata.resource_version for p in pages)
    assert [r.query.get("limit") for r in sandbox.requests] == [["3"]] * 3
    assert "continue" in sandbox.requests[1].query


def test_label_selectors(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add(opaque("a", "ns1", metadata={"labels": {"tier": "web", "team": "x"}}))
    sandbox.add(opaque("b", "ns1", metadata={"labels": {"tier": "db"}}))
    sandbox.add(opaque("c", "ns1", metadata={"labels": {"team": "y"}}))
    cases = {
        "tier=web": ["a"],
        "tier==db": ["b"],
        "tier!=web": ["b", "c"],
        "tier in (web,db)": ["a", "b"],
        "tier notin (web)": ["b", "c"],
        "team": ["a", "c"],
        "!team": ["b"],
        "team,tier=web": ["a"],
    }
    for selector, expected in cases.items():
        got = [s.metadata.name for s in core.list_namespaced_secret("ns1", label_selector=selector).items]
        assert got == expected, selector


def test_field_selectors_and_unsupported_field(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add(opaque("plain", "ns1"))
    sandbox.add(secret("pull", "ns1"))
    sandbox.add(secret("pull", "ns2"))
    sandbox.add(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns1"},
            "spec": {"serviceAccountName": "sa1", "containers": []},
            "status": {"phase": "Pending"},
        }
    )
    pulls = core.list_secret_for_all_namespaces(field_selector="type=kubernetes.io/dockerconfigjson")
    assert [(s.metadata.namespace, s.metadata.name) for s in pulls.items] == [("ns1", "pull"), ("ns2", "pull")]
    named = core.list_secret_for_all_namespaces(field_selector="metadata.name=pull,metadata.namespace!=ns1")
    assert [s.metadata.namespace for s in named.items] == ["ns2"]
    pods = core.list_namespaced_pod("ns1", field_selector="spec.serviceAccountName=sa1,status.phase=Pending")
    assert [p.metadata.name for p in pods.items] == ["p"]
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("ns1", field_selector="spec.foo=bar")
    assert err.value.status == 400
    body = _status(err.value)
    assert (body["kind"], body["reason"], body["code"]) == ("Status", "BadRequest", 400)
    assert "field label not supported: spec.foo" in body["message"]


def test_expired_continue_token_is_410(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    for i in range(4):
        sandbox.add(opaque(f"s{i}", "ns1"))
    first = core.list_namespaced_secret("ns1", limit=2)
    sandbox.expire_continue_tokens()
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("ns1", limit=2, _continue=first.metadata._continue)
    assert err.value.status == 410
    assert _status(err.value)["reason"] == "Expired"
    fresh = core.list_namespaced_secret("ns1", limit=2)
    sandbox.inject(Fault(method="GET", path_regex=r"/secrets$", gone=True))
    again = core.list_namespaced_secret("ns1", limit=2)  # no token: the fault does not apply
    with pytest.raises(ApiException) as gone:
        core.list_namespaced_secret("ns1", limit=2, _continue=again.metadata._continue)
    assert gone.value.status == 410
    rest = core.list_namespaced_secret("ns1", limit=2, _continue=fresh.metadata._continue)
    assert [s.metadata.name for s in rest.items] == ["s2", "s3"]


def test_stale_resource_version_is_409(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.add(opaque("s", "ns1"))
    old = core.read_namespaced_secret("s", "ns1")
    core.patch_namespaced_secret("s", "ns1", {"metadata": {"labels": {"changed": "yes"}}})
    old.metadata.labels = {"mine": "yes"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_secret("s", "ns1", old)
    assert err.value.status == 409
    assert _status(err.value)["reason"] == "Conflict"
    stale_patch = {"metadata": {"resourceVersion": old.metadata.resource_version, "labels": {"x": "y"}}}
    with pytest.raises(ApiException) as perr:
        core.patch_namespaced_secret("s", "ns1", stale_patch)  # strategic merge: any patch type conflicts
    assert perr.value.status == 409
    current = core.read_namespaced_secret("s", "ns1")
    assert current.metadata.labels == {"changed": "yes"}
    current.metadata.labels = {"mine": "yes"}
    updated = core.replace_namespaced_secret("s", "ns1", current)
    assert updated.metadata.resource_version != current.metadata.resource_version


def test_429_is_retried_after_retry_after(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add(opaque("s", "ns1"))
    sandbox.inject(
        Fault(method="GET", path_regex=r"/api/v1/namespaces/ns1/secrets$", status=429, retry_after=1, times=1)
    )
    retry = urllib3.Retry(
        total=3, status_forcelist=[429], allowed_methods=None, backoff_factor=0, respect_retry_after_header=True
    )
    with _api(sandbox, tmp_path, retries=retry) as api:
        items = client.CoreV1Api(api).list_namespaced_secret("ns1").items
    assert [s.metadata.name for s in items] == ["s"]
    log = [r for r in sandbox.requests if r.path == "/api/v1/namespaces/ns1/secrets"]
    assert [r.status for r in log] == [429, 200]
    assert log[0].fault is not None


def test_429_without_retry_shows_status(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.inject(Fault(path_regex=r"/secrets", status=429, retry_after=7))
    with pytest.raises(ApiException) as err:
        core.list_namespaced_secret("ns1")
    assert err.value.status == 429
    assert err.value.headers["Retry-After"] == "7"
    assert _status(err.value)["details"] == {"retryAfterSeconds": 7}


@pytest.mark.parametrize("code,reason", [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_server_errors_on_demand(sandbox: Sandbox, core: client.CoreV1Api, code: int, reason: str) -> None:
    sandbox.inject(Fault(method="GET", path_regex=r"/secrets", status=code, times=2))
    for _ in range(2):
        with pytest.raises(ApiException) as err:
            core.list_namespaced_secret("ns1")
        assert (err.value.status, _status(err.value)["reason"]) == (code, reason)
    assert core.list_namespaced_secret("ns1").items == []


def test_cut_connection_mid_body(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    for i in range(5):
        sandbox.add(opaque(f"s{i}", "ns1"))
    sandbox.inject(Fault(method="GET", path_regex=r"/secrets$", cut_body=True))
    with pytest.raises(urllib3.exceptions.ProtocolError):
        core.list_namespaced_secret("ns1")
    assert [s.metadata.name for s in core.list_namespaced_secret("ns1").items] == [f"s{i}" for i in range(5)]
    cut = sandbox.requests[0]
    assert cut.fault is not None and cut.fault.cut_body and cut.status == 200


def test_delay_answers_late_but_whole(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    sandbox.inject(Fault(path_regex=r"/secrets", delay=0.2))
    assert core.list_namespaced_secret("ns1").items == []
    assert sandbox.requests[0].fault is not None


def test_domains_through_custom_objects_api(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add(
        {
            "apiVersion": "weblogic.oracle/v9",
            "kind": "Domain",
            "metadata": {"name": "d1", "namespace": "ns1"},
            "spec": {"image": "a:1"},
        }
    )
    with _api(sandbox, tmp_path) as api:
        custom = client.CustomObjectsApi(api)
        doms = custom.list_cluster_custom_object("weblogic.oracle", "v9", "domains")
        assert [d["metadata"]["name"] for d in doms["items"]] == ["d1"]
        assert doms["kind"] == "DomainList"
        v8 = custom.get_namespaced_custom_object("weblogic.oracle", "v8", "ns1", "domains", "d1")
        assert v8["apiVersion"] == "weblogic.oracle/v8"
        patched = custom.patch_namespaced_custom_object(
            "weblogic.oracle", "v9", "ns1", "domains", "d1", {"spec": {"imagePullSecrets": [{"name": "r"}]}}
        )
        assert patched["spec"]["imagePullSecrets"] == [{"name": "r"}]
        assert patched["metadata"]["generation"] == 2
        with pytest.raises(ApiException) as err:
            custom.get_namespaced_custom_object("weblogic.oracle", "v9", "ns1", "domains", "nope")
        body = _status(err.value)
        assert body["message"] == 'domains.weblogic.oracle "nope" not found'
        assert body["details"] == {"name": "nope", "group": "weblogic.oracle", "kind": "domains"}


def test_forbidden_through_client(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_user("reader", "reader-token")
    sandbox.allow(Rule("reader", ["list"], ["secrets"], namespaces=["ns1"], api_groups=[""]))
    with _api(sandbox, tmp_path, user="reader") as api:
        core = client.CoreV1Api(api)
        assert core.list_namespaced_secret("ns1").items == []
        with pytest.raises(ApiException) as err:
            core.read_namespaced_secret("x", "ns1")
        body = _status(err.value)
        assert body["code"] == 403 and body["reason"] == "Forbidden"
        assert body["message"] == (
            'secrets "x" is forbidden: User "reader" cannot get resource "secrets" '
            'in API group "" in the namespace "ns1"'
        )
        assert body["details"] == {"name": "x", "kind": "secrets"}
