"""The sandbox's API semantics at the HTTP level: shapes of Status errors, validation, dry runs, patches,
protobuf bodies, discovery, the command, and a clean stop."""

from __future__ import annotations

import base64
import http.client
import json
import os
import select
import signal
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from tests.builders import secret
from tools.sandbox import Rule, Sandbox
from tools.sandbox.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from tools.sandbox.protobuf import MAGIC

ROOT = Path(__file__).resolve().parent.parent
NS = "ns1"


def call(
    sb: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    token: Optional[str] = "admin-token",
    ctype: str = "application/json",
    accept: str = "application/json",
) -> Tuple[int, Any]:
    ctx = ssl.create_default_context(cafile=sb.ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", sb.port, context=ctx, timeout=30)
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    raw: Optional[bytes] = None
    if body is not None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = ctype
    try:
        conn.request(method, path, body=raw, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else None
    finally:
        conn.close()


def ok(sb: Sandbox, path: str, accept: str = "application/json") -> Any:
    code, body = call(sb, "GET", path, accept=accept)
    assert code == 200, body
    return body


# -- Status shapes and validation ---------------------------------------------------------------------


def test_create_assigns_metadata_and_turns_string_data_into_data(sandbox: Sandbox) -> None:
    sandbox.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}})
    body = secret("s", NS, type_=None, string_data={"a": "b"})
    code, obj = call(sandbox, "POST", "/api/v1/namespaces/ns1/secrets", body)
    assert code == 201
    meta = obj["metadata"]
    assert meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"].endswith("Z")
    assert obj["data"] == {"a": base64.b64encode(b"b").decode()} and "stringData" not in obj
    assert obj["type"] == "Opaque" and "generation" not in meta
    code, dup = call(sandbox, "POST", "/api/v1/namespaces/ns1/secrets", secret("s", NS, type_=None))
    assert (code, dup["reason"], dup["message"]) == (409, "AlreadyExists", 'secrets "s" already exists')
    assert dup["details"] == {"name": "s", "kind": "secrets"}
    code, missing = call(sandbox, "GET", "/api/v1/namespaces/ns1/secrets/nope")
    assert missing == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'secrets "nope" not found',
        "reason": "NotFound",
        "details": {"name": "nope", "kind": "secrets"},
        "code": 404,
    }
    code, dom = call(
        sandbox,
        "POST",
        "/apis/weblogic.oracle/v9/namespaces/ns1/domains",
        {"apiVersion": "weblogic.oracle/v9", "kind": "Domain", "metadata": {"name": "d"}, "spec": {}},
    )
    assert code == 201 and dom["metadata"]["generation"] == 1


@pytest.mark.parametrize("name", ["Bad_Name", "-lead", "UPPER", "a" * 254])
def test_invalid_names_are_422(sandbox: Sandbox, name: str) -> None:
    sandbox.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}})
    code, status = call(sandbox, "POST", "/api/v1/namespaces/ns1/secrets", secret(name, NS, type_=None))
    assert code == 422 and status["reason"] == "Invalid"
    assert status["message"].startswith(f'Secret "{name}" is invalid: metadata.name: Invalid value')
    assert status["details"]["causes"][0]["field"] == "metadata.name"
    assert sandbox.objects("Secret") == []


@pytest.mark.parametrize(
    "payload,ok", [(b'{"auths":{}}', True), (b"[]", False), (b'"x"', False), (b"not json", False), (b"", False)]
)
def test_dockerconfigjson_must_be_a_json_object(sandbox: Sandbox, payload: bytes, ok: bool) -> None:
    sandbox.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}})
    body = secret("pull", NS, data={".dockerconfigjson": base64.b64encode(payload).decode()})
    code, status = call(sandbox, "POST", "/api/v1/namespaces/ns1/secrets", body)
    if ok:
        assert code == 201
        return
    assert code == 422
    assert status["details"]["causes"][0]["field"] == "data[.dockerconfigjson]"
    assert "<secret contents redacted>" in status["message"]


def test_dry_run_runs_everything_and_persists_nothing(sandbox: Sandbox) -> None:
    sandbox.add(secret("s", NS, type_=None, data={"a": "YQ=="}))
    before = sandbox.get("Secret", "ns1", "s")
    code, created = call(sandbox, "POST", "/api/v1/namespaces/ns1/secrets?dryRun=All", secret("t", NS, type_=None))
    assert code == 201 and created["metadata"]["uid"] and sandbox.get("Secret", "ns1", "t") is None
    code, _ = call(sandbox, "POST", "/api/v1/namespaces/ns1/secrets?dryRun=All", secret("s", NS, type_=None))
    assert code == 409  # the checks still run
    code, patched = call(
        sandbox,
        "PATCH",
        "/api/v1/namespaces/ns1/secrets/s?dryRun=All",
        {"metadata": {"labels": {"x": "y"}}},
        ctype="application/merge-patch+json",
    )
    assert code == 200 and patched["metadata"]["labels"] == {"x": "y"}
    code, _ = call(sandbox, "DELETE", "/api/v1/namespaces/ns1/secrets/s?dryRun=All")
    assert code == 200
    assert sandbox.get("Secret", "ns1", "s") == before


def test_put_and_delete(sandbox: Sandbox) -> None:
    stored = sandbox.add(secret("s", NS, type_=None, data={"a": "YQ=="}))
    stored["data"] = {"b": "Yg=="}
    code, updated = call(sandbox, "PUT", "/api/v1/namespaces/ns1/secrets/s", stored)
    assert code == 200 and updated["data"] == {"b": "Yg=="}
    assert int(updated["metadata"]["resourceVersion"]) > int(stored["metadata"]["resourceVersion"])
    code, conflict = call(sandbox, "PUT", "/api/v1/namespaces/ns1/secrets/s", stored)
    assert (code, conflict["reason"]) == (409, "Conflict")
    code, gone = call(sandbox, "DELETE", "/api/v1/namespaces/ns1/secrets/s")
    assert (code, gone["status"], gone["details"]["name"]) == (200, "Success", "s")
    assert sandbox.get("Secret", "ns1", "s") is None


def test_unauthenticated_and_anonymous(sandbox: Sandbox) -> None:
    code, status = call(sandbox, "GET", "/api/v1/secrets", token="wrong")
    assert (code, status["reason"]) == (401, "Unauthorized")
    code, _ = call(sandbox, "GET", "/version", token=None)
    assert code == 200
    code, status = call(sandbox, "GET", "/api/v1/namespaces/a/secrets", token=None)
    assert code == 403 and 'User "system:anonymous"' in status["message"]
    assert [r.user for r in sandbox.requests] == [None, "system:anonymous", "system:anonymous"]


def test_rules_scope_and_self_subject_access_review(sandbox: Sandbox) -> None:
    sandbox.add_user("ops", "ops-token", groups=["operators"])
    sandbox.allow(Rule("operators", ["get", "list"], ["serviceaccounts"], namespaces=["a"], api_groups=[""]))
    sandbox.allow(Rule("ops", ["patch"], ["domains"], api_groups=["weblogic.oracle"]))
    assert call(sandbox, "GET", "/api/v1/namespaces/a/serviceaccounts", token="ops-token")[0] == 200
    code, status = call(sandbox, "GET", "/api/v1/serviceaccounts", token="ops-token")
    assert code == 403 and status["message"].endswith('in API group "" at the cluster scope')

    def review(**attrs: str) -> bool:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        code, answer = call(
            sandbox, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body, token="ops-token"
        )
        assert code == 201 and answer["kind"] == "SelfSubjectAccessReview"
        return bool(answer["status"]["allowed"])

    assert review(verb="list", resource="serviceaccounts", namespace="a")
    assert not review(verb="list", resource="serviceaccounts", namespace="b")
    assert review(verb="patch", resource="domains", group="weblogic.oracle", namespace="b")
    assert not review(verb="patch", resource="domains", group="", namespace="b")
    assert sandbox.can("ops", "list", "serviceaccounts", "a")


# -- protobuf ------------------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _ld(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _entry(field: int, key: str, value: bytes) -> bytes:
    return _ld(field, _ld(1, key.encode()) + _ld(2, value))


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = _ld(1, api_version.encode()) + _ld(2, kind.encode())
    return MAGIC + _ld(1, type_meta) + _ld(2, raw) + _ld(4, b"application/vnd.kubernetes.protobuf")


def test_protobuf_secret_and_serviceaccount_bodies(sandbox: Sandbox) -> None:
    sandbox.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns1"}})
    meta = _ld(1, b"regcred") + _ld(2, b"") + _entry(11, "app", b"wls")
    secret = (
        _ld(1, meta)
        + _entry(2, ".dockerconfigjson", b'{"auths":{"r.io":{"auth":"dTpw"}}}')
        + _ld(3, b"kubernetes.io/dockerconfigjson")
        + _entry(4, "note", b"hi")
    )
    code, obj = call(
        sandbox,
        "POST",
        "/api/v1/namespaces/ns1/secrets",
        _envelope("v1", "Secret", secret),
        ctype="application/vnd.kubernetes.protobuf",
    )
    assert code == 201, obj
    assert obj["metadata"]["labels"] == {"app": "wls"} and "generateName" not in obj["metadata"]
    assert obj["type"] == "kubernetes.io/dockerconfigjson"
    assert json.loads(base64.b64decode(obj["data"][".dockerconfigjson"])) == {"auths": {"r.io": {"auth": "dTpw"}}}
    assert base64.b64decode(obj["data"]["note"]) == b"hi"
    sa = _ld(1, _ld(1, b"builder")) + _ld(2, _ld(3, b"tok")) + _ld(3, _ld(1, b"regcred")) + _ld(3, _ld(1, b"two"))
    sa += _varint(4 << 3) + _varint(0)
    code, obj = call(
        sandbox,
        "POST",
        "/api/v1/namespaces/ns1/serviceaccounts",
        _envelope("v1", "ServiceAccount", sa),
        ctype="application/vnd.kubernetes.protobuf",
    )
    assert code == 201, obj
    assert obj["imagePullSecrets"] == [{"name": "regcred"}, {"name": "two"}]
    assert obj["secrets"] == [{"name": "tok"}] and obj["automountServiceAccountToken"] is False
    code, status = call(
        sandbox, "POST", "/api/v1/namespaces/ns1/secrets", b"\x0a\x02no", ctype="application/vnd.kubernetes.protobuf"
    )
    assert code == 400 and status["reason"] == "BadRequest"


# -- patches -------------------------------------------------------------------------------------------


def test_strategic_merge_patch_strategies() -> None:
    pod = {
        "spec": {
            "imagePullSecrets": [{"name": "a"}],
            "containers": [{"name": "c", "image": "x:1", "env": [{"name": "A", "value": "1"}]}],
        }
    }
    patched = strategic_merge_patch(
        pod,
        {
            "spec": {
                "imagePullSecrets": [{"name": "b"}],
                "containers": [{"name": "c", "image": "x:2", "env": [{"name": "B", "value": "2"}]}],
            }
        },
        "Pod",
    )
    assert patched["spec"]["imagePullSecrets"] == [{"name": "a"}, {"name": "b"}]
    assert patched["spec"]["containers"] == [
        {"name": "c", "image": "x:2", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    ]
    removed = strategic_merge_patch(patched, {"spec": {"imagePullSecrets": [{"name": "a", "$patch": "delete"}]}}, "Pod")
    assert removed["spec"]["imagePullSecrets"] == [{"name": "b"}]
    sa = {"imagePullSecrets": [{"name": "a"}], "secrets": [{"name": "t1"}]}
    out = strategic_merge_patch(
        sa, {"imagePullSecrets": [{"name": "b"}], "secrets": [{"name": "t2"}]}, "ServiceAccount"
    )
    assert out == {"imagePullSecrets": [{"name": "b"}], "secrets": [{"name": "t1"}, {"name": "t2"}]}
    obj = {"metadata": {"labels": {"a": "1", "b": "2"}, "annotations": {"x": "y"}}}
    assert strategic_merge_patch(obj, {"metadata": {"labels": {"$patch": "replace", "c": "3"}}}, "Secret")["metadata"][
        "labels"
    ] == {"c": "3"}
    assert strategic_merge_patch(obj, {"metadata": {"annotations": {"$patch": "delete"}}}, "Secret")["metadata"] == {
        "labels": {"a": "1", "b": "2"}
    }
    assert strategic_merge_patch(obj, {"metadata": {"labels": {"a": None}}}, "Secret")["metadata"]["labels"] == {
        "b": "2"
    }
    assert obj["metadata"]["labels"] == {"a": "1", "b": "2"}  # the original is never modified


def test_json_patch_and_merge_patch() -> None:
    doc = {"a": [1, 2], "b": {"c": "d"}, "s~/x": 1}
    assert json_patch(doc, [{"op": "add", "path": "/a/-", "value": 3}])["a"] == [1, 2, 3]
    assert json_patch(doc, [{"op": "add", "path": "/a/0", "value": 0}])["a"] == [0, 1, 2]
    assert json_patch(doc, [{"op": "remove", "path": "/s~0~1x"}]) == {"a": [1, 2], "b": {"c": "d"}}
    assert json_patch(doc, [{"op": "move", "from": "/b/c", "path": "/e"}])["e"] == "d"
    assert json_patch(doc, [{"op": "copy", "from": "/a", "path": "/f"}])["f"] == [1, 2]
    assert json_patch(
        doc, [{"op": "test", "path": "/b", "value": {"c": "d"}}, {"op": "replace", "path": "/b/c", "value": "z"}]
    )["b"] == {"c": "z"}
    for bad in (
        [{"op": "test", "path": "/b/c", "value": "nope"}],
        [{"op": "remove", "path": "/zz"}],
        [{"op": "replace", "path": "/a/5", "value": 1}],
        [{"op": "frob", "path": "/a"}],
    ):
        with pytest.raises(PatchError):
            json_patch(doc, bad)
    assert merge_patch(doc, {"a": [9], "b": {"c": None, "n": 1}}) == {"a": [9], "b": {"n": 1}, "s~/x": 1}


def test_patch_http_semantics(sandbox: Sandbox) -> None:
    sandbox.add(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "sa", "namespace": "ns1"},
            "imagePullSecrets": [{"name": "a"}],
        }
    )
    path = "/api/v1/namespaces/ns1/serviceaccounts/sa"
    code, status = call(
        sandbox,
        "PATCH",
        path,
        [{"op": "test", "path": "/imagePullSecrets/0/name", "value": "x"}],
        ctype="application/json-patch+json",
    )
    assert (code, status["reason"]) == (422, "Invalid")
    code, _ = call(sandbox, "PATCH", path, {"a": 1}, ctype="application/apply-patch+yaml")
    assert code == 415
    code, status = call(
        sandbox, "PATCH", "/api/v1/namespaces/ns1/serviceaccounts/none", {"x": 1}, ctype="application/merge-patch+json"
    )
    assert (code, status["reason"]) == (404, "NotFound")


# -- discovery, tables, the command, stop -------------------------------------------------------------


def test_discovery_documents(sandbox: Sandbox) -> None:
    version = ok(sandbox, "/version")
    assert (version["major"], version["minor"]) == ("1", "32")
    groups = ok(sandbox, "/apis")
    weblogic = next(g for g in groups["groups"] if g["name"] == "weblogic.oracle")
    assert weblogic["preferredVersion"]["version"] == "v9"
    assert {v["version"] for v in weblogic["versions"]} == {"v9", "v8", "v1"}
    v9 = ok(sandbox, "/apis/weblogic.oracle/v9")
    domains = next(r for r in v9["resources"] if r["name"] == "domains")
    assert (domains["kind"], domains["singularName"], domains["namespaced"], domains["shortNames"]) == (
        "Domain",
        "domain",
        True,
        ["dom"],
    )
    v1 = ok(sandbox, "/apis/weblogic.oracle/v1")
    assert next(r for r in v1["resources"] if r["name"] == "clusters")["shortNames"] == ["clu"]
    core = ok(sandbox, "/api/v1")
    secrets = next(r for r in core["resources"] if r["name"] == "secrets")
    assert {"get", "list", "create", "patch", "update", "delete"} <= set(secrets["verbs"])
    assert call(sandbox, "GET", "/apis/nope.example/v1")[0] == 404


def test_table_answer(sandbox: Sandbox) -> None:
    sandbox.add(secret("s", NS, type_="Opaque", data={"a": "YQ=="}))
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = ok(sandbox, "/api/v1/namespaces/ns1/secrets?limit=500", accept=accept)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Type", "Data", "Age"]
    assert table["rows"][0]["cells"][:3] == ["s", "Opaque", 1]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    full = ok(sandbox, "/api/v1/namespaces/ns1/secrets/s?includeObject=Object", accept=accept)
    assert full["rows"][0]["object"]["data"] == {"a": "YQ=="}


def test_command_serves_seeded_manifests_until_sigterm(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "d.yaml").write_text(
        "apiVersion: weblogic.oracle/v9\nkind: Domain\n"
        "metadata: {name: d1, namespace: ns1}\nspec: {image: a:1}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: skipped}\n"
    )
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.sandbox", "--seed", str(seed), "--kubeconfig", str(kubeconfig)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "the sandbox command printed nothing"
        words = proc.stdout.readline().split()
        assert words[:2] == ["sandbox", "ready"] and words[3] == str(kubeconfig)
        config = json.loads(kubeconfig.read_text())
        assert config["clusters"][0]["cluster"]["server"] == words[2]
        ctx = ssl.create_default_context(cafile=config["clusters"][0]["cluster"]["certificate-authority"])
        conn = http.client.HTTPSConnection("127.0.0.1", int(words[2].rsplit(":", 1)[1]), context=ctx, timeout=30)
        conn.request(
            "GET",
            "/apis/weblogic.oracle/v9/domains",
            headers={"Authorization": "Bearer " + config["users"][0]["user"]["token"]},
        )
        items = json.loads(conn.getresponse().read())["items"]
        conn.close()
        assert [i["metadata"]["name"] for i in items] == ["d1"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stop_closes_idle_keep_alive_connections(tmp_path: Path) -> None:
    sb = Sandbox().start()
    ctx = ssl.create_default_context(cafile=sb.ca_file)
    conn = http.client.HTTPSConnection("127.0.0.1", sb.port, context=ctx, timeout=30)
    conn.request("GET", "/version")
    assert conn.getresponse().read()
    sb.stop()  # with the kept-alive connection still open
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("GET", "/version")
        conn.getresponse().read()
    conn.close()
    assert not os.path.exists(sb.ca_file)


def test_kubeconfig_variants(sandbox: Sandbox, tmp_path: Path) -> None:
    path = sandbox.write_kubeconfig(
        str(tmp_path / "kc"), namespace="ns1", exec_plugin=[sys.executable, "plugin.py", "tok"]
    )
    cfg = json.loads(Path(path).read_text())
    assert cfg["contexts"][0]["context"]["namespace"] == "ns1"
    user: Dict[str, Any] = cfg["users"][0]["user"]
    assert user["exec"]["command"] == sys.executable and user["exec"]["args"] == ["plugin.py", "tok"]
    with pytest.raises(ValueError):
        sandbox.write_kubeconfig(str(tmp_path / "none"), user="nobody")
    loaded: List[Dict[str, Any]] = sandbox.load_yaml(
        "kind: List\napiVersion: v1\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n"
    )
    assert [o["metadata"]["namespace"] for o in loaded] == ["default"]


def test_demo_serves_manifests_to_check(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text(
        "apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata: {name: demo1, namespace: demo-ns}\n"
        "spec: {image: ghcr.io/acme/wls:1}\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata: {name: bad, namespace: demo-ns}\n"
        "type: kubernetes.io/dockerconfigjson\ndata: {.dockerconfigjson: W10=}\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "tools.demo", "--seed", str(tmp_path), "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "serving 1 Domain(s)" in out.stdout
    assert "d.yaml not served" in out.stderr  # a `[]` dockerconfigjson is refused like the real server does
    report = json.loads(out.stdout[out.stdout.index("{") :])
    assert [d["name"] for d in report["domains"]] == ["demo1"]
    assert report["source"]["mode"] == "cluster"
