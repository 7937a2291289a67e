"""JUnit XML for CI dashboards: a suite per Domain, a test case per image entry."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kubectl_imgaccess.audit.report import Report


def render_junit(report: Report) -> str:
    root = ET.Element("testsuites", name="kubectl-imgaccess")
    total = failures = 0
    for d in report.domains:
        suite = ET.SubElement(root, "testsuite", name=f"{d.namespace}/{d.name}")
        n = fails = 0
        for i, img in enumerate(d.images):
            n += 1
            case = ET.SubElement(suite, "testcase", classname=f"{d.namespace}.{d.name}",
                                 name=f"{img.field} {img.image} (sa/{img.service_account})")
            related = [f for f in d.findings if i in f.images and not f.suppressed]
            if img.verdict == "fail":
                fails += 1
                text = "\n".join(f"{f.rule} {f.severity}: {f.message}" for f in related)
                ET.SubElement(case, "failure", message=f"{img.image} cannot be pulled").text = text
            elif related:
                ET.SubElement(case, "system-out").text = "\n".join(f"{f.rule} {f.severity}: {f.message}"
                                                                    for f in related)
        suite.set("tests", str(n))
        suite.set("failures", str(fails))
        total, failures = total + n, failures + fails
    root.set("tests", str(total))
    root.set("failures", str(failures))
    return ET.tostring(root, encoding="unicode") + "\n"
