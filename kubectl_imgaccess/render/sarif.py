"""SARIF 2.1.0 for code-scanning dashboards; rule metadata comes from the catalog."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from kubectl_imgaccess import __version__
from kubectl_imgaccess.audit.report import Finding, Report
from kubectl_imgaccess.catalog import RULES
from kubectl_imgaccess.render.structured import dump_json

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def rule_metadata() -> List[Dict[str, Any]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.why},
            "help": {"text": r.fix},
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
        }
        for r in RULES
    ]


def _result(f: Finding, namespace: str, domain: str, context: Optional[str] = None) -> Dict[str, Any]:
    where = f"{context}: " if context else ""  # several clusters: the context names which one
    result: Dict[str, Any] = {
        "ruleId": f.rule,
        "level": _LEVEL[f.severity],
        "message": {"text": f"{where}{namespace}/{domain}: {f.message}" if domain else f.message},
        "properties": {"namespace": namespace, "domain": domain, "field": f.field, "image": f.image},
    }
    if context:
        result["properties"]["context"] = context
    if f.location is not None:
        result["locations"] = [{
            "physicalLocation": {
                "artifactLocation": {"uri": f.location.file},
                "region": {"startLine": f.location.line},
            }
        }]
    if f.suppressed:
        result["suppressions"] = [{"kind": "external"}]
    return result


def render_sarif(report: Report) -> str:
    results = [_result(f, "", "") for f in report.findings]
    results += [_result(f, d.namespace, d.name, d.context if report.fleet else None)
                for d in report.domains for f in d.findings]
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kubectl-imgaccess", "version": __version__, "rules": rule_metadata()}},
            "results": results,
        }],
    }
    return dump_json(doc)
