"""The terminal view: one row per (Domain, image entry), then the findings with file:line, then a summary."""

from __future__ import annotations

from typing import Dict, List

from tabulate import tabulate

from kubectl_imgaccess.audit.report import DomainReport, Finding, ImageEntry, Report
from kubectl_imgaccess.text import safe

_COLORS = {"pass": "32", "warn": "33", "fail": "31", "unknown": "35", "error": "31", "warning": "33", "info": "36"}


def _paint(text: str, key: str, color: bool) -> str:
    code = _COLORS.get(key)
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def _credential_path(img: ImageEntry) -> str:
    if img.pull_from == "domain":
        where = "domain"
    elif img.pull_from == "serviceaccount":
        where = "serviceaccount"
    else:
        return "none"
    names = ",".join(img.pull_names) or "-"
    return f"{where}: {names}"


def _rules_for(d: DomainReport, index: int) -> str:
    ids = sorted({f.rule for f in d.findings if index in f.images and not f.suppressed})
    return ",".join(ids) or "-"


def render_table(report: Report, wide: bool = False, color: bool = False) -> str:
    headers = ["NAMESPACE", "DOMAIN", "IMAGE", "PODS", "SERVICEACCOUNT", "CREDENTIAL PATH", "VERDICT", "RULES"]
    if wide:
        headers[3:3] = ["REPOSITORY", "FIELD"]
        headers.insert(-2, "MATCHED")
        if report.probed:
            headers.insert(-2, "PROBE")
    rows: List[List[str]] = []
    for d in report.domains:
        for i, img in enumerate(d.images):
            # every cell from data goes through text.safe: redacted, control characters shown visibly
            row = [safe(d.namespace), safe(d.name), safe(img.image), safe(",".join(img.pods)),
                   safe(img.service_account), safe(_credential_path(img)),
                   _paint(img.verdict, img.verdict, color), _rules_for(d, i)]
            if wide:
                row[3:3] = [safe(img.repository or "(invalid)"), safe(img.field)]
                matched = ",".join(f"{c.secret}[{c.shown_key}]" for c in img.credentials) or "-"
                row.insert(-2, safe(matched))
                if report.probed:
                    row.insert(-2, safe(img.probe.status) if img.probe else "-")
            rows.append(row)
        if not d.images:
            rows.append([safe(d.namespace), safe(d.name), "-", "-", "-", "-", _paint(d.verdict, d.verdict, color), "-"]
                        + (["-"] * (4 if report.probed else 3) if wide else []))
    out: List[str] = []
    if rows:
        out.append(tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True))
    else:
        out.append("No Domains found.")
    findings = _finding_lines(report, color)
    if findings:
        out.append("")
        out.extend(findings)
    out.append("")
    out.append(_summary_line(report, color))
    return "\n".join(out) + "\n"


def _finding_lines(report: Report, color: bool) -> List[str]:
    lines: List[str] = []
    for f in report.findings:
        if not f.suppressed:
            lines.append(f"{_paint(f.severity, f.severity, color)} {f.rule} {f.name}: {safe(f.message)}")
            if f.fix:
                lines.append(f"    fix: {safe(f.fix)}")
    for d in report.domains:
        active = [f for f in d.findings if not f.suppressed]
        if not active:
            continue
        lines.append(f"{safe(d.namespace)}/{safe(d.name)}:")
        for f in sorted(active, key=_order):
            where = f"{safe(f.location)}: " if f.location else f"{safe(f.field)}: " if f.field else ""
            sev = _paint(f.severity, f.severity, color)
            lines.append(f"  {where}{sev} {f.rule} {f.name}: {safe(f.message)}")
            if f.fix and f.severity != "info":
                lines.append(f"      fix: {safe(f.fix)}")
    return lines


def _order(f: Finding) -> tuple[int, str]:
    return ({"error": 0, "warning": 1, "info": 2}[f.severity], f.rule)


def _summary_line(report: Report, color: bool) -> str:
    s = report.summary()
    v: Dict[str, int] = s["verdicts"]
    f: Dict[str, int] = s["findings"]
    gate = "FAIL" if s["gate"] == "fail" else "pass"
    parts = [
        f"{s['domains']} domain(s), {s['images']} image(s):",
        ", ".join(f"{v[k]} {k}" for k in ("pass", "warn", "fail", "unknown") if v[k]) or "nothing to check",
        f"| findings: {f['error']} error, {f['warning']} warning, {f['info']} info",
    ]
    if s["suppressed"]:
        parts.append(f"({s['suppressed']} suppressed)")
    if s["incomplete"]:
        parts.append("| INCOMPLETE (IA017)")
    parts.append(f"| gate (--fail-on {report.fail_on}): {_paint(gate, 'fail' if gate == 'FAIL' else 'pass', color)}")
    return " ".join(parts)
