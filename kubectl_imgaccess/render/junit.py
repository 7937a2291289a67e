"""JUnit XML for CI test reports (GitLab, Jenkins, Azure DevOps, Tekton dashboards).

It agrees with the exit code: a test case fails exactly when one of its findings fails the gate at the chosen
--fail-on (suppressed and baseline findings never do); an incomplete audit (exit 3) is an `error` test case
that names IA017 and everything that could not be read, listed before the Domains. One suite per Domain, one
test case per image entry (plus one for the Domain itself when it has findings about no particular image).
Names and messages are human-readable text: redacted and escaped (`text.safe`), then made XML 1.0-safe
(`text.xml_safe`), so a control character in any object never makes the file ill-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import List, Optional, Sequence

from kubectl_imgaccess.audit.report import DomainReport, Finding, Gate, Report, finding_order
from kubectl_imgaccess.text import safe, xml_safe


def _text(value: object) -> str:
    """One line of data for an attribute or a body line: redacted, escaped, XML 1.0-safe."""
    return xml_safe(safe(value))


def _lines(lines: Sequence[str]) -> str:
    return "\n".join(_text(line) for line in lines)


def _line(f: Finding, gate: Gate) -> str:
    where = f"{f.location}: " if f.location else f"{f.field}: " if f.field else ""
    if f.suppressed:
        by = f.suppressed_by or "an ignore rule"
        return f"{f.rule} suppressed by {by}: {where}{f.severity} {f.name}: {f.message}"
    tag = " [baseline]" if f.baseline else "" if gate.fails(f) else f" [below --fail-on {gate.fail_on}]"
    return f"{where}{f.severity} {f.rule} {f.name}: {f.message}{tag}"


def _by_severity(findings: Sequence[Finding]) -> List[Finding]:
    return sorted(findings, key=finding_order)


class _Counter:
    def __init__(self) -> None:
        self.tests = self.failures = self.errors = 0


def _case(suite: ET.Element, counter: _Counter, gate: Gate, classname: str, name: str,
          findings: Sequence[Finding]) -> None:
    case = ET.SubElement(suite, "testcase", classname=_text(classname), name=_text(name), time="0")
    counter.tests += 1
    failing = _by_severity([f for f in findings if gate.fails(f)])
    if failing:
        counter.failures += 1
        first = failing[0]
        rules = ", ".join(sorted({f.rule for f in failing}))
        failure = ET.SubElement(case, "failure", type=first.rule,
                                message=_text(f"{rules}: {first.message}"))
        failure.text = _lines([_line(f, gate) for f in failing])
    rest = [f for f in findings if not gate.fails(f) and not f.suppressed]
    if rest:
        ET.SubElement(case, "system-out").text = _lines([_line(f, gate) for f in _by_severity(rest)])
    quiet = [f for f in findings if f.suppressed]
    if quiet:  # what silenced each one: the annotation, or the config entry with its reason and expiry
        ET.SubElement(case, "system-err").text = _lines([_line(f, gate) for f in _by_severity(quiet)])


def _audit_suite(root: ET.Element, report: Report, gate: Gate, total: _Counter) -> None:
    """Errors first: what could not be read (IA017), and findings about the scope itself."""
    unreadable = [(d, f) for d in [None, *report.domains]
                  for f in (report.findings if d is None else d.findings) if f.rule == "IA017"]
    if not report.incomplete and not report.findings:
        return
    suite = ET.SubElement(root, "testsuite", name="kubectl-imgaccess audit")
    counter = _Counter()
    if report.incomplete or unreadable:
        case = ET.SubElement(suite, "testcase", classname="kubectl-imgaccess", name="IA017 audit-incomplete",
                             time="0")
        counter.tests += 1
        lines = [f"{_owner(d)}{f.message}" for d, f in unreadable] or ["objects could not be read"]
        if report.incomplete:
            counter.errors += 1
            error = ET.SubElement(case, "error", type="IA017",
                                  message=f"IA017 audit-incomplete: {len(lines)} read(s) failed; "
                                          "verdicts that depend on them are unknown")
            error.text = _lines(lines)
        else:
            ET.SubElement(case, "system-out").text = _lines(lines)
    for f in report.findings:
        if f.rule == "IA023":  # a cluster of the fleet that could not be read: nothing of it was evaluated
            case = ET.SubElement(suite, "testcase", classname="kubectl-imgaccess", name=_text(f"{f.rule} {f.name}"),
                                 time="0")
            counter.tests += 1
            counter.errors += 1
            ET.SubElement(case, "error", type=f.rule, message=_text(f.message)).text = _text(f.message)
            continue
        _case(suite, counter, gate, "kubectl-imgaccess", f"{f.rule} {f.name} {f.subject or ''}".strip(), [f])
    _close(suite, counter, total)


def _owner(d: Optional[DomainReport]) -> str:
    return f"{d.namespace}/{d.name}: " if d is not None else ""


def _close(suite: ET.Element, counter: _Counter, total: _Counter) -> None:
    suite.set("tests", str(counter.tests))
    suite.set("failures", str(counter.failures))
    suite.set("errors", str(counter.errors))
    suite.set("skipped", "0")
    suite.set("time", "0")
    total.tests += counter.tests
    total.failures += counter.failures
    total.errors += counter.errors


def render_junit(report: Report, gate: Gate) -> str:
    root = ET.Element("testsuites", name="kubectl-imgaccess")
    total = _Counter()
    _audit_suite(root, report, gate, total)
    for d in report.domains:
        where = f"{d.context}/" if report.fleet and d.context else ""  # several clusters: which one
        suite = ET.SubElement(root, "testsuite", name=_text(f"{where}{d.namespace}/{d.name}"))
        counter = _Counter()
        classname = f"{where.replace('/', '.')}{d.namespace}.{d.name}"
        own = [f for f in d.findings if not f.images]
        if own or not d.images:
            _case(suite, counter, gate, classname, f"Domain {d.namespace}/{d.name}", own)
        for i, img in enumerate(d.images):
            related = [f for f in d.findings if i in f.images]
            _case(suite, counter, gate, classname, f"{img.field} {img.image} (sa/{img.service_account})",
                  related)
        _close(suite, counter, total)
    root.set("tests", str(total.tests))
    root.set("failures", str(total.failures))
    root.set("errors", str(total.errors))
    root.set("time", f"{report.duration:.3f}")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
