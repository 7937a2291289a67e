"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps); rule metadata comes from the catalog.

What the code-scanning importers need, and how it is met:
- every rule has `helpUri` (its section of docs/rules.md) and `help` as text and Markdown;
- every result has a physical location. From files: the path as given on the command line (relative paths
  stay relative to `%SRCROOT%`, the working directory; absolute ones become `file://` URIs; `-f -` is
  `stdin` under `STDIN`). From a cluster: the object's API path (`namespaces/NS/domains/NAME`) under
  `CLUSTER`, beside a logical location `NS/NAME` of kind `object` (GitHub rejects logical-only locations);
- `partialFingerprints` from the finding's identity (rule, namespace, Domain, field, image, secret), never
  from messages or line numbers, so an alert survives edits around it;
- `suppressions` on suppressed findings, `baselineState` when --baseline was given, and the invocation's
  exit code.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import quote

from kubectl_imgaccess import __version__
from kubectl_imgaccess.audit.report import DomainReport, Finding, Gate, Report, finding_identity
from kubectl_imgaccess.catalog import PROJECT_URL, RULES
from kubectl_imgaccess.objects import STDIN_NAME
from kubectl_imgaccess.render.ruledoc import rule_markdown, rule_text
from kubectl_imgaccess.render.structured import dump_json

_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
STDIN_BASE = "STDIN"
STDIN_URI = "stdin"
CLUSTER_BASE = "CLUSTER"
FINGERPRINT = "imgaccessFinding/v1"
_RULE_INDEX = {r.id: i for i, r in enumerate(RULES)}


def rule_metadata() -> List[Dict[str, Any]]:
    return [
        {
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.why},
            "help": {"text": rule_text(r), "markdown": rule_markdown(r)},
            "helpUri": r.help_uri,
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
            "properties": {"tags": ["kubernetes", "weblogic", "image-pull"], "decidedFrom": r.needs},
        }
        for r in RULES
    ]


def uri_reference(path: str) -> Dict[str, str]:
    """An artifactLocation for a path as the user gave it: percent-encoded, relative kept relative."""
    if path == STDIN_NAME:
        return {"uri": STDIN_URI, "uriBaseId": STDIN_BASE}
    if os.path.isabs(path):
        return {"uri": Path(path).as_uri()}
    posix = path.replace(os.sep, "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _object_uri(subject: str) -> Dict[str, str]:
    return {"uri": quote(subject, safe="/"), "uriBaseId": CLUSTER_BASE}


def _fingerprint(f: Finding, d: Optional[DomainReport]) -> str:
    return hashlib.sha256("\0".join(finding_identity(f, d)).encode("utf-8")).hexdigest()


def _location(f: Finding, d: Optional[DomainReport]) -> Dict[str, Any]:
    loc = f.location or (d.location if d else None)
    physical: Dict[str, Any]
    if loc is not None:
        physical = {"artifactLocation": uri_reference(loc.file), "region": {"startLine": max(1, loc.line)}}
    elif d is not None:
        physical = {"artifactLocation": _object_uri(f"namespaces/{d.namespace}/domains/{d.name}")}
    else:
        physical = {"artifactLocation": _object_uri(f.subject or "domains")}
    location: Dict[str, Any] = {"physicalLocation": physical}
    if d is not None:
        location["logicalLocations"] = [{"name": d.name, "fullyQualifiedName": f"{d.namespace}/{d.name}",
                                         "kind": "object"}]
    return location


def _result(report: Report, gate: Gate, f: Finding, d: Optional[DomainReport]) -> Dict[str, Any]:
    context = d.context if d is not None and report.fleet else None  # several clusters: name which one
    text = f"{d.namespace}/{d.name}: {f.message}" if d is not None else f.message
    if context:
        text = f"{context}: {text}"
    result: Dict[str, Any] = {
        "ruleId": f.rule,
        "level": _LEVEL[f.severity],
        "message": {"text": text + (f" Fix: {f.fix}" if f.fix else "")},
        "locations": [_location(f, d)],
        "partialFingerprints": {FINGERPRINT: _fingerprint(f, d)},
        "properties": {
            "namespace": d.namespace if d else None, "domain": d.name if d else None, "field": f.field,
            "image": f.image, "secret": f.secret, "serviceAccount": f.service_account,
            "failsGate": gate.fails(f),
        },
    }
    if context:
        result["properties"]["context"] = context
    if f.rule in _RULE_INDEX:
        result["ruleIndex"] = _RULE_INDEX[f.rule]
    if f.suppressed:
        by = f.suppressed_by
        suppression: Dict[str, Any] = {
            # the Domain's own annotation is in the source; a config ignore: entry is outside it
            "kind": "inSource" if by is not None and by.kind == "annotation" else "external",
            "status": "accepted",
            "justification": f"suppressed by {by}" if by is not None else f"{f.rule} is ignored for this Domain",
        }
        if by is not None:
            suppression["properties"] = by.to_document()
        result["suppressions"] = [suppression]
    if report.baseline is not None:
        result["baselineState"] = "unchanged" if f.baseline else "new"
    return result


def _base_ids(report: Report, results: List[Dict[str, Any]]) -> Dict[str, Any]:
    used = {loc["physicalLocation"]["artifactLocation"].get("uriBaseId")
            for r in results for loc in r["locations"]}
    bases: Dict[str, Any] = {}
    if SRCROOT in used:
        bases[SRCROOT] = {"uri": Path(os.getcwd()).as_uri().rstrip("/") + "/",
                          "description": {"text": "the working directory the manifest paths are relative to"}}
    if STDIN_BASE in used:
        bases[STDIN_BASE] = {"description": {"text": "manifests read from standard input (-f -)"}}
    if CLUSTER_BASE in used:
        where = f"kubeconfig context {report.context}" if report.context else "the cluster"
        bases[CLUSTER_BASE] = {"description": {"text": f"objects read from {where}; URIs are API paths"}}
    return bases


_EXIT_DESCRIPTIONS = {0: "pass", 1: "gate failed", 2: "a cluster could not be read (IA023)",
                      3: "incomplete (IA017)"}


def render_sarif(report: Report, gate: Gate) -> str:
    results = [_result(report, gate, f, None) for f in report.findings]
    results += [_result(report, gate, f, d) for d in report.domains for f in d.findings]
    code = int(gate.exit_code(report))
    notifications = [{"level": "warning", "message": {"text": f.message}, "descriptor": {"id": f.rule}}
                     for f in report.all_findings() if f.rule == "IA017" and not f.suppressed]
    run: Dict[str, Any] = {
        "tool": {"driver": {"name": "kubectl-imgaccess", "version": __version__, "semanticVersion": __version__,
                            "informationUri": PROJECT_URL, "rules": rule_metadata()}},
        "invocations": [{
            "executionSuccessful": not report.incomplete,
            "exitCode": code,
            "exitCodeDescription": _EXIT_DESCRIPTIONS.get(code, str(code)),
            "toolExecutionNotifications": notifications,
            "properties": {"failOn": gate.fail_on, "mode": report.mode},
        }],
        "results": results,
    }
    bases = _base_ids(report, results)
    if bases:
        run["originalUriBaseIds"] = bases
    doc = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return dump_json(doc)
