"""The commands that only describe: `rules` (the catalog), `explain RULE`, `version`."""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Any, Dict

from kubectl_imgaccess import __version__
from kubectl_imgaccess.catalog import RULES, find_rule
from kubectl_imgaccess.cli.flags import PROG, program_name, scope_from
from kubectl_imgaccess.errors import UsageError
from kubectl_imgaccess.exitcodes import ExitCode
from kubectl_imgaccess.kube.reader import server_version
from kubectl_imgaccess.render.ruledoc import rule_markdown
from kubectl_imgaccess.render.structured import dump_json, dump_yaml
from kubectl_imgaccess.render.table import columns
from kubectl_imgaccess.text import safe


def rules(args: argparse.Namespace) -> int:
    if args.output in ("json", "yaml"):
        doc = [{"id": r.id, "name": r.name, "severity": r.severity, "summary": r.summary,
                "severityAdjustment": r.adjust or None, "needs": r.needs} for r in RULES]
        sys.stdout.write(dump_json(doc) if args.output == "json" else dump_yaml(doc))
        return ExitCode.OK
    rows = [[r.id, r.name, r.severity, r.summary] for r in RULES]
    sys.stdout.write("\n".join(columns(["ID", "NAME", "SEVERITY", "SUMMARY"], rows)) + "\n")
    return ExitCode.OK


def explain(args: argparse.Namespace) -> int:
    """The rule's section of docs/rules.md, exactly (both come from render.ruledoc)."""
    rule = find_rule(args.rule)
    if rule is None:
        raise UsageError(f"unknown rule {args.rule!r}; `{program_name()} rules` lists them")
    sys.stdout.write(rule_markdown(rule))
    return ExitCode.OK


def version(args: argparse.Namespace) -> int:
    """`Client Version: ...` (and `Server Version: ...` with --server), or kubectl's document with -o."""
    client = {"name": PROG, "version": __version__, "python": platform.python_version(),
              "platform": f"{sys.platform}/{platform.machine().lower()}"}
    doc: Dict[str, Any] = {"clientVersion": client}
    if args.server is not None:
        doc["serverVersion"] = {"gitVersion": server_version(scope_from(args))}
    if args.output is not None:
        sys.stdout.write(dump_json(doc) if args.output == "json" else dump_yaml(doc))
        return ExitCode.OK
    sys.stdout.write(f"Client Version: {PROG} {__version__}\n")
    if "serverVersion" in doc:
        sys.stdout.write(f"Server Version: {safe(doc['serverVersion']['gitVersion'])}\n")
    return ExitCode.OK
