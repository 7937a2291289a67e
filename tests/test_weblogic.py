"""The operator model: which pods a Domain gets, their ServiceAccounts, pull secrets and images."""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Mapping, Optional

import pytest

from kubectl_imgaccess.objects import FieldRef, ObjectKey
from kubectl_imgaccess.weblogic.domain import (
    DEFAULTS,
    DomainError,
    DomainModel,
    ImageUse,
    OperatorDefaults,
    PodGroup,
    cluster_names,
    kubernetes_pull_policy,
    model_domain,
    operator_pull_policy,
)

S = "server"
I = "introspector"  # noqa: E741
KEY = ObjectKey("Domain", "ns1", "d1")


def domain(
    spec: Dict[str, Any], api: Optional[str] = "weblogic.oracle/v9", **metadata: Any
) -> Dict[str, Any]:
    meta: Dict[str, Any] = {"name": "d1", "namespace": "ns1"}
    meta.update(metadata)
    obj: Dict[str, Any] = {"kind": "Domain", "metadata": meta, "spec": spec}
    if api is not None:
        obj["apiVersion"] = api
    return obj


def cluster(name: str, server_pod: Optional[Dict[str, Any]] = None, namespace: str = "ns1") -> Dict[str, Any]:
    spec: Dict[str, Any] = {"clusterName": name}
    if server_pod is not None:
        spec["serverPod"] = server_pod
    return {
        "apiVersion": "weblogic.oracle/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def model(spec: Dict[str, Any], clusters: Optional[Mapping[str, Mapping[str, Any]]] = None) -> DomainModel:
    return model_domain(domain(spec), clusters or {})


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
    g = only_group(model_domain(domain(spec), {}, defaults=other))
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
        "configuration": {"initializeDomainOnPV": {"domain": {"domainCreationImages": [{"image": "wdt:1"}]}}}
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
        "introspector": {"serverPod": {"initContainers": [container("pre", "intro:1")]}},
    }
    pods = pods_by_path(only_group(model(spec)))
    assert pods["spec.serverPod.containers[0].image"] == {S}
    assert pods["spec.serverPod.initContainers[0].image"] == {S}
    assert pods["spec.serverPod.initContainers[1].image"] == {S, I}
    assert pods["spec.serverPod.initContainers[2].image"] == {S, I}
    assert pods["spec.serverPod.initContainers[3].image"] == {S}
    assert pods["spec.introspector.serverPod.initContainers[0].image"] == {I}


def test_compat_init_containers_below_admin_level_never_reach_the_introspector() -> None:
    spec = {
        "clusters": [{"name": "c1"}],
        "managedServers": [
            {"serverName": "ms1", "serverPod": {"initContainers": [container("compat-x", "m:1")]}}
        ],
    }
    clusters = {"c1": cluster("c1", {"initContainers": [container("compat-y", "c:1")]})}
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
    clusters = {"c1": cluster("c1", sa_pod("clu", containers=[container("c", "clu:1")]))}
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
    clusters = {"c1": cluster("c1", sa_pod("clu")), "c2": cluster("c2")}
    m = model(spec, clusters)
    assert [(g.service_account, g.roles) for g in m.groups] == [
        ("dom", ("admin-server", "cluster c2", "managed-server ms2", "introspector")),
        ("clu", ("cluster c1",)),
        ("ms", ("managed-server ms1",)),
    ]
    assert group(m, "clu").service_account_field == FieldRef(
        ObjectKey("Cluster", "ns1", "c1"), "spec.serverPod.serviceAccountName"
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
    m = model(spec, {"c2": cluster("c2", {"containers": [container("x", "x:1")]})})
    assert [(c.name, c.field) for c in m.missing_clusters] == [("c1", FieldRef(KEY, "spec.clusters[0].name"))]
    g = only_group(m)
    assert g.roles == ("admin-server", "cluster c2", "introspector")
    use = use_at(g, "spec.serverPod.containers[0].image")
    assert use.field.obj == ObjectKey("Cluster", "ns1", "c2")


def test_cluster_names_lists_v9_references_only() -> None:
    d = domain({"clusters": [{"name": "c1"}, {"clusterName": "inline"}, {"name": "c1"}, {"name": "c3"}]})
    assert cluster_names(d) == ["c1", "c3"]
    v8 = domain({"clusters": [{"clusterName": "c1"}]}, api="weblogic.oracle/v8")
    assert cluster_names(v8) == []
    assert model_domain(v8, {}).missing_clusters == ()


def test_cluster_without_namespace_takes_the_domain_namespace() -> None:
    c = cluster("c1", {"containers": [container("x", "x:1")]})
    del c["metadata"]["namespace"]
    g = only_group(model({"clusters": [{"name": "c1"}]}, {"c1": c}))
    assert use_at(g, "spec.serverPod.containers[0].image").field.obj == ObjectKey("Cluster", "ns1", "c1")


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
    m = model_domain(domain(v8_spec(), api="weblogic.oracle/v8"), {})
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
    m = model_domain(domain({"serverPod": {"auxiliaryImages": [{"image": "a:latest"}]}}, api=None), {})
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
    assert model_domain(domain({}), {}).domain_uid == "d1"
    assert model_domain(domain({}), {}, namespace="ignored").key == KEY


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
    d = domain(
        {}, annotations={"imgaccess.weblogic.oracle/ignore": " IA011, registry-terms-required ,,Ia004 "}
    )
    assert model_domain(d, {}).ignore == {"IA011", "registry-terms-required", "Ia004"}
    assert model_domain(domain({}, annotations={"other": "x"}), {}).ignore == frozenset()
    assert model_domain(domain({}), {}).ignore == frozenset()


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("obj", "clusters", "path"),
    [
        (domain({})["metadata"], {}, "spec"),  # no spec at all
        ({"kind": "Domain", "spec": ["x"]}, {}, "spec"),
        (domain({"imagePullSecrets": {"name": "a"}}), {}, "spec.imagePullSecrets"),
        (domain({"imagePullSecrets": ["a"]}), {}, "spec.imagePullSecrets[0]"),
        (domain({"imagePullSecrets": [{"name": 3}]}), {}, "spec.imagePullSecrets[0].name"),
        (domain({"image": 1.0}), {}, "spec.image"),
        (domain({"serverPod": []}), {}, "spec.serverPod"),
        (domain({"serverPod": {"containers": {"name": "x"}}}), {}, "spec.serverPod.containers"),
        (domain({"adminServer": {"serverPod": {"serviceAccountName": 5}}}), {}, "spec.adminServer.serverPod"),
        (domain({"managedServers": ["ms1"]}), {}, "spec.managedServers[0]"),
        (domain({"clusters": "c1"}), {}, "spec.clusters"),
        (
            domain({"configuration": {"model": {"auxiliaryImages": [{"image": ["x"]}]}}}),
            {},
            "auxiliaryImages[0]",
        ),
        (domain({"fluentdSpecification": {"watchIntrospectorLogs": "no"}}), {}, "watchIntrospectorLogs"),
        (
            domain({"clusters": [{"name": "c1"}]}),
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
