"""Output formats behind one function: render(report, gate, format, view) -> text."""

from __future__ import annotations

from typing import IO, Callable, Dict, Optional

from kubectl_imgaccess.audit.report import Gate, Report
from kubectl_imgaccess.render.view import View

FORMATS = ("table", "wide", "name", "json", "yaml", "sarif", "junit", "policyreport")


def render_into(report: Report, gate: Gate, fmt: str, view: Optional[View], out: IO[str]) -> None:
    """render(), written to out; JSON is written Domain by Domain instead of as one string.

    Lazy seam, as render(): the JSON writer loads only for JSON."""
    if fmt == "json":
        from kubectl_imgaccess.render.structured import write_json

        write_json(report, gate, out)
    else:
        out.write(render(report, gate, fmt, view))


def render(report: Report, gate: Gate, fmt: str, view: Optional[View] = None) -> str:
    """The report in one format, its outcome judged by `gate` (--fail-on). Lazy seam: a format's module (and
    its library: yaml for json/yaml) loads only when that format is asked for; the parser reads FORMATS and
    SHOW_CHOICES from this package, and `--help` stays without them."""
    view = view or View()
    if fmt in ("table", "wide"):
        from kubectl_imgaccess.render.table import render_table

        return render_table(report, gate, view, wide=fmt == "wide")
    if fmt == "policyreport":  # PolicyReports carry results, not a gate
        from kubectl_imgaccess.render.policyreport import render_policyreport

        return render_policyreport(report)
    renderers: Dict[str, Callable[[Report, Gate], str]]
    if fmt == "name":
        from kubectl_imgaccess.render.table import render_names

        renderers = {"name": render_names}
    elif fmt in ("json", "yaml"):
        from kubectl_imgaccess.render.structured import render_json, render_yaml

        renderers = {"json": render_json, "yaml": render_yaml}
    elif fmt == "sarif":
        from kubectl_imgaccess.render.sarif import render_sarif

        renderers = {"sarif": render_sarif}
    else:
        from kubectl_imgaccess.render.junit import render_junit

        renderers = {"junit": render_junit}
    return renderers[fmt](report, gate)
