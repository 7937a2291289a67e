"""Who is calling (bearer token or client certificate) and what they may do (RBAC-like rules).

The rules are the union of grants like ClusterRoleBindings (no namespaces) and RoleBindings (namespaces
given); a request with no matching rule is denied, as RBAC denies by default.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

SUPERUSER_GROUP = "system:masters"
ANONYMOUS = "system:anonymous"


class User:
    """An authenticated identity: a name and its groups."""

    def __init__(self, name: str, groups: Sequence[str] = ()) -> None:
        self.name = name
        self.groups = tuple(groups)

    def __repr__(self) -> str:
        return f"User({self.name!r}, groups={self.groups!r})"


class Rule:
    """One grant for a subject (user or group name): verbs on resources in API groups, in namespaces.

    `namespaces=None` grants cluster-wide (all namespaces and cluster-scoped requests), like a
    ClusterRoleBinding; a list grants only inside those namespaces, like RoleBindings. "*" matches all.
    """

    def __init__(
        self,
        subject: str,
        verbs: Sequence[str],
        resources: Sequence[str],
        namespaces: Optional[Sequence[str]] = None,
        api_groups: Sequence[str] = ("*",),
        resource_names: Sequence[str] = (),
    ) -> None:
        self.subject = subject
        self.verbs = tuple(verbs)
        self.resources = tuple(resources)
        self.namespaces = None if namespaces is None else tuple(namespaces)
        self.api_groups = tuple(api_groups)
        self.resource_names = tuple(resource_names)

    def matches(self, verb: str, resource: str, group: str, namespace: Optional[str], name: Optional[str]) -> bool:
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        if "*" not in self.api_groups and group not in self.api_groups:
            return False
        if "*" not in self.resources and resource not in self.resources:
            return False
        if self.resource_names and (name is None or name not in self.resource_names):
            return False
        if self.namespaces is None:
            return True
        return namespace is not None and ("*" in self.namespaces or namespace in self.namespaces)


class Authority:
    """Tokens, users and rules, shared by the HTTP handler and SelfSubjectAccessReview."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: Dict[str, User] = {}
        self._rules: List[Rule] = []

    def add_user(self, name: str, token: str, groups: Sequence[str] = (), superuser: bool = False) -> User:
        user = User(name, tuple(groups) + ((SUPERUSER_GROUP,) if superuser else ()))
        with self._lock:
            for t, u in list(self._tokens.items()):
                if u.name == name and t != token:
                    del self._tokens[t]
            self._tokens[token] = user
        return user

    def user_for_token(self, token: str) -> Optional[User]:
        with self._lock:
            return self._tokens.get(token)

    def add_rule(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear_rules(self) -> None:
        with self._lock:
            self._rules = []

    def token_of(self, name: str) -> Optional[str]:
        with self._lock:
            for t, u in self._tokens.items():
                if u.name == name:
                    return t
        return None

    def groups_of(self, name: str) -> Tuple[str, ...]:
        with self._lock:
            for u in self._tokens.values():
                if u.name == name:
                    return u.groups
        return ()

    def allowed(
        self,
        user: User,
        verb: str,
        resource: str,
        group: str,
        namespace: Optional[str],
        name: Optional[str] = None,
    ) -> bool:
        if SUPERUSER_GROUP in user.groups:
            return True
        subjects = {user.name, *user.groups}
        with self._lock:
            rules = list(self._rules)
        return any(r.subject in subjects and r.matches(verb, resource, group, namespace, name) for r in rules)


def service_account_user(namespace: str, name: str) -> str:
    """The user name the API server gives a ServiceAccount's token."""
    return f"system:serviceaccount:{namespace}:{name}"


def service_account_groups(namespace: str) -> Tuple[str, ...]:
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated")


def _subject_name(subject: Dict[str, Any], binding_ns: Optional[str]) -> Optional[str]:
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or binding_ns
        return service_account_user(str(ns), str(subject.get("name"))) if ns and subject.get("name") else None
    if kind in ("User", "Group"):
        return str(subject.get("name")) if subject.get("name") else None
    return None


def rules_from_rbac(objects: Sequence[Dict[str, Any]]) -> List[Rule]:
    """RBAC as the API server evaluates it, from rbac.authorization.k8s.io/v1 objects: each binding's subjects
    get the rules of the role it names (apiGroups, resources, verbs, resourceNames), cluster-wide for a
    ClusterRoleBinding, inside its namespace for a RoleBinding (of a Role there, or of a ClusterRole). Bindings
    whose role is not among the objects grant nothing, as on a server; nonResourceURLs are not modelled."""
    roles: Dict[Tuple[str, str, str], List[Dict[str, Any]]] = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") in ("ClusterRole", "Role"):
            role_ns = str(meta.get("namespace") or "") if obj["kind"] == "Role" else ""
            rules = [r for r in obj.get("rules") or [] if isinstance(r, dict)]
            roles[(obj["kind"], role_ns, str(meta.get("name")))] = rules
    granted: List[Rule] = []
    for obj in objects:
        kind = obj.get("kind")
        if kind not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        meta = obj.get("metadata") or {}
        ns: Optional[str] = str(meta.get("namespace") or "") if kind == "RoleBinding" else None
        ref = obj.get("roleRef") or {}
        role_kind = str(ref.get("kind"))
        key = (role_kind, (ns or "") if role_kind == "Role" else "", str(ref.get("name")))
        if kind == "ClusterRoleBinding" and role_kind != "ClusterRole":
            continue
        for subject in obj.get("subjects") or []:
            who = _subject_name(subject, ns) if isinstance(subject, dict) else None
            if who is None:
                continue
            for r in roles.get(key, []):
                if not r.get("resources"):
                    continue  # nonResourceURLs only
                granted.append(Rule(who, r.get("verbs") or [], r["resources"], None if ns is None else [ns],
                                    r.get("apiGroups") or [], r.get("resourceNames") or ()))
    return granted
