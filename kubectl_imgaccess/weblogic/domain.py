"""The WebLogic Kubernetes Operator's view of a Domain: which pods it creates and what each one pulls.

The audit has to reason about pods that may not exist yet, so this module rebuilds, from the Domain (and
its Cluster resources) alone, what the operator would put into each pod spec: the ServiceAccount, the
pull secrets and every image. Pods that share a ServiceAccount get the same credentials from the
kubelet, so they are grouped into one `PodGroup`: one pull path to check.

Operator behaviour modelled here (WKO 4.x, checked against the operator's pod and job builders):
- server pods run `spec.image`, the v9 model auxiliary images, the monitoring exporter sidecar (only
  when `spec.monitoringExporter.configuration` is set), the fluentd / fluent-bit sidecars (when their
  specification is present) and the `serverPod` containers and init containers of every level that
  applies to them (domain, then admin server / Cluster / managed server);
- the introspector Job pod runs `spec.image`, the model auxiliary images, the domain creation images,
  `spec.introspector.serverPod.initContainers`, the admin server's effective init containers whose
  name starts with `compat-` or `wls-shared-` (the v8 conversion's prefixes), the v8 auxiliary images
  of the admin server's effective spec, and the log sidecars when `watchIntrospectorLogs` (default true);
- ServiceAccount: the most specific `serverPod.serviceAccountName` of the pod's levels, else
  `default`; the introspector only ever uses the domain-level one;
- pull secrets: `spec.imagePullSecrets` for every pod, nothing per level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

from kubectl_imgaccess.objects import FieldRef, ObjectKey

SERVER = "server"
INTROSPECTOR = "introspector"
DEFAULT_SERVICE_ACCOUNT = "default"
IGNORE_ANNOTATION = "imgaccess.weblogic.oracle/ignore"
# Init container name prefixes the operator copies from the admin server's spec into the introspector pod.
INTROSPECTOR_INIT_PREFIXES = ("compat-", "wls-shared-")
V8_API_VERSION = "weblogic.oracle/v8"


class DomainError(ValueError):
    """The Domain (or a Cluster it references) is not shaped as the CRD requires; names the field path."""


@dataclass(frozen=True)
class OperatorDefaults:
    """Images the operator substitutes when a Domain leaves the field unset (one operator release)."""

    weblogic_image: str
    exporter_image: str
    fluentd_image: str
    fluentbit_image: str


# From the operator's KubernetesConstants (DEFAULT_IMAGE, DEFAULT_EXPORTER_IMAGE, DEFAULT_FLUENTD_IMAGE) in
# 4.x. FluentbitSpecification defaults its image to DEFAULT_FLUENTD_IMAGE as well: there is no separate
# fluent-bit default in the operator, so the fluentd image is what a pod without `image` really runs.
DEFAULTS = OperatorDefaults(
    weblogic_image="container-registry.oracle.com/middleware/weblogic:12.2.1.4",
    exporter_image="ghcr.io/oracle/weblogic-monitoring-exporter:2.3.0",
    fluentd_image="fluent/fluentd-kubernetes-daemonset:v1.16.1-debian-elasticsearch7-1.2",
    fluentbit_image="fluent/fluentd-kubernetes-daemonset:v1.16.1-debian-elasticsearch7-1.2",
)


@dataclass(frozen=True)
class ImageUse:
    """One image-bearing field and the pods of one group that pull it."""

    image: str
    field: FieldRef
    pods: FrozenSet[str]
    pull_policy: str
    pull_policy_field: Optional[FieldRef]
    defaulted: bool


@dataclass(frozen=True)
class PodGroup:
    """Pods of one Domain that share one ServiceAccount: one pull path to audit."""

    service_account: str
    service_account_field: Optional[FieldRef]
    roles: Tuple[str, ...]
    images: Tuple[ImageUse, ...]


@dataclass(frozen=True)
class PullSecretRef:
    """One `spec.imagePullSecrets` entry as written; an empty name still counts as "the pod lists secrets"."""

    name: str
    field: FieldRef


@dataclass(frozen=True)
class ClusterRef:
    """A Cluster resource named by a v9 Domain."""

    name: str
    field: FieldRef


@dataclass(frozen=True)
class DomainModel:
    """Everything the credential audit needs to know about one Domain."""

    key: ObjectKey
    domain_uid: str
    api_version: str
    pull_secrets: Tuple[PullSecretRef, ...]
    lists_pull_secrets: bool
    groups: Tuple[PodGroup, ...]
    missing_clusters: Tuple[ClusterRef, ...]
    ignore: FrozenSet[str]


# ---------------------------------------------------------------- reading plain dicts with a path


def _mapping(value: Any, path: str) -> Optional[Mapping[str, Any]]:
    """None for an absent (or YAML-null) field; the object itself; DomainError for anything else."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    raise DomainError(f"{path}: expected an object, got {_kind(value)}")


def _list(value: Any, path: str) -> List[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise DomainError(f"{path}: expected a list, got {_kind(value)}")


def _string(value: Any, path: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    raise DomainError(f"{path}: expected a string, got {_kind(value)}")


def _bool(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise DomainError(f"{path}: expected true or false, got {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _child(parent: Optional[Mapping[str, Any]], key: str, path: str) -> Optional[Mapping[str, Any]]:
    return None if parent is None else _mapping(parent.get(key), f"{path}.{key}")


# ---------------------------------------------------------------- pull policies


def operator_pull_policy(image: str) -> str:
    """The operator's rule for containers it builds: only an explicit ":latest" means Always."""
    return "Always" if image.endswith(":latest") else "IfNotPresent"


def kubernetes_pull_policy(image: str) -> str:
    """The API server's default for containers passed through as written: no tag (and no digest) is latest."""
    if "@" in image:
        name = image.split("@", 1)[0]
        last = name.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
    else:
        last = image.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


# ---------------------------------------------------------------- image fields


@dataclass(frozen=True)
class _Field:
    """One image-bearing field; `order` keeps the Domain's layout order when groups are assembled."""

    order: int
    image: str
    field: FieldRef
    pull_policy: str
    pull_policy_field: Optional[FieldRef]
    defaulted: bool
    container_name: str = ""


class _Fields:
    """Numbers fields in the order they are found, so every group lists images in one stable order."""

    def __init__(self) -> None:
        self._next = 0

    def add(
        self,
        obj: ObjectKey,
        path: str,
        holder: Mapping[str, Any],
        *,
        default_image: Optional[str] = None,
        passthrough: bool = False,
        image_key: str = "image",
        policy_key: str = "imagePullPolicy",
        policy_path: Optional[str] = None,
    ) -> Optional[_Field]:
        """The image at `holder[image_key]` (under `path`), else the default; None when there is neither."""
        image_path = f"{path}.{image_key}" if path else image_key
        written = _string(holder.get(image_key), image_path)
        defaulted = written is None
        image = default_image if written is None else written
        if image is None:
            return None
        ppath = policy_path if policy_path is not None else (f"{path}.{policy_key}" if path else policy_key)
        policy = _string(holder.get(policy_key), ppath)
        if policy:
            effective, policy_ref = policy, FieldRef(obj, ppath)
        else:
            effective = kubernetes_pull_policy(image) if passthrough else operator_pull_policy(image)
            policy_ref = None
        name = _string(holder.get("name"), f"{path}.name") or ""
        self._next += 1
        return _Field(self._next, image, FieldRef(obj, image_path), effective, policy_ref, defaulted, name)

    def add_defaulted(
        self, obj: ObjectKey, path: str, holder: Mapping[str, Any], default_image: str
    ) -> _Field:
        """A field the operator always fills: the written image, else `default_image`."""
        use = self.add(obj, path, holder, default_image=default_image)
        if use is None:  # unreachable: a default was given
            raise DomainError(f"{path}.image: no image")
        return use

    def each(
        self,
        obj: ObjectKey,
        path: str,
        items: Any,
        *,
        passthrough: bool,
    ) -> List[_Field]:
        """Each entry of a list of image holders (containers, auxiliary images) that names an image."""
        found: List[_Field] = []
        for i, item in enumerate(_list(items, path)):
            entry = _mapping(item, f"{path}[{i}]")
            if entry is None:
                continue
            use = self.add(obj, f"{path}[{i}]", entry, passthrough=passthrough)
            if use is not None:
                found.append(use)
        return found


@dataclass(frozen=True)
class _Level:
    """What one `serverPod` block contributes: its ServiceAccount and the images it adds to pods."""

    service_account: Optional[str]
    service_account_field: Optional[FieldRef]
    containers: Tuple[_Field, ...]
    init_containers: Tuple[_Field, ...]
    v8_aux: Tuple[_Field, ...]

    @property
    def server_images(self) -> Tuple[_Field, ...]:
        return self.v8_aux + self.init_containers + self.containers


_EMPTY_LEVEL = _Level(None, None, (), (), ())


def _level(
    fields: _Fields, obj: ObjectKey, owner: Optional[Mapping[str, Any]], path: str, v8: bool
) -> _Level:
    """Read `<path>.serverPod` of `owner` (None = level absent)."""
    pod = _child(owner, "serverPod", path)
    if pod is None:
        return _EMPTY_LEVEL
    pod_path = f"{path}.serverPod"
    sa_path = f"{pod_path}.serviceAccountName"
    sa = _string(pod.get("serviceAccountName"), sa_path)
    aux: List[_Field] = []
    if v8:
        # v8 auxiliary images: the operator built init containers from them with its own pull-policy rule.
        aux = fields.each(obj, f"{pod_path}.auxiliaryImages", pod.get("auxiliaryImages"), passthrough=False)
    init = fields.each(obj, f"{pod_path}.initContainers", pod.get("initContainers"), passthrough=True)
    containers = fields.each(obj, f"{pod_path}.containers", pod.get("containers"), passthrough=True)
    return _Level(
        sa,
        FieldRef(obj, sa_path) if sa is not None else None,
        tuple(containers),
        tuple(init),
        tuple(aux),
    )


@dataclass
class _Role:
    """One pod (or set of like pods) of the Domain before grouping."""

    name: str
    kind: str
    service_account: str
    service_account_field: Optional[FieldRef]
    images: List[_Field]


def _service_account(levels: Sequence[_Level]) -> Tuple[str, Optional[FieldRef]]:
    """The most specific level that sets serviceAccountName wins; "" there means the namespace default."""
    for level in levels:
        if level.service_account is not None:
            return level.service_account or DEFAULT_SERVICE_ACCOUNT, level.service_account_field
    return DEFAULT_SERVICE_ACCOUNT, None


# ---------------------------------------------------------------- public entry points


def _spec(domain: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(domain, Mapping):
        raise DomainError(f"Domain: expected an object, got {_kind(domain)}")
    spec = _mapping(domain.get("spec"), "spec")
    if spec is None:
        raise DomainError("spec: missing")
    return spec


def _api_version(domain: Mapping[str, Any]) -> str:
    return _string(domain.get("apiVersion"), "apiVersion") or ""


@dataclass(frozen=True)
class _ClusterEntry:
    index: int
    name: str
    reference: bool  # True: a v9 reference to a Cluster resource; False: an inline (v8 / 4.0-dev) cluster
    entry: Mapping[str, Any]


def _cluster_entries(spec: Mapping[str, Any], api_version: str) -> List[_ClusterEntry]:
    """`spec.clusters[]`: `{name}` references a Cluster resource in v9; `clusterName` entries are inline."""
    entries: List[_ClusterEntry] = []
    for i, item in enumerate(_list(spec.get("clusters"), "spec.clusters")):
        path = f"spec.clusters[{i}]"
        entry = _mapping(item, path)
        if entry is None:
            continue
        cluster_name = _string(entry.get("clusterName"), f"{path}.clusterName")
        name = _string(entry.get("name"), f"{path}.name")
        if cluster_name is None and name is not None and api_version != V8_API_VERSION:
            entries.append(_ClusterEntry(i, name, True, entry))
        else:
            entries.append(_ClusterEntry(i, cluster_name or name or f"clusters[{i}]", False, entry))
    return entries


def cluster_names(domain: Mapping[str, Any]) -> List[str]:
    """Names of the Cluster resources a v9 Domain references (so a reader can fetch them), in spec order."""
    spec = _spec(domain)
    names: List[str] = []
    for entry in _cluster_entries(spec, _api_version(domain)):
        if entry.reference and entry.name not in names:
            names.append(entry.name)
    return names


def _ignore(metadata: Optional[Mapping[str, Any]]) -> FrozenSet[str]:
    annotations = _child(metadata, "annotations", "metadata")
    if annotations is None:
        return frozenset()
    raw = _string(annotations.get(IGNORE_ANNOTATION), f"metadata.annotations[{IGNORE_ANNOTATION}]")
    if not raw:
        return frozenset()
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _pull_secrets(spec: Mapping[str, Any], key: ObjectKey) -> Tuple[PullSecretRef, ...]:
    refs: List[PullSecretRef] = []
    for i, item in enumerate(_list(spec.get("imagePullSecrets"), "spec.imagePullSecrets")):
        path = f"spec.imagePullSecrets[{i}]"
        entry = _mapping(item, path)
        name = "" if entry is None else (_string(entry.get("name"), f"{path}.name") or "")
        refs.append(PullSecretRef(name, FieldRef(key, path)))
    return tuple(refs)


def model_domain(
    domain: Mapping[str, Any],
    clusters: Mapping[str, Mapping[str, Any]],
    defaults: OperatorDefaults = DEFAULTS,
    namespace: str = "default",
) -> DomainModel:
    """Model one Domain; `clusters` are the Cluster objects of its namespace by name (may be partial)."""
    spec = _spec(domain)
    metadata = _mapping(domain.get("metadata"), "metadata")
    name = (_string(metadata.get("name"), "metadata.name") if metadata else None) or ""
    ns = (_string(metadata.get("namespace"), "metadata.namespace") if metadata else None) or namespace
    key = ObjectKey("Domain", ns, name)
    api_version = _api_version(domain)
    domain_uid = _string(spec.get("domainUID"), "spec.domainUID") or name
    pull_secrets = _pull_secrets(spec, key)

    fields = _Fields()

    # Images every server pod and the introspector run (operator-built containers).
    base = fields.add_defaulted(key, "spec", spec, defaults.weblogic_image)
    configuration = _child(spec, "configuration", "spec")
    model = _child(configuration, "model", "spec.configuration")
    model_aux = fields.each(
        key,
        "spec.configuration.model.auxiliaryImages",
        None if model is None else model.get("auxiliaryImages"),
        passthrough=False,
    )
    on_pv = _child(configuration, "initializeDomainOnPV", "spec.configuration")
    on_pv_domain = _child(on_pv, "domain", "spec.configuration.initializeDomainOnPV")
    creation_images = fields.each(
        key,
        "spec.configuration.initializeDomainOnPV.domain.domainCreationImages",
        None if on_pv_domain is None else on_pv_domain.get("domainCreationImages"),
        passthrough=False,
    )

    # serverPod levels, in layout order.
    domain_level = _level(fields, key, spec, "spec", v8=True)
    admin = _child(spec, "adminServer", "spec")
    admin_level = _level(fields, key, admin, "spec.adminServer", v8=True)

    cluster_roles: List[Tuple[str, _Level]] = []
    missing: List[ClusterRef] = []
    for entry in _cluster_entries(spec, api_version):
        path = f"spec.clusters[{entry.index}]"
        if not entry.reference:
            cluster_roles.append((entry.name, _level(fields, key, entry.entry, path, v8=True)))
            continue
        cluster = clusters.get(entry.name)
        if cluster is None:
            missing.append(ClusterRef(entry.name, FieldRef(key, f"{path}.name")))
            continue
        cluster_roles.append((entry.name, _cluster_level(fields, cluster, entry.name, ns)))

    managed_roles: List[Tuple[str, _Level]] = []
    for i, item in enumerate(_list(spec.get("managedServers"), "spec.managedServers")):
        path = f"spec.managedServers[{i}]"
        server = _mapping(item, path)
        if server is None:
            continue
        server_name = _string(server.get("serverName"), f"{path}.serverName") or f"managedServers[{i}]"
        managed_roles.append((server_name, _level(fields, key, server, path, v8=True)))

    introspector = _child(spec, "introspector", "spec")
    introspector_init = list(_level(fields, key, introspector, "spec.introspector", v8=False).init_containers)

    # Sidecars the operator adds to server pods (and, for the log shippers, to the introspector).
    sidecars: List[_Field] = []
    exporter = _child(spec, "monitoringExporter", "spec")
    if exporter is not None and exporter.get("configuration") is not None:
        exporter_use = fields.add_defaulted(key, "spec.monitoringExporter", exporter, defaults.exporter_image)
        sidecars.append(exporter_use)
    log_sidecars: List[_Field] = []
    for field_name, default_image in (
        ("fluentdSpecification", defaults.fluentd_image),
        ("fluentbitSpecification", defaults.fluentbit_image),
    ):
        shipper = _child(spec, field_name, "spec")
        if shipper is None:
            continue
        path = f"spec.{field_name}"
        use = fields.add_defaulted(key, path, shipper, default_image)
        sidecars.append(use)
        if _bool(shipper.get("watchIntrospectorLogs"), f"{path}.watchIntrospectorLogs", True):
            log_sidecars.append(use)

    server_common = [base, *model_aux]

    roles: List[_Role] = []

    def server_role(role: str, level: _Level) -> None:
        sa, sa_field = _service_account([level, domain_level])
        images = server_common + list(domain_level.server_images) + list(level.server_images) + sidecars
        roles.append(_Role(role, SERVER, sa, sa_field, images))

    server_role("admin-server", admin_level)
    for cluster_name, level in cluster_roles:
        server_role(f"cluster {cluster_name}", level)
    for server_name, level in managed_roles:
        server_role(f"managed-server {server_name}", level)

    sa, sa_field = _service_account([domain_level])
    compat_init = [
        use
        for use in domain_level.init_containers + admin_level.init_containers
        if use.container_name.startswith(INTROSPECTOR_INIT_PREFIXES)
    ]
    introspector_images = [
        base,
        *model_aux,
        *creation_images,
        *domain_level.v8_aux,
        *admin_level.v8_aux,
        *compat_init,
        *introspector_init,
        *log_sidecars,
    ]
    roles.append(_Role("introspector", INTROSPECTOR, sa, sa_field, introspector_images))

    return DomainModel(
        key=key,
        domain_uid=domain_uid,
        api_version=api_version,
        pull_secrets=pull_secrets,
        lists_pull_secrets=bool(pull_secrets),
        groups=_group(roles),
        missing_clusters=tuple(missing),
        ignore=_ignore(metadata),
    )


def _cluster_level(fields: _Fields, cluster: Mapping[str, Any], name: str, namespace: str) -> _Level:
    """The `spec.serverPod` of a Cluster resource, with field references into that object."""
    if not isinstance(cluster, Mapping):
        raise DomainError(f"Cluster {name}: expected an object, got {_kind(cluster)}")
    metadata = _mapping(cluster.get("metadata"), f"Cluster {name} metadata")
    written_ns = None if metadata is None else metadata.get("namespace")
    ns = _string(written_ns, f"Cluster {name} metadata.namespace") or namespace
    obj = ObjectKey("Cluster", ns, name)
    try:
        spec = _mapping(cluster.get("spec"), "spec")
        return _level(fields, obj, spec, "spec", v8=False)
    except DomainError as err:
        raise DomainError(f"Cluster {name}: {err}") from None


def _group(roles: Sequence[_Role]) -> Tuple[PodGroup, ...]:
    """Merge roles by ServiceAccount: same ServiceAccount, same pull secrets, one pull path."""
    order: List[str] = []
    members: Dict[str, List[_Role]] = {}
    for role in roles:
        if role.service_account not in members:
            order.append(role.service_account)
            members[role.service_account] = []
        members[role.service_account].append(role)

    groups: List[PodGroup] = []
    for sa in order:
        group_roles = members[sa]
        pods: Dict[int, Set[str]] = {}
        by_order: Dict[int, _Field] = {}
        for role in group_roles:
            for use in role.images:
                by_order[use.order] = use
                pods.setdefault(use.order, set()).add(role.kind)
        images = tuple(
            ImageUse(
                image=use.image,
                field=use.field,
                pods=frozenset(pods[use.order]),
                pull_policy=use.pull_policy,
                pull_policy_field=use.pull_policy_field,
                defaulted=use.defaulted,
            )
            for use in (by_order[o] for o in sorted(by_order))
        )
        sa_field = next((r.service_account_field for r in group_roles if r.service_account_field), None)
        groups.append(PodGroup(sa, sa_field, tuple(r.name for r in group_roles), images))
    return tuple(groups)
