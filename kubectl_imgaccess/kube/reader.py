"""Read a live cluster into a Snapshot, at the scale of big shared clusters.

Every kind is read with ONE paginated LIST for the whole scope (the namespace, or cluster-wide with -A),
concurrently, so the number of requests does not grow with the number of Domains. Only pull secrets that
are named somewhere but are not among the dockerconfigjson/dockercfg Secrets are fetched by name: the
audit must tell "missing" (IA001) from "wrong type" (IA002). A forbidden LIST falls back to GETs of the
names that matter; whatever stays unreadable is recorded as `Unreadable`, never skipped silently.

This module and `cluster_client` are the only ones that import `kubernetes`, and only when called.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple
from urllib.parse import quote

from kubectl_imgaccess.audit.evidence import (
    DOMAIN_UID_LABEL,
    PULL_EVENT_REASONS,
    holds_evidence,
    keep_domain,
    keep_event,
    keep_node,
    keep_pod,
    pull_event_pods,
)
from kubectl_imgaccess.audit.run import keep_secret, keep_service_account
from kubectl_imgaccess.audit.snapshot import Obj, Snapshot, Unreadable
from kubectl_imgaccess.deadline import Interrupted, RunTimeout, Unfinished, run_all
from kubectl_imgaccess.errors import ClusterError, Forbidden, NotFound
from kubectl_imgaccess.kube.client import NO_CLUSTER, ClusterClient, connect
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.kubelet.pullsecret import PULL_SECRET_TYPES
from kubectl_imgaccess.objects import ObjectKey, share_texts
from kubectl_imgaccess.weblogic.domain import V9_API_VERSION, DomainError, cluster_names, model_domain

__all__ = [
    "NO_CLUSTER",
    "ClusterClient",
    "connect",
    "read_cluster",
    "read_cluster_for",
    "server_version",
]

# The only events the audit reads (IA009's evidence), asked for by field selector so that a busy cluster's
# other events are never sent: kubelet reports each of them as a Warning about a Pod. The API server's field
# selectors cannot OR, so one LIST per reason (requests stay flat in the number of Domains).
EVENT_SELECTORS = tuple(f"involvedObject.kind=Pod,type=Warning,reason={r}" for r in sorted(PULL_EVENT_REASONS))
WORKERS = 6


@dataclass(frozen=True)
class _Kind:
    kind: str
    group_version: str
    plural: str
    namespaced: bool = True
    # What is kept of each object read (the fields the audit reads), as each page arrives; None: all of it.
    # Domains, Clusters and ServiceAccounts are kept whole (fix patches them and shows them before and after),
    # with one copy of each of their texts,
    keep: Optional[Callable[[Obj], Obj]] = None
    # unless the read is only audited (check): then what is kept of them is what the audit reads. None: `keep`.
    audited: Optional[Callable[[Obj], Obj]] = None

    def path(self, namespace: Optional[str], name: Optional[str] = None) -> str:
        root = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        ns = f"/namespaces/{quote(namespace, safe='')}" if self.namespaced and namespace else ""
        tail = f"/{quote(name, safe='')}" if name else ""
        return f"{root}{ns}/{self.plural}{tail}"


# the only version of Domains read: v8 objects are served as v9
DOMAIN = _Kind("Domain", V9_API_VERSION, "domains", keep=share_texts, audited=keep_domain)
CLUSTER = _Kind("Cluster", "weblogic.oracle/v1", "clusters", keep=share_texts)
SERVICE_ACCOUNT = _Kind("ServiceAccount", "v1", "serviceaccounts", keep=share_texts, audited=keep_service_account)
SECRET = _Kind("Secret", "v1", "secrets", keep=keep_secret)
POD = _Kind("Pod", "v1", "pods", keep=keep_pod)
EVENT = _Kind("Event", "v1", "events", keep=keep_event)
NODE = _Kind("Node", "v1", "nodes", namespaced=False, keep=keep_node)
NAMESPACE = _Kind("Namespace", "v1", "namespaces", namespaced=False)


@dataclass
class _Listed:
    """One LIST's outcome: the items, or why they could not be read."""

    items: List[Obj] = field(default_factory=list)
    denied: Optional[str] = None  # the server's 403 message

    @property
    def ok(self) -> bool:
        return self.denied is None


def read_cluster(scope: ClusterScope, *, client: Optional[ClusterClient] = None, audit_only: bool = False) -> Snapshot:
    """Everything the audit needs from the cluster, for the scope's Domains (listed, or named, with -l/-A).

    client: an already configured client; default: one connected as the scope says.
    audit_only: the snapshot is only audited (check): Domains and ServiceAccounts are cut to what the audit
    reads, as the other kinds always are. Otherwise they are kept whole, for fix to patch and show.
    """
    return _ClusterReader(client or connect(scope), scope, audit_only).read()


def read_cluster_for(
    scope: ClusterScope,
    file_domains: Sequence[ObjectKey],
    file_objects: Iterable[Mapping[str, Any]],
    *,
    client: Optional[ClusterClient] = None,
    audit_only: bool = False,
) -> Snapshot:
    """Mixed mode: the Domains come from files, the cluster supplies everything else they need.

    file_domains: the Domains to audit (selected from the files); they fix the namespaces that are read.
    file_objects: the Domains and Clusters read from the files, so that the pull secrets and ServiceAccounts
    they name can be fetched. No Domain is listed, and none is added to the snapshot: the caller lays the
    files over it.
    client: an already configured client (the files' default namespace comes from it before they are read).
    audit_only: as read_cluster's.
    """
    return _FilesReader(client or connect(scope), scope.all_namespaces, list(file_domains), list(file_objects),
                        audit_only).read()


def server_version(scope: ClusterScope) -> str:
    """The server's gitVersion, for `version --server`."""
    client = connect(scope)
    info = client.request("GET", "/version")
    if not isinstance(info, dict) or not info.get("gitVersion"):
        raise ClusterError(f"{client.server}: /version did not answer a version")
    return str(info["gitVersion"])


def namespace_names(scope: ClusterScope) -> List[str]:
    """The names of the cluster's namespaces (for completion)."""
    client = connect(scope)
    return [_name(ns) for ns in client.list(NAMESPACE.path(None), kind=NAMESPACE.kind) if _name(ns)]


def domain_names(scope: ClusterScope) -> List[str]:
    """The names of the Domains in the scope's namespace, or in all with -A (for completion)."""
    client = connect(scope)
    namespace = None if scope.all_namespaces else client.namespace
    items = client.list(DOMAIN.path(namespace), kind=DOMAIN.kind, label_selector=scope.selector)
    return [_name(d) for d in items if _name(d)]


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _ns(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("namespace") or "")


def _name(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("name") or "")


def _dig(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _dicts(value: Any) -> List[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _secret_names(value: Any) -> Set[str]:
    return {str(ref["name"]) for ref in _dicts(value) if ref.get("name")}


def _domain_uid(domain: Mapping[str, Any]) -> str:
    return str(_dig(domain, "spec", "domainUID") or _name(domain))


def _cluster_refs(domain: Mapping[str, Any]) -> Set[str]:
    """Cluster resource names the Domain references, as the operator model reads them."""
    try:
        return set(cluster_names(domain))
    except DomainError:
        return set()  # the audit reports the malformed Domain; the reader only needs what it can use


@dataclass(frozen=True)
class _Found:
    """The Domains a read is for, and what follows from them for the other kinds."""

    objects: List[Obj]  # the Domains whose references are followed
    spaces: Optional[Set[str]]  # namespaces that hold audited Domains; None: a Domain list could not be read,
    # so which matter is unknown: every namespace's objects are kept
    uids: Optional[Set[Tuple[str, str]]]  # (namespace, domainUID) whose pods are kept; None: every Domain pod

    @property
    def known(self) -> bool:
        """Every Domain list could be read."""
        return self.spaces is not None


class _PodPages:
    """What a read keeps of the Pods it lists, as each page arrives: the Pods pull_failures can read anything
    from (holds_evidence, with the Pods the pull events name), as keep_pod keeps them, and of every Pod only the
    names of its pull secrets, by (namespace, domainUID). A big cluster's other Pods (48,000 at 12,000 Domains)
    are never held. The LISTs of pull events (small: asked for by reason) run beside the others, ahead of the
    Pods'; the first page of Pods waits until they have all returned."""

    def __init__(self, event_lists: Iterable[Tuple[str, Optional[str]]]) -> None:
        self.named: Set[Tuple[str, Any]] = set()
        self.pull_secrets: Dict[Tuple[str, str], Set[str]] = {}
        self._lock = threading.Lock()  # one LIST of Pods per namespace read, each on its own thread
        self._pending = set(event_lists)
        self._events: Dict[Tuple[str, Optional[str]], _Listed] = {}
        self._named = threading.Event()
        if not self._pending:
            self._named.set()

    def events_listed(self, key: Tuple[str, Optional[str]], result: _Listed) -> None:
        """One LIST of pull events returned (one that failed: as denied). Once all have, the Pods they name are
        known: those of the namespaces whose event LISTs could all be read, as the audit reads them."""
        with self._lock:
            self._events[key] = result
            self._pending.discard(key)
            if self._pending:
                return
            failed = {ns for (_, ns), listed in self._events.items() if not listed.ok}
            self.named = pull_event_pods(event for (_, ns), listed in self._events.items() if ns not in failed
                                         for event in listed.items)
        self._named.set()

    def keep(self, pod: Obj) -> Optional[Obj]:
        if not self._named.is_set():
            self._named.wait()
        names = _secret_names(_dig(pod, "spec", "imagePullSecrets"))
        if names:
            with self._lock:
                self.pull_secrets.setdefault((_ns(pod), _pod_uid(pod)), set()).update(names)
        kept = keep_pod(pod)
        return kept if holds_evidence(kept, self.named) else None


def _pod_uid(pod: Mapping[str, Any]) -> str:
    return str((_meta(pod).get("labels") or {}).get(DOMAIN_UID_LABEL) or "")


class _Reader:
    """What both reads share: one LIST per kind and namespace, then GETs of referenced names the lists lack.
    The two kinds of read differ only in where the Domains come from (the hooks at the end)."""

    def __init__(self, client: ClusterClient, everywhere: bool, targets: List[Optional[str]],
                 audit_only: bool = False) -> None:
        self.client = client
        self.audit_only = audit_only
        self.pods = _PodPages(())  # each read() makes its own
        self.everywhere = everywhere
        self.targets = [None] if everywhere else targets
        self.snap = Snapshot(mode="cluster", context=client.context)
        self.snap.scope_namespace = None if everywhere else client.namespace

    # -- requests -----------------------------------------------------------------------------

    def _keep(self, kind: _Kind) -> Optional[Callable[[Obj], Obj]]:
        """What is kept of each object of the kind this read lists or gets."""
        return kind.audited if self.audit_only and kind.audited is not None else kind.keep

    def _list(
        self, kind: _Kind, namespace: Optional[str], label: Optional[str] = None, fields: Optional[str] = None,
        keep: Optional[Callable[[Obj], Optional[Obj]]] = None,
    ) -> _Listed:
        """keep: what to keep of each item instead of the kind's (_keep); an item it keeps nothing of is left out."""
        try:
            items = self.client.list(
                kind.path(namespace), kind=kind.kind, label_selector=label, field_selector=fields,
                keep=keep or self._keep(kind)
            )
        except Forbidden as exc:
            return _Listed(denied=exc.detail or "forbidden")
        except NotFound:
            if kind is CLUSTER:
                return _Listed()  # operators before 4.0 have no Cluster resource: nothing to read
            if kind is DOMAIN:
                raise ClusterError(
                    f"{self.client.server}: the server does not serve {kind.plural}.{kind.group_version} "
                    "(is the WebLogic Kubernetes Operator installed?)"
                ) from None
            raise
        return _Listed(items=items)

    def _list_events(self, namespace: Optional[str], selector: str) -> _Listed:
        """One LIST of pull events, told to the Pods' pages as it returns (also when it fails)."""
        result = _Listed(denied="not read")
        try:
            result = self._list(EVENT, namespace, None, selector)
        finally:
            self.pods.events_listed((selector, namespace), result)
        return result

    def _get(self, kind: _Kind, namespace: str, name: str) -> Tuple[Optional[Obj], Optional[str]]:
        """(object or None when absent, the 403 message when forbidden)."""
        try:
            obj = self.client.get(kind.path(namespace, name))
        except Forbidden as exc:
            return None, exc.detail or "forbidden"
        if obj is not None:
            obj.setdefault("kind", kind.kind)
            obj.setdefault("apiVersion", kind.group_version)
            keep = self._keep(kind)
            if keep is not None:
                obj = keep(obj)
        return obj, None

    def _run(self, calls: Mapping[Any, Callable[[], Any]], kind: Optional[_Kind] = None) -> Dict[Any, Any]:
        """Run independent requests on daemon threads; the first error wins. Ctrl-C and the run's deadline
        stop at once and say what was not read (keys: (kind, namespace) for lists, (namespace, name) for
        GETs of `kind`)."""
        try:
            return run_all(calls, WORKERS)
        except Unfinished as stopped:
            cause = stopped.cause
            if isinstance(cause, (KeyboardInterrupt, RunTimeout)):
                missing = _not_read(stopped.pending, kind)
                if isinstance(cause, KeyboardInterrupt):
                    raise Interrupted(f"interrupted: nothing written; not read: {missing}") from None
                raise RunTimeout(f"{cause}; not read: {missing}") from None
            raise cause from None

    def _fetch_names(self, kind: _Kind, wanted: Iterable[Tuple[str, str]]) -> None:
        """GET each (namespace, name); absent ones stay absent, forbidden ones become Unreadable."""
        keys = sorted(set(wanted))
        got = self._run({key: functools.partial(self._get, kind, key[0], key[1]) for key in keys}, kind)
        for (namespace, name), (obj, denied) in got.items():
            if obj is not None:
                self.snap.add(obj)
            elif denied is not None:
                self.snap.unreadable.append(Unreadable(kind.kind, namespace, name, denied))

    def _unreadable(self, kind: _Kind, namespace: Optional[str], denied: str) -> None:
        self.snap.unreadable.append(Unreadable(kind.kind, namespace, None, denied))

    # -- the read -----------------------------------------------------------------------------

    def read(self) -> Snapshot:
        events = [(selector, ns) for ns in self.targets for selector in EVENT_SELECTORS]
        self.pods = _PodPages(events)
        calls: Dict[Tuple[str, Optional[str]], Callable[[], _Listed]] = {}
        for ns in self.targets:
            calls.update(self._domain_calls(ns))
            calls[("Cluster", ns)] = functools.partial(self._list, CLUSTER, ns)
            calls[("ServiceAccount", ns)] = functools.partial(self._list, SERVICE_ACCOUNT, ns)
            for stype in PULL_SECRET_TYPES:
                calls[(stype, ns)] = functools.partial(self._list, SECRET, ns, None, f"type={stype}")
        # Started in this order: every LIST of pull events before any of Pods, which waits for them (_PodPages).
        for selector, ns in events:
            calls[(selector, ns)] = functools.partial(self._list_events, ns, selector)
        for ns in self.targets:
            calls[("Pod", ns)] = functools.partial(self._list, POD, ns, DOMAIN_UID_LABEL, None, self.pods.keep)
        calls[("Node", None)] = functools.partial(self._list, NODE, None)
        listed: Dict[Tuple[str, Optional[str]], _Listed] = self._run(calls)

        found = self._domains(listed)
        spaces = found.spaces

        def relevant(obj: Mapping[str, Any]) -> bool:
            return spaces is None or _ns(obj) in spaces

        clusters = self._clusters(listed, found.objects, relevant)
        self._events(listed, relevant)
        pod_secrets = self._pods(listed, found)
        service_accounts = self._service_accounts(listed, found, clusters, relevant)
        self._secrets(listed, found.objects, service_accounts, pod_secrets)
        self._nodes(listed)
        self._finish(found.objects)
        return self.snap

    # -- where the Domains come from (each kind of read fills these in) ----------------------

    def _domain_calls(self, namespace: Optional[str]) -> Dict[Tuple[str, Optional[str]], Callable[[], _Listed]]:
        """The LISTs of Domains to make in a namespace, beside the other kinds'."""
        return {}

    def _domains(self, listed: Mapping[Tuple[str, Optional[str]], _Listed]) -> _Found:
        raise NotImplementedError

    def _more_clusters(self) -> Iterable[Mapping[str, Any]]:
        """Cluster resources laid over the cluster's own."""
        return ()

    def _more_service_accounts(self) -> Set[Tuple[str, str]]:
        """ServiceAccounts wanted beyond those the Domains name."""
        return set()

    def _finish(self, domains: List[Obj]) -> None:
        """The snapshot's audited Domains, and whatever else the read must say about them."""

    # -- the other kinds ------------------------------------------------------------------------

    def _sa_names(self, domain: Obj, clusters: Iterable[Mapping[str, Any]]) -> Set[str]:
        """Every ServiceAccount the Domain's pods run as ("default" included: it is the fallback). The model
        that says so is handed to the audit with the snapshot, so that no Domain is modelled twice."""
        by_name = {_name(c): c for c in clusters}
        try:
            model = model_domain(domain, by_name, namespace=_ns(domain))
        except DomainError:
            return {"default"}
        self.snap.hand_over(domain, model)
        return {"default"} | {g.service_account for g in model.groups}

    def _clusters(
        self,
        listed: Mapping[Tuple[str, Optional[str]], _Listed],
        domains: List[Obj],
        relevant: Callable[[Mapping[str, Any]], bool],
    ) -> Dict[Tuple[str, str], Obj]:
        found: Dict[Tuple[str, str], Obj] = {}
        missing: Set[Tuple[str, str]] = set()
        for ns in self.targets:
            result = listed[("Cluster", ns)]
            if result.ok:
                for obj in result.items:
                    if relevant(obj):
                        found[(_ns(obj), _name(obj))] = obj
                continue
            wanted = {(_ns(d), r) for d in domains for r in _cluster_refs(d) if ns is None or _ns(d) == ns}
            if not domains:
                self._unreadable(CLUSTER, ns, result.denied or "forbidden")
            missing |= wanted
        for obj in found.values():
            self.snap.add(obj)
        if missing:
            self._fetch_names(CLUSTER, missing)
            for space, name in missing:
                fetched = self.snap.get("Cluster", space, name)
                if fetched is not None:
                    found[(space, name)] = fetched
        for extra in self._more_clusters():
            found[(_ns(extra), _name(extra))] = dict(extra)
        return found

    def _service_accounts(
        self,
        listed: Mapping[Tuple[str, Optional[str]], _Listed],
        found: _Found,
        clusters: Mapping[Tuple[str, str], Obj],
        relevant: Callable[[Mapping[str, Any]], bool],
    ) -> List[Obj]:
        wanted = self._more_service_accounts()
        for domain in found.objects:
            space = _ns(domain)
            refs = [clusters[(space, ref)] for ref in _cluster_refs(domain) if (space, ref) in clusters]
            wanted |= {(space, sa) for sa in self._sa_names(domain, refs)}
        kept: List[Obj] = []
        missing: Set[Tuple[str, str]] = set()
        for ns in self.targets:
            result = listed[("ServiceAccount", ns)]
            if result.ok:
                kept += [sa for sa in result.items if relevant(sa)]
                continue
            missing |= {key for key in wanted if ns is None or key[0] == ns}
            if not found.known:
                self._unreadable(SERVICE_ACCOUNT, ns, result.denied or "forbidden")
        for sa in kept:
            self.snap.add(sa)
        if missing:
            self._fetch_names(SERVICE_ACCOUNT, missing)
            fetched = (self.snap.get("ServiceAccount", space, n) for space, n in missing)
            kept += [o for o in fetched if o is not None]
        # Only the ServiceAccounts the Domains' pods use contribute pull-secret names.
        return [sa for sa in kept if not wanted or (_ns(sa), _name(sa)) in wanted]

    def _pods(
        self,
        listed: Mapping[Tuple[str, Optional[str]], _Listed],
        found: _Found,
    ) -> Set[Tuple[str, str]]:
        """The pull secrets the Domains' pods name; the snapshot keeps the Domains' pods that hold pull evidence
        (the only ones the LISTs kept)."""
        uids = found.uids

        def domains(ns: str, uid: str) -> bool:
            return (found.spaces is None or ns in found.spaces) and (uids is None or (ns, uid) in uids)

        for ns in self.targets:
            result = listed[("Pod", ns)]
            if not result.ok:
                self._unreadable(POD, ns, result.denied or "forbidden")
                continue
            for pod in result.items:
                if domains(_ns(pod), _pod_uid(pod)):
                    self.snap.add(pod)
            result.items = []
        return {(ns, n) for (ns, uid), names in self.pods.pull_secrets.items() if domains(ns, uid) for n in names}

    def _secrets(
        self,
        listed: Mapping[Tuple[str, Optional[str]], _Listed],
        domains: List[Obj],
        service_accounts: List[Obj],
        pod_secrets: Set[Tuple[str, str]],
    ) -> None:
        """Typed lists, plus GETs for referenced names they lack. Every pull secret is kept: IA008
        looks for credentials in other namespaces."""
        referenced: Set[Tuple[str, str]] = set(pod_secrets)
        for domain in domains:
            referenced |= {(_ns(domain), n) for n in _secret_names(_dig(domain, "spec", "imagePullSecrets"))}
        for sa in service_accounts:
            referenced |= {(_ns(sa), n) for n in _secret_names(sa.get("imagePullSecrets"))}
        everywhere_ok = self.everywhere
        missing: Set[Tuple[str, str]] = set()
        for ns in self.targets:
            denied = [listed[(t, ns)].denied for t in PULL_SECRET_TYPES if not listed[(t, ns)].ok]
            for stype in PULL_SECRET_TYPES:
                for secret in listed[(stype, ns)].items:
                    self.snap.add(secret)
            if denied:
                everywhere_ok = False
                # Secrets of other types or names nobody references cannot be known: IA007/IA008 need them.
                self._unreadable(SECRET, ns, denied[0] or "forbidden")
        for ns, name in referenced:
            if self.snap.get("Secret", ns, name) is None and (self.everywhere or ns in self.targets):
                missing.add((ns, name))
        if missing:
            self._fetch_names(SECRET, missing)
        self.snap.secrets_listed_everywhere = everywhere_ok

    def _events(
        self, listed: Mapping[Tuple[str, Optional[str]], _Listed], relevant: Callable[..., bool]
    ) -> None:
        for ns in self.targets:
            results = [listed[(selector, ns)] for selector in EVENT_SELECTORS]
            denied = next((r.denied for r in results if not r.ok), None)
            if denied is not None:
                self._unreadable(EVENT, ns, denied)
                continue
            for result in results:
                for event in result.items:
                    if relevant(event):
                        self.snap.add(event)

    def _nodes(self, listed: Mapping[Tuple[str, Optional[str]], _Listed]) -> None:
        result = listed[("Node", None)]
        if not result.ok:
            self._unreadable(NODE, None, result.denied or "forbidden")
        for node in result.items:
            self.snap.add(node)



class _ClusterReader(_Reader):
    """The Domains are the cluster's: listed in the scope (-n or -A, -l), or the ones named."""

    def __init__(self, client: ClusterClient, scope: ClusterScope, audit_only: bool) -> None:
        super().__init__(client, scope.all_namespaces, [client.namespace], audit_only)
        self.selector = scope.selector
        self.named = list(scope.domains)

    def _domain_calls(self, namespace: Optional[str]) -> Dict[Tuple[str, Optional[str]], Callable[[], _Listed]]:
        return {("Domain", namespace): functools.partial(self._list, DOMAIN, namespace, self.selector)}

    def _domains(self, listed: Mapping[Tuple[str, Optional[str]], _Listed]) -> _Found:
        wanted = set(self.named)
        domains: List[Obj] = []
        for ns in self.targets:
            result = listed[("Domain", ns)]
            if result.ok:
                domains += [d for d in result.items if not wanted or _name(d) in wanted]
            elif wanted and ns is not None:
                for name in sorted(wanted):
                    obj, denied = self._get(DOMAIN, ns, name)
                    if obj is not None:
                        domains.append(obj)
                    elif denied is not None:
                        self.snap.unreadable.append(Unreadable("Domain", ns, name, denied))
            else:
                self._unreadable(DOMAIN, ns, result.denied or "forbidden")
        for domain in domains:
            self.snap.add(domain)
        if all(listed[("Domain", ns)].ok for ns in self.targets):
            return _Found(domains, {_ns(d) for d in domains}, {(_ns(d), _domain_uid(d)) for d in domains})
        return _Found(domains, None, None)  # which namespaces and pods matter cannot be known

    def _finish(self, domains: List[Obj]) -> None:
        if self.named:
            if self.everywhere:
                self.snap.audit_domains = sorted(ObjectKey("Domain", _ns(d), _name(d)) for d in domains)
            else:
                ns = self.client.namespace
                self.snap.audit_domains = [ObjectKey("Domain", ns, name) for name in self.named]
        self._namespace_exists(domains)

    def _namespace_exists(self, domains: List[Obj]) -> None:
        """When a namespace scope found fewer Domains than asked for, ask whether the namespace exists at all
        (an empty scope that is really a typo must not pass). Forbidden to tell: a note."""
        if self.everywhere:
            return
        ns = self.client.namespace
        found = {_name(d) for d in domains}
        if found and all(name in found for name in self.named):
            return
        try:
            self.client.request("GET", f"/api/v1/namespaces/{quote(ns, safe='')}")
        except NotFound:
            self.snap.missing_namespaces.append(ns)
        except Forbidden as exc:
            self.snap.notes.append(f"cannot tell whether namespace {ns} exists: {exc.detail or 'forbidden'}")


class _FilesReader(_Reader):
    """Mixed mode: the Domains (and Cluster resources) come from files; no Domain is listed, the namespaces
    read are the files' Domains'."""

    def __init__(
        self,
        client: ClusterClient,
        everywhere: bool,
        file_domains: List[ObjectKey],
        file_objects: List[Mapping[str, Any]],
        audit_only: bool,
    ) -> None:
        spaces = sorted({key.namespace for key in file_domains if key.namespace})
        super().__init__(client, everywhere, list(spaces) or [client.namespace], audit_only)
        self.file_domains = file_domains
        self.file_objects = file_objects

    def _domains(self, listed: Mapping[Tuple[str, Optional[str]], _Listed]) -> _Found:
        domains = [dict(o) for o in self.file_objects if o.get("kind") == "Domain"]
        spaces = {key.namespace for key in self.file_domains}
        # No Domain objects handed over: keep every Domain pod of the namespaces.
        uids = {(_ns(d), _domain_uid(d)) for d in domains} if domains else None
        return _Found(domains, spaces, uids)

    def _more_clusters(self) -> Iterable[Mapping[str, Any]]:
        return [o for o in self.file_objects if o.get("kind") == "Cluster"]

    def _more_service_accounts(self) -> Set[Tuple[str, str]]:
        return {(key.namespace, "default") for key in self.file_domains}

    def _finish(self, domains: List[Obj]) -> None:
        self.snap.audit_domains = list(self.file_domains)


def _not_read(pending: Sequence[Any], kind: Optional[_Kind]) -> str:
    """What the keys of unfinished reads name, in a few words."""
    shown: List[str] = []
    for key in pending:
        first, second = key
        if kind is None:
            what = f"Secrets of type {first}" if "/" in str(first) else first
            shown.append(f"{what} in {second or 'all namespaces'}")
        else:
            shown.append(f"{kind.kind} {first}/{second}")
    head = ", ".join(shown[:6])
    return head + (f" and {len(shown) - 6} more" if len(shown) > 6 else "")
