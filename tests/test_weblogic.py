"""The operator model: which pods a Domain gets, their ServiceAccounts, pull secrets and images."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Set, Tuple

import pytest
import yaml

from kubectl_imgaccess.objects import FieldRef, ObjectKey, describe_ref
from kubectl_imgaccess.weblogic.domain import (
    DEFAULTS,
    SERVED_API_VERSIONS,
    V9_API_VERSION,
    DomainError,
    DomainModel,
    IgnoredField,
    ImageUse,
    OperatorDefaults,
    PodGroup,
    cluster_names,
    kubernetes_pull_policy,
    model_domain,
    operator_pull_policy,
    unserved_api_version,
)
from tests.builders import NS, cluster, domain

S = "server"
I = "introspector"  # noqa: E741
KEY = ObjectKey("Domain", NS, "d1")


def model(spec: Dict[str, Any], clusters: Optional[Mapping[str, Mapping[str, Any]]] = None) -> DomainModel:
    return model_domain(domain(spec=spec), clusters or {})


def group(m: DomainModel, sa: str) -> PodGroup:
    found = [g for g in m.groups if g.service_account == sa]
    assert len(found) == 1, [g.service_account for g in m.groups]
    return found[0]


def only_group(m: DomainModel) -> PodGroup:
    assert len(m.groups) == 1, [(g.service_account, g.roles) for g in m.groups]
    return m.groups[0]


def use_at(g: PodGroup, path: str) -> ImageUse:
    found = [u for u in g.images if u.field.path == path]
    assert len(found) == 1, [u.field.path for u in g.images]
    return found[0]


def pods_by_path(g: PodGroup) -> Dict[str, FrozenSet[str]]:
    return {u.field.path: u.pods for u in g.images}


def container(name: str, image: str, policy: Optional[str] = None) -> Dict[str, Any]:
    c: Dict[str, Any] = {"name": name, "image": image}
    if policy is not None:
        c["imagePullPolicy"] = policy
    return c


def sa_pod(sa: str, **extra: Any) -> Dict[str, Any]:
    pod: Dict[str, Any] = {"serviceAccountName": sa}
    pod.update(extra)
    return pod


# ---------------------------------------------------------------- defaults


def test_defaults_come_from_the_operator_release() -> None:
    assert DEFAULTS.weblogic_image == "container-registry.oracle.com/middleware/weblogic:12.2.1.4"
    assert DEFAULTS.exporter_image == "ghcr.io/oracle/weblogic-monitoring-exporter:2.3.0"
    assert DEFAULTS.fluentd_image == "fluent/fluentd-kubernetes-daemonset:v1.16.1-debian-elasticsearch7-1.2"
    # The operator's fluent-bit specification falls back to the same daemonset image.
    assert DEFAULTS.fluentbit_image == DEFAULTS.fluentd_image


def test_unset_spec_image_is_the_operator_default_for_every_pod() -> None:
    g = only_group(model({}))
    use = use_at(g, "spec.image")
    assert use.image == DEFAULTS.weblogic_image
    assert use.defaulted
    assert use.field == FieldRef(KEY, "spec.image")
    assert use.pods == {S, I}
    assert use.pull_policy == "IfNotPresent"
    assert use.pull_policy_field is None


def test_defaults_can_be_replaced() -> None:
    other = OperatorDefaults("reg.example.com/wls:1", "reg.example.com/exp:1", "fd:1", "fb:latest")
    spec: Dict[str, Any] = {"fluentbitSpecification": {}, "monitoringExporter": {"configuration": {}}}
    g = only_group(model_domain(domain(spec=spec), {}, defaults=other))
    assert use_at(g, "spec.image").image == "reg.example.com/wls:1"
    assert use_at(g, "spec.monitoringExporter.image").image == "reg.example.com/exp:1"
    fluentbit = use_at(g, "spec.fluentbitSpecification.image")
    assert fluentbit.image == "fb:latest"
    assert fluentbit.pull_policy == "Always"


def test_written_spec_image_is_not_defaulted() -> None:
    use = use_at(only_group(model({"image": "my/wls:1"})), "spec.image")
    assert use.image == "my/wls:1"
    assert not use.defaulted


# ---------------------------------------------------------------- pull policies


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("reg.io/wls:latest", "Always"),
        ("reg.io/wls:12.2.1.4", "IfNotPresent"),
        ("reg.io/wls", "IfNotPresent"),  # the operator does not read a missing tag as latest
        ("reg.io:5000/wls", "IfNotPresent"),
    ],
)
def test_operator_pull_policy(image: str, expected: str) -> None:
    assert operator_pull_policy(image) == expected
    assert use_at(only_group(model({"image": image})), "spec.image").pull_policy == expected


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("reg.io:5000/busybox", "Always"),  # the port is not a tag
        ("reg.io:5000/busybox:1", "IfNotPresent"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
        ("busybox:latest@sha256:" + "a" * 64, "Always"),
    ],
)
def test_passthrough_containers_get_the_api_server_default(image: str, expected: str) -> None:
    assert kubernetes_pull_policy(image) == expected
    g = only_group(model({"serverPod": {"containers": [container("side", image)]}}))
    assert use_at(g, "spec.serverPod.containers[0].image").pull_policy == expected


def test_written_pull_policies_win_and_are_located() -> None:
    spec = {
        "image": "wls:latest",
        "imagePullPolicy": "Never",
        "configuration": {
            "model": {"auxiliaryImages": [{"image": "aux:latest", "imagePullPolicy": "IfNotPresent"}]}
        },
        "serverPod": {"containers": [container("side", "busybox", "IfNotPresent")]},
    }
    g = only_group(model(spec))
    base = use_at(g, "spec.image")
    assert base.pull_policy == "Never"
    assert base.pull_policy_field == FieldRef(KEY, "spec.imagePullPolicy")
    aux = use_at(g, "spec.configuration.model.auxiliaryImages[0].image")
    assert aux.pull_policy == "IfNotPresent"
    assert aux.pull_policy_field == FieldRef(
        KEY, "spec.configuration.model.auxiliaryImages[0].imagePullPolicy"
    )
    side = use_at(g, "spec.serverPod.containers[0].image")
    assert side.pull_policy == "IfNotPresent"
    assert side.pull_policy_field == FieldRef(KEY, "spec.serverPod.containers[0].imagePullPolicy")


def test_unset_aux_image_policy_follows_latest_rule() -> None:
    spec = {"configuration": {"model": {"auxiliaryImages": [{"image": "aux:latest"}, {"image": "aux2"}]}}}
    g = only_group(model(spec))
    assert use_at(g, "spec.configuration.model.auxiliaryImages[0].image").pull_policy == "Always"
    assert use_at(g, "spec.configuration.model.auxiliaryImages[1].image").pull_policy == "IfNotPresent"


# ---------------------------------------------------------------- which pods pull what


def test_model_auxiliary_images_reach_servers_and_introspector() -> None:
    spec = {"configuration": {"model": {"auxiliaryImages": [{"image": "a:1"}, {"image": "b:1"}]}}}
    g = only_group(model(spec))
    assert use_at(g, "spec.configuration.model.auxiliaryImages[0].image").pods == {S, I}
    assert use_at(g, "spec.configuration.model.auxiliaryImages[1].image").image == "b:1"


def test_domain_creation_images_reach_only_the_introspector() -> None:
    spec = {
        "domainHomeSourceType": "PersistentVolume",
        "configuration": {"initializeDomainOnPV": {"domain": {"domainCreationImages": [{"image": "wdt:1"}]}}},
    }
    use = use_at(
        only_group(model(spec)),
        "spec.configuration.initializeDomainOnPV.domain.domainCreationImages[0].image",
    )
    assert use.pods == {I}
    assert use.image == "wdt:1"


def test_monitoring_exporter_needs_a_configuration() -> None:
    without = only_group(model({"monitoringExporter": {"image": "exp:1"}}))
    assert "spec.monitoringExporter.image" not in pods_by_path(without)

    written = use_at(
        only_group(model({"monitoringExporter": {"image": "exp:1", "configuration": {"queries": []}}})),
        "spec.monitoringExporter.image",
    )
    assert (written.image, written.pods, written.defaulted) == ("exp:1", frozenset({S}), False)

    defaulted = use_at(
        only_group(model({"monitoringExporter": {"configuration": {}}})), "spec.monitoringExporter.image"
    )
    assert defaulted.image == DEFAULTS.exporter_image
    assert defaulted.defaulted
    assert defaulted.field == FieldRef(KEY, "spec.monitoringExporter.image")
    assert defaulted.pods == {S}


def test_fluentd_watches_the_introspector_by_default() -> None:
    use = use_at(only_group(model({"fluentdSpecification": {}})), "spec.fluentdSpecification.image")
    assert use.image == DEFAULTS.fluentd_image
    assert use.defaulted
    assert use.pods == {S, I}


def test_fluentd_without_watch_introspector_logs_stays_off_the_introspector() -> None:
    spec = {"fluentdSpecification": {"image": "fd:2", "watchIntrospectorLogs": False}}
    use = use_at(only_group(model(spec)), "spec.fluentdSpecification.image")
    assert (use.image, use.pods, use.defaulted) == ("fd:2", frozenset({S}), False)


def test_fluentbit_is_modelled_like_fluentd() -> None:
    spec = {"fluentbitSpecification": {"watchIntrospectorLogs": True}, "fluentdSpecification": None}
    g = only_group(model(spec))
    use = use_at(g, "spec.fluentbitSpecification.image")
    assert (use.image, use.pods, use.defaulted) == (DEFAULTS.fluentbit_image, frozenset({S, I}), True)
    assert "spec.fluentdSpecification.image" not in pods_by_path(g)  # a null specification is no sidecar
    off = only_group(model({"fluentbitSpecification": {"watchIntrospectorLogs": False}}))
    assert use_at(off, "spec.fluentbitSpecification.image").pods == {S}


def test_server_pod_containers_reach_only_servers_unless_compat_init() -> None:
    spec = {
        "serverPod": {
            "containers": [container("compat-side", "side:1")],
            "initContainers": [
                container("setup", "init:1"),
                container("compat-aux1", "compat:1"),
                container("wls-shared-tools", "shared:1"),
                container("compatibility-mode-aux", "old:1"),
            ],
        },
    }
    pods = pods_by_path(only_group(model(spec)))
    assert pods["spec.serverPod.containers[0].image"] == {S}
    assert pods["spec.serverPod.initContainers[0].image"] == {S}
    assert pods["spec.serverPod.initContainers[1].image"] == {S, I}
    assert pods["spec.serverPod.initContainers[2].image"] == {S, I}
    assert pods["spec.serverPod.initContainers[3].image"] == {S}


def test_compat_init_containers_below_admin_level_never_reach_the_introspector() -> None:
    spec = {
        "clusters": [{"name": "c1"}],
        "managedServers": [
            {"serverName": "ms1", "serverPod": {"initContainers": [container("compat-x", "m:1")]}}
        ],
    }
    clusters = {"c1": cluster("c1", server_pod={"initContainers": [container("compat-y", "c:1")]})}
    m = model(spec, clusters)
    pods = pods_by_path(only_group(m))
    assert pods["spec.managedServers[0].serverPod.initContainers[0].image"] == {S}
    assert pods["spec.image"] == {S, I}
    cluster_use = [u for u in only_group(m).images if u.field.obj.kind == "Cluster"]
    assert [(u.field.path, u.pods) for u in cluster_use] == [
        ("spec.serverPod.initContainers[0].image", frozenset({S}))
    ]


def test_admin_compat_init_containers_also_reach_the_introspector() -> None:
    """The introspector takes its init containers from the admin server's effective spec."""
    spec = {
        "serverPod": {"serviceAccountName": "dom"},
        "adminServer": {"serverPod": sa_pod("adm", initContainers=[container("compat-a", "a:1")])},
    }
    m = model(spec)
    assert use_at(group(m, "adm"), "spec.adminServer.serverPod.initContainers[0].image").pods == {S}
    assert use_at(group(m, "dom"), "spec.adminServer.serverPod.initContainers[0].image").pods == {I}


def test_domain_level_containers_reach_every_server_group_level_containers_only_theirs() -> None:
    spec = {
        "serverPod": {"containers": [container("d", "dom:1")]},
        "adminServer": {"serverPod": sa_pod("adm", containers=[container("a", "adm:1")])},
        "clusters": [{"name": "c1"}],
        "managedServers": [
            {"serverName": "ms1", "serverPod": sa_pod("ms", containers=[container("m", "ms:1")])}
        ],
    }
    clusters = {"c1": cluster("c1", server_pod=sa_pod("clu", containers=[container("c", "clu:1")]))}
    m = model(spec, clusters)
    images = {g.service_account: {u.image for u in g.images} for g in m.groups}
    assert images["adm"] == {"adm:1", "dom:1", DEFAULTS.weblogic_image}
    assert images["clu"] == {"clu:1", "dom:1", DEFAULTS.weblogic_image}
    assert images["ms"] == {"dom:1", "ms:1", DEFAULTS.weblogic_image}
    assert images["default"] == {DEFAULTS.weblogic_image}  # the introspector alone
    assert group(m, "default").roles == ("introspector",)


def test_sidecars_reach_every_server_group() -> None:
    spec = {
        "adminServer": {"serverPod": sa_pod("adm")},
        "monitoringExporter": {"configuration": {}},
        "fluentdSpecification": {"watchIntrospectorLogs": False},
    }
    m = model(spec)
    assert set(pods_by_path(group(m, "adm"))) == {
        "spec.image",
        "spec.monitoringExporter.image",
        "spec.fluentdSpecification.image",
    }
    # The introspector never runs the exporter, and fluentd only when it watches introspector logs.
    assert group(m, "default").roles == ("introspector",)
    assert pods_by_path(group(m, "default")) == {"spec.image": {I}}


# ---------------------------------------------------------------- ServiceAccounts and groups


def test_everything_defaults_to_the_default_service_account() -> None:
    g = only_group(model({"clusters": [{"clusterName": "c1"}], "managedServers": [{"serverName": "ms1"}]}))
    assert g.service_account == "default"
    assert g.service_account_field is None
    assert g.roles == ("admin-server", "cluster c1", "managed-server ms1", "introspector")


def test_domain_level_service_account_covers_every_pod() -> None:
    g = only_group(model({"serverPod": sa_pod("wls"), "managedServers": [{"serverName": "ms1"}]}))
    assert g.service_account == "wls"
    assert g.service_account_field == FieldRef(KEY, "spec.serverPod.serviceAccountName")
    assert g.roles == ("admin-server", "managed-server ms1", "introspector")


def test_introspector_only_uses_the_domain_level_service_account() -> None:
    m = model({"adminServer": {"serverPod": sa_pod("adm")}})
    assert [(g.service_account, g.roles) for g in m.groups] == [
        ("adm", ("admin-server",)),
        ("default", ("introspector",)),
    ]
    assert group(m, "adm").service_account_field == FieldRef(
        KEY, "spec.adminServer.serverPod.serviceAccountName"
    )
    assert use_at(group(m, "adm"), "spec.image").pods == {S}
    assert use_at(group(m, "default"), "spec.image").pods == {I}


def test_managed_server_then_cluster_then_domain_service_account() -> None:
    spec = {
        "serverPod": sa_pod("dom"),
        "clusters": [{"name": "c1"}, {"name": "c2"}],
        "managedServers": [{"serverName": "ms1", "serverPod": sa_pod("ms")}, {"serverName": "ms2"}],
    }
    clusters = {"c1": cluster("c1", server_pod=sa_pod("clu")), "c2": cluster("c2")}
    m = model(spec, clusters)
    assert [(g.service_account, g.roles) for g in m.groups] == [
        ("dom", ("admin-server", "cluster c2", "managed-server ms2", "introspector")),
        ("clu", ("cluster c1",)),
        ("ms", ("managed-server ms1",)),
    ]
    assert group(m, "clu").service_account_field == FieldRef(
        ObjectKey("Cluster", NS, "c1"), "spec.serverPod.serviceAccountName"
    )
    assert group(m, "ms").service_account_field == FieldRef(
        KEY, "spec.managedServers[0].serverPod.serviceAccountName"
    )


def test_inline_cluster_service_account() -> None:
    spec = {
        "clusters": [{"clusterName": "c1", "serverPod": sa_pod("clu", containers=[container("x", "x:1")])}]
    }
    m = model(spec)
    g = group(m, "clu")
    assert g.roles == ("cluster c1",)
    assert g.service_account_field == FieldRef(KEY, "spec.clusters[0].serverPod.serviceAccountName")
    assert use_at(g, "spec.clusters[0].serverPod.containers[0].image").pods == {S}


def test_empty_service_account_name_stops_the_fallback() -> None:
    m = model({"serverPod": sa_pod("dom"), "adminServer": {"serverPod": sa_pod("")}})
    assert group(m, "default").roles == ("admin-server",)
    assert group(m, "default").service_account_field == FieldRef(
        KEY, "spec.adminServer.serverPod.serviceAccountName"
    )
    assert group(m, "dom").roles == ("introspector",)


def test_deprecated_service_account_alias_is_not_read() -> None:
    """The Domain CRD's serverPod has only serviceAccountName; the API server prunes `serviceAccount`."""
    g = only_group(model({"serverPod": {"serviceAccount": "old"}}))
    assert g.service_account == "default"


def test_merged_group_unions_pods_of_one_field() -> None:
    spec = {
        "serverPod": sa_pod("wls", initContainers=[container("compat-aux", "aux:1")]),
        "configuration": {"model": {"auxiliaryImages": [{"image": "m:1"}]}},
        "managedServers": [{"serverName": "ms1", "serverPod": sa_pod("other")}],
    }
    m = model(spec)
    wls = group(m, "wls")
    assert wls.roles == ("admin-server", "introspector")
    assert pods_by_path(wls) == {
        "spec.image": {S, I},
        "spec.configuration.model.auxiliaryImages[0].image": {S, I},
        "spec.serverPod.initContainers[0].image": {S, I},
    }
    other = group(m, "other")
    assert pods_by_path(other) == {
        "spec.image": {S},
        "spec.configuration.model.auxiliaryImages[0].image": {S},
        "spec.serverPod.initContainers[0].image": {S},
    }


def test_images_keep_spec_order_and_same_image_in_two_fields_stays_two_uses() -> None:
    spec = {
        "image": "wls:1",
        "configuration": {"model": {"auxiliaryImages": [{"image": "busybox:1"}]}},
        "serverPod": {
            "initContainers": [container("i", "busybox:1")],
            "containers": [container("c", "busybox:1")],
        },
        "adminServer": {"serverPod": {"containers": [container("a", "busybox:1")]}},
    }
    g = only_group(model(spec))
    assert [u.field.path for u in g.images] == [
        "spec.image",
        "spec.configuration.model.auxiliaryImages[0].image",
        "spec.serverPod.initContainers[0].image",
        "spec.serverPod.containers[0].image",
        "spec.adminServer.serverPod.containers[0].image",
    ]


# ---------------------------------------------------------------- Clusters


def test_missing_cluster_resources_are_reported_not_guessed() -> None:
    spec = {"clusters": [{"name": "c1"}, {"name": "c2"}]}
    m = model(spec, {"c2": cluster("c2", server_pod={"containers": [container("x", "x:1")]})})
    assert [(c.name, c.field) for c in m.missing_clusters] == [("c1", FieldRef(KEY, "spec.clusters[0].name"))]
    g = only_group(m)
    assert g.roles == ("admin-server", "cluster c2", "introspector")
    use = use_at(g, "spec.serverPod.containers[0].image")
    assert use.field.obj == ObjectKey("Cluster", NS, "c2")


def test_cluster_names_lists_v9_references_only() -> None:
    d = domain(spec={"clusters": [{"name": "c1"}, {"clusterName": "inline"}, {"name": "c1"}, {"name": "c3"}]})
    assert cluster_names(d) == ["c1", "c3"]
    v8 = domain(spec={"clusters": [{"clusterName": "c1"}]}, api="weblogic.oracle/v8")
    assert cluster_names(v8) == []
    assert model_domain(v8, {}).missing_clusters == ()


def test_cluster_without_namespace_takes_the_domain_namespace() -> None:
    c = cluster("c1", server_pod={"containers": [container("x", "x:1")]})
    del c["metadata"]["namespace"]
    g = only_group(model({"clusters": [{"name": "c1"}]}, {"c1": c}))
    assert use_at(g, "spec.serverPod.containers[0].image").field.obj == ObjectKey("Cluster", NS, "c1")


# ---------------------------------------------------------------- v8 layout


def v8_spec() -> Dict[str, Any]:
    def aux(image: str) -> Dict[str, Any]:
        return {"auxiliaryImages": [{"image": image, "volume": "v"}]}

    return {
        "image": "wls:1",
        "auxiliaryImageVolumes": [{"name": "v", "mountPath": "/auxiliary"}],
        "serverPod": aux("dom-aux:1"),
        "adminServer": {"serverPod": {**aux("adm-aux:1"), "serviceAccountName": "adm"}},
        "clusters": [{"clusterName": "c1", "serverPod": {**aux("clu-aux:1"), "serviceAccountName": "clu"}}],
        "managedServers": [
            {"serverName": "ms1", "serverPod": {**aux("ms-aux:1"), "serviceAccountName": "ms"}}
        ],
    }


def test_v8_auxiliary_images_at_every_level() -> None:
    m = model_domain(domain(spec=v8_spec(), api="weblogic.oracle/v8"), {})
    assert m.api_version == "weblogic.oracle/v8"
    assert m.missing_clusters == ()
    adm = pods_by_path(group(m, "adm"))
    assert adm == {
        "spec.image": {S},
        "spec.serverPod.auxiliaryImages[0].image": {S},
        "spec.adminServer.serverPod.auxiliaryImages[0].image": {S},
    }
    intro = pods_by_path(group(m, "default"))
    assert intro == {
        "spec.image": {I},
        "spec.serverPod.auxiliaryImages[0].image": {I},
        "spec.adminServer.serverPod.auxiliaryImages[0].image": {I},
    }
    assert pods_by_path(group(m, "clu")) == {
        "spec.image": {S},
        "spec.serverPod.auxiliaryImages[0].image": {S},
        "spec.clusters[0].serverPod.auxiliaryImages[0].image": {S},
    }
    assert pods_by_path(group(m, "ms")) == {
        "spec.image": {S},
        "spec.serverPod.auxiliaryImages[0].image": {S},
        "spec.managedServers[0].serverPod.auxiliaryImages[0].image": {S},
    }
    aux = use_at(group(m, "clu"), "spec.clusters[0].serverPod.auxiliaryImages[0].image")
    assert (aux.image, aux.pull_policy, aux.defaulted) == ("clu-aux:1", "IfNotPresent", False)


def test_v8_auxiliary_images_are_read_whatever_the_api_version() -> None:
    spec = {"auxiliaryImageVolumes": [], "serverPod": {"auxiliaryImages": [{"image": "a:latest"}]}}
    m = model_domain(domain(spec=spec, api=None), {})
    use = use_at(only_group(m), "spec.serverPod.auxiliaryImages[0].image")
    assert (use.pods, use.pull_policy) == (frozenset({S, I}), "Always")
    assert m.api_version == ""


# ---------------------------------------------------------------- identity, secrets, annotation


def test_identity_and_namespace() -> None:
    m = model_domain(
        {"kind": "Domain", "metadata": {"name": "d9"}, "spec": {"domainUID": "uid9"}}, {}, namespace="n"
    )
    assert m.key == ObjectKey("Domain", "n", "d9")
    assert m.domain_uid == "uid9"
    assert model_domain(domain(spec={}), {}).domain_uid == "d1"
    assert model_domain(domain(spec={}), {}, namespace="ignored").key == KEY


def test_pull_secrets_as_written_including_empty_names() -> None:
    m = model({"imagePullSecrets": [{"name": "a"}, {"name": ""}, {}, {"name": None}, None]})
    assert [(p.name, p.field) for p in m.pull_secrets] == [
        ("a", FieldRef(KEY, "spec.imagePullSecrets[0]")),
        ("", FieldRef(KEY, "spec.imagePullSecrets[1]")),
        ("", FieldRef(KEY, "spec.imagePullSecrets[2]")),
        ("", FieldRef(KEY, "spec.imagePullSecrets[3]")),
        ("", FieldRef(KEY, "spec.imagePullSecrets[4]")),
    ]
    assert m.lists_pull_secrets


def test_only_empty_named_pull_secret_still_blocks_service_account_secrets() -> None:
    m = model({"imagePullSecrets": [{"name": ""}]})
    assert m.lists_pull_secrets
    assert [p.name for p in m.pull_secrets] == [""]


@pytest.mark.parametrize("value", [None, []])
def test_no_pull_secrets(value: Optional[List[Any]]) -> None:
    spec: Dict[str, Any] = {} if value is None else {"imagePullSecrets": value}
    m = model(spec)
    assert m.pull_secrets == ()
    assert not m.lists_pull_secrets


def test_ignore_annotation_is_split_and_trimmed() -> None:
    ignore = {"imgaccess.weblogic.oracle/ignore": " IA011, registry-terms-required ,,Ia004 "}
    d = domain(spec={}, metadata={"annotations": ignore})
    assert model_domain(d, {}).ignore == {"IA011", "registry-terms-required", "Ia004"}
    assert model_domain(domain(spec={}, metadata={"annotations": {"other": "x"}}), {}).ignore == frozenset()
    assert model_domain(domain(spec={}), {}).ignore == frozenset()


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("obj", "clusters", "path"),
    [
        (domain(spec={})["metadata"], {}, "spec"),  # no spec at all
        ({"kind": "Domain", "spec": ["x"]}, {}, "spec"),
        (domain(spec={"imagePullSecrets": {"name": "a"}}), {}, "spec.imagePullSecrets"),
        (domain(spec={"imagePullSecrets": ["a"]}), {}, "spec.imagePullSecrets[0]"),
        (domain(spec={"imagePullSecrets": [{"name": 3}]}), {}, "spec.imagePullSecrets[0].name"),
        (domain(spec={"image": 1.0}), {}, "spec.image"),
        (domain(spec={"serverPod": []}), {}, "spec.serverPod"),
        (domain(spec={"serverPod": {"containers": {"name": "x"}}}), {}, "spec.serverPod.containers"),
        (domain(spec={"adminServer": {"serverPod": {"serviceAccountName": 5}}}), {}, "spec.adminServer.serverPod"),
        (domain(spec={"managedServers": ["ms1"]}), {}, "spec.managedServers[0]"),
        (domain(spec={"clusters": "c1"}), {}, "spec.clusters"),
        (
            domain(spec={"configuration": {"model": {"auxiliaryImages": [{"image": ["x"]}]}}}),
            {},
            "auxiliaryImages[0]",
        ),
        (domain(spec={"fluentdSpecification": {"watchIntrospectorLogs": "no"}}), {}, "watchIntrospectorLogs"),
        (
            domain(spec={"clusters": [{"name": "c1"}]}),
            {"c1": {"spec": {"serverPod": "x"}}},
            "Cluster c1: spec.serverPod",
        ),
    ],
)
def test_malformed_input_names_the_field(obj: Any, clusters: Dict[str, Any], path: str) -> None:
    with pytest.raises(DomainError, match=path.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        model_domain(obj, clusters)


def test_domain_error_is_a_value_error() -> None:
    assert issubclass(DomainError, ValueError)
    with pytest.raises(ValueError):
        cluster_names({"spec": {"clusters": [1]}})


def test_containers_without_image_are_skipped() -> None:
    g = only_group(model({"serverPod": {"containers": [{"name": "x"}], "initContainers": None}}))
    assert [u.field.path for u in g.images] == ["spec.image"]


# ---------------------------------------------------------------- what the operator ignores or never runs
#
# Each test starts from a fixture in tests/fixtures/operator/, written in the shape of the published
# manifests in the WKO corpus, and cites the operator source that decides the behaviour (operator main
# at 4.3.0-SNAPSHOT; file:line in that tree).

OPERATOR_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "operator"


def fixture(name: str) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """The Domain of a fixture file and its Cluster resources by name."""
    docs = list(yaml.safe_load_all((OPERATOR_FIXTURES / name).read_text(encoding="utf-8")))
    domains = [d for d in docs if d["kind"] == "Domain"]
    assert len(domains) == 1
    return domains[0], {d["metadata"]["name"]: d for d in docs if d["kind"] == "Cluster"}


def all_paths(m: DomainModel) -> Set[str]:
    """Every field some pod pulls, named as `ignored_at` names them."""
    return {describe_ref(u.field) for g in m.groups for u in g.images}


def ignored_at(m: DomainModel, path: str) -> IgnoredField:
    """The one ignored field at `path` ("spec..." in the Domain, "Cluster/NAME spec..." in a Cluster)."""
    found = [i for i in m.ignored_fields if describe_ref(i.field) == path]
    assert len(found) == 1, [(i.field.path, i.message) for i in m.ignored_fields]
    return found[0]


MODEL_AUX = "spec.configuration.model.auxiliaryImages[0].image"
CREATION = "spec.configuration.initializeDomainOnPV.domain.domainCreationImages[0].image"


def test_model_auxiliary_images_are_pulled_only_for_from_model() -> None:
    """DomainResource.getAuxiliaryImages() returns null unless the source type is FromModel
    (DomainResource.java:805-807); PodStepContext.getInitContainers (PodStepContext.java:702-710) and
    JobStepContext.addInitContainers (JobStepContext.java:458-468) build init containers only from it.
    Without domainHomeSourceType, a Domain with configuration.model is FromModel (DomainSpec.java:812-822).
    """
    dom, clusters = fixture("model-in-image.yaml")
    m = model_domain(dom, clusters)
    assert m.source_type == "FromModel"
    assert use_at(only_group(m), MODEL_AUX).pods == {S, I}
    assert m.ignored_fields == ()

    del dom["spec"]["domainHomeSourceType"]  # inferred from configuration.model
    assert use_at(only_group(model_domain(dom, clusters)), MODEL_AUX).pods == {S, I}

    for kind in ("Image", "PersistentVolume"):
        dom["spec"]["domainHomeSourceType"] = kind
        m = model_domain(dom, clusters)
        assert m.source_type == kind
        assert MODEL_AUX not in all_paths(m)
        ignored = ignored_at(m, MODEL_AUX)
        assert ignored.image == "registry.example.com/shop/wdt-model:v3"
        assert ignored.message.startswith(f"auxiliaryImages are ignored: domainHomeSourceType is {kind}")
        assert ignored.field.obj == ObjectKey("Domain", "shop-ns", "shop")


def test_domain_creation_images_are_pulled_only_for_persistent_volume() -> None:
    """DomainResource.getDomainCreationImages() returns null unless the source type is PersistentVolume
    (DomainResource.java:809-811, DomainSpec.isInitializeDomainOnPV at DomainSpec.java:958-960); only the
    introspector job builds init containers from them (JobStepContext.java:458-468)."""
    dom, clusters = fixture("domain-on-pv.yaml")
    m = model_domain(dom, clusters)
    use = use_at(only_group(m), CREATION)
    assert (use.image, use.pull_policy) == ("registry.example.com/ledger/wdt-domain:v1", "IfNotPresent")
    assert use.pods == {I}
    assert m.ignored_fields == ()

    for kind in ("Image", "FromModel"):
        dom["spec"]["domainHomeSourceType"] = kind
        m = model_domain(dom, clusters)
        assert CREATION not in all_paths(m)
        assert ignored_at(m, CREATION).message.startswith(
            f"domainCreationImages are ignored: domainHomeSourceType is {kind}"
        )


def test_introspector_server_pod_has_no_init_containers() -> None:
    """The v9 schema allows only podSecurityContext, resources, env and envFrom under
    spec.introspector.serverPod (domain-crd.yaml:4265-4427; IntrospectorJobPod.java holds nothing else),
    so the API server prunes initContainers there. The introspector's init containers come from the admin
    server's effective spec instead (JobStepContext.java:159-161, 458-468)."""
    dom, clusters = fixture("model-in-image.yaml")
    dom["spec"]["introspector"] = {
        "serverPod": {
            "env": [{"name": "JAVA_OPTIONS", "value": "-Dx=1"}],
            "initContainers": [container("fetch-model", "registry.example.com/tools/fetch:1")],
        }
    }
    m = model_domain(dom, clusters)
    path = "spec.introspector.serverPod.initContainers[0].image"
    assert path not in all_paths(m)
    assert "registry.example.com/tools/fetch:1" not in {u.image for g in m.groups for u in g.images}
    ignored = ignored_at(m, path)
    assert ignored.image == "registry.example.com/tools/fetch:1"
    assert "spec.introspector.serverPod.initContainers does not exist" in ignored.message


def test_v8_auxiliary_images_need_auxiliary_image_volumes() -> None:
    """The conversion to v9 turns v8 serverPod.auxiliaryImages into compat- init containers only when
    spec.auxiliaryImageVolumes is present (SchemaConversionUtils.java:241-256); without it the 4.x model
    has no field to hold them, so nothing is pulled."""
    dom, clusters = fixture("auxiliary-images-v8.yaml")
    m = model_domain(dom, clusters)
    levels = {
        "spec.serverPod.auxiliaryImages[0].image": {S, I},
        "spec.adminServer.serverPod.auxiliaryImages[0].image": {S, I},
        "spec.clusters[0].serverPod.auxiliaryImages[0].image": {S},
        "spec.managedServers[0].serverPod.auxiliaryImages[0].image": {S},
    }
    g = only_group(m)
    assert {path: use_at(g, path).pods for path in levels} == levels
    assert m.ignored_fields == ()

    del dom["spec"]["auxiliaryImageVolumes"]
    m = model_domain(dom, clusters)
    assert all_paths(m) == {"spec.image"}
    assert {i.field.path for i in m.ignored_fields} == set(levels)
    assert all("spec.auxiliaryImageVolumes is not set" in i.message for i in m.ignored_fields)


def test_same_named_containers_the_most_specific_level_wins() -> None:
    """ServerPod.fillInFrom adds a less specific init container or container only when its name is missing
    (ServerPod.java:548-553, 618-628), filling the server's level from its cluster's, then the domain's
    (EffectiveServerSpecCommonImpl.java:49-56). Each level here runs under its own ServiceAccount, so the
    wrong attribution would audit an image on a pull path that never pulls it."""
    dom, clusters = fixture("server-pod-levels.yaml")
    m = model_domain(dom, clusters)
    images = {g.service_account: sorted(u.image for u in g.images if u.image != dom["spec"]["image"]) for g in m.groups}
    assert images == {
        # the admin server's log-shipper:3 replaces the domain's log-shipper:2; the domain's prepare:2 stays
        "billing-admin": [
            "busybox", "registry.example.com/tools/log-shipper:3", "registry.example.com/tools/prepare:2"
        ],
        # the Cluster's log-shipper:4 replaces the domain's
        "billing-cluster": ["registry.example.com/tools/log-shipper:4", "registry.example.com/tools/prepare:2"],
        # managed-server1's prepare:3 replaces the domain's prepare:2; it has no log-shipper of its own
        "billing-ms1": ["registry.example.com/tools/log-shipper:2", "registry.example.com/tools/prepare:3"],
        "billing-domain": [],  # the introspector runs neither
    }
    assert m.ignored_fields == ()  # every written container is still run by some pod

    # Give managed-server1 its own log-shipper too: the domain's is then replaced on every pod.
    ms_pod = dom["spec"]["managedServers"][0]["serverPod"]
    ms_pod["containers"] = [container("log-shipper", "registry.example.com/tools/log-shipper:5")]
    m = model_domain(dom, clusters)
    assert "spec.serverPod.containers[0].image" not in all_paths(m)
    ignored = ignored_at(m, "spec.serverPod.containers[0].image")
    assert ignored.image == "registry.example.com/tools/log-shipper:2"
    assert "the admin server runs the container 'log-shipper' of spec.adminServer.serverPod.containers[0]" in (
        ignored.message
    )
    assert "Cluster/billing-cluster-1 spec.serverPod.containers[0]" in ignored.message


def test_introspector_takes_the_admin_servers_compat_init_container_over_the_domains() -> None:
    """The introspector runs the admin server's effective init containers named compat-* or wls-shared-*
    (JobStepContext.java:159-161, 252-254, 463-466): after the merge by name, so an admin-level one
    replaces the domain-level one of the same name (ServerPod.java:548-550, 618-622)."""
    spec = {
        "serverPod": {"initContainers": [container("wls-shared-tools", "tools:1")]},
        "adminServer": {"serverPod": {"initContainers": [container("wls-shared-tools", "tools:2")]}},
    }
    pods = pods_by_path(only_group(model(spec)))
    assert pods["spec.adminServer.serverPod.initContainers[0].image"] == {S, I}
    assert "spec.serverPod.initContainers[0].image" not in pods


@pytest.mark.parametrize("version", ["v2", "v3", "v4", "v5", "v6", "v7", "v10"])
def test_domain_versions_operator_4_does_not_serve_are_refused(version: str) -> None:
    """Operator 4.x serves Domains only as weblogic.oracle/v9 (storage) and v8 (domain-crd.yaml:25,
    10873); the API server refuses any other version, so auditing one as v9 would describe pods that
    can never exist."""
    dom, clusters = fixture("model-in-image.yaml")
    dom["apiVersion"] = f"weblogic.oracle/{version}"
    assert unserved_api_version(dom["apiVersion"]) is not None
    with pytest.raises(DomainError, match=re.escape("operator 4.x serves weblogic.oracle/v9 and v8")):
        model_domain(dom, clusters)


def test_served_versions_and_a_missing_api_version_are_modelled() -> None:
    for api in ("weblogic.oracle/v9", "weblogic.oracle/v8", ""):
        assert unserved_api_version(api) is None
    assert SERVED_API_VERSIONS == (V9_API_VERSION, "weblogic.oracle/v8")


# ---------------------------------------------------------------- the other conditions


def test_monitoring_exporter_without_configuration_is_reported_not_audited() -> None:
    """The exporter sidecar is added only when spec.monitoringExporter.configuration is set
    (PodStepContext.java:184-192, 1600-1609); otherwise the block is ignored."""
    dom, clusters = fixture("model-in-image.yaml")
    dom["spec"]["monitoringExporter"] = {"image": "ghcr.io/oracle/weblogic-monitoring-exporter:2.1.9", "port": 8080}
    m = model_domain(dom, clusters)
    assert "spec.monitoringExporter.image" not in all_paths(m)
    ignored = ignored_at(m, "spec.monitoringExporter.image")
    assert ignored.image == "ghcr.io/oracle/weblogic-monitoring-exporter:2.1.9"
    assert "only when spec.monitoringExporter.configuration is set" in ignored.message

    dom["spec"]["monitoringExporter"] = {"port": 8080}  # no image written: the block itself is named
    assert ignored_at(model_domain(dom, clusters), "spec.monitoringExporter").image is None

    dom["spec"]["monitoringExporter"]["configuration"] = {"domainQualifier": True}
    m = model_domain(dom, clusters)
    assert use_at(only_group(m), "spec.monitoringExporter.image").pods == {S}
    assert m.ignored_fields == ()


def test_log_sidecars_on_the_introspector_follow_watch_introspector_logs() -> None:
    """Server pods always get the fluentd / fluent-bit sidecar of a present specification
    (PodStepContext.java:769-777); the introspector only when watchIntrospectorLogs is true
    (JobStepContext.java:788-811), which is the default (FluentdSpecification.java:78,
    FluentbitSpecification.java:78)."""
    dom, clusters = fixture("model-in-image.yaml")
    dom["spec"]["fluentdSpecification"] = {"elasticSearchCredentials": "es-credentials"}
    dom["spec"]["fluentbitSpecification"] = {"image": "fluent/fluent-bit:3.0", "watchIntrospectorLogs": False}
    g = only_group(model_domain(dom, clusters))
    assert use_at(g, "spec.fluentdSpecification.image").pods == {S, I}
    assert use_at(g, "spec.fluentbitSpecification.image").pods == {S}


def test_v8_schema_fields_the_api_server_prunes() -> None:
    """The weblogic.oracle/v8 schema has no configuration.model.auxiliaryImages, initializeDomainOnPV,
    fluentbitSpecification or introspector (domain-crd.yaml from line 10873): a v8 Domain loses them."""
    dom, clusters = fixture("auxiliary-images-v8.yaml")
    dom["spec"]["configuration"]["model"]["auxiliaryImages"] = [{"image": "registry.example.com/claims/v9:1"}]
    dom["spec"]["fluentbitSpecification"] = {"image": "fluent/fluent-bit:3.0"}
    dom["spec"]["introspector"] = {"serverPod": {"env": [{"name": "A", "value": "1"}]}}
    m = model_domain(dom, clusters)
    assert ignored_at(m, "spec.introspector").image is None
    assert {MODEL_AUX, "spec.fluentbitSpecification.image"} <= {i.field.path for i in m.ignored_fields}
    assert not {MODEL_AUX, "spec.fluentbitSpecification.image"} & all_paths(m)
    assert "weblogic.oracle/v8 Domain schema has no" in ignored_at(m, MODEL_AUX).message


def test_v8_domain_home_in_image_sets_the_source_type() -> None:
    """The conversion maps domainHomeInImage to Image (true) or PersistentVolume (false) unless
    domainHomeSourceType is written (SchemaConversionUtils.java:444-453)."""
    spec = {"domainHomeInImage": False}
    assert model_domain(domain(spec=spec, api="weblogic.oracle/v8"), {}).source_type == "PersistentVolume"
    assert model_domain(domain(spec={"domainHomeInImage": True}, api="weblogic.oracle/v8"), {}).source_type == "Image"
    # v9 has no such field: the API server prunes it and the default applies
    assert model_domain(domain(spec=spec), {}).source_type == "Image"


def test_create_dh_dir_pulls_spec_image_with_the_api_servers_default_policy() -> None:
    """The introspector's create-dh-dir init container runs spec.image and sets no imagePullPolicy, so the
    API server's default applies to it (JobStepContext.java:458-460, 482-500), whatever the Domain's."""
    dom, clusters = fixture("domain-on-pv.yaml")
    g = only_group(model_domain(dom, clusters))
    assert [u.pull_policy for u in g.images if u.field.path == "spec.image"] == ["IfNotPresent"]

    dom["spec"]["imagePullPolicy"] = "Never"
    g = only_group(model_domain(dom, clusters))
    uses = [(u.pods, u.pull_policy) for u in g.images if u.field.path == "spec.image"]
    assert uses == [(frozenset({S, I}), "Never"), (frozenset({I}), "IfNotPresent")]


def test_server_start_policy_never_and_admin_only_leave_servers_without_pods() -> None:
    """A Never at a Cluster or managed server stops that server (BaseConfiguration.java:75-93,
    EffectiveServerSpecCommonImpl.java:127-133); with a Domain-level AdminOnly no managed server starts
    (EffectiveManagedServerSpecCommonImpl.java:21-27). Their pods never pull the images only they carry."""
    dom, clusters = fixture("server-pod-levels.yaml")
    clusters["billing-cluster-1"]["spec"]["serverStartPolicy"] = "Never"
    dom["spec"]["managedServers"][0]["serverStartPolicy"] = "Never"
    m = model_domain(dom, clusters)
    assert {g.service_account for g in m.groups} == {"billing-admin", "billing-domain"}
    cluster_field = ignored_at(m, "Cluster/billing-cluster-1 spec.serverPod.containers[0].image")
    assert cluster_field.field.obj == ObjectKey("Cluster", "billing-ns", "billing-cluster-1")
    assert "cluster billing-cluster-1 is not started (serverStartPolicy Never)" in cluster_field.message
    prepare3 = ignored_at(m, "spec.managedServers[0].serverPod.initContainers[0].image")
    assert "managed server managed-server1 is not started (serverStartPolicy Never)" in prepare3.message
    # The domain's log-shipper:2 only reached managed-server1, which does not run: a stopped pod replaces nothing.
    shipper2 = ignored_at(m, "spec.serverPod.containers[0].image")
    assert "managed-server1 is not started" in shipper2.message and "managed-server1 runs" not in shipper2.message

    dom, clusters = fixture("server-pod-levels.yaml")
    dom["spec"]["serverStartPolicy"] = "AdminOnly"
    m = model_domain(dom, clusters)
    assert {g.service_account for g in m.groups} == {"billing-admin", "billing-domain"}
    prepare3 = ignored_at(m, "spec.managedServers[0].serverPod.initContainers[0].image")
    assert "(spec.serverStartPolicy AdminOnly)" in prepare3.message

    dom, clusters = fixture("auxiliary-images-v8.yaml")  # v8 spelling
    dom["spec"]["clusters"][0]["serverStartPolicy"] = "NEVER"
    m = model_domain(dom, clusters)
    cluster_aux = ignored_at(m, "spec.clusters[0].serverPod.auxiliaryImages[0].image")
    assert "cluster cluster-1 is not started" in cluster_aux.message


def test_a_domain_that_is_not_started_is_audited_as_it_will_start() -> None:
    """spec.serverStartPolicy Never (or the admin server's) shuts the whole Domain down: no server pod
    and no introspector (DomainSpec.java:1360-1362, DomainPresenceStep.java:34-38). Its images are still
    audited, as the pods will pull them once it starts, and an info note says the Domain is not running."""
    dom, clusters = fixture("model-in-image.yaml")
    started = model_domain(dom, clusters)
    for where in ("spec", "spec.adminServer"):
        dom, clusters = fixture("model-in-image.yaml")
        holder = dom["spec"] if where == "spec" else dom["spec"].setdefault("adminServer", {})
        holder["serverStartPolicy"] = "Never"
        m = model_domain(dom, clusters)
        assert m.groups == started.groups
        note = ignored_at(m, f"{where}.serverStartPolicy")
        assert note.image is None
        assert "runs no pod of this Domain now" in note.message


def test_clusters_the_domain_does_not_reference_count_for_nothing() -> None:
    """The operator reads only the Cluster resources named in spec.clusters
    (DomainPresenceInfo.getReferencedClusters, used by JobHelper.java:181-183)."""
    dom, clusters = fixture("server-pod-levels.yaml")
    pod = sa_pod("stray", containers=[container("x", "registry.example.com/x:1")])
    stray = cluster("billing-cluster-2", "billing-ns", server_pod=pod)
    m = model_domain(dom, {**clusters, "billing-cluster-2": stray})
    assert m == model_domain(dom, clusters)
    assert "stray" not in {g.service_account for g in m.groups}


def test_an_unknown_source_type_is_an_input_error() -> None:
    with pytest.raises(DomainError, match=r"spec\.domainHomeSourceType: expected one of"):
        model({"domainHomeSourceType": "FromImage"})
