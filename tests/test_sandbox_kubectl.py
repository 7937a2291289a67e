"""The sandbox speaks Kubernetes: the real kubectl reads, writes, patches and asks can-i against it."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Callable, Dict

import pytest

from tools.sandbox import Rule, Sandbox

pytestmark = pytest.mark.kubectl

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

DOMAINS = """
apiVersion: weblogic.oracle/v9
kind: Domain
metadata: {name: sample-domain1, namespace: sample-domain1-ns, labels: {weblogic.domainUID: sample-domain1}}
spec: {domainUID: sample-domain1, image: "container-registry.oracle.com/middleware/weblogic:14.1.1.0"}
---
apiVersion: weblogic.oracle/v9
kind: Domain
metadata: {name: other, namespace: other-ns}
spec: {image: "ghcr.io/acme/wls:1"}
---
apiVersion: v1
kind: Secret
metadata: {name: plain, namespace: sample-domain1-ns}
stringData: {hello: world}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: default, namespace: sample-domain1-ns}
imagePullSecrets: [{name: old}]
secrets: [{name: token-a}]
"""


def _user_env(sb: Sandbox, tmp_path: Path, user: str, **kwargs: Any) -> Dict[str, str]:
    """A separate HOME and kubeconfig per identity, so no discovery cache or credential is shared."""
    home = tmp_path / f"home-{user}"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(home)
    env["KUBECONFIG"] = sb.write_kubeconfig(str(tmp_path / f"kubeconfig-{user}"), user=user, **kwargs)
    return env


ALICE_AT_EXAMPLE = ("--docker-server=registry.example.com", "--docker-username=alice", "--docker-password=s3cret")


def create_registry_secret(
    kubectl: Kubectl, name: str, namespace: str, *flags: str
) -> subprocess.CompletedProcess[str]:
    """`kubectl create secret docker-registry NAME -n NAMESPACE FLAGS...` (a protobuf POST)."""
    return kubectl("create", "secret", "docker-registry", name, "-n", namespace, *flags)


def test_get_domains_all_namespaces_and_short_name(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = kubectl("get", "domains", "-A")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert {tuple(line.split()[:2]) for line in lines[1:]} == {
        ("sample-domain1-ns", "sample-domain1"),
        ("other-ns", "other"),
    }
    short = kubectl("get", "dom", "-n", "sample-domain1-ns", "-o", "name")
    assert short.returncode == 0, short.stderr
    assert short.stdout.split() == ["domain.weblogic.oracle/sample-domain1"]
    tables = [r for r in sandbox.requests if r.path == "/apis/weblogic.oracle/v9/domains"]
    assert tables and "as=Table" in (tables[0].headers.get("Accept") or "")


def test_get_secrets_as_json(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = kubectl("get", "secrets", "-n", "sample-domain1-ns", "-o", "json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]
    assert [i["metadata"]["name"] for i in items] == ["plain"]
    assert base64.b64decode(items[0]["data"]["hello"]) == b"world"
    assert "stringData" not in items[0]


def test_create_docker_registry_secret_is_stored_from_protobuf(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = create_registry_secret(kubectl, "regcred", "sample-domain1-ns", *ALICE_AT_EXAMPLE)
    assert out.returncode == 0, out.stderr
    assert "secret/regcred created" in out.stdout
    post = [r for r in sandbox.requests if r.method == "POST"]
    assert len(post) == 1
    assert post[0].content_type == "application/vnd.kubernetes.protobuf"
    assert post[0].body.startswith(b"k8s\x00")
    stored = sandbox.get("Secret", "sample-domain1-ns", "regcred")
    assert stored is not None
    assert stored["type"] == "kubernetes.io/dockerconfigjson"
    assert stored["metadata"]["uid"] and stored["metadata"]["resourceVersion"]
    config = json.loads(base64.b64decode(stored["data"][".dockerconfigjson"]))
    entry = config["auths"]["registry.example.com"]
    assert (entry["username"], entry["password"]) == ("alice", "s3cret")
    assert base64.b64decode(entry["auth"]) == b"alice:s3cret"
    again = create_registry_secret(kubectl, "regcred", "sample-domain1-ns", *ALICE_AT_EXAMPLE[1:])
    assert again.returncode != 0
    assert 'secrets "regcred" already exists' in again.stderr


def test_create_secret_server_dry_run_stores_nothing(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = create_registry_secret(kubectl, "regcred", "sample-domain1-ns", "--dry-run=server", *ALICE_AT_EXAMPLE)
    assert out.returncode == 0, out.stderr
    assert "(server dry run)" in out.stdout
    post = [r for r in sandbox.requests if r.method == "POST"]
    assert post[0].query.get("dryRun") == ["All"]
    assert post[0].content_type == "application/vnd.kubernetes.protobuf"
    assert sandbox.get("Secret", "sample-domain1-ns", "regcred") is None


def test_create_in_missing_namespace_is_not_found(sandbox: Sandbox, kubectl: Kubectl) -> None:
    out = create_registry_secret(kubectl, "x", "nowhere", "--docker-username=u", "--docker-password=p")
    assert out.returncode != 0
    assert 'namespaces "nowhere" not found' in out.stderr


def _sa(sandbox: Sandbox) -> Dict[str, object]:
    sa = sandbox.get("ServiceAccount", "sample-domain1-ns", "default")
    assert sa is not None
    return sa


def test_patch_serviceaccount_strategic_replaces_image_pull_secrets(
    sandbox: Sandbox, kubectl: Kubectl
) -> None:
    sandbox.load_yaml(DOMAINS)
    out = kubectl(
        "patch",
        "serviceaccount",
        "default",
        "-n",
        "sample-domain1-ns",
        "-p",
        '{"imagePullSecrets":[{"name":"regcred"}],"secrets":[{"name":"token-b"}]}',
    )
    assert out.returncode == 0, out.stderr
    patch = next(r for r in sandbox.requests if r.method == "PATCH")
    assert patch.content_type == "application/strategic-merge-patch+json"
    sa = _sa(sandbox)
    assert sa["imagePullSecrets"] == [{"name": "regcred"}]  # no patch strategy: the list is replaced
    assert sa["secrets"] == [{"name": "token-a"}, {"name": "token-b"}]  # merged by name


def test_patch_serviceaccount_merge_replaces(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = kubectl(
        "patch",
        "serviceaccount",
        "default",
        "-n",
        "sample-domain1-ns",
        "--type",
        "merge",
        "-p",
        '{"imagePullSecrets":[{"name":"regcred"}]}',
    )
    assert out.returncode == 0, out.stderr
    assert _sa(sandbox)["imagePullSecrets"] == [{"name": "regcred"}]


def test_patch_serviceaccount_json_patch_appends(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = kubectl(
        "patch",
        "serviceaccount",
        "default",
        "-n",
        "sample-domain1-ns",
        "--type",
        "json",
        "-p",
        '[{"op":"add","path":"/imagePullSecrets/-","value":{"name":"regcred"}}]',
    )
    assert out.returncode == 0, out.stderr
    assert _sa(sandbox)["imagePullSecrets"] == [{"name": "old"}, {"name": "regcred"}]
    failed = kubectl(
        "patch",
        "serviceaccount",
        "default",
        "-n",
        "sample-domain1-ns",
        "--type",
        "json",
        "-p",
        '[{"op":"test","path":"/imagePullSecrets/0/name","value":"nope"},'
        '{"op":"remove","path":"/imagePullSecrets/0"}]',
    )
    assert failed.returncode != 0
    assert _sa(sandbox)["imagePullSecrets"] == [{"name": "old"}, {"name": "regcred"}]
    assert [r.status for r in sandbox.requests if r.method == "PATCH"][-1] == 422


def test_strategic_patch_on_domain_is_unsupported_media_type(sandbox: Sandbox, kubectl: Kubectl) -> None:
    sandbox.load_yaml(DOMAINS)
    out = kubectl(
        "patch",
        "domain",
        "other",
        "-n",
        "other-ns",
        "--type",
        "strategic",
        "-p",
        '{"spec":{"imagePullSecrets":[{"name":"regcred"}]}}',
    )
    assert out.returncode != 0
    assert [r.status for r in sandbox.requests if r.method == "PATCH"] == [415]
    merged = kubectl(
        "patch",
        "domain",
        "other",
        "-n",
        "other-ns",
        "--type",
        "merge",
        "-p",
        '{"spec":{"imagePullSecrets":[{"name":"regcred"}]}}',
    )
    assert merged.returncode == 0, merged.stderr
    domain = sandbox.get("Domain", "other-ns", "other")
    assert domain is not None
    assert domain["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert domain["metadata"]["generation"] == 2


def test_auth_can_i_follows_rules(sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path) -> None:
    sandbox.add_user("bob", "bob-token")
    sandbox.allow(Rule("bob", ["list", "get"], ["secrets"], namespaces=["team-a"], api_groups=[""]))
    env = _user_env(sandbox, tmp_path, "bob")
    yes = kubectl("auth", "can-i", "list", "secrets", "-n", "team-a", env=env)
    no = kubectl("auth", "can-i", "list", "secrets", "-n", "team-b", env=env)
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    reviews = [r for r in sandbox.requests if r.path.endswith("/selfsubjectaccessreviews")]
    assert len(reviews) == 2
    assert all(r.content_type == "application/vnd.kubernetes.protobuf" and r.user == "bob" for r in reviews)


def test_forbidden_message_reaches_kubectl(sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path) -> None:
    sandbox.add_user("x", "x-token")
    env = _user_env(sandbox, tmp_path, "x")
    out = kubectl("get", "secrets", "-n", "ns", env=env)
    assert out.returncode != 0
    assert (
        'Error from server (Forbidden): secrets is forbidden: User "x" cannot list resource "secrets" '
        'in API group "" in the namespace "ns"'
    ) in out.stderr
    everywhere = kubectl("get", "secrets", "-A", env=env)
    assert 'cannot list resource "secrets" in API group "" at the cluster scope' in everywhere.stderr


def test_unknown_token_is_unauthorized(sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path) -> None:
    env = _user_env(sandbox, tmp_path, "admin", token="not-a-token")
    out = kubectl("get", "secrets", "-n", "default", env=env)
    assert out.returncode != 0
    assert "Unauthorized" in out.stderr or "must be logged in" in out.stderr
    assert sandbox.requests and all(r.status == 401 for r in sandbox.requests)


def test_client_certificate_identifies_the_user(sandbox: Sandbox, kubectl: Kubectl, tmp_path: Path) -> None:
    sandbox.add_user("carol", "carol-token")
    sandbox.allow(Rule("carol", ["list"], ["domains"], api_groups=["weblogic.oracle"]))
    env = _user_env(sandbox, tmp_path, "carol", client_cert="yes")
    out = kubectl("get", "domains", "-A", env=env)
    assert out.returncode == 0, out.stderr
    denied = kubectl("get", "secrets", "-A", env=env)
    assert 'User "carol" cannot list resource "secrets"' in denied.stderr
    assert all(r.headers.get("Authorization") is None for r in sandbox.requests)
    assert {r.user for r in sandbox.requests} == {"carol"}
