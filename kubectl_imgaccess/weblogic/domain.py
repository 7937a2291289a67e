"""The WebLogic Kubernetes Operator's view of a Domain: which pods it creates and what each one pulls.

The audit has to reason about pods that may not exist yet, so this module rebuilds, from the Domain (and
its Cluster resources) alone, what the operator would put into each pod spec: the ServiceAccount, the
pull secrets and every image. Pods that share a ServiceAccount get the same credentials from the
kubelet, so they are grouped into one `PodGroup`: one pull path to check. An image field the author
wrote but no pod pulls is returned as an `IgnoredField`, with the reason, instead of being audited.

Operator behaviour modelled here (WKO 4.x, main at 4.3.0-SNAPSHOT; file:line in that tree):
- only `weblogic.oracle/v9` and `v8` Domains are served (domain-crd.yaml:25, 10873); anything else is a
  DomainError;
- `domainHomeSourceType` defaults to FromModel when `configuration.model` is set, else Image
  (DomainSpec.java:812-822); a v8 `domainHomeInImage` becomes Image / PersistentVolume
  (SchemaConversionUtils.java:444-453);
- `configuration.model.auxiliaryImages` are pulled only for FromModel (DomainResource.java:805-807), by
  the server pods and the introspector; `initializeDomainOnPV.domain.domainCreationImages` only for
  PersistentVolume (DomainResource.java:809-811), by the introspector alone;
- v8 `serverPod.auxiliaryImages` become `compat-` init containers only when `spec.auxiliaryImageVolumes`
  is set (SchemaConversionUtils.java:241-256); the v8 schema has no model auxiliary images, no
  `initializeDomainOnPV`, no `fluentbitSpecification` and no `introspector`, so the API server prunes them;
- there is no `spec.introspector.serverPod.initContainers` (or `containers`): the v9 schema allows only
  podSecurityContext, resources, env and envFrom there (domain-crd.yaml:4265-4427, IntrospectorJobPod.java);
- server pods run `spec.image`, the model auxiliary images, the monitoring exporter sidecar only when
  `spec.monitoringExporter.configuration` is set (PodStepContext.java:189-192), the fluentd / fluent-bit
  sidecars when their specification is present (PodStepContext.java:769-777), and the `serverPod`
  containers and init containers of their levels, merged by name: the most specific level wins and a
  less specific one is added only when its name is missing (ServerPod.java:548-553, 618-628; order
  server <- cluster <- domain, EffectiveServerSpecCommonImpl.java:49-56);
- the introspector Job pod runs `spec.image`, the model auxiliary and domain creation images, the
  `create-dh-dir` init container (`spec.image` with no pull policy) whenever `initializeDomainOnPV` is set
  (JobStepContext.java:458-468, 482-500), those of the admin server's effective init containers whose name
  starts with `compat-` or `wls-shared-` (JobStepContext.java:159-161, 252-254, 463-466), and the log
  sidecars only when their `watchIntrospectorLogs` is true, the default (JobStepContext.java:788-811,
  FluentdSpecification.java:78);
- `serverStartPolicy`: a Cluster or managed server with Never, and every Cluster and managed server of an
  AdminOnly Domain, gets no pod (BaseConfiguration.java:75-93, EffectiveManagedServerSpecCommonImpl.java:
  21-27); a Domain (or admin server) with Never runs no pod at all (DomainSpec.java:1360-1362,
  DomainPresenceStep.java:34-38), and is audited as it will run once started;
- ServiceAccount: the most specific `serverPod.serviceAccountName` of the pod's levels, else `default`;
  the introspector only ever uses the domain-level one (JobStepContext.java:571);
- pull secrets: `spec.imagePullSecrets` for every pod, nothing per level;
- only the Clusters a Domain references in `spec.clusters` count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Sequence, Set, Tuple

from kubectl_imgaccess.objects import (
    FieldRef,
    ObjectKey,
    describe_ref,
    json_kind,
    shared_set,
    shared_text,
    slotted,
)

SERVER = "server"
INTROSPECTOR = "introspector"
SERVER_NAME_LABEL = "weblogic.serverName"  # on every server pod the operator makes
INTROSPECTOR_JOB_SUFFIX = "-introspector"  # the Job <domainUID>-introspector; its pod <domainUID>-introspector-xxxxx
JOB_NAME_LABEL = "job-name"  # on a Job's pods: the Job's name
POD_KIND_LABELS = (SERVER_NAME_LABEL, JOB_NAME_LABEL)  # the labels pod_kind reads
# The reason of the Failed condition the operator sets when the introspector fails.
INTROSPECTION_FAILURE = "Introspection"
DEFAULT_SERVICE_ACCOUNT = "default"
IGNORE_ANNOTATION = "imgaccess.weblogic.oracle/ignore"
# Init container name prefixes the operator copies from the admin server's spec into the introspector pod.
INTROSPECTOR_INIT_PREFIXES = ("compat-", "wls-shared-")
V9_API_VERSION = "weblogic.oracle/v9"  # the storage version: what a cluster is asked for
V8_API_VERSION = "weblogic.oracle/v8"
SERVED_API_VERSIONS = (V9_API_VERSION, V8_API_VERSION)  # operator 4.x serves these and no others
FROM_MODEL = "FromModel"
IMAGE = "Image"
PERSISTENT_VOLUME = "PersistentVolume"
SOURCE_TYPES = (IMAGE, PERSISTENT_VOLUME, FROM_MODEL)
NEVER = "Never"
ADMIN_ONLY = "AdminOnly"
# v8 spells serverStartPolicy in upper case; the conversion to v9 renames them (SchemaConversionUtils).
_V8_START_POLICIES = {"NEVER": NEVER, "ADMIN_ONLY": ADMIN_ONLY, "IF_NEEDED": "IfNeeded", "ALWAYS": "Always"}


def unserved_api_version(api_version: str) -> Optional[str]:
    """Why a Domain's apiVersion cannot be audited, or None when operator 4.x serves it (or it is not written)."""
    if not api_version or api_version in SERVED_API_VERSIONS:
        return None
    return f"apiVersion {api_version}: operator 4.x serves weblogic.oracle/v9 and v8 only"


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


@slotted
@dataclass(frozen=True)
class ImageUse:
    """One image-bearing field and the pods of one group that pull it."""

    image: str
    field: FieldRef
    pods: FrozenSet[str]
    pull_policy: str
    pull_policy_field: Optional[FieldRef]
    defaulted: bool


@slotted
@dataclass(frozen=True)
class PodGroup:
    """Pods of one Domain that share one ServiceAccount: one pull path to audit."""

    service_account: str
    service_account_field: Optional[FieldRef]
    roles: Tuple[str, ...]
    images: Tuple[ImageUse, ...]


@slotted
@dataclass(frozen=True)
class PullSecretRef:
    """One `spec.imagePullSecrets` entry as written; an empty name still counts as "the pod lists secrets"."""

    name: str
    field: FieldRef


@slotted
@dataclass(frozen=True)
class ClusterRef:
    """A Cluster resource named by a v9 Domain."""

    name: str
    field: FieldRef


@slotted
@dataclass(frozen=True)
class IgnoredField:
    """Something the author wrote that no pod of the Domain pulls, and why: reported, never audited."""

    field: FieldRef
    image: Optional[str]  # the image written there, when there is one
    message: str  # why, without the image (a report puts the image first)


@slotted
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
    source_type: str = IMAGE
    ignored_fields: Tuple[IgnoredField, ...] = ()


# ---------------------------------------------------------------- reading plain dicts with a path


def _mapping(value: Any, path: str) -> Optional[Mapping[str, Any]]:
    """None for an absent (or YAML-null) field; the object itself; DomainError for anything else."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    raise DomainError(f"{path}: expected an object, got {json_kind(value)}")


def _list(value: Any, path: str) -> List[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise DomainError(f"{path}: expected a list, got {json_kind(value)}")


def _string(value: Any, path: str) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    raise DomainError(f"{path}: expected a string, got {json_kind(value)}")


def _bool(value: Any, path: str, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise DomainError(f"{path}: expected true or false, got {json_kind(value)}")


def _child(parent: Optional[Mapping[str, Any]], key: str, path: str) -> Optional[Mapping[str, Any]]:
    return None if parent is None else _mapping(parent.get(key), f"{path}.{key}")


# ---------------------------------------------------------------- pull policies


def pod_kind(pod: Mapping[str, Any], domain_uid: str) -> Optional[str]:
    """Which of a Domain's pods this is: SERVER (labelled weblogic.serverName), INTROSPECTOR (the introspector
    Job's pod: labelled job-name=<domainUID>-introspector, named after it), or None when it shows neither."""
    metadata = pod.get("metadata") or {}
    labels = metadata.get("labels") or {}
    if labels.get(SERVER_NAME_LABEL):
        return SERVER
    job = domain_uid + INTROSPECTOR_JOB_SUFFIX
    if labels.get(JOB_NAME_LABEL) == job or str(metadata.get("name") or "").startswith(job + "-"):
        return INTROSPECTOR
    return None


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


@slotted
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
    """Numbers fields in the order they are found, so every group lists images in one stable order.

    Every field made is kept in `made`, so the model can tell which written fields no pod pulls.
    """

    def __init__(self) -> None:
        self.made: List[_Field] = []

    def _new(
        self,
        image: str,
        field: FieldRef,
        pull_policy: str,
        pull_policy_field: Optional[FieldRef],
        defaulted: bool,
        name: str,
    ) -> _Field:
        use = _Field(len(self.made) + 1, image, field, pull_policy, pull_policy_field, defaulted, name)
        self.made.append(use)
        return use

    def add(
        self,
        obj: ObjectKey,
        path: str,
        holder: Mapping[str, Any],
        *,
        default_image: Optional[str] = None,
        passthrough: bool = False,
    ) -> Optional[_Field]:
        """The image at `holder["image"]` (under `path`), else the default; None when there is neither."""
        image_path = shared_text(f"{path}.image" if path else "image")
        written = _string(holder.get("image"), image_path)
        defaulted = written is None
        image = default_image if written is None else written
        if image is None:
            return None
        ppath = shared_text(f"{path}.imagePullPolicy" if path else "imagePullPolicy")
        policy = _string(holder.get("imagePullPolicy"), ppath)
        if policy:
            effective, policy_ref = policy, FieldRef(obj, ppath)
        else:
            effective = kubernetes_pull_policy(image) if passthrough else operator_pull_policy(image)
            policy_ref = None
        name = _string(holder.get("name"), f"{path}.name") or ""
        return self._new(image, FieldRef(obj, image_path), effective, policy_ref, defaulted, name)

    def add_defaulted(
        self, obj: ObjectKey, path: str, holder: Mapping[str, Any], default_image: str
    ) -> _Field:
        """A field the operator always fills: the written image, else `default_image`."""
        use = self.add(obj, path, holder, default_image=default_image)
        if use is None:  # unreachable: a default was given
            raise DomainError(f"{path}.image: no image")
        return use

    def with_policy(self, base: _Field, pull_policy: str) -> _Field:
        """The same field run by another container that sets no pull policy of its own."""
        return self._new(base.image, base.field, pull_policy, None, base.defaulted, base.container_name)

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


class _Ignored:
    """Fields the author wrote that the operator ignores, read with the same checks as the others."""

    def __init__(self) -> None:
        self.found: List[IgnoredField] = []

    def add(self, field: FieldRef, image: Optional[str], message: str) -> None:
        self.found.append(IgnoredField(field, image, message))

    def images(self, obj: ObjectKey, path: str, items: Any, message: str) -> None:
        """Each entry of a list of image holders that names an image."""
        for i, item in enumerate(_list(items, path)):
            entry = _mapping(item, f"{path}[{i}]")
            if entry is None:
                continue
            image = _string(entry.get("image"), f"{path}[{i}].image")
            if image is not None:
                self.add(FieldRef(obj, f"{path}[{i}].image"), image, message)

    def block(self, obj: ObjectKey, path: str, holder: Mapping[str, Any], message: str) -> None:
        """A whole specification (a sidecar's): its image when one is written, else the block itself."""
        image = _string(holder.get("image"), f"{path}.image")
        self.add(FieldRef(obj, f"{path}.image" if image is not None else path), image, message)


@dataclass(frozen=True)
class _Level:
    """What one level (domain, admin server, Cluster, managed server) contributes to its pods."""

    service_account: Optional[str]
    service_account_field: Optional[FieldRef]
    containers: Tuple[_Field, ...]
    init_containers: Tuple[_Field, ...]
    v8_aux: Tuple[_Field, ...]
    start_policy: Optional[str]
    start_policy_field: Optional[FieldRef]


def _start_policy(
    obj: ObjectKey, owner: Optional[Mapping[str, Any]], path: str
) -> Tuple[Optional[str], Optional[FieldRef]]:
    """`<path>.serverStartPolicy`, v8 spellings converted as the operator's conversion does."""
    if owner is None:
        return None, None
    policy_path = f"{path}.serverStartPolicy"
    value = _string(owner.get("serverStartPolicy"), policy_path)
    if value is None:
        return None, None
    return _V8_START_POLICIES.get(value, value), FieldRef(obj, policy_path)


def _level(
    fields: _Fields,
    ignored: _Ignored,
    obj: ObjectKey,
    owner: Optional[Mapping[str, Any]],
    path: str,
    aux_ignored: Optional[str],
) -> _Level:
    """Read `<path>.serverPod` of `owner` (None = level absent) and the level's serverStartPolicy.

    `aux_ignored`: None when v8 `serverPod.auxiliaryImages` here are converted and pulled, else why not.
    """
    policy, policy_field = _start_policy(obj, owner, path)
    pod = _child(owner, "serverPod", path)
    if pod is None:
        return _Level(None, None, (), (), (), policy, policy_field)
    pod_path = f"{path}.serverPod"
    sa_path = shared_text(f"{pod_path}.serviceAccountName")
    sa = _string(pod.get("serviceAccountName"), sa_path)
    aux_path = f"{pod_path}.auxiliaryImages"
    aux: List[_Field] = []
    if aux_ignored is None:
        # v8 auxiliary images: the conversion builds `compat-` init containers with the operator's pull-policy rule.
        aux = fields.each(obj, aux_path, pod.get("auxiliaryImages"), passthrough=False)
    else:
        ignored.images(obj, aux_path, pod.get("auxiliaryImages"), aux_ignored)
    init = fields.each(obj, f"{pod_path}.initContainers", pod.get("initContainers"), passthrough=True)
    containers = fields.each(obj, f"{pod_path}.containers", pod.get("containers"), passthrough=True)
    return _Level(
        sa,
        FieldRef(obj, sa_path) if sa is not None else None,
        tuple(containers),
        tuple(init),
        tuple(aux),
        policy,
        policy_field,
    )


def _where(ref: FieldRef) -> str:
    """A container's place, for messages: "spec.adminServer.serverPod.containers[0]"."""
    path = ref.path[: -len(".image")] if ref.path.endswith(".image") else ref.path
    return describe_ref(FieldRef(ref.obj, path))


def _merged(label: str, levels: Sequence[_Level], why: Dict[int, List[str]]) -> List[_Field]:
    """The `serverPod` images of one pod, its levels most specific first (ServerPod.fillInFrom): a less
    specific container or init container is added only when no more specific one has its name.
    Each field left out gets the reason in `why`."""
    images: List[_Field] = []
    taken: Dict[Tuple[str, str], _Field] = {}  # (list, container name) -> the field holding the name
    for level in levels:
        images.extend(level.v8_aux)  # converted with unique generated names
        here: Dict[Tuple[str, str], _Field] = {}
        for kind, uses in (("init container", level.init_containers), ("container", level.containers)):
            for use in uses:
                holder = taken.get((kind, use.container_name)) if use.container_name else None
                if holder is not None:
                    why.setdefault(use.order, []).append(
                        f"{label} runs the {kind} {use.container_name!r} of {_where(holder.field)} instead"
                    )
                    continue
                images.append(use)
                here.setdefault((kind, use.container_name), use)
        taken.update(here)
    return images


@slotted
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
        raise DomainError(f"Domain: expected an object, got {json_kind(domain)}")
    spec = _mapping(domain.get("spec"), "spec")
    if spec is None:
        raise DomainError("spec: missing")
    return spec


def _api_version(domain: Mapping[str, Any]) -> str:
    return _string(domain.get("apiVersion"), "apiVersion") or ""


@slotted
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
        return shared_set(())
    raw = _string(annotations.get(IGNORE_ANNOTATION), f"metadata.annotations[{IGNORE_ANNOTATION}]")
    if not raw:
        return shared_set(())
    return shared_set(part.strip() for part in raw.split(",") if part.strip())


def _pull_secrets(spec: Mapping[str, Any], key: ObjectKey) -> Tuple[PullSecretRef, ...]:
    refs: List[PullSecretRef] = []
    for i, item in enumerate(_list(spec.get("imagePullSecrets"), "spec.imagePullSecrets")):
        path = shared_text(f"spec.imagePullSecrets[{i}]")
        entry = _mapping(item, path)
        name = "" if entry is None else (_string(entry.get("name"), f"{path}.name") or "")
        refs.append(PullSecretRef(name, FieldRef(key, path)))
    return tuple(refs)


def _source_type(spec: Mapping[str, Any], api_version: str) -> Tuple[str, str]:
    """The Domain's effective `domainHomeSourceType` and, for messages, how it came about."""
    written = _string(spec.get("domainHomeSourceType"), "spec.domainHomeSourceType")
    if written is not None:
        if written not in SOURCE_TYPES:
            raise DomainError(
                f"spec.domainHomeSourceType: expected one of {', '.join(SOURCE_TYPES)}, got {written!r}"
            )
        return written, f"domainHomeSourceType is {written}"
    if api_version == V8_API_VERSION and spec.get("domainHomeInImage") is not None:
        in_image = _bool(spec.get("domainHomeInImage"), "spec.domainHomeInImage", True)
        kind = IMAGE if in_image else PERSISTENT_VOLUME
        return kind, f"domainHomeInImage is {'true' if in_image else 'false'}, so domainHomeSourceType is {kind}"
    model = _child(_child(spec, "configuration", "spec"), "model", "spec.configuration")
    if model is not None:
        return FROM_MODEL, "domainHomeSourceType is FromModel (configuration.model is set)"
    return IMAGE, "domainHomeSourceType is Image (the default without configuration.model)"


_V8_PRUNED = "the weblogic.oracle/v8 Domain schema has no {field}, so the API server prunes it"
_INTROSPECTOR_PRUNED = (
    "spec.introspector.serverPod.{kind} does not exist: the Domain schema allows only podSecurityContext, "
    "resources, env and envFrom there, so the API server prunes it"
)
_NO_AUX_VOLUMES = (
    "serverPod.auxiliaryImages are ignored: spec.auxiliaryImageVolumes is not set, and the operator "
    "converts (and pulls) v8 auxiliary images only with it"
)
_CLUSTER_AUX = "the Cluster schema has no serverPod.auxiliaryImages, so the API server prunes them"


def model_domain(
    domain: Mapping[str, Any],
    clusters: Mapping[str, Mapping[str, Any]],
    defaults: OperatorDefaults = DEFAULTS,
    namespace: str = "default",
) -> DomainModel:
    """Model one Domain; `clusters` are the Cluster objects of its namespace by name (may be partial)."""
    spec = _spec(domain)
    api_version = _api_version(domain)
    unserved = unserved_api_version(api_version)
    if unserved is not None:
        raise DomainError(unserved)
    v8 = api_version == V8_API_VERSION
    metadata = _mapping(domain.get("metadata"), "metadata")
    name = (_string(metadata.get("name"), "metadata.name") if metadata else None) or ""
    ns = (_string(metadata.get("namespace"), "metadata.namespace") if metadata else None) or namespace
    key = ObjectKey("Domain", ns, name)
    domain_uid = _string(spec.get("domainUID"), "spec.domainUID") or name
    pull_secrets = _pull_secrets(spec, key)
    kind, kind_why = _source_type(spec, api_version)

    fields = _Fields()
    ignored = _Ignored()

    # Images every server pod and the introspector run (operator-built containers).
    base = fields.add_defaulted(key, "spec", spec, defaults.weblogic_image)
    configuration = _child(spec, "configuration", "spec")
    model = _child(configuration, "model", "spec.configuration")

    def source_images(parent: Optional[Mapping[str, Any]], at: str, field: str, only_for: str,
                      v8_field: str) -> List[_Field]:
        """The image list `field` of `parent` (at path `at`): pulled only for one domainHomeSourceType, and
        pruned by the API server from v8 Domains (the v8 schema lacks `v8_field`)."""
        path = f"{at}.{field}"
        items = None if parent is None else parent.get(field)
        if v8:
            ignored.images(key, path, items, _V8_PRUNED.format(field=v8_field))
            return []
        if kind != only_for:
            ignored.images(
                key, path, items,
                f"{field} are ignored: {kind_why}; the operator pulls them only for {only_for}",
            )
            return []
        return fields.each(key, path, items, passthrough=False)

    model_aux = source_images(model, "spec.configuration.model", "auxiliaryImages", FROM_MODEL,
                              "configuration.model.auxiliaryImages")
    on_pv = _child(configuration, "initializeDomainOnPV", "spec.configuration")
    on_pv_domain = _child(on_pv, "domain", "spec.configuration.initializeDomainOnPV")
    creation_images = source_images(on_pv_domain, "spec.configuration.initializeDomainOnPV.domain",
                                    "domainCreationImages", PERSISTENT_VOLUME, "initializeDomainOnPV")
    create_dh_dir: List[_Field] = []
    if not v8 and on_pv is not None:
        # The create-dh-dir init container runs spec.image without a pull policy: the API server's default.
        policy = kubernetes_pull_policy(base.image)
        if policy != base.pull_policy:
            create_dh_dir.append(fields.with_policy(base, policy))

    # serverPod levels, in layout order.
    aux_volumes = spec.get("auxiliaryImageVolumes") is not None
    aux_ignored = None if aux_volumes else _NO_AUX_VOLUMES
    domain_level = _level(fields, ignored, key, spec, "spec", aux_ignored)
    admin = _child(spec, "adminServer", "spec")
    admin_level = _level(fields, ignored, key, admin, "spec.adminServer", aux_ignored)

    cluster_levels: List[Tuple[str, _Level]] = []
    missing: List[ClusterRef] = []
    for entry in _cluster_entries(spec, api_version):
        path = f"spec.clusters[{entry.index}]"
        if not entry.reference:
            cluster_levels.append((entry.name, _level(fields, ignored, key, entry.entry, path, aux_ignored)))
            continue
        cluster = clusters.get(entry.name)
        if cluster is None:
            missing.append(ClusterRef(entry.name, FieldRef(key, f"{path}.name")))
            continue
        cluster_levels.append((entry.name, _cluster_level(fields, ignored, cluster, entry.name, ns)))

    managed_levels: List[Tuple[str, _Level]] = []
    for i, item in enumerate(_list(spec.get("managedServers"), "spec.managedServers")):
        path = f"spec.managedServers[{i}]"
        server = _mapping(item, path)
        if server is None:
            continue
        server_name = _string(server.get("serverName"), f"{path}.serverName") or f"managedServers[{i}]"
        managed_levels.append((server_name, _level(fields, ignored, key, server, path, aux_ignored)))

    introspector = _child(spec, "introspector", "spec")
    intro_pod = _child(introspector, "serverPod", "spec.introspector")
    if v8 and introspector is not None:
        ignored.add(FieldRef(key, "spec.introspector"), None, _V8_PRUNED.format(field="introspector"))
    if intro_pod is not None:
        for list_name in ("initContainers", "containers"):
            message = _INTROSPECTOR_PRUNED.format(kind=list_name)
            ignored.images(key, f"spec.introspector.serverPod.{list_name}", intro_pod.get(list_name), message)

    # Sidecars the operator adds to server pods (and, for the log shippers, to the introspector).
    sidecars: List[_Field] = []
    exporter = _child(spec, "monitoringExporter", "spec")
    if exporter is not None:
        if exporter.get("configuration") is not None:
            sidecars.append(
                fields.add_defaulted(key, "spec.monitoringExporter", exporter, defaults.exporter_image)
            )
        else:
            ignored.block(
                key, "spec.monitoringExporter", exporter,
                "monitoringExporter is ignored: the operator adds the exporter sidecar only when "
                "spec.monitoringExporter.configuration is set",
            )
    log_sidecars: List[_Field] = []
    for field_name, default_image in (
        ("fluentdSpecification", defaults.fluentd_image),
        ("fluentbitSpecification", defaults.fluentbit_image),
    ):
        shipper = _child(spec, field_name, "spec")
        if shipper is None:
            continue
        path = f"spec.{field_name}"
        watch = _bool(shipper.get("watchIntrospectorLogs"), f"{path}.watchIntrospectorLogs", True)
        if v8 and field_name == "fluentbitSpecification":
            ignored.block(key, path, shipper, _V8_PRUNED.format(field=field_name))
            continue
        use = fields.add_defaulted(key, path, shipper, default_image)
        sidecars.append(use)
        if watch:
            log_sidecars.append(use)

    server_common = [base, *model_aux]
    roles: List[_Role] = []
    why: Dict[int, List[str]] = {}  # field order -> why a pod that would carry it does not

    # A Domain (or admin server) with Never runs no pod now; it is audited as it runs once started.
    for level in (domain_level, admin_level):
        if level.start_policy == NEVER and level.start_policy_field is not None:
            ignored.add(
                level.start_policy_field, None,
                "serverStartPolicy is Never: the operator runs no pod of this Domain now; its images are "
                "audited as the pods will pull them once it starts",
            )
    admin_only = domain_level.start_policy == ADMIN_ONLY

    def server_role(role: str, label: str, levels: Sequence[_Level]) -> None:
        own = levels[0]
        stopped = None
        if role == "admin-server":
            pass  # a Never here stops the whole Domain, which is audited as it will run (above)
        elif own.start_policy == NEVER:
            stopped = f"{label} is not started (serverStartPolicy Never)"
        elif admin_only:
            stopped = f"{label} is not started (spec.serverStartPolicy AdminOnly)"
        if stopped is not None:
            for use in server_common + _merged(label, levels, {}) + sidecars:
                why.setdefault(use.order, []).append(stopped)
            return
        images = server_common + _merged(label, levels, why) + sidecars
        sa, sa_field = _service_account(levels)
        roles.append(_Role(role, SERVER, sa, sa_field, images))

    server_role("admin-server", "the admin server", [admin_level, domain_level])
    for cluster_name, level in cluster_levels:
        server_role(f"cluster {cluster_name}", f"cluster {cluster_name}", [level, domain_level])
    for server_name, level in managed_levels:
        server_role(f"managed-server {server_name}", f"managed server {server_name}", [level, domain_level])

    # The introspector takes the admin server's effective init containers named compat-* or wls-shared-*.
    admin_init = [
        replace(level, containers=(), init_containers=tuple(
            use for use in level.init_containers if use.container_name.startswith(INTROSPECTOR_INIT_PREFIXES)
        ))
        for level in (admin_level, domain_level)
    ]
    sa, sa_field = _service_account([domain_level])
    introspector_images = [
        base,
        *create_dh_dir,
        *model_aux,
        *creation_images,
        *_merged("the introspector", admin_init, why),
        *log_sidecars,
    ]
    roles.append(_Role("introspector", INTROSPECTOR, sa, sa_field, introspector_images))

    # Every written image field is either pulled by some pod or reported with the reason it is not.
    pulled = {use.order for role in roles for use in role.images}
    for use in fields.made:
        if use.order in pulled or use.defaulted:
            continue
        reasons = list(dict.fromkeys(why.get(use.order, []))) or ["no pod of this Domain runs it"]
        ignored.add(use.field, use.image, f"no pod pulls it: {'; '.join(reasons)}")

    return DomainModel(
        key=key,
        domain_uid=domain_uid,
        api_version=api_version,
        pull_secrets=pull_secrets,
        lists_pull_secrets=bool(pull_secrets),
        groups=_group(roles),
        missing_clusters=tuple(missing),
        ignore=_ignore(metadata),
        source_type=kind,
        ignored_fields=tuple(ignored.found),
    )


def _cluster_level(
    fields: _Fields, ignored: _Ignored, cluster: Mapping[str, Any], name: str, namespace: str
) -> _Level:
    """The `spec.serverPod` and `spec.serverStartPolicy` of a Cluster resource, referenced into that object."""
    if not isinstance(cluster, Mapping):
        raise DomainError(f"Cluster {name}: expected an object, got {json_kind(cluster)}")
    metadata = _mapping(cluster.get("metadata"), f"Cluster {name} metadata")
    written_ns = None if metadata is None else metadata.get("namespace")
    ns = _string(written_ns, f"Cluster {name} metadata.namespace") or namespace
    obj = ObjectKey("Cluster", ns, name)
    try:
        spec = _mapping(cluster.get("spec"), "spec")
        return _level(fields, ignored, obj, spec, "spec", _CLUSTER_AUX)
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
                pods=shared_set(pods[use.order]),
                pull_policy=use.pull_policy,
                pull_policy_field=use.pull_policy_field,
                defaulted=use.defaulted,
            )
            for use in (by_order[o] for o in sorted(by_order))
        )
        sa_field = next((r.service_account_field for r in group_roles if r.service_account_field), None)
        groups.append(PodGroup(sa, sa_field, tuple(r.name for r in group_roles), images))
    return tuple(groups)
