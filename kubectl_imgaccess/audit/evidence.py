"""Live evidence from a cluster snapshot: pods stuck pulling, pull-secret events, Domain conditions, node caches.

Pure functions over the snapshot's plain objects; on a files snapshot they find nothing.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from packaging.version import Version

from kubectl_imgaccess.audit.report import ImageEntry
from kubectl_imgaccess.audit.snapshot import Obj, Snapshot
from kubectl_imgaccess.kubelet import imageref
from kubectl_imgaccess.objects import share_texts, shared_text
from kubectl_imgaccess.weblogic.domain import (
    IGNORE_ANNOTATION,
    INTROSPECTION_FAILURE,
    INTROSPECTOR,
    POD_KIND_LABELS,
    pod_kind,
)

PULL_WAITING_REASONS = ("ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName")
# Pod events that are pull-failure evidence; the cluster reader keeps only these (a busy namespace has many).
PULL_EVENT_REASONS = frozenset({"FailedToRetrieveImagePullSecret"})
_CONDITION_HINTS = ("pulling image", "pull image", "imagepullbackoff", "errimagepull", "back-off pulling")
FAILED_CONDITION = "Failed"  # the type of the Domain conditions pull_failures reads

DOMAIN_UID_LABEL = "weblogic.domainUID"


class Failure(NamedTuple):
    """One piece of IA009 evidence."""

    message: str
    images: List[int]  # indexes of the image entries it concerns
    image: Optional[str]
    pod_kind: Optional[str]  # the kind of pod that fails (weblogic.domain SERVER or INTROSPECTOR), when known


# What the functions below read of each live object, and nothing else: the cluster reader keeps this much of
# every Pod, Event and Node as each LIST page arrives, so a big cluster's pages are never held whole. Each
# projection keeps the API's shape (the functions read it unchanged) and gives them exactly the same answers.

def _head(obj: Mapping[str, Any]) -> Dict[str, Any]:
    """kind, apiVersion, and the name and namespace of metadata (one copy of each namespace's name)."""
    kept = {key: obj[key] for key in ("kind", "apiVersion") if key in obj}
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        kept["metadata"] = {key: shared_text(meta[key]) if key == "namespace" else meta[key]
                            for key in ("name", "namespace") if key in meta}
    return kept


def keep_domain(domain: Mapping[str, Any]) -> Dict[str, Any]:
    """A Domain as the audit reads it, for a read that only audits (check; fix patches Domains and shows them
    before and after, so it keeps them whole): kind, apiVersion and the whole spec (the operator model's), of
    metadata the name, namespace, uid and the ignore annotation, and of status the Failed conditions
    (pull_failures). Not kept: managedFields, kubectl's last-applied copy of the whole object, the rest of the
    status. A metadata, annotations or status that is not the API's shape is kept as it is: the audit says
    what is wrong with it as before."""
    kept = {key: domain[key] for key in ("kind", "apiVersion", "spec") if key in domain}
    meta = domain.get("metadata")
    if isinstance(meta, dict):
        kept_meta = {key: meta[key] for key in ("name", "namespace", "uid") if key in meta}
        annotations = meta.get("annotations")
        if not isinstance(annotations, dict):
            if "annotations" in meta:
                kept_meta["annotations"] = annotations
        elif IGNORE_ANNOTATION in annotations:
            kept_meta["annotations"] = {IGNORE_ANNOTATION: annotations[IGNORE_ANNOTATION]}
        kept["metadata"] = kept_meta
    elif "metadata" in domain:
        kept["metadata"] = meta
    status = domain.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    if isinstance(conditions, list):
        failed = [c for c in conditions if not isinstance(c, dict) or c.get("type") == FAILED_CONDITION]
        if failed:
            kept["status"] = {"conditions": failed}
    elif conditions or (status and not isinstance(status, dict)):
        kept["status"] = status
    return share_texts(kept)


def keep_pod(pod: Mapping[str, Any]) -> Dict[str, Any]:
    """A Pod as domain_pods and pull_failures read it (and the reader: its pull secrets): name, namespace, the
    labels that say whose pod it is and which (pod_kind), spec.imagePullSecrets, and only the container statuses
    waiting on a pull."""
    kept = _head(pod)
    labels = (pod.get("metadata") or {}).get("labels")
    if isinstance(labels, dict) and "metadata" in kept:
        read = {key: shared_text(labels[key]) for key in (DOMAIN_UID_LABEL, *POD_KIND_LABELS) if key in labels}
        if read:
            kept["metadata"]["labels"] = read
    spec = pod.get("spec")
    if isinstance(spec, dict) and "imagePullSecrets" in spec:
        kept["spec"] = {"imagePullSecrets": spec["imagePullSecrets"]}
    status = pod.get("status")
    if isinstance(status, dict):
        waiting = {key: [cs for cs in status.get(key) or [] if _waits_on_pull(cs)]
                   for key in ("initContainerStatuses", "containerStatuses")}
        waiting = {key: statuses for key, statuses in waiting.items() if statuses}
        if waiting:
            kept["status"] = waiting
    return kept


def _waits_on_pull(cs: Any) -> bool:
    state = cs.get("state") if isinstance(cs, dict) else None
    waiting = state.get("waiting") if isinstance(state, dict) else None
    return isinstance(waiting, dict) and waiting.get("reason") in PULL_WAITING_REASONS


def evidence_pods(pods: Sequence[Obj], events: Iterable[Obj]) -> List[Obj]:
    """Of these Pods, those pull_failures can read anything from: a container waits on a pull, or a pull event
    (among these events) is about the Pod. The others add nothing to any audit: a reader keeps only these."""
    named = pull_event_pods(events)
    return [pod for pod in pods if holds_evidence(pod, named)]


def pull_event_pods(events: Iterable[Obj]) -> Set[Tuple[str, Any]]:
    """(namespace, name) of the Pods these events report a pull failure about (see holds_evidence)."""
    named = set()
    for ev in events:
        involved = ev.get("involvedObject") or ev.get("regarding") or {}
        if ev.get("reason") in PULL_EVENT_REASONS:
            named.add((str((ev.get("metadata") or {}).get("namespace") or ""), involved.get("name")))
    return named


def holds_evidence(pod: Obj, named: Set[Tuple[str, Any]]) -> bool:
    """Whether pull_failures can read anything from this Pod: a container waits on a pull, or it is among the
    Pods pull events name (pull_event_pods)."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    waits = any(_waits_on_pull(cs) for key in ("initContainerStatuses", "containerStatuses")
                for cs in status.get(key) or [])
    return waits or (str(meta.get("namespace") or ""), meta.get("name")) in named


def keep_event(event: Mapping[str, Any]) -> Dict[str, Any]:
    """An Event as pull_failures reads it: the object it is about, its reason and its message."""
    kept = _head(event)
    for key in ("involvedObject", "regarding", "reason", "message", "note"):
        if key in event:
            kept[key] = event[key]
    return kept


def keep_node(node: Mapping[str, Any]) -> Dict[str, Any]:
    """A Node as the node-cache index and cluster_cloud read it: name, provider, kubelet version, image names."""
    kept = _head(node)
    spec = node.get("spec")
    if isinstance(spec, dict) and "providerID" in spec:
        kept["spec"] = {"providerID": spec["providerID"]}
    status = node.get("status")
    if isinstance(status, dict):
        kept_status: Dict[str, Any] = {}
        info = status.get("nodeInfo")
        if isinstance(info, dict) and "kubeletVersion" in info:
            kept_status["nodeInfo"] = {"kubeletVersion": info["kubeletVersion"]}
        if "images" in status:
            images = status["images"]
            kept_status["images"] = [{"names": img.get("names")} if isinstance(img, dict) else img
                                     for img in images] if isinstance(images, list) else images
        kept["status"] = kept_status
    return kept


def domain_pods(snap: Snapshot, namespace: str, uid: str) -> List[Obj]:
    return [
        p for p in snap.of_kind("Pod", namespace)
        if ((p.get("metadata") or {}).get("labels") or {}).get(DOMAIN_UID_LABEL) == uid
    ]


def pull_failures(snap: Snapshot, namespace: str, uid: str, domain: Obj,
                  images: Sequence[ImageEntry]) -> List[Failure]:
    """IA009 evidence: waiting containers, pull-secret events and Failed conditions about pulls."""
    out: List[Failure] = []
    pods = domain_pods(snap, namespace, uid)
    for pod in pods:
        pod_name = pod["metadata"].get("name", "")
        status = pod.get("status") or {}
        for statuses in ("initContainerStatuses", "containerStatuses"):
            for cs in status.get(statuses) or []:
                waiting = ((cs or {}).get("state") or {}).get("waiting") or {}
                reason = waiting.get("reason")
                if reason in PULL_WAITING_REASONS:
                    image = str(cs.get("image") or "")
                    detail = str(waiting.get("message") or "").strip()
                    msg = f"pod {pod_name} container {cs.get('name')} waits in {reason}"
                    out.append(Failure(msg + (f": {detail}" if detail else ""), _indexes(images, image),
                                       image or None, pod_kind(pod, uid)))
    kinds = {p["metadata"].get("name"): pod_kind(p, uid) for p in pods}
    for ev in snap.of_kind("Event", namespace):
        involved = ev.get("involvedObject") or ev.get("regarding") or {}
        if ev.get("reason") in PULL_EVENT_REASONS and involved.get("name") in kinds:
            note = str(ev.get("message") or ev.get("note") or "").strip()
            out.append(Failure(f"pod {involved.get('name')}: {ev.get('reason')}: {note}", [], None,
                               kinds[involved.get("name")]))
    for cond in ((domain.get("status") or {}).get("conditions") or []):
        message = str(cond.get("message") or "")
        if cond.get("type") == FAILED_CONDITION and any(h in message.lower() for h in _CONDITION_HINTS):
            kind = INTROSPECTOR if cond.get("reason") == INTROSPECTION_FAILURE else None
            out.append(Failure(f"Domain condition Failed ({cond.get('reason', '')}): {message.strip()}", [], None,
                               kind))
    return out


def _indexes(images: Sequence[ImageEntry], image: str) -> List[int]:
    """Entries whose image is the one a container status names (as written or normalized)."""
    try:
        wanted = str(imageref.parse(image)) if image else ""
    except imageref.InvalidReference:
        wanted = image
    out = []
    for i, e in enumerate(images):
        if e.image == image:
            out.append(i)
            continue
        try:
            if wanted and str(imageref.parse(e.image)) == wanted:
                out.append(i)
        except imageref.InvalidReference:
            pass
    return out


def _node_images(snap: Snapshot) -> Tuple[Dict[str, List[Tuple[str, str]]], int]:
    """Every cached image (one spelling, see _norm) -> sorted (node, kubeletVersion); and how many nodes.
    Built once per snapshot, so asking per image costs a lookup, not a scan of every node's cache."""
    index: Dict[str, Set[Tuple[str, str]]] = {}
    nodes = 0
    for node in snap.of_kind("Node"):
        nodes += 1
        status = node.get("status") or {}
        held = (str(node["metadata"].get("name", "")), str((status.get("nodeInfo") or {}).get("kubeletVersion") or ""))
        for img in status.get("images") or []:
            for name in img.get("names") or []:
                index.setdefault(_norm(str(name)), set()).add(held)
    return {image: sorted(held) for image, held in index.items()}, nodes


def node_holders(snap: Snapshot, entry: ImageEntry) -> Optional[Tuple[List[str], int]]:
    """Which nodes cache this image, out of how many; None when nodes are unknown or there is only one."""
    index, total = snap.derived("evidence.node_images", _node_images)
    if total < 2 or not entry.repository:
        return None
    return [name for name, _ in index.get(_norm(entry.image), [])], total


def cluster_cloud(snap: Snapshot, prefixes: Mapping[str, str]) -> Optional[str]:
    """The cloud the nodes run on, from spec.providerID: a cloud, "none" (nodes, on no known cloud), or None
    (no nodes known, or nodes on different clouds)."""
    clouds = set()
    nodes = list(snap.of_kind("Node"))
    for node in nodes:
        provider_id = str((node.get("spec") or {}).get("providerID") or "")
        clouds.add(next((c for p, c in prefixes.items() if provider_id.startswith(p)), "none"))
    return clouds.pop() if len(clouds) == 1 else None


def nodes_caching(snap: Snapshot, entry: ImageEntry) -> List[Tuple[str, str]]:
    """(node, kubeletVersion) of every node whose cache (status.images) holds the image."""
    if not entry.repository:
        return []
    index, _ = snap.derived("evidence.node_images", _node_images)
    return list(index.get(_norm(entry.image), []))


def kubelet_at_least(version: str, minimum: str) -> Optional[bool]:
    """Whether a kubeletVersion ("v1.35.0", "v1.30.2-eks-1552ad0") is at least `minimum`; None if unreadable."""
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", version.strip())
    if m is None:
        return None
    return Version(".".join(g or "0" for g in m.groups())) >= Version(minimum)


def _norm(name: str) -> str:
    """One spelling per image as nodes report it: name@digest, else name:tag (tag defaulting to latest)."""
    try:
        ref = imageref.parse(name)
    except imageref.InvalidReference:
        return name
    return f"{ref.name}@{ref.digest}" if ref.digest else f"{ref.name}:{ref.reference}"


__all__ = ["DOMAIN_UID_LABEL", "PULL_WAITING_REASONS", "cluster_cloud", "domain_pods", "evidence_pods",
           "keep_event", "keep_node", "keep_pod", "kubelet_at_least", "node_holders", "nodes_caching",
           "pull_failures"]
