"""`-o policyreport`: a v1 List of the audit's PolicyReports (audit.policyreport builds them)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from kubectl_imgaccess.audit.policyreport import CONTEXT_ANNOTATION, policy_reports
from kubectl_imgaccess.audit.report import Report
from kubectl_imgaccess.render.structured import dump_yaml


def render_policyreport(report: Report) -> str:
    """A v1 List of the reports; with several clusters (a fleet) each report names its context in an annotation,
    as the other formats name each Domain's context."""
    items: List[Dict[str, Any]] = []
    contexts: List[Optional[str]] = list(report.clusters) if report.fleet else [None]
    for context in contexts:
        for doc in policy_reports(report, context):
            if context is not None:
                doc["metadata"]["annotations"] = {CONTEXT_ANNOTATION: context}
            items.append(doc)
    return dump_yaml({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
