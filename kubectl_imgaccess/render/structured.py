"""JSON and YAML: the contract's document, the same in both."""

from __future__ import annotations

import json
from typing import IO, Any, Iterable, List, Tuple

import yaml

from kubectl_imgaccess.audit.report import Gate, Report, domain_document


def dump_json(doc: Any) -> str:
    return indented(doc) + "\n"


_STRING = json.encoder.encode_basestring_ascii  # json.dumps' own (C) escaping, quotes included


class _Unusual(Exception):
    """A value json.dumps writes in some way _emit does not (a key that is not a string, an unknown type)."""


def indented(doc: Any, level: int = 0) -> str:
    """Exactly `json.dumps(doc, indent=2)` with every line after the first indented by `level` more steps, at
    several times its speed: with an indent, json.dumps takes its pure-Python encoder, a generator per
    container, which was the largest part of writing a big report. Anything unusual goes to json.dumps."""
    out: List[str] = []
    try:
        _emit(doc, level, out)
    except _Unusual:
        return json.dumps(doc, indent=2).replace("\n", "\n" + "  " * level)
    return "".join(out)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _STRING(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return float.__repr__(value)
    raise _Unusual


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise _Unusual
    return _STRING(key) + ": "


def _emit(value: Any, level: int, out: List[str]) -> None:
    """One value at `level`: a container's members each on its own line, one step further in."""
    members: Iterable[Tuple[str, Any]]
    if isinstance(value, dict):
        members, brackets = ((_key(k), v) for k, v in value.items()), "{}"
    elif isinstance(value, (list, tuple)):
        members, brackets = (("", v) for v in value), "[]"
    else:
        out.append(_scalar(value))
        return
    if not value:
        out.append(brackets)
        return
    step = "\n" + "  " * (level + 1)
    sep = brackets[0] + step
    for head, item in members:
        out.append(sep + head)
        sep = "," + step
        if isinstance(item, (dict, list, tuple)):
            _emit(item, level + 1, out)
        else:
            out.append(_scalar(item))
    out.append("\n" + "  " * level + brackets[1])


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
        out.write(("    " if n == 0 else ",\n    ") + indented(domain_document(domain), level=2))
    out.write("\n  ]\n}\n")


def render_yaml(report: Report, gate: Gate) -> str:
    return dump_yaml(report.to_document(gate))
