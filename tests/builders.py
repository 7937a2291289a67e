"""The objects the tool reads, as the API server returns them (plain dicts), built one way for every test.

One set of keyword names: the object's `name` first, then `ns`; `pull` is the names of an imagePullSecrets
list (None: no list at all, [] an empty one); `image`; a credential is `registry`, `user`, `password`; a
Secret's `type_` and data `key`; `uid` a Domain's domainUID (pods carry it as a label). `metadata` is laid
over the built metadata (labels, annotations, timestamps, ...).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

Obj = Dict[str, Any]

NS = "shop"
OCR = "container-registry.oracle.com"
IMAGE = f"{OCR}/middleware/weblogic:14.1.2.0"
DOMAIN_API = "weblogic.oracle/v9"
CLUSTER_API = "weblogic.oracle/v1"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
# A pull secret's data key by type; any other type keeps its payload under "password".
DATA_KEYS = {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}
USER = "scott"
PASSWORD = "tiger"


def b64(text: Union[str, bytes]) -> str:
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


def refs(names: Iterable[str]) -> List[Dict[str, str]]:
    """An imagePullSecrets list: [{"name": ...}, ...]."""
    return [{"name": n} for n in names]


def _meta(name: Any, ns: Optional[str], metadata: Optional[Mapping[str, Any]]) -> Obj:
    meta: Obj = {"name": name}
    if ns is not None:
        meta["namespace"] = ns
    meta.update(metadata or {})
    return meta


def auths(registry: str = OCR, user: str = USER, password: str = PASSWORD) -> Obj:
    """A docker config.json document with one registry's credential (username, password and auth)."""
    return {"auths": {registry: {"username": user, "password": password, "auth": b64(f"{user}:{password}")}}}


def dockerconfig(registry: str = OCR, user: str = USER, password: str = PASSWORD,
                 doc: Optional[Mapping[str, Any]] = None) -> str:
    """A pull secret's data value: the document (default: `auths(...)`), as JSON, base64-encoded."""
    return b64(json.dumps(auths(registry, user, password) if doc is None else doc))


def secret(name: str, ns: str = NS, *, registry: str = OCR, user: str = USER, password: str = PASSWORD,
           type_: Optional[str] = DOCKERCONFIGJSON, key: Optional[str] = None,
           doc: Optional[Mapping[str, Any]] = None, data: Optional[Mapping[str, Any]] = None,
           string_data: Optional[Mapping[str, Any]] = None, metadata: Optional[Mapping[str, Any]] = None) -> Obj:
    """A pull secret holding one credential (or `doc`) under the type's key, in the type's layout. `data`
    replaces the data whole; `string_data` is sent as stringData (and then there is no data unless given).
    type_=None: no type."""
    obj: Obj = {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(name, ns, metadata)}
    if type_ is not None:
        obj["type"] = type_
    if data is None and string_data is None:
        if doc is None and type_ == DOCKERCFG:
            doc = auths(registry, user, password)["auths"]  # the legacy layout: the registries at the top
        data = {key or DATA_KEYS.get(type_ or "", "password"): dockerconfig(registry, user, password, doc)}
    if data is not None:
        obj["data"] = dict(data)
    if string_data is not None:
        obj["stringData"] = dict(string_data)
    return obj


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def service_account(name: str = "default", ns: str = NS, *, pull: Optional[Sequence[str]] = None) -> Obj:
    obj: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns, None)}
    if pull is not None:
        obj["imagePullSecrets"] = refs(pull)
    return obj


def domain(name: Any = "d1", ns: Optional[str] = NS, *, image: Optional[str] = IMAGE,
           pull: Optional[Sequence[str]] = None, pull_policy: Optional[str] = None, source_type: Optional[str] = None,
           service_account: Optional[str] = None, clusters: Optional[Sequence[str]] = None, uid: Optional[str] = None,
           spec: Optional[Mapping[str, Any]] = None, api: Optional[str] = DOMAIN_API,
           metadata: Optional[Mapping[str, Any]] = None) -> Obj:
    """A Domain. Its spec is built from the keywords (domainUID only when `uid` is given), or is `spec`
    as given when that is not None (the other spec keywords are then ignored). api=None: no apiVersion."""
    if spec is None:
        built: Obj = {}
        if uid is not None:
            built["domainUID"] = uid
        if source_type is not None:
            built["domainHomeSourceType"] = source_type
        if image is not None:
            built["image"] = image
        if pull_policy is not None:
            built["imagePullPolicy"] = pull_policy
        if pull is not None:
            built["imagePullSecrets"] = refs(pull)
        if service_account is not None:
            built["serverPod"] = {"serviceAccountName": service_account}
        if clusters is not None:
            built["clusters"] = [{"name": c} for c in clusters]
        spec = built
    obj: Obj = {"kind": "Domain", "metadata": _meta(name, ns, metadata), "spec": dict(spec)}
    if api is not None:
        obj = {"apiVersion": api, **obj}
    return obj


def cluster(name: str, ns: str = NS, *, server_pod: Optional[Mapping[str, Any]] = None) -> Obj:
    """An operator Cluster resource (its clusterName is its name)."""
    spec: Obj = {"clusterName": name}
    if server_pod is not None:
        spec["serverPod"] = dict(server_pod)
    return {"apiVersion": CLUSTER_API, "kind": "Cluster", "metadata": _meta(name, ns, None), "spec": spec}


def pod(name: str, uid: Optional[str], ns: str = NS, *, image: str = "x",
        waiting: Optional[str] = "ImagePullBackOff") -> Obj:
    """A Domain's server pod (labelled with its domainUID), or with uid=None some other pod; its container
    waits for the `waiting` reason (None: it runs)."""
    labels = {"weblogic.domainUID": uid, "weblogic.createdByOperator": "true"} if uid else {"app": "other"}
    state: Obj = {"running": {}}
    if waiting is not None:
        state = {"waiting": {"reason": waiting, "message": f"{waiting}: pulling image {image}"}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(name, ns, {"labels": labels}),
            "spec": {"containers": [{"name": "weblogic-server", "image": image}]},
            "status": {"phase": "Pending" if waiting is not None else "Running",
                       "containerStatuses": [{"name": "weblogic-server", "image": image, "state": state}]}}


def event(name: str, reason: str, pod: str, ns: str = NS, *, message: str = "m") -> Obj:
    """A kubelet Warning about a pod."""
    return {"apiVersion": "v1", "kind": "Event", "metadata": _meta(name, ns, None), "reason": reason,
            "type": "Warning", "message": message, "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns}}


def node(name: str, *, images: Optional[Sequence[Union[str, Sequence[str]]]] = None,
         kubelet: Optional[str] = None, provider_id: Optional[str] = None) -> Obj:
    """A Node; each entry of `images` is one cached image: its name, or its names (digest and tags).
    images=None: the node reports no image list."""
    obj: Obj = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}
    if provider_id is not None:
        obj["spec"] = {"providerID": provider_id}
    status: Obj = {}
    if kubelet is not None:
        status["nodeInfo"] = {"kubeletVersion": kubelet}
    if images is not None:
        status["images"] = [{"names": [i] if isinstance(i, str) else list(i)} for i in images]
    obj["status"] = status
    return obj
