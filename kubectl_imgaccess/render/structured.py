"""JSON and YAML: the contract's document, the same in both."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kubectl_imgaccess.audit.report import Report


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def dump_yaml(doc: Any) -> str:
    return str(yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, allow_unicode=True))


def render_json(report: Report) -> str:
    return dump_json(report.to_document())


def render_yaml(report: Report) -> str:
    return dump_yaml(report.to_document())
