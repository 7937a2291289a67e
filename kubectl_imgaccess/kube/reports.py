"""`check --write-reports`: create or update the PolicyReports of an audit in the cluster it read.

Verbs used, and nothing else (deploy/'s ClusterRole grants exactly these on policyreports.wgpolicyk8s.io):
`list` (the existing reports named kubectl-imgaccess in the scope), `create` (a namespace without one),
`update` (PUT with the resourceVersion read: optimistic concurrency) and `get` (read again after a conflict).
A report whose results and summary already match is not written at all. Nothing is ever deleted: a namespace
whose Domains are gone gets a report with no results.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from kubectl_imgaccess.audit.policyreport import API_VERSION, REPORT_NAME, policy_report
from kubectl_imgaccess.audit.snapshot import Obj
from kubectl_imgaccess.concurrency import read_modify_write
from kubectl_imgaccess.errors import ClusterError, NotFound
from kubectl_imgaccess.kube.client import ClusterClient, connect
from kubectl_imgaccess.kube.reader import _Kind
from kubectl_imgaccess.kube.scope import ClusterScope

log = logging.getLogger("kubectl_imgaccess.reports")

MAX_TRIES = 4  # per report: a conflict reads the report again and retries, this many times in all


@dataclass(frozen=True)
class Written:
    namespace: str
    name: str
    action: str  # "created" | "updated" | "unchanged"
    emptied: bool = False  # the namespace's Domains are gone: the report was written with no results


def _kind(api_version: str) -> _Kind:
    return _Kind("PolicyReport", api_version, "policyreports")


def _meta(obj: Mapping[str, Any]) -> Dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _summary(obj: Mapping[str, Any]) -> Dict[str, int]:
    raw: Dict[str, Any] = obj.get("summary") or {}
    return {k: int(v) for k, v in raw.items() if isinstance(v, int) and v}


def same_report(existing: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether writing desired over existing would change anything it carries."""
    labels = _meta(existing).get("labels") or {}
    wanted = _meta(desired).get("labels") or {}
    return ((existing.get("results") or []) == (desired.get("results") or [])
            and _summary(existing) == _summary(desired)
            and all(labels.get(k) == v for k, v in wanted.items()))


def _merged(existing: Obj, desired: Obj) -> Obj:
    """existing with desired's results, summary and labels: annotations and labels others set are kept."""
    body = copy.deepcopy(existing)
    body["apiVersion"], body["kind"] = desired["apiVersion"], desired["kind"]
    meta = body.setdefault("metadata", {})
    labels = dict(meta.get("labels") or {})
    labels.update(_meta(desired).get("labels") or {})
    meta["labels"] = labels
    meta.pop("managedFields", None)
    body["results"] = copy.deepcopy(desired.get("results") or [])
    body["summary"] = copy.deepcopy(desired["summary"])
    return body


class ReportWriter:
    def __init__(self, client: ClusterClient, api_version: str) -> None:
        self.client = client
        self.spec = _kind(api_version)

    def existing(self, namespaces: Optional[Sequence[str]], name: str) -> Dict[str, Obj]:
        """The reports called name, by namespace (namespaces None: every namespace, one LIST)."""
        found: Dict[str, Obj] = {}
        try:
            for ns in [None] if namespaces is None else list(namespaces):
                for item in self.client.list(self.spec.path(ns), kind=self.spec.kind,
                                             field_selector=f"metadata.name={name}"):
                    if _meta(item).get("name") == name:
                        found[str(_meta(item).get("namespace") or "")] = item
        except NotFound:
            raise ClusterError(f"{self.client.server}: the server does not serve policyreports."
                               f"{self.spec.group_version.split('/')[0]} (install the PolicyReport CRD, "
                               "wgpolicyk8s.io, as Kyverno and Policy Reporter do)") from None
        return found

    def write(self, desired: Obj, existing: Optional[Obj]) -> str:
        """Create or update one report (`existing`: as the LIST gave it); "created", "updated" or "unchanged"."""
        ns, name = str(_meta(desired)["namespace"]), str(_meta(desired)["name"])

        def change(current: Optional[Obj]) -> str:
            if current is None:
                self.client.request("POST", self.spec.path(ns), body=desired)
                log.info("PolicyReport %s/%s created", ns, name)
                return "created"
            if same_report(current, desired):
                return "unchanged"
            if not _meta(current).get("resourceVersion"):
                raise ClusterError(f"{self.client.server}: PolicyReport {ns}/{name} has no resourceVersion")
            self.client.request("PUT", self.spec.path(ns, name), body=_merged(current, desired))
            log.info("PolicyReport %s/%s updated", ns, name)
            return "updated"

        action = read_modify_write(lambda: self.client.get(self.spec.path(ns, name)), change, MAX_TRIES,
                                   f"PolicyReport {ns}/{name}", log, first=lambda: existing)
        if action is None:
            raise ClusterError(f"{self.client.server}: PolicyReport {ns}/{name}: still changing after "
                               f"{MAX_TRIES} tries; run again")
        return action


def write_reports(scope: ClusterScope, reports: List[Obj], *, empty_gone: bool) -> List[Written]:
    """Write the reports of one cluster. empty_gone: every existing report in the scope whose namespace has no
    report in `reports` gets its results emptied (the caller says so only when every Domain could be listed)."""
    client = connect(scope)
    writer = ReportWriter(client, API_VERSION)
    namespaces = None if scope.all_namespaces else [client.namespace]
    existing = writer.existing(namespaces, REPORT_NAME)
    desired = {str(_meta(r)["namespace"]): r for r in reports}
    emptied = set()
    if empty_gone:
        for ns in sorted(set(existing) - set(desired)):
            desired[ns] = policy_report(ns, [])
            emptied.add(ns)
    done: List[Written] = []
    for ns in sorted(desired):
        action = writer.write(desired[ns], existing.get(ns))
        done.append(Written(ns, REPORT_NAME, action, ns in emptied))
    return done
