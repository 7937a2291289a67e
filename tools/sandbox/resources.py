"""The resource types the sandbox serves, and the discovery documents kubectl builds its REST mapping from."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

ALL_VERBS: Tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)

# Field selectors every kind accepts; the real server adds per-kind ones and answers 400 for the rest.
COMMON_FIELDS: Tuple[str, ...] = ("metadata.name", "metadata.namespace")


class ResourceType:
    """One served resource (group, plural) with what discovery, validation and selectors need to know."""

    def __init__(
        self,
        group: str,
        versions: Tuple[str, ...],
        plural: str,
        kind: str,
        namespaced: bool = True,
        short_names: Tuple[str, ...] = (),
        verbs: Tuple[str, ...] = ALL_VERBS,
        custom: bool = False,
        fields: Tuple[str, ...] = (),
        name_rule: str = "subdomain",
        categories: Tuple[str, ...] = (),
        status_subresource: Optional[bool] = None,
    ) -> None:
        self.group = group
        self.versions = versions
        self.plural = plural
        self.kind = kind
        self.singular = kind.lower()
        self.namespaced = namespaced
        self.short_names = short_names
        self.verbs = verbs
        self.custom = custom
        self.fields = COMMON_FIELDS + fields
        self.name_rule = name_rule
        self.categories = categories
        # CRDs served here have a status subresource unless told (PolicyReport's CRD has none)
        self.status_subresource = custom if status_subresource is None else status_subresource

    @property
    def storage_version(self) -> str:
        return self.versions[0]

    def api_version(self, version: Optional[str] = None) -> str:
        v = version or self.storage_version
        return f"{self.group}/{v}" if self.group else v

    @property
    def group_resource(self) -> str:
        """`secrets` or `domains.weblogic.oracle`, as the real server names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def discovery_entry(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        return entry


RESOURCES: List[ResourceType] = [
    ResourceType(
        "",
        ("v1",),
        "namespaces",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        fields=("status.phase",),
        name_rule="label",
    ),
    ResourceType("", ("v1",), "nodes", "Node", namespaced=False, short_names=("no",), fields=("spec.unschedulable",)),
    ResourceType("", ("v1",), "secrets", "Secret", fields=("type",)),
    ResourceType("", ("v1",), "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    ResourceType("", ("v1",), "configmaps", "ConfigMap", short_names=("cm",)),
    ResourceType(
        "",
        ("v1",),
        "pods",
        "Pod",
        short_names=("po",),
        categories=("all",),
        fields=(
            "status.phase",
            "spec.nodeName",
            "spec.serviceAccountName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "status.podIP",
            "status.nominatedNodeName",
        ),
    ),
    ResourceType(
        "",
        ("v1",),
        "events",
        "Event",
        short_names=("ev",),
        fields=(
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ),
    ),
    ResourceType(
        "weblogic.oracle",
        ("v9", "v8"),
        "domains",
        "Domain",
        short_names=("dom",),
        custom=True,
        categories=("all", "oracle", "weblogic"),
    ),
    ResourceType(
        "weblogic.oracle",
        ("v1",),
        "clusters",
        "Cluster",
        short_names=("clu",),
        custom=True,
        categories=("all", "oracle", "weblogic"),
    ),
    ResourceType(
        "wgpolicyk8s.io",
        ("v1alpha2",),
        "policyreports",
        "PolicyReport",
        short_names=("polr",),
        custom=True,
        status_subresource=False,
    ),
    ResourceType(
        "authorization.k8s.io",
        ("v1",),
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=("create",),
    ),
]


def find(group: str, version: str, plural: str) -> Optional[ResourceType]:
    for rt in RESOURCES:
        if rt.group == group and rt.plural == plural and version in rt.versions:
            return rt
    return None


def by_kind(kind: str, api_version: Optional[str] = None) -> Optional[ResourceType]:
    group = ""
    if api_version and "/" in api_version:
        group = api_version.split("/", 1)[0]
    for rt in RESOURCES:
        if rt.kind == kind and (api_version is None or rt.group == group):
            return rt
    return None


def groups() -> List[Tuple[str, Tuple[str, ...]]]:
    """Named API groups in a stable order with their versions, the preferred (storage) version first."""
    seen: Dict[str, List[str]] = {}
    for rt in RESOURCES:
        if not rt.group:
            continue
        versions = seen.setdefault(rt.group, [])
        for v in rt.versions:
            if v not in versions:
                versions.append(v)
    return [(g, tuple(vs)) for g, vs in seen.items()]


def api_versions(server_address: str) -> Dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group_doc(name: str, versions: Tuple[str, ...]) -> Dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> Dict[str, Any]:
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group_doc(g, vs) for g, vs in groups()]}


def api_group(name: str) -> Optional[Dict[str, Any]]:
    for g, vs in groups():
        if g == name:
            doc = _group_doc(g, vs)
            doc.update({"kind": "APIGroup", "apiVersion": "v1"})
            return doc
    return None


def resource_list(group: str, version: str) -> Optional[Dict[str, Any]]:
    served = [rt for rt in RESOURCES if rt.group == group and version in rt.versions]
    if not served:
        return None
    gv = f"{group}/{version}" if group else version
    resources = [rt.discovery_entry() for rt in served]
    for rt in served:
        if rt.status_subresource:
            resources.append(
                {
                    "name": f"{rt.plural}/status",
                    "singularName": "",
                    "namespaced": rt.namespaced,
                    "kind": rt.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}
