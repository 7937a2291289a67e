"""The terminal views.

`-o table` (default): one row per Domain, worst first (NAMESPACE, DOMAIN, VERDICT, IMAGES "2/3 ok", the rule
ids at warning and above, a one-line reason), then the findings grouped by Domain with their `fix:` lines,
the info findings collapsed into one line per rule, and a summary that counts Domains.
`-o wide`: one row per (Domain, image entry) with the repository, field, pods, ServiceAccount, credential
path and matched credentials; never shortened.

Width: `View.width` is the terminal's width when stdout is a terminal, else None. Only then, and only in the
default table, the REASON column is cut to fit and long image names in it are shortened in the middle (the
tag and the registry stay readable). Everything taken from the data passes through `text.safe` first
(redacted, control characters shown visibly), so a name or message cannot move the cursor or rewrite the
screen.
"""

from __future__ import annotations

from typing import AbstractSet, Dict, List, Optional, Sequence, Set, Tuple

from kubectl_imgaccess.audit.report import (
    VERDICT_ORDER,
    DomainReport,
    Finding,
    Gate,
    ImageEntry,
    Report,
    finding_order,
)
from kubectl_imgaccess.catalog import find_rule
from kubectl_imgaccess.render.view import View
from kubectl_imgaccess.text import safe

SEP = "   "  # kubectl's column padding
ELLIPSIS = "..."
MIN_REASON = 20  # a REASON narrower than this first makes the RULES column compact
MIN_ROOM = 12  # never cut a REASON shorter than this: the line overflows instead
_COLORS = {"pass": "32", "warn": "33", "fail": "31", "unknown": "35", "error": "31", "warning": "33", "info": "36"}


def shorten_middle(text: str, width: int) -> str:
    """`container-regi...ic-jdk17-ol8`: the head and the tail kept, the middle dropped to fit width."""
    if len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return text[:max(width, 0)]
    keep = width - len(ELLIPSIS)
    head = keep // 2
    return text[:head] + ELLIPSIS + text[len(text) - (keep - head):]


def shorten_end(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return text[:max(width, 0)]
    return text[:width - len(ELLIPSIS)] + ELLIPSIS


def _paint(text: str, key: str, color: bool) -> str:
    code = _COLORS.get(key)
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def _badness(verdict: str) -> int:
    return VERDICT_ORDER.index(verdict)


def worst_first(domains: Sequence[DomainReport]) -> List[DomainReport]:
    return sorted(domains, key=lambda d: (-_badness(d.verdict), d.context or "", d.namespace, d.name))


def columns(header: Optional[List[str]], rows: List[List[str]], colored: AbstractSet[int] = frozenset(),
            color: bool = False) -> List[str]:
    """Left-aligned columns, SEP apart, the last one unpadded; cells in `colored` columns painted by value."""
    table = ([header] if header else []) + rows
    if not table:
        return []
    widths = _widths(table)
    lines = []
    for n, r in enumerate(table):
        is_header = header is not None and n == 0
        cells = []
        for i, cell in enumerate(r):
            pad = cell.ljust(widths[i]) if i < len(widths) else cell
            if i in colored and not is_header:
                pad = _paint(cell, cell, color) + pad[len(cell):]
            cells.append(pad)
        lines.append(SEP.join(cells).rstrip())
    return lines


def _widths(table: List[List[str]]) -> List[int]:
    """The widths of every column but the last (which is never padded)."""
    return [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]


def _image_ok(d: DomainReport) -> str:
    if not d.images:
        return "-"
    ok = sum(1 for img in d.images if img.verdict == "pass")
    return f"{ok}/{len(d.images)} ok"


def _active(d: DomainReport) -> List[Finding]:
    return sorted((f for f in d.findings if f.counts), key=finding_order)


def _rule_ids(findings: Sequence[Finding], show_info: bool) -> str:
    ids: List[str] = []
    for f in findings:
        if (show_info or f.severity != "info") and f.rule not in ids:
            ids.append(f.rule)
    return ",".join(ids) or "-"


def _reason(d: DomainReport) -> Optional[Finding]:
    """The finding that says why: the most severe at warning or above (info is collapsed below the table)."""
    active = [f for f in _active(d) if f.severity != "info"]
    return active[0] if active else None


def _reason_text(f: Optional[Finding], d: DomainReport, room: Optional[int]) -> str:
    """The finding's message; with room (a terminal), made to fit: the row's own namespace is not repeated
    (`Secret ns/name` -> `Secret name`), the image it starts with is dropped when it is the Domain's only
    image, else shortened in the middle; then the text is cut at the end."""
    if f is None:
        return "-"
    text = safe(f.message)
    if room is None or len(text) <= room:
        return text
    text = text.replace(f" {safe(d.namespace)}/", " ")
    images = len(d.images)
    image = safe(f.image or "")
    if image and images == 1 and text.startswith(image + ": "):
        text = text[len(image) + 2:]
    elif image and image in text:
        text = text.replace(image, shorten_middle(image, max(16, room // 3)), 1) if room >= 40 else text
    return shorten_end(text, room)


def _compact_rules(ids: str) -> str:
    """`IA001,IA007,IA008` -> `IA001+2` when the table needs the room."""
    parts = ids.split(",")
    return parts[0] if len(parts) == 1 else f"{parts[0]}+{len(parts) - 1}"


def _domain_rows(report: Report, view: View) -> List[str]:
    """One row per Domain. On a terminal the REASON column takes the room left; when that is under
    MIN_REASON the RULES column is compacted first (`IA001+2`); a line may still overflow when the names
    alone are wider than the terminal (names are never shortened: they are what a user copies)."""
    show_info = "info" in view.show
    header = ["NAMESPACE", "DOMAIN", "VERDICT", "IMAGES", "RULES", "REASON"]
    domains = worst_first(report.domains)
    reasons = [_reason(d) for d in domains]
    rows = [[safe(d.namespace), safe(d.name), d.verdict, _image_ok(d), _rule_ids(_active(d), show_info),
             _reason_text(reason, d, None)] for d, reason in zip(domains, reasons)]
    rules_col, verdict_col = 4, 2
    if report.fleet:
        header = ["CONTEXT", *header]
        rows = [[safe(d.context or "-"), *r] for d, r in zip(domains, rows)]
        rules_col, verdict_col = rules_col + 1, verdict_col + 1
    width = view.width
    if width:
        def room() -> int:
            return width - sum(_widths([header, *rows])) - len(SEP) * (len(header) - 1)

        if max(len(r[-1]) for r in rows) > room() and room() < MIN_REASON:
            for r in rows:
                r[rules_col] = _compact_rules(r[rules_col])
        fit = max(MIN_ROOM, room())
        for r, d, reason in zip(rows, domains, reasons):
            r[-1] = _reason_text(reason, d, fit)
    return columns(header if view.headers else None, rows, {verdict_col}, view.color)


def _credential_path(img: ImageEntry) -> str:
    if img.pull_from not in ("domain", "serviceaccount"):
        return "none"
    return f"{img.pull_from}: {','.join(safe(n) for n in img.pull_names) or '-'}"


def _image_rows(report: Report, view: View) -> List[str]:
    header = ["NAMESPACE", "DOMAIN", "IMAGE", "REPOSITORY", "FIELD", "PODS", "SERVICEACCOUNT", "CREDENTIAL PATH",
              "MATCHED"] + (["PROBE"] if report.probed else []) + ["VERDICT", "RULES"]
    verdict_col = len(header) - 2
    rows: List[List[str]] = []
    for d in worst_first(report.domains):
        first = len(rows)
        for i, img in enumerate(d.images):
            rules = sorted({f.rule for f in d.findings if i in f.images and f.counts})
            matched = ",".join(f"{safe(c.secret)}[{safe(c.key)}]" for c in img.credentials) or "-"
            rows.append([safe(d.namespace), safe(d.name), safe(img.image), safe(img.repository or "(invalid)"),
                         safe(img.field), safe(",".join(img.pods)), safe(img.service_account),
                         _credential_path(img), matched]
                        + ([safe(img.probe.status) if img.probe else "-"] if report.probed else [])
                        + [img.verdict, ",".join(rules) or "-"])
        if not d.images:
            rows.append([safe(d.namespace), safe(d.name)] + ["-"] * (verdict_col - 2) + [d.verdict, "-"])
        if report.fleet:
            rows[first:] = [[safe(d.context or "-"), *r] for r in rows[first:]]
    if report.fleet:
        header, verdict_col = ["CONTEXT", *header], verdict_col + 1
    return columns(header if view.headers else None, rows, {verdict_col}, view.color)


def _finding_line(f: Finding, indent: str, view: View, suffix: str = "") -> List[str]:
    """`  FIELD|FILE:LINE: SEVERITY ID NAME: MESSAGE` and its fix; on a terminal a long image name in the message
    is shortened in the middle when that makes the line fit (never below 24 characters)."""
    where = f"{safe(str(f.location))}: " if f.location else f"{safe(f.field)}: " if f.field else ""
    message = safe(f.message)
    head = f"{indent}{where}{f.severity} {f.rule} {f.name}: "
    image = safe(f.image or "")
    overflow = len(head) + len(message) + len(suffix) - (view.width or 0)
    if view.width and overflow > 0 and image and image in message and len(image) - overflow >= 24:
        message = message.replace(image, shorten_middle(image, len(image) - overflow), 1)
    sev = _paint(f.severity, f.severity, view.color)
    lines = [f"{indent}{where}{sev} {f.rule} {f.name}: {message}{suffix}"]
    if f.fix and f.severity != "info":
        lines.append(f"{indent}    fix: {safe(f.fix)}")
    return lines


def _shown(f: Finding, view: View) -> bool:
    """Findings the gate counts; suppressed ones and those the baseline absorbed only with --show."""
    if f.suppressed:
        return "suppressed" in view.show
    return not f.baseline or "baseline" in view.show


def _suffix(f: Finding) -> str:
    """What silenced a finding (the annotation, or the config entry with its reason and expiry), or that the
    baseline knows it."""
    if f.suppressed:
        return f" (suppressed by {safe(str(f.suppressed_by))})" if f.suppressed_by else " (suppressed)"
    return " (baseline)" if f.baseline else ""


def _finding_lines(report: Report, view: View) -> List[str]:
    show_info = "info" in view.show
    lines: List[str] = []
    for f in sorted((f for f in report.findings if _shown(f, view)), key=finding_order):
        lines.extend(_finding_line(f, "", view, _suffix(f)))
    for d in worst_first(report.domains):
        shown = [f for f in sorted(d.findings, key=finding_order)
                 if (show_info or f.severity != "info") and _shown(f, view)]
        if not shown:
            continue
        where = f"{safe(d.context)}: " if report.fleet and d.context else ""
        lines.append(f"{where}{safe(d.namespace)}/{safe(d.name)}: {_paint(d.verdict, d.verdict, view.color)}")
        for f in shown:
            lines.extend(_finding_line(f, "  ", view, _suffix(f)))
    if not show_info:
        lines.extend(_collapsed_info(report, view.color))
    return lines


def _collapsed_info(report: Report, color: bool) -> List[str]:
    """One line per info rule: how many images and Domains it concerns, and what to do once."""
    images: Dict[str, Set[str]] = {}
    domains: Dict[str, Set[Tuple[str, str]]] = {}
    for d in report.domains:
        for f in d.findings:
            if f.severity != "info" or not f.counts:
                continue
            images.setdefault(f.rule, set()).update(
                [f.image] if f.image else [d.images[i].image for i in f.images])
            domains.setdefault(f.rule, set()).add((d.namespace, d.name))
    lines = []
    for rule_id in sorted(domains):
        rule = find_rule(rule_id)
        n_img, n_dom = len(images[rule_id]), len(domains[rule_id])
        what = (f"{n_img} image{'s' * (n_img != 1)} in " if n_img else "") + f"{n_dom} Domain{'s' * (n_dom != 1)}"
        advice = f"{rule.fix.rstrip('.')}; " if rule else ""
        name = f" {rule.name}" if rule else ""
        lines.append(f"{_paint('info', 'info', color)} {rule_id}{name} on {what}: {advice}--show info lists them")
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def summary_line(report: Report, gate: Gate, color: bool) -> str:
    s = report.summary(gate)
    v: Dict[str, int] = s["domainVerdicts"]
    f: Dict[str, int] = s["findings"]
    shown = "FAIL" if s["gate"] == "fail" else "pass"
    counts = ", ".join(f"{v[k]} {k}" for k in reversed(VERDICT_ORDER) if v.get(k))
    parts = [f"{_plural(s['domains'], 'Domain')} ({_plural(s['images'], 'image')}):",
             counts or "nothing to check",
             f"| findings: {f['error']} error, {f['warning']} warning, {f['info']} info"]
    if s["suppressed"]:
        parts.append(f"({s['suppressed']} suppressed)")
    if report.baseline is not None:
        gone = f", {report.baseline_absent} gone since" if report.baseline_absent else ""
        parts.append(f"| baseline absorbed {_plural(s['baseline'], 'finding')}{gone}")
    if s["incomplete"]:
        parts.append("| INCOMPLETE (IA017)")
    parts.append(f"| gate (--fail-on {gate.fail_on}): {_paint(shown, 'fail' if shown == 'FAIL' else 'pass', color)}")
    return " ".join(parts)


def render_table(report: Report, gate: Gate, view: View, wide: bool = False) -> str:
    if wide:
        view = View(color=view.color, width=None, headers=view.headers, show=view.show)
    out = (_image_rows if wide else _domain_rows)(report, view) if report.domains else ["No Domains found."]
    findings = _finding_lines(report, view)
    if findings:
        out += ["", *findings]
    out += ["", summary_line(report, gate, view.color)]
    return "\n".join(out) + "\n"


DOMAIN_RESOURCE = "domain.weblogic.oracle"  # kubectl's `-o name` spelling: resource.group/NAME


def render_names(report: Report, gate: Gate) -> str:
    """`-o name`: one `domain.weblogic.oracle/NAME` per Domain that fails the gate, worst first, for xargs."""
    return "".join(f"{DOMAIN_RESOURCE}/{safe(d.name)}\n" for d in worst_first(gate.failing_domains(report)))
