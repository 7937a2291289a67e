"""Applying a plan through a writer, safely under concurrent edits.

Each action is an intent ("these names are on that list", "this Secret exists"), so a write is always
computed from the object as just read: on a conflict the object is read again, the change planned again
from what is there now, and written again, a bounded number of times. ServiceAccounts are replaced
with their resourceVersion (their list has no merge strategy: a patch would replace it whole); Domains
get a JSON patch whose `test` ops pin what was read. Secrets are only created: an identical existing
one is fine, a different one stops the fix. Nothing is ever deleted and no entry is ever dropped.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Protocol, Sequence, Set

from kubectl_imgaccess.audit.snapshot import Obj
from kubectl_imgaccess.concurrency import read_modify_write
from kubectl_imgaccess.errors import AlreadyExists, ClusterError, FixRefused
from kubectl_imgaccess.fix.credentials import same_secret
from kubectl_imgaccess.fix.plan import INTROSPECT_FIELD, RESTART_FIELD, Action, Plan, _bump, _names

log = logging.getLogger("kubectl_imgaccess.fix")

MAX_TRIES = 5


class Writer(Protocol):
    """What apply needs from a cluster; cluster_writer implements it (dry_run=server adds dryRun=All)."""

    def read(self, kind: str, namespace: str, name: str) -> Optional[Obj]: ...

    def create(self, kind: str, namespace: str, body: Obj) -> Obj: ...

    def replace(self, kind: str, namespace: str, name: str, body: Obj) -> Obj: ...

    def json_patch(self, kind: str, namespace: str, name: str, ops: List[Dict[str, Any]]) -> Obj: ...


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def domain_patch(current: Obj, add_names: Sequence[str], set_fields: Dict[str, str]) -> List[Dict[str, Any]]:
    """JSON patch ops for a Domain as read: append the missing names, bump the restart fields; [] = done.

    Every op is guarded: the list (or, when absent, the resourceVersion) and each bumped field's old
    value are tested, so a concurrent change makes the server refuse instead of losing it.
    """
    raw_spec = current.get("spec")
    spec: Dict[str, Any] = raw_spec if isinstance(raw_spec, dict) else {}
    rv = str((current.get("metadata") or {}).get("resourceVersion") or "")
    ops: List[Dict[str, Any]] = []
    entries = spec.get("imagePullSecrets")
    present = _names(entries)
    missing = [n for n in add_names if n not in present]
    missing = list(dict.fromkeys(missing))
    guarded_rv = False
    if missing:
        if isinstance(entries, list):
            ops.append({"op": "test", "path": _pointer("spec", "imagePullSecrets"), "value": entries})
            ops += [{"op": "add", "path": _pointer("spec", "imagePullSecrets", "-"), "value": {"name": n}}
                    for n in missing]
        else:
            ops.append({"op": "test", "path": _pointer("metadata", "resourceVersion"), "value": rv})
            guarded_rv = True
            ops.append({"op": "add", "path": _pointer("spec", "imagePullSecrets"),
                        "value": [{"name": n} for n in missing]})
    for name in (RESTART_FIELD, INTROSPECT_FIELD):
        if name not in set_fields:
            continue
        old = spec.get(name)
        new = _bump(old)
        if old is None:
            if not guarded_rv:
                ops.append({"op": "test", "path": _pointer("metadata", "resourceVersion"), "value": rv})
                guarded_rv = True
            ops.append({"op": "add", "path": _pointer("spec", name), "value": new})
        else:
            ops.append({"op": "test", "path": _pointer("spec", name), "value": old})
            ops.append({"op": "replace", "path": _pointer("spec", name), "value": new})
    if "spec" not in current and ops:
        ops.insert(0, {"op": "add", "path": "/spec", "value": {}})
    return ops


class Applier:
    """Applies a plan's actions in order; `progress` hears each result line the moment it is done, and
    `applied` keeps the actions done, so a run that stops part-way can say what a rerun will do."""

    def __init__(self, writer: Writer, namespaces: Set[str], max_tries: int = MAX_TRIES, note: str = "",
                 progress: Optional[Callable[[str], None]] = None) -> None:
        self.writer = writer
        self.note = note  # e.g. " (dry run: server)", added to every result line
        self.namespaces = namespaces
        self.max_tries = max_tries
        self.results: List[str] = []
        self.applied: List[Action] = []
        self.progress = progress

    def not_applied(self, plan: Plan) -> List[Action]:
        done = {id(a) for a in self.applied}
        return [a for a in plan.actions if id(a) not in done]

    def apply(self, plan: Plan) -> List[str]:
        if plan.refusals:
            raise FixRefused(plan.refusals[0])
        for action in plan.actions:  # already ordered: Secrets, then ServiceAccounts, then Domains
            if action.namespace not in self.namespaces:
                raise FixRefused(f"{action.kind} {action.namespace}/{action.name} is outside the Domains' "
                                 "namespaces: not written")
            if action.kind == "Secret":
                self._secret(action)
            elif action.kind == "ServiceAccount":
                self._service_account(action)
            elif action.kind == "Domain":
                self._domain(action)
            else:  # pragma: no cover - the planner only makes the three kinds
                raise AssertionError(action.kind)
        return self.results

    def _done(self, action: Action, what: str) -> None:
        line = f"{action.kind} {action.namespace}/{action.name}: {what}{self.note}"
        log.info("%s", line)
        self.results.append(line)
        self.applied.append(action)
        if self.progress is not None:
            self.progress(line)

    # -- Secrets ----------------------------------------------------------------------------------

    def _secret(self, action: Action) -> None:
        try:
            self.writer.create("Secret", action.namespace, action.after)
        except AlreadyExists:
            existing = self.writer.read("Secret", action.namespace, action.name)
            if existing is not None and same_secret(existing, action.after):
                self._done(action, "exists with the same content, left as it is")
                return
            raise FixRefused(f"Secret {action.namespace}/{action.name} already exists with different content; "
                             "fix never overwrites a Secret: choose another --secret name") from None
        self._done(action, "created")

    # -- read, change, write; again on a conflict ---------------------------------------------------

    def _read_modify_write(self, action: Action, change: Callable[[Optional[Obj]], str]) -> None:
        """Read the action's object, let `change` compute and write what it lacks from what was read (it
        returns the result line); read again when it changed or appeared meanwhile (concurrency's loop)."""
        what = read_modify_write(lambda: self.writer.read(action.kind, action.namespace, action.name), change,
                                 self.max_tries, f"{action.kind} {action.namespace}/{action.name}", log)
        if what is None:
            raise ClusterError(f"{action.kind} {action.namespace}/{action.name}: still changing after "
                               f"{self.max_tries} tries; nothing lost, run fix again")
        self._done(action, what)

    # -- ServiceAccounts --------------------------------------------------------------------------

    def _service_account(self, action: Action) -> None:
        def change(current: Optional[Obj]) -> str:
            if current is None:
                body: Obj = {"apiVersion": "v1", "kind": "ServiceAccount",
                             "metadata": {"name": action.name, "namespace": action.namespace}}
                names = list(dict.fromkeys(action.add_names))
                if names:
                    body["imagePullSecrets"] = [{"name": n} for n in names]
                self.writer.create("ServiceAccount", action.namespace, body)
                return "created" + (f" with imagePullSecrets {', '.join(names)}" if names else "")
            entries = current.get("imagePullSecrets")
            present = _names(entries)
            missing = [n for n in dict.fromkeys(action.add_names) if n not in present]
            if not missing:
                return "already lists " + ", ".join(action.add_names) if action.add_names else "exists"
            updated = dict(current)
            updated["imagePullSecrets"] = list(entries if isinstance(entries, list) else []) + [
                {"name": n} for n in missing]
            self.writer.replace("ServiceAccount", action.namespace, action.name, updated)
            return f"appended {', '.join(missing)} to imagePullSecrets"

        self._read_modify_write(action, change)

    # -- Domains ----------------------------------------------------------------------------------

    def _domain(self, action: Action) -> None:
        def change(current: Optional[Obj]) -> str:
            if current is None:
                raise FixRefused(f"Domain {action.namespace}/{action.name} no longer exists")
            ops = domain_patch(current, action.add_names, action.set_fields)
            if not ops:
                return "already as planned"
            self.writer.json_patch("Domain", action.namespace, action.name, ops)
            return action.summary

        self._read_modify_write(action, change)
