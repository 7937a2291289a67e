"""fix's writes to a cluster, on the cluster adapter's connection.

Only three kinds, only create/replace/JSON patch (never delete), only in the namespaces the caller
allows. `dry_run="server"` sends every write with `dryRun=All`. Request bodies are never logged: a
Secret's body holds its values.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Set

from kubectl_imgaccess.audit.snapshot import Obj
from kubectl_imgaccess.errors import ClusterError, Conflict, FixRefused, Invalid
from kubectl_imgaccess.kube.client import ClusterClient, connect
from kubectl_imgaccess.kube.reader import DOMAIN, SECRET, SERVICE_ACCOUNT, _Kind
from kubectl_imgaccess.kube.scope import ClusterScope

log = logging.getLogger("kubectl_imgaccess.fix")

KINDS: Dict[str, _Kind] = {"Domain": DOMAIN, "Secret": SECRET, "ServiceAccount": SERVICE_ACCOUNT}
JSON_PATCH = "application/json-patch+json"


class ClusterWriter:
    """Implements fix.apply.Writer against one API server."""

    def __init__(self, client: ClusterClient, namespaces: Set[str], dry_run: str = "none") -> None:
        if dry_run not in ("none", "server"):
            raise ValueError("a client-side dry run sends nothing: do not make a writer for it")
        self.client = client
        self.namespaces = set(namespaces)
        self.dry_run = dry_run

    def _kind(self, kind: str, namespace: str) -> _Kind:
        if kind not in KINDS:
            raise FixRefused(f"fix does not write {kind} objects")
        return KINDS[kind]

    def _guard(self, kind: str, namespace: str) -> _Kind:
        if namespace not in self.namespaces:
            raise FixRefused(f"{kind} in namespace {namespace}: outside the Domains' namespaces, not written")
        return self._kind(kind, namespace)

    def _query(self) -> Optional[List[Any]]:
        return [("dryRun", "All")] if self.dry_run == "server" else None

    def read(self, kind: str, namespace: str, name: str) -> Optional[Obj]:
        spec = self._kind(kind, namespace)
        obj = self.client.get(spec.path(namespace, name))
        if obj is not None:
            obj.setdefault("kind", spec.kind)
            obj.setdefault("apiVersion", spec.group_version)
        return obj

    def create(self, kind: str, namespace: str, body: Obj) -> Obj:
        spec = self._guard(kind, namespace)
        log.debug("create %s %s/%s%s", kind, namespace, (body.get("metadata") or {}).get("name"), self._note())
        return self._obj(self.client.request("POST", spec.path(namespace), query=self._query(), body=body))

    def replace(self, kind: str, namespace: str, name: str, body: Obj) -> Obj:
        spec = self._guard(kind, namespace)
        rv = (body.get("metadata") or {}).get("resourceVersion")
        if not rv:
            raise AssertionError("a replace without resourceVersion could lose a concurrent change")
        log.debug("replace %s %s/%s at resourceVersion %s%s", kind, namespace, name, rv, self._note())
        return self._obj(self.client.request("PUT", spec.path(namespace, name), query=self._query(), body=body))

    def json_patch(self, kind: str, namespace: str, name: str, ops: List[Dict[str, Any]]) -> Obj:
        spec = self._guard(kind, namespace)
        if any(op.get("op") in ("remove", "move") for op in ops):
            raise AssertionError("fix never removes anything")
        log.debug("JSON patch %s %s/%s: %s%s", kind, namespace, name,
                  ", ".join(f"{op['op']} {op['path']}" for op in ops), self._note())
        try:
            return self._obj(self.client.request("PATCH", spec.path(namespace, name), query=self._query(),
                                                 body=ops, content_type=JSON_PATCH))
        except Invalid as exc:
            # 422 is what the API server answers when a `test` op fails: the object moved on.
            if any(op.get("op") == "test" for op in ops):
                raise Conflict(exc.server, exc.status, exc.detail, exc.reason) from None
            raise

    def _note(self) -> str:
        return " (dryRun=All)" if self.dry_run == "server" else ""

    def _obj(self, answer: Any) -> Obj:
        if not isinstance(answer, dict):
            raise ClusterError(f"{self.client.server}: a write was answered without an object")
        return answer


def open_writer(scope: ClusterScope, namespaces: Set[str], dry_run: str = "none") -> ClusterWriter:
    return ClusterWriter(connect(scope), namespaces, dry_run)


def read_secret(scope: ClusterScope, namespace: str, name: str) -> Optional[Obj]:
    """One Secret by name (for --copy-from); None when absent."""
    client = connect(scope)
    obj = client.get(SECRET.path(namespace, name))
    if obj is not None:
        obj.setdefault("kind", "Secret")
        obj.setdefault("apiVersion", "v1")
    return obj
