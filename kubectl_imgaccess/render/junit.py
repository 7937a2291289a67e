"""JUnit XML for CI dashboards: a suite per Domain, a test case per image entry.

Names and messages are human-readable text: redacted and escaped (`text.safe`), then made XML 1.0-safe
(`text.xml_safe`), so a control character in any object never makes the file ill-formed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterable

from kubectl_imgaccess.audit.report import Finding, Report, finding_order
from kubectl_imgaccess.text import safe, xml_safe


def _attr(value: str) -> str:
    return xml_safe(safe(value))


def _body(findings: Iterable[Finding]) -> str:
    return xml_safe("\n".join(f"{f.rule} {f.severity}: {safe(f.message)}" for f in sorted(findings, key=finding_order)))


def render_junit(report: Report) -> str:
    root = ET.Element("testsuites", name="kubectl-imgaccess")
    total = failures = 0
    for d in report.domains:
        where = f"{d.context}/" if report.fleet and d.context else ""  # several clusters: which one
        suite = ET.SubElement(root, "testsuite", name=_attr(f"{where}{d.namespace}/{d.name}"))
        n = fails = 0
        for i, img in enumerate(d.images):
            n += 1
            case = ET.SubElement(suite, "testcase", classname=_attr(f"{where.replace('/', '.')}{d.namespace}.{d.name}"),
                                 name=_attr(f"{img.field} {img.image} (sa/{img.service_account})"))
            related = [f for f in d.findings if i in f.images and not f.suppressed]
            if img.verdict == "fail":
                fails += 1
                ET.SubElement(case, "failure", message=_attr(f"{img.image} cannot be pulled")).text = _body(related)
            elif related:
                ET.SubElement(case, "system-out").text = _body(related)
            quiet = [f for f in d.findings if i in f.images and f.suppressed]
            if quiet:
                ET.SubElement(case, "system-err").text = xml_safe("\n".join(
                    f"{f.rule} suppressed by {safe(str(f.suppressed_by))}" for f in quiet))
        suite.set("tests", str(n))
        suite.set("failures", str(fails))
        total, failures = total + n, failures + fails
    for context in report.unreachable:  # a cluster of the fleet that could not be read is a failed test
        suite = ET.SubElement(root, "testsuite", name=_attr(f"{context}"), tests="1", failures="1")
        case = ET.SubElement(suite, "testcase", classname=_attr(context), name="cluster readable")
        ET.SubElement(case, "failure", message=_attr(f"context {context} could not be read")).text = _body(
            f for f in report.findings if f.rule == "IA023" and f.message.startswith(f"context {context}: "))
        total, failures = total + 1, failures + 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    return ET.tostring(root, encoding="unicode") + "\n"
