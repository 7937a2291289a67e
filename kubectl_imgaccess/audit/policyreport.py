"""The audit as wgpolicyk8s.io/v1alpha2 PolicyReports (`-o policyreport`, `--write-reports`), the format
Kyverno, Trivy Operator and Policy Reporter read. One report per namespace that holds audited Domains, named
`kubectl-imgaccess`; one result per unsuppressed finding, plus one `pass` result for each Domain whose verdict
is pass.

Pure: the same audit gives the same reports, byte for byte (no timestamps), so that `--write-reports` can tell
"nothing changed" by comparing them with what the cluster holds.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from kubectl_imgaccess.audit.report import DomainReport, Finding, Report
from kubectl_imgaccess.text import redact

REPORT_NAME = "kubectl-imgaccess"
SOURCE = "kubectl-imgaccess"
API_VERSION = "wgpolicyk8s.io/v1alpha2"
KIND = "PolicyReport"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubectl-imgaccess"}
CONTEXT_ANNOTATION = "imgaccess.weblogic.oracle/context"  # only in -o output of several clusters
PASS_POLICY = "image-pull-access"  # the result of a Domain whose every pod can pull every image
CATEGORY = "Image pull access"
# finding severity -> (PolicyReport result, PolicyReport severity)
RESULT = {"error": ("fail", "high"), "warning": ("warn", "medium"), "info": ("pass", "info")}
SUMMARY_KEYS = ("pass", "fail", "warn", "error", "skip")


def _reference(d: DomainReport) -> Dict[str, Any]:
    ref: Dict[str, Any] = {"apiVersion": d.api_version or "weblogic.oracle/v9", "kind": "Domain",
                           "namespace": d.namespace, "name": d.name}
    if d.uid:
        ref["uid"] = d.uid
    return ref


def _properties(f: Finding) -> Dict[str, str]:
    props = {"field": f.field, "image": f.image, "secret": f.secret, "serviceAccount": f.service_account}
    return {k: v for k, v in props.items() if v}


def _finding_result(d: DomainReport, f: Finding) -> Dict[str, Any]:
    result, severity = RESULT[f.severity]
    doc: Dict[str, Any] = {"source": SOURCE, "policy": f.name, "rule": f.rule, "category": CATEGORY,
                           "result": result, "severity": severity, "scored": True, "message": redact(f.message),
                           "resources": [_reference(d)]}
    props = _properties(f)
    if props:
        doc["properties"] = props
    return doc


def _pass_result(d: DomainReport) -> Dict[str, Any]:
    images = len(d.images)
    return {"source": SOURCE, "policy": PASS_POLICY, "category": CATEGORY, "result": "pass", "severity": "info",
            "scored": True, "message": f"every pod of Domain {d.name} can pull its {images} image(s)",
            "resources": [_reference(d)]}


def results_of(d: DomainReport) -> List[Dict[str, Any]]:
    out = [_finding_result(d, f) for f in d.findings if not f.suppressed]
    if d.verdict == "pass":
        out.append(_pass_result(d))
    return out


def policy_report(namespace: str, domains: Iterable[DomainReport]) -> Dict[str, Any]:
    """The report of one namespace (no Domains: no results, every count 0)."""
    results = [r for d in sorted(domains, key=lambda d: d.name) for r in results_of(d)]
    summary = {k: sum(1 for r in results if r["result"] == k) for k in SUMMARY_KEYS}
    return {"apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": REPORT_NAME, "namespace": namespace, "labels": dict(MANAGED_BY)},
            "results": results, "summary": summary}


def policy_reports(report: Report, context: Optional[str] = None) -> List[Dict[str, Any]]:
    """One report per namespace holding audited Domains of `context` (None: of every context), by namespace."""
    by_ns: Dict[str, List[DomainReport]] = {}
    for d in report.domains:
        if context is None or d.context == context:
            by_ns.setdefault(d.namespace, []).append(d)
    return [policy_report(ns, by_ns[ns]) for ns in sorted(by_ns)]
