"""The sandbox enforces RBAC objects as the API server does: roles through their bindings, per API group, resource,
verb and resource name, cluster-wide or in one namespace."""

from __future__ import annotations

from typing import Any, Dict, List

import yaml

from tools.sandbox.server import Sandbox

RBAC = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
  - {apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [ocr]}
  - {apiGroups: [weblogic.oracle], resources: [domains], verbs: [list]}
  - nonResourceURLs: [/healthz]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: writer, namespace: team-a}
rules:
  - {apiGroups: [wgpolicyk8s.io], resources: [policyreports], verbs: [create, update]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: writer, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: writer}
subjects: [{kind: ServiceAccount, name: bot}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: team-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: ServiceAccount, name: bot, namespace: team-a}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: auditors}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects: [{kind: Group, name: auditors}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: not-a-cluster-role}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: writer}
subjects: [{kind: User, name: mallory}]
"""


def docs() -> List[Dict[str, Any]]:
    return [d for d in yaml.safe_load_all(RBAC) if d]


def test_bindings_grant_their_roles_rules_where_they_apply() -> None:
    sb = Sandbox()
    sb.add_service_account_token("team-a", "bot", "bot-token")
    sb.add_user("alice", "alice-token", groups=["auditors"])
    sb.load_rbac(docs())
    bot = "system:serviceaccount:team-a:bot"
    # a RoleBinding of a Role: only in its namespace
    assert sb.can(bot, "create", "policyreports", "team-a", group="wgpolicyk8s.io")
    assert not sb.can(bot, "create", "policyreports", "team-b", group="wgpolicyk8s.io")
    assert not sb.can(bot, "delete", "policyreports", "team-a", group="wgpolicyk8s.io")
    # a RoleBinding of a ClusterRole: its rules, in the binding's namespace only
    assert sb.can(bot, "list", "domains", "team-b", group="weblogic.oracle")
    assert not sb.can(bot, "list", "domains", "team-a", group="weblogic.oracle")
    assert not sb.can(bot, "list", "domains", None, group="weblogic.oracle")
    # resourceNames: that name only; the API group must match
    assert sb.can(bot, "get", "secrets", "team-b", name="ocr")
    assert not sb.can(bot, "get", "secrets", "team-b", name="other")
    assert not sb.can(bot, "list", "secrets", "team-b")
    assert not sb.can(bot, "list", "domains", "team-b", group="")
    # a ClusterRoleBinding to a group: everywhere, for its members
    assert sb.can("alice", "list", "domains", None, group="weblogic.oracle")
    assert sb.can("alice", "list", "domains", "anywhere", group="weblogic.oracle")
    # a ClusterRoleBinding can only name a ClusterRole
    assert not sb.can("mallory", "create", "policyreports", "team-a", group="wgpolicyk8s.io")


def test_requests_are_denied_without_a_rule(tmp_path: Any) -> None:
    import json
    import ssl
    import urllib.error
    import urllib.request

    with Sandbox() as sb:
        sb.add_service_account_token("team-a", "bot", "bot-token")
        sb.load_rbac(docs())
        context = ssl.create_default_context(cafile=sb.ca_file)

        def status(path: str) -> int:
            req = urllib.request.Request(sb.url + path, headers={"Authorization": "Bearer bot-token"})
            try:
                with urllib.request.urlopen(req, context=context, timeout=10) as resp:
                    return int(resp.status)
            except urllib.error.HTTPError as exc:
                body = json.loads(exc.read())
                assert body["kind"] == "Status" and body["reason"] == "Forbidden"
                return int(exc.code)

        assert status("/apis/weblogic.oracle/v9/namespaces/team-b/domains") == 200
        assert status("/apis/weblogic.oracle/v9/namespaces/team-a/domains") == 403
        assert status("/apis/wgpolicyk8s.io/v1alpha2/namespaces/team-a/policyreports") == 403  # no list
        sb.clear_rules()
        assert status("/apis/weblogic.oracle/v9/namespaces/team-b/domains") == 403
