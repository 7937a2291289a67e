"""JSON and YAML: the contract's document, the same in both."""

from __future__ import annotations

import json
from typing import IO, Any

import yaml

from kubectl_imgaccess.audit.report import Gate, Report, domain_document


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def dump_yaml(doc: Any) -> str:
    return str(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True))


def render_json(report: Report, gate: Gate) -> str:
    return dump_json(report.to_document(gate))


def write_json(report: Report, gate: Gate, out: IO[str]) -> None:
    """render_json's text, written Domain by Domain: the whole document never exists at once (a report of
    12,000 Domains is ~60 MB of JSON)."""
    head = report.to_document(gate, domains=False)
    head["domains"] = []
    text = dump_json(head)
    closing = '"domains": []\n}\n'
    if not report.domains:
        out.write(text)
        return
    assert text.endswith(closing), "domains is the document's last member"
    out.write(text[: -len(closing)] + '"domains": [\n')
    for n, domain in enumerate(report.domains):
        doc = json.dumps(domain_document(domain), indent=2)
        out.write(("    " if n == 0 else ",\n    ") + doc.replace("\n", "\n    "))
    out.write("\n  ]\n}\n")


def render_yaml(report: Report, gate: Gate) -> str:
    return dump_yaml(report.to_document(gate))
