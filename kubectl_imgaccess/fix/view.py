"""Showing a plan and its result: a table, unified diffs with every Secret value redacted, the fix JSON.

Redaction happens on a copy before anything is formatted, so no code path here can render a value.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any, Dict, List, Optional, Sequence

from kubectl_imgaccess.audit.report import Report
from kubectl_imgaccess.audit.snapshot import Obj
from kubectl_imgaccess.fix.plan import Action, Plan, counts
from kubectl_imgaccess.render.structured import dump_yaml
from kubectl_imgaccess.text import redact, safe

REDACTED = "<redacted>"
_VOLATILE_META = ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "selfLink")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def redacted(obj: Optional[Obj]) -> Optional[Obj]:
    """The object as shown: no volatile metadata, no status, Secret values replaced."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in _VOLATILE_META:
            meta.pop(key, None)
    out.pop("status", None)
    if out.get("kind") == "Secret":
        for part in ("data", "stringData"):
            values = out.get(part)
            if isinstance(values, dict):
                out[part] = {k: REDACTED for k in values}
            elif values is not None:
                out[part] = REDACTED
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if isinstance(annotations, dict) and _LAST_APPLIED in annotations:
            annotations[_LAST_APPLIED] = REDACTED  # kubectl apply keeps the whole Secret, values included
    return out


def _yaml_lines(obj: Optional[Obj]) -> List[str]:
    if obj is None:
        return []
    return dump_yaml(obj).splitlines(keepends=True)


def diff(action: Action) -> str:
    """Unified diff of the object before and after, values redacted, control characters shown visibly."""
    label = safe(f"{action.kind} {action.namespace}/{action.name}")
    before = _yaml_lines(redacted(action.before))
    after = _yaml_lines(redacted(action.after))
    lines = difflib.unified_diff(before, after, fromfile=f"{label} (current)" if before else "/dev/null",
                                 tofile=f"{label} (planned)", n=3)
    return "".join(safe(line.rstrip("\n")) + "\n" for line in lines)


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> List[str]:
    rows = [[safe(cell) for cell in r] for r in rows]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    return [fmt.format(*headers).rstrip()] + [fmt.format(*r).rstrip() for r in rows]


def _domains_line(report: Report) -> str:
    names = [safe(f"{d.namespace}/{d.name}") for d in report.domains]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"{len(names)} Domain(s)" + (f" ({shown})" if names else "")


def _counts_text(c: Dict[str, int]) -> str:
    return f"{c['fail']} fail, {c['warn']} warn"


def render_plan(plan: Plan, dry_run: str) -> str:
    out: List[str] = []
    n = len(plan.actions)
    head = f"Plan for {_domains_line(plan.before)}, strategy {plan.strategy}: "
    out.append(head + (f"{n} change(s)" if n else "nothing to change"))
    if dry_run != "none":
        out[-1] += f" (dry run: {dry_run})"
    if plan.actions:
        out.append("")
        rows = [[a.op, a.kind, a.namespace, a.name, ",".join(a.reason), a.summary] for a in plan.actions]
        out += _table(rows, ["OP", "KIND", "NAMESPACE", "NAME", "REASON", "SUMMARY"])
        for a in plan.actions:
            out.append("")
            out.append(diff(a).rstrip("\n"))
        out.append("")
        out.append("What the changes cause:")
        for a in plan.actions:
            for effect in a.effects:
                out.append(safe(f"  {a.kind} {a.namespace}/{a.name}: {effect}"))
    if plan.refusals:
        out.append("")
        out.append("Refused:")
        out += [f"  {safe(r)}" for r in plan.refusals]
    stuck = [d for d in plan.before.domains
             if any(f.rule == "IA009" and not f.suppressed for f in d.findings)]
    restarted = {(a.namespace, a.name) for a in plan.actions if a.kind == "Domain" and a.set_fields}
    if plan.unfixed or any((d.namespace, d.name) not in restarted for d in stuck):
        out += _still_reported(plan)
        for d in stuck:
            if (d.namespace, d.name) not in restarted:
                out.append(f"  {safe(d.namespace)}/{safe(d.name)}: pods are stuck pulling; they are created "
                           "again only with --restart (or by hand)")
    out.append("")
    out.append(f"Images: {_counts_text(counts(plan.before))} now; {_counts_text(counts(plan.expected))} "
               "expected after the plan")
    return "\n".join(out) + "\n"


def _still_reported(plan: Plan) -> List[str]:
    """The findings the plan leaves, each with its own fix: the same block under both kinds of plan."""
    out = ["", "Still reported after this plan:"]
    for u in plan.unfixed:
        out.append(safe(f"  {u.namespace}/{u.domain}: {u.severity} {u.rule}: {u.message}"))
        if u.hint:
            out.append(f"      fix: {safe(u.hint)}")
    return out


def render_file_plan(plan: Plan, edits: Sequence[Any], steps: Sequence[str]) -> str:
    """fix -f: the plan as unified diffs of the manifest files, and the Secrets to make by hand."""
    out: List[str] = []
    actions = [a for a in plan.actions if a.kind != "Secret"]
    changed = [e for e in edits if e.after != e.before]
    head = f"Plan for {_domains_line(plan.before)}, strategy {plan.strategy}: "
    out.append(head + (f"{len(actions)} change(s) in {len(changed)} file(s)" if actions else "nothing to change"))
    if actions:
        out.append("")
        rows = [[safe(x) for x in (a.op, a.kind, a.namespace, a.name, ",".join(a.reason), a.summary)]
                for a in actions]
        out += _table(rows, ["OP", "KIND", "NAMESPACE", "NAME", "REASON", "SUMMARY"])
        for e in changed:
            out.append("")
            out.append(safe(e.diff(), multiline=True).rstrip("\n"))
    if steps:
        out.append("")
        out.append("Secrets to make (fix never writes a Secret's value into a file):")
        out += [f"  {safe(step)}" for step in steps]
    if plan.refusals:
        out.append("")
        out.append("Refused:")
        out += [f"  {safe(r)}" for r in plan.refusals]
    if plan.unfixed:
        out += _still_reported(plan)
    out.append("")
    out.append(f"Images: {_counts_text(counts(plan.before))} now; {_counts_text(counts(plan.expected))} "
               "expected after the plan")
    return "\n".join(out) + "\n"


def file_document(plan: Plan, edits: Sequence[Any], steps: Sequence[str], written: Sequence[str],
                  after: Optional[Report]) -> Dict[str, Any]:
    """fix -f -o json: the fix JSON with the files' diffs instead of object diffs."""
    doc = document(plan, "none", bool(written), after)
    doc["actions"] = [a.to_doc() for a in plan.actions if a.kind != "Secret"]
    doc["files"] = [{"file": e.path, "diff": e.diff()} for e in edits if e.after != e.before]
    doc["written"] = list(written)
    doc["secretSteps"] = list(steps)
    return doc


def _short(action: Action) -> Dict[str, str]:
    return {"op": action.op, "kind": action.kind, "namespace": action.namespace, "name": action.name,
            "summary": action.summary}


def render_stopped(applied: Sequence[str], not_applied: Sequence[Action], why: str) -> str:
    """What a run that stopped part-way did and did not do, for the terminal: a rerun does the rest."""
    out = [f"Stopped: {safe(why)}", f"Applied {len(applied)} change(s):" if applied else "Applied nothing."]
    out += [f"  {safe(line)}" for line in applied]
    if not_applied:
        out.append(f"Not applied ({len(not_applied)}); run fix again to plan and apply them:")
        out += [f"  {safe(f'{a.op} {a.kind} {a.namespace}/{a.name}: {a.summary}')}" for a in not_applied]
    return "\n".join(out) + "\n"


def render_results(results: Sequence[str]) -> str:
    return "".join(f"{safe(line)}\n" for line in results)


def render_before_after(before: Report, after: Report) -> str:
    by_key = {(d.namespace, d.name): d.verdict for d in after.domains}
    out = ["", "Check before and after:"]
    rows = [[f"{d.namespace}/{d.name}", d.verdict, by_key.get((d.namespace, d.name), "-")] for d in before.domains]
    out += ["  " + line for line in _table(rows, ["DOMAIN", "BEFORE", "AFTER"])]
    out.append(f"Images: {_counts_text(counts(before))} before; {_counts_text(counts(after))} after")
    return "\n".join(out) + "\n"


def document(plan: Plan, dry_run: str, applied: bool, after: Optional[Report],
             results: Sequence[str] = (), not_applied: Optional[Sequence[Action]] = None,
             stopped: Optional[str] = None) -> Dict[str, Any]:
    """The contract's fix JSON (plus diffs, effects, refusals and what stays reported).

    `results`: one line per action applied; `notApplied`: the actions not applied (all of them when nothing
    was written); `stopped`: why a run ended part-way (an error, Ctrl-C), else null."""
    actions = []
    for a in plan.actions:
        doc = a.to_doc()
        doc["diff"] = diff(a)
        actions.append(doc)
    return {
        "schemaVersion": 1,
        "dryRun": dry_run,
        "applied": applied,
        "strategy": plan.strategy,
        "actions": actions,
        "refused": list(plan.refusals),
        "unfixed": [{"namespace": u.namespace, "domain": u.domain, "rule": u.rule, "severity": u.severity,
                     "message": u.message, "fix": u.hint} for u in plan.unfixed],
        "results": list(results),
        "notApplied": [_short(a) for a in (not_applied if not_applied is not None
                                           else [] if applied else plan.actions)],
        "stopped": None if stopped is None else redact(stopped),
        "before": counts(plan.before),
        "expected": counts(plan.expected),
        "after": None if after is None else counts(after),
    }
