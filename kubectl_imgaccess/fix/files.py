"""Fixing manifest files: the plan's list extensions become line edits of the files, shown as unified diffs.

The files are edited, never re-dumped: each change inserts lines (or, in flow style and JSON, text) at the
positions the parser reports (`manifests.document_spans`), so comments, key order, quoting and everything
the plan does not touch stay as they are. Every edited file is read back through the same reader before
anything is written, and must give exactly the planned objects; otherwise nothing is written. Secret values
are never written into a file: a Secret the plan needs is a step to run (kubeseal, an ExternalSecret).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import yaml

from kubectl_imgaccess.audit.run import sealed_secret_step
from kubectl_imgaccess.audit.snapshot import Obj, Snapshot
from kubectl_imgaccess.errors import FixRefused
from kubectl_imgaccess.fix.plan import Action, Plan
from kubectl_imgaccess.manifests import Span, add_object, document_spans, read_source, read_text
from kubectl_imgaccess.objects import STDIN_NAME, ObjectKey

_LIST_PATH = {"Domain": ("spec", "imagePullSecrets"), "ServiceAccount": ("imagePullSecrets",)}


@dataclass
class FileEdit:
    """One file's planned new text."""
    path: str
    before: str
    after: str
    actions: List[Action] = field(default_factory=list)

    def diff(self) -> str:
        lines = difflib.unified_diff(self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
                                     fromfile=f"a/{self.path}", tofile=f"b/{self.path}", n=3)
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                       for line in lines)


@dataclass
class _Insert:
    line: int  # 0-based line of the insertion point
    column: int  # None-like -1: at the start of the line after `line`
    text: str


def _scalar(name: str, flow: bool) -> str:
    """A name as YAML writes it: plain when it reads back as the same string, else double-quoted (JSON)."""
    if not flow and re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name):
        try:
            if yaml.safe_load(name) == name:
                return name
        except yaml.YAMLError:
            pass
    return json.dumps(name)


def _flow_entries(names: Sequence[str]) -> str:
    return ", ".join('{"name": ' + _scalar(n, True) + "}" for n in names)


def _block_entries(names: Sequence[str], dash_column: int, newline: str) -> str:
    return "".join(f"{' ' * dash_column}- name: {_scalar(n, False)}{newline}" for n in names)


def _list_inserts(spans: Dict[str, Span], path: Tuple[str, ...], names: Sequence[str], newline: str,
                  where: str) -> List[_Insert]:
    """Insertions that append `names` to the list at `path` (created when absent)."""
    dotted = ".".join(path)
    span = spans.get(dotted)
    if span is not None and span.kind == "sequence":
        if span.flow:
            # before the closing bracket
            text = (", " if not span.empty else "") + _flow_entries(names)
            return [_Insert(span.end_line, span.end_column - 1, text)]
        return [_Insert(span.last_line, -1, _block_entries(names, span.column, newline))]
    if span is not None and not (span.kind == "scalar" and span.empty):
        raise FixRefused(f"{where}: {dotted} is not a list; fix will not rewrite it (nothing was written)")
    if span is not None:  # `imagePullSecrets:` with no value: the list goes under the key
        return [_Insert(span.key_line, -1, _block_entries(names, span.key_column + 2, newline))]
    # the key is missing: add it to its parent mapping (creating parents as needed)
    depth = len(path) - 1
    while depth > 0 and ".".join(path[:depth]) not in spans:
        depth -= 1
    parent_path = ".".join(path[:depth])
    parent = spans[parent_path]
    if parent.kind != "mapping":
        raise FixRefused(f"{where}: {parent_path or 'the document'} is not a mapping; nothing was written")
    missing = path[depth:]
    if parent.flow:
        value = "[" + _flow_entries(names) + "]"
        for key in reversed(missing[1:]):
            value = "{" + json.dumps(key) + ": " + value + "}"
        text = json.dumps(missing[0]) + ": " + value + (", " if not parent.empty else "")
        return [_Insert(parent.line, parent.column + 1, text)]
    column = parent.column
    lines = ""
    for key in missing:
        lines += f"{' ' * column}{key}:{newline}"
        column += 2
    lines += _block_entries(names, column, newline)
    return [_Insert(parent.last_line, -1, lines)]


def _apply(text: str, inserts: Sequence[_Insert], newline: str) -> str:
    lines = text.splitlines(keepends=True)
    for ins in sorted(inserts, key=lambda i: (i.line, i.column if i.column >= 0 else 10**9), reverse=True):
        if ins.column < 0:
            at = ins.line + 1
            if at > len(lines):
                at = len(lines)
            if at == len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
                lines[-1] += newline
            lines[at:at] = [ins.text]
        else:
            current = lines[ins.line]
            lines[ins.line] = current[:ins.column] + ins.text + current[ins.column:]
    return "".join(lines)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _service_account_document(action: Action, explicit_namespace: bool, newline: str) -> str:
    meta: Dict[str, Any] = {"name": action.name}
    if explicit_namespace:
        meta["namespace"] = action.namespace
    doc: Dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}
    names = [str(e.get("name")) for e in action.after.get("imagePullSecrets") or [] if isinstance(e, dict)]
    if names:
        doc["imagePullSecrets"] = [{"name": n} for n in names]
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    return "---" + newline + body.replace("\n", newline)


def plan_edits(snapshot: Snapshot, plan: Plan, default_namespace: str) -> List[FileEdit]:
    """The file edits that carry out the plan's Domain and ServiceAccount actions (Secrets are steps)."""
    by_file: Dict[str, List[Tuple[Action, Optional[int]]]] = {}
    for action in plan.actions:
        if action.kind == "Secret":
            continue
        if action.set_fields:
            raise FixRefused("fix -f does not bump restart fields in files; drop --restart (nothing was written)")
        key = action.key
        if action.op == "create":
            domain = _domain_for(snapshot, plan, action)
            loc = snapshot.locations.get(domain, {}).get("") if domain is not None else None
            if loc is None:
                raise FixRefused(f"{key}: no file to add it to; nothing was written")
            by_file.setdefault(loc.file, []).append((action, None))
            continue
        loc = snapshot.locations.get(key, {}).get("")
        if loc is None:
            raise FixRefused(f"{key} was not read from a file; nothing was written")
        by_file.setdefault(loc.file, []).append((action, loc.line - 1))
    edits = []
    for path in sorted(by_file):
        if path == STDIN_NAME:
            raise FixRefused("fix -f cannot edit stdin; name the files with -f (nothing was written)")
        edits.append(_edit_file(path, by_file[path], snapshot, default_namespace))
    return edits


def _domain_for(snapshot: Snapshot, plan: Plan, action: Action) -> Optional[ObjectKey]:
    """The Domain whose file a created ServiceAccount goes into (the first Domain in its namespace)."""
    for d in plan.before.domains:
        if d.namespace == action.namespace:
            return ObjectKey("Domain", d.namespace, d.name)
    return None


def _edit_file(path: str, work: List[Tuple[Action, Optional[int]]], snapshot: Snapshot,
               default_namespace: str) -> FileEdit:
    text = read_text(path)
    newline = _newline(text)
    documents = document_spans(text, path)
    inserts: List[_Insert] = []
    appended: List[str] = []
    actions = [a for a, _ in work]
    for action, line in work:
        if line is None:
            if path.endswith(".json"):
                raise FixRefused(f"{path}: fix adds a new ServiceAccount only to YAML files; create "
                                 f"ServiceAccount {action.namespace}/{action.name} yourself (nothing was written)")
            explicit = any(isinstance((obj.get("metadata") or {}).get("namespace"), str) for obj, _ in documents)
            appended.append(_service_account_document(action, explicit, newline))
            continue
        spans = _spans_of(documents, action, line, default_namespace)
        added = list(action.add_names)
        if not added:
            continue
        where = f"{path}:{line + 1}"
        inserts += _list_inserts(spans, _LIST_PATH[action.kind], added, newline, where)
    after = _apply(text, inserts, newline)
    for doc in appended:
        if after and not after.endswith(("\n", "\r")):
            after += newline
        after += doc
    _verify(path, after, snapshot, actions, default_namespace)
    return FileEdit(path, text, after, actions)


def _spans_of(documents: List[Tuple[Dict[str, Any], Dict[str, Span]]], action: Action, line: int,
              default_namespace: str) -> Dict[str, Span]:
    for obj, spans in documents:
        if spans[""].line != line:
            continue
        meta = obj.get("metadata") or {}
        if obj.get("kind") == action.kind and meta.get("name") == action.name and \
                (meta.get("namespace") or default_namespace) == action.namespace:
            return spans
    raise FixRefused(f"{action.key} is no longer where it was read; nothing was written")


def _verify(path: str, new_text: str, snapshot: Snapshot, actions: Sequence[Action], default_namespace: str) -> None:
    """The edited text, read back as check reads it, must give exactly the planned objects."""
    planned: Dict[ObjectKey, Obj] = {a.key: a.after for a in actions}
    expected = {key: planned.get(key, obj) for key, obj in snapshot.objects.items()
                if snapshot.locations.get(key, {}).get("") is not None
                and snapshot.locations[key][""].file == path}
    for key, obj in planned.items():
        expected.setdefault(key, obj)
    reread = Snapshot(mode="files")
    for obj, locs in read_source(path, new_text):
        add_object(reread, obj, locs, default_namespace, path)
    got = dict(reread.objects)
    mismatched = sorted(k for k in set(got) | set(expected) if _comparable(got.get(k)) != _comparable(expected.get(k)))
    if mismatched:
        raise FixRefused(f"{path}: the edit would not read back as planned ({mismatched[0]}); nothing was written")


def _comparable(obj: Optional[Obj]) -> Any:
    return None if obj is None else json.dumps(obj, sort_keys=True, default=str)


def write_files(edits: Sequence[FileEdit]) -> List[str]:
    """Write every edited file (each atomically: a temporary file renamed over it); the paths written."""
    done: List[str] = []
    for edit in edits:
        if edit.after == edit.before:
            continue
        if read_text(edit.path) != edit.before:
            raise FixRefused(f"{edit.path} changed while fix was planning; nothing more was written"
                             + (f" (already written: {', '.join(done)})" if done else ""))
        directory = os.path.dirname(os.path.abspath(edit.path))
        mode = os.stat(edit.path).st_mode & 0o7777
        fd, tmp = tempfile.mkstemp(prefix=".imgaccess-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(edit.after)
            os.chmod(tmp, mode)
            os.replace(tmp, edit.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        done.append(edit.path)
    return done


def secret_steps(expected_missing: Sequence[Tuple[str, str]], prefer_external: bool) -> List[str]:
    """What to run for each pull Secret the files need but do not hold (fix never writes a value)."""
    steps = []
    for namespace, name in expected_missing:
        if prefer_external:
            steps.append(f"Secret {namespace}/{name}: add an ExternalSecret (external-secrets.io/v1) in {namespace} "
                         f"with spec.target.name {name} and spec.target.template.type "
                         "kubernetes.io/dockerconfigjson, annotated imgaccess.weblogic.oracle/registries: HOST")
        else:
            steps.append(f"Secret {namespace}/{name}: {sealed_secret_step(name, namespace)}  "
                         "(then annotate the SealedSecret with imgaccess.weblogic.oracle/registries: HOST)")
    return steps


__all__ = ["FileEdit", "plan_edits", "secret_steps", "write_files"]
