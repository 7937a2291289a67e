"""`-o policyreport`: a v1 List of the audit's PolicyReports (audit.policyreport builds them)."""

from __future__ import annotations

from typing import Any, Dict, List

from kubectl_imgaccess.audit.policyreport import CONTEXT_ANNOTATION, policy_reports
from kubectl_imgaccess.audit.report import Report
from kubectl_imgaccess.render.structured import dump_yaml


def render_policyreport(report: Report) -> str:
    """A v1 List of the reports; with several clusters each report names its context in an annotation."""
    contexts = report.contexts()
    items: List[Dict[str, Any]] = []
    for context in contexts if len(contexts) > 1 else [None]:
        for doc in policy_reports(report, context):
            if context is not None:
                doc["metadata"]["annotations"] = {CONTEXT_ANNOTATION: context}
            items.append(doc)
    return dump_yaml({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items})
