"""The terminal table: one row per Domain, worst first, fitted to the terminal's width only on a terminal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

from kubectl_imgaccess.audit.report import Gate, Report
from kubectl_imgaccess.audit.run import audit
from kubectl_imgaccess.manifests import read_files
from kubectl_imgaccess.render import render
from kubectl_imgaccess.render.table import shorten_end, shorten_middle
from kubectl_imgaccess.render.view import View
from tests.clitools import FIXTURES, ROOT, run, run_tty

EXAMPLES = ROOT / "examples"
GATE = Gate("error")
LONG_IMAGE = "registry.example.com/a/very/deep/path/to/the/weblogic-domain-image:14.1.2.0-generic-jdk17-ol8-2024"


def report_of(*paths: Path) -> Report:
    return audit(read_files([str(p) for p in paths], "default"))


def table_lines(text: str) -> List[str]:
    """The table's lines, without color codes."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text).split("\n\n")[0].splitlines()


def test_shortening_keeps_head_and_tail() -> None:
    assert shorten_middle("abcdefghij", 10) == "abcdefghij"
    assert shorten_middle("abcdefghijkl", 9) == "abc...jkl"
    assert shorten_middle(LONG_IMAGE, 40).endswith("ol8-2024") and len(shorten_middle(LONG_IMAGE, 40)) == 40
    assert shorten_end("abcdefghij", 8) == "abcde..."
    assert shorten_middle("abcdef", 2) == "ab"


@pytest.mark.parametrize("width", [80, 120, 200])
def test_rows_fit_the_terminal(width: int) -> None:
    report = report_of(EXAMPLES)
    text = render(report, GATE, "table", View(width=width))
    rows = table_lines(text)
    assert rows[0].split() == ["NAMESPACE", "DOMAIN", "VERDICT", "IMAGES", "RULES", "REASON"]
    assert len(rows) == len(report.domains) + 1
    assert all(len(line) <= width for line in rows), "\n".join(rows)
    billing = next(r for r in rows if r.startswith("billing-ns"))
    if width == 200:  # room enough: nothing cut
        assert billing.endswith("Secret billing-ns/ocr-credentials is ignored by the kubelet: type Opaque is not a "
                                "pull-secret type")
    else:
        assert billing.endswith("...") and "Secret ocr-" in billing  # its own namespace is not repeated
    orders = next(r for r in rows if r.startswith("orders-ns"))
    assert ("IA001+3" in orders) == (width == 80)  # the rule ids compact only when the reason has no room


def test_worst_first_and_counts() -> None:
    rows = table_lines(render(report_of(EXAMPLES), GATE, "table"))[1:]
    verdicts = [r.split()[2] for r in rows]
    assert verdicts == sorted(verdicts, key=["fail", "warn", "unknown", "pass"].index)
    assert any(r.split()[:4] == ["payments-ns", "payments", "fail", "1/2"] for r in rows)


def test_not_a_terminal_and_wide_are_never_shortened() -> None:
    report = report_of(EXAMPLES)
    for text in (render(report, GATE, "table"), render(report, GATE, "wide", View(width=80))):
        assert "..." not in text
        assert max(len(line) for line in text.splitlines()) > 200


def test_info_findings_collapse_into_one_line_per_rule() -> None:
    report = report_of(EXAMPLES)
    text = render(report, GATE, "table")
    ia016 = [line for line in text.splitlines() if "IA016" in line]
    assert len(ia016) == 1
    assert ia016[0].startswith("info IA016 registry-terms-required on 2 images in 7 Domains: Accept the terms")
    assert ia016[0].endswith("--show info lists them")
    shown = render(report, GATE, "table", View(show=frozenset({"info"})))
    assert sum("IA016" in line for line in shown.splitlines()) > 7


def test_summary_counts_domains_and_says_how_many_images() -> None:
    last = render(report_of(EXAMPLES), GATE, "table").splitlines()[-1]
    assert last.startswith("8 Domains (10 images): 5 fail, 1 warn, 2 pass | findings: ")


def test_no_headers_and_name() -> None:
    report = report_of(EXAMPLES)
    assert not table_lines(render(report, GATE, "table", View(headers=False)))[0].startswith("NAMESPACE")
    assert not table_lines(render(report, GATE, "wide", View(headers=False)))[0].startswith("NAMESPACE")
    names = render(report, GATE, "name").splitlines()
    assert names and all(n.startswith("domain.weblogic.oracle/") for n in names)
    assert {n.split("/")[1] for n in names} == {d.name for d in report.domains if d.verdict == "fail"}


def test_data_is_escaped_in_every_human_view(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((FIXTURES / "ia001-secret-not-found.yaml").read_text().replace(
        "name: ocr-credentials", 'name: "ocr\\e]0;owned\\a"'))
    report = report_of(bad)
    for fmt in ("table", "wide", "name"):
        out = render(report, GATE, fmt, View(width=120))
        assert "\x1b" not in out and "\x07" not in out
    assert "ocr\\x1b]0;owned\\x07" in render(report, GATE, "table")


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_terminal_width_through_the_real_script(columns: int) -> None:
    code, out = run_tty(["check", "--offline", "-f", str(EXAMPLES)], columns)
    assert code == 1
    rows = table_lines(out)
    assert len(rows) > 5 and all(len(line) <= columns for line in rows)
    assert "\x1b[31mfail\x1b[0m" in out  # a terminal: colored verdicts
    code, out = run_tty(["check", "--offline", "-f", str(EXAMPLES)], 300, env={"COLUMNS": str(columns)})
    assert all(len(line) <= columns for line in table_lines(out))  # $COLUMNS wins


def test_color_flags_and_environment() -> None:
    path = str(FIXTURES / "three-mistakes.yaml")
    assert "\x1b[" not in run(["check", "--offline", "-f", path]).stdout
    assert "\x1b[31m" in run(["check", "--offline", "-f", path, "--color", "always"]).stdout
    assert "\x1b[31m" in run(["check", "--offline", "-f", path], env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run(["check", "--offline", "-f", path, "--color", "never"], env={"FORCE_COLOR": "1"}).stdout
    _, out = run_tty(["check", "--offline", "-f", path], 120, env={"NO_COLOR": "1"})
    assert "\x1b[" not in out
