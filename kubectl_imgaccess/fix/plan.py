"""The planner: (snapshot, report, options) -> the changes that let every pod pull, each with its reasons.

Pure. It works on a copy of the snapshot: each round turns the report's findings into changes on that
copy, audits the copy again and repeats until nothing more can be done, so a fix that uncovers the next
problem (a created ServiceAccount whose pods now need a credential) is planned in the same run and a
second run plans nothing. The actions are the difference between the snapshot and the copy, which is
also what the diffs show. Changes only ever add: no object is deleted and no list entry dropped.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Set, Tuple

from kubectl_imgaccess.audit.config import DEFAULT, Config
from kubectl_imgaccess.audit.report import DomainReport, Finding, Report
from kubectl_imgaccess.audit.run import AuditOptions, audit, merge_provided
from kubectl_imgaccess.audit.snapshot import Obj, Snapshot
from kubectl_imgaccess.fix.credentials import (
    BUILT_FROM_ANNOTATION,
    DOCKERCONFIGJSON,
    DOCKERCONFIGJSON_KEY,
    CredentialSource,
    b64,
    decoded_data,
    go_json,
    matches,
    same_secret,
    secret_object,
)
from kubectl_imgaccess.kubelet.pullsecret import (
    DOCKER_CFG,
    DOCKER_CONFIG_JSON,
    PULL_SECRET_TYPES,
    SecretParseError,
    read_pull_secret,
)
from kubectl_imgaccess.objects import ObjectKey
from kubectl_imgaccess.weblogic.domain import INTROSPECTOR, DomainError, DomainModel, model_domain

STRATEGIES = ("auto", "domain", "serviceaccount")
MAX_ROUNDS = 5
SIBLING_SUFFIX = "-dockerconfigjson"
RESTART_FIELD = "restartVersion"
INTROSPECT_FIELD = "introspectVersion"
_KIND_ORDER = {"Secret": 0, "ServiceAccount": 1, "Domain": 2}
# An anonymous pull (IA004) explained by one of these is fixed by fixing the explanation, not by a new Secret.
_FIXED_BY_CAUSE = frozenset({"IA002", "IA006", "IA007", "IA008"})


@dataclass(frozen=True)
class FixOptions:
    strategy: str = "auto"
    source: Optional[CredentialSource] = None
    restart: bool = False
    config: Config = DEFAULT
    # Fixing manifest files: no Secret is ever created (its value would land in a file); `reference` names a
    # Secret that will exist (a SealedSecret or ExternalSecret made by the user) to put on the pull path.
    files: bool = False
    reference: Optional[str] = None
    cloud: Optional[str] = None  # --cloud, for the planner's own audits


FixOp = Literal["create", "patch"]  # what fix does to one object (it never deletes)


@dataclass
class Action:
    """One object fix creates or patches. `before`/`after` are whole objects (Secrets: values inside)."""
    op: FixOp
    kind: str  # "Secret" | "ServiceAccount" | "Domain"
    namespace: str
    name: str
    reason: List[str]
    summary: str
    effects: List[str]
    before: Optional[Obj] = field(default=None, repr=False)
    after: Obj = field(default_factory=dict, repr=False)
    add_names: List[str] = field(default_factory=list)  # entries appended to the pull-secret list
    set_fields: Dict[str, str] = field(default_factory=dict)  # spec field -> new value (restart bumps)

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(self.kind, self.namespace, self.name)

    def to_doc(self) -> Dict[str, Any]:
        return {"op": self.op, "kind": self.kind, "namespace": self.namespace, "name": self.name,
                "reason": list(self.reason), "summary": self.summary, "effects": list(self.effects)}


@dataclass
class Unfixed:
    """A finding the plan leaves in place, with what the user can do about it."""
    namespace: str
    domain: str
    rule: str
    severity: str
    message: str
    hint: Optional[str]
    secret: Optional[str] = None


@dataclass
class Plan:
    actions: List[Action]
    refusals: List[str]
    unfixed: List[Unfixed]
    before: Report
    expected: Report
    strategy: str

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


def counts(report: Report) -> Dict[str, int]:
    """fail/warn over the report's image entries (what check's summary line counts)."""
    out = {"fail": 0, "warn": 0}
    for d in report.domains:
        for img in d.images:
            if img.verdict in out:
                out[img.verdict] += 1
    return out


# ---------------------------------------------------------------------------------------------- helpers


def _names(entries: Any) -> List[str]:
    out: List[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name"):
            out.append(str(entry["name"]))
    return out


def _clusters(snap: Snapshot, namespace: str) -> Dict[str, Obj]:
    return {str(c["metadata"]["name"]): c for c in snap.of_kind("Cluster", namespace)}


def _raw_value(secret: Mapping[str, Any], key: str) -> Optional[bytes]:
    data = decoded_data(secret)
    return None if data is None else data.get(key)


def sibling_payload(secret: Mapping[str, Any]) -> Optional[str]:
    """A `.dockerconfigjson` (base64) rebuilt from a Secret the kubelet ignores, when its payload parses."""
    for key in (DOCKER_CONFIG_JSON, DOCKER_CFG, "config.json"):
        raw = _raw_value(secret, key)
        if not raw:
            continue
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(doc, dict):
            continue
        auths = doc.get("auths") if isinstance(doc.get("auths"), dict) else None
        if auths is None and key != DOCKER_CONFIG_JSON:
            auths = {k: v for k, v in doc.items() if isinstance(v, dict)}  # the legacy flat layout
        if not auths:
            continue
        value = b64(go_json({"auths": auths}))
        try:
            secret_like = {"metadata": {}, "type": DOCKERCONFIGJSON, "data": {DOCKERCONFIGJSON_KEY: value}}
            payload = read_pull_secret(secret_like)
        except SecretParseError:
            continue
        if payload.usable and any(not c.empty for c in payload.credentials):
            return value
    return None


def _bump(value: Any) -> str:
    text = "" if value is None else str(value)
    if not text:
        return "1"
    if text.isdigit():
        return str(int(text) + 1)
    return f"{text}-1"


# ---------------------------------------------------------------------------------------------- planner


class _Planner:
    def __init__(self, snapshot: Snapshot, report: Report, options: FixOptions) -> None:
        if options.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {options.strategy!r}")
        self.original = snapshot
        self.work = copy.deepcopy(snapshot)
        self.report = report
        self.options = options
        self.reasons: Dict[ObjectKey, List[str]] = {}
        self.refusals: List[str] = []
        self.namespaces: Set[str] = {d.namespace for d in report.domains}
        self.created: Set[ObjectKey] = set()
        self.changed = False

    # -- bookkeeping ------------------------------------------------------------------------------

    def _reason(self, key: ObjectKey, rule: str) -> None:
        rules = self.reasons.setdefault(key, [])
        if rule not in rules:
            rules.append(rule)

    def _refuse(self, message: str) -> None:
        if message not in self.refusals:
            self.refusals.append(message)

    def _model(self, d: DomainReport) -> Optional[DomainModel]:
        obj = self.work.get("Domain", d.namespace, d.name)
        if obj is None:
            return None
        try:
            return model_domain(obj, _clusters(self.work, d.namespace), namespace=d.namespace)
        except DomainError:
            return None

    # -- the primitive changes --------------------------------------------------------------------

    def ensure_secret(self, namespace: str, name: str, type_: str, data: Mapping[str, str],
                      rule: str, labels: Optional[Mapping[str, str]] = None,
                      annotations: Optional[Mapping[str, str]] = None) -> bool:
        """True when the Secret exists (or is planned) with this content; a different one is refused."""
        assert namespace in self.namespaces
        wanted = secret_object(namespace, name, type_, data, labels, annotations)
        key = ObjectKey("Secret", namespace, name)
        existing = self.work.objects.get(key)
        if existing is None:
            self.work.add(wanted)
            self.created.add(key)
            self._reason(key, rule)
            self.changed = True
            return True
        if same_secret(existing, wanted):
            if key in self.created:
                self._reason(key, rule)
            return True
        self._refuse(f"Secret {namespace}/{name} already exists with different content; fix never overwrites "
                     "a Secret: choose another --secret name")
        return False

    def ensure_service_account(self, namespace: str, name: str, rule: str) -> None:
        key = ObjectKey("ServiceAccount", namespace, name)
        if key not in self.work.objects:
            self.work.add({"apiVersion": "v1", "kind": "ServiceAccount",
                           "metadata": {"name": name, "namespace": namespace}})
            self.created.add(key)
            self._reason(key, rule)
            self.changed = True

    def _append(self, obj: Obj, path: Tuple[str, ...], names: Sequence[str]) -> bool:
        parent = obj
        for part in path[:-1]:
            parent = parent.setdefault(part, {})
        current = parent.get(path[-1])
        entries: List[Any] = list(current) if isinstance(current, list) else []
        present = set(_names(entries))
        added = False
        for name in names:
            if name and name not in present:
                entries.append({"name": name})
                present.add(name)
                added = True
        if added:
            parent[path[-1]] = entries
        return added

    def ensure_on_domain(self, d: DomainReport, model: DomainModel, names: Sequence[str], rule: str) -> None:
        key = ObjectKey("Domain", d.namespace, d.name)
        obj = self.work.objects[key]
        wanted = list(names)
        if not model.lists_pull_secrets:
            # The first Domain entry switches every pod off its ServiceAccount's list: carry those over.
            carried: List[str] = []
            for group in model.groups:
                sa = self.work.get("ServiceAccount", d.namespace, group.service_account)
                for name in _names((sa or {}).get("imagePullSecrets")):
                    if name not in carried:
                        carried.append(name)
            wanted = carried + [n for n in wanted if n not in carried]
        if self._append(obj, ("spec", "imagePullSecrets"), wanted):
            self._reason(key, rule)
            self.changed = True

    def ensure_on_service_account(self, namespace: str, name: str, names: Sequence[str], rule: str) -> None:
        key = ObjectKey("ServiceAccount", namespace, name)
        obj = self.work.objects.get(key)
        if obj is None:
            self.ensure_service_account(namespace, name, rule)
            obj = self.work.objects[key]
        if self._append(obj, ("imagePullSecrets",), names):
            self._reason(key, rule)
            self.changed = True

    def reference(self, d: DomainReport, model: DomainModel, service_account: str, secret: str,
                  rule: str) -> None:
        """Put `secret` on the pull path of the pods that run as `service_account`, per the strategy."""
        strategy = self.options.strategy
        if strategy == "serviceaccount" and model.lists_pull_secrets:
            self._refuse(f"Domain {d.namespace}/{d.name}: --strategy serviceaccount cannot work: the Domain lists "
                         "its own spec.imagePullSecrets, so its pods never get the ServiceAccount's list "
                         "(use --strategy domain or auto)")
            return
        target = strategy
        if strategy == "auto":
            sa = self.work.get("ServiceAccount", d.namespace, service_account)
            if model.lists_pull_secrets:
                target = "domain"
            elif sa is not None and _names(sa.get("imagePullSecrets")):
                target = "serviceaccount"
            else:
                target = "domain"
        if target == "domain":
            self.ensure_on_domain(d, model, [secret], rule)
        else:
            self.ensure_on_service_account(d.namespace, service_account, [secret], rule)

    # -- one round --------------------------------------------------------------------------------

    def round(self, report: Report) -> bool:
        self.changed = False
        for d in report.domains:
            model = self._model(d)
            if model is None:
                continue
            for f in d.findings:
                if not f.suppressed:
                    self._finding(d, model, f)
                    model = self._model(d) or model
        return self.changed

    def _repositories(self, namespace: str) -> List[str]:
        """Every image repository of the Domains in scope in this namespace (docker-config filtering)."""
        repos: List[str] = []
        for d in self.report.domains:
            if d.namespace == namespace:
                repos += [img.repository for img in d.images if img.repository and img.repository not in repos]
        return repos

    def _source_payload(self, namespace: str) -> Optional[Tuple[str, Dict[str, str], Dict[str, str],
                                                                 Dict[str, str]]]:
        source = self.options.source
        if source is None:
            return None
        return source.payload(self._repositories(namespace))

    def _finding(self, d: DomainReport, model: DomainModel, f: Finding) -> None:
        ns = d.namespace
        images = [d.images[i] for i in f.images if 0 <= i < len(d.images)]
        if f.rule == "IA005" and f.service_account:
            self.ensure_service_account(ns, f.service_account, f.rule)
        elif f.rule == "IA007" and f.secret:
            for sa in sorted({img.service_account for img in images} or {f.service_account or "default"}):
                self.reference(d, model, sa, f.secret, f.rule)
        elif f.rule == "IA006":
            self._ia006(d, model, f)
        elif f.rule == "IA002" and f.secret:
            self._ia002(d, model, f, images)
        elif f.rule == "IA001" and f.secret:
            source = self.options.source
            payload = self._source_payload(ns)
            if source is not None and payload is not None and source.name == f.secret:
                type_, data, labels, annotations = payload
                self.ensure_secret(ns, f.secret, type_, data, f.rule, labels, annotations)
        elif f.rule == "IA008" or (f.rule == "IA004" and not set(f.causes) & _FIXED_BY_CAUSE):
            self._new_credential(d, model, f, images)

    def _ia006(self, d: DomainReport, model: DomainModel, f: Finding) -> None:
        provided = merge_provided(self.work, self.options.config)
        if self.options.strategy == "serviceaccount":
            self._refuse(f"Domain {d.namespace}/{d.name}: --strategy serviceaccount cannot fix IA006: the Domain "
                         "lists its own spec.imagePullSecrets, so its pods never get the ServiceAccount's list "
                         "(use --strategy domain or auto)")
            return
        sa = self.work.get("ServiceAccount", d.namespace, f.service_account or "")
        if sa is None:
            return
        listed = {r.name for r in model.pull_secrets}
        names = [f.secret] if f.secret else [n for n in _names(sa.get("imagePullSecrets")) if n not in listed]
        usable = []
        for name in names:
            secret = self.work.get("Secret", d.namespace, name)
            made = provided.get(ObjectKey("Secret", d.namespace, name))
            if secret is None and made is not None and made.type in PULL_SECRET_TYPES:
                usable.append(name)  # will exist with a pull type; its content cannot be read
                continue
            try:
                if secret is not None and read_pull_secret(secret).usable:
                    usable.append(name)
            except SecretParseError:
                continue  # adding a Secret the kubelet cannot parse would break every pull of the Domain
        if usable:
            self.ensure_on_domain(d, model, usable, f.rule)

    def _ia002(self, d: DomainReport, model: DomainModel, f: Finding, images: Sequence[Any]) -> None:
        assert f.secret is not None
        original = self.work.get("Secret", d.namespace, f.secret)
        if original is None or self.options.files:
            return  # in files, a typed sibling would put the Secret's value into a file
        value = sibling_payload(original)
        if value is None:
            return  # stays reported: nothing usable to build from
        sibling = f.secret + SIBLING_SUFFIX
        if not self.ensure_secret(d.namespace, sibling, DOCKERCONFIGJSON, {DOCKERCONFIGJSON_KEY: value}, f.rule,
                                  annotations={BUILT_FROM_ANNOTATION: f.secret}):
            return
        for sa in sorted({img.service_account for img in images} or {"default"}):
            self.reference(d, model, sa, sibling, f.rule)

    def _new_credential(self, d: DomainReport, model: DomainModel, f: Finding, images: Sequence[Any]) -> None:
        source = self.options.source
        payload = self._source_payload(d.namespace)
        if source is None and self.options.reference:
            for sa in sorted({img.service_account for img in images if img.repository}):
                self.reference(d, model, sa, self.options.reference, f.rule)
            return
        if source is None or payload is None:
            return
        type_, data, labels, annotations = payload
        covered = [img for img in images if img.repository and matches(type_, data, img.repository)]
        if not covered:
            return
        if not self.ensure_secret(d.namespace, source.name, type_, data, f.rule, labels, annotations):
            return
        for sa in sorted({img.service_account for img in covered}):
            self.reference(d, model, sa, source.name, f.rule)

    # -- restart ----------------------------------------------------------------------------------

    def restart(self, report: Report) -> None:
        for d in report.domains:
            failing = [f for f in d.findings if f.rule == "IA009" and not f.suppressed]
            model = self._model(d)
            if model is None:
                continue
            changed_sas = [
                k for k in (ObjectKey("ServiceAccount", d.namespace, g.service_account) for g in model.groups)
                if self.work.objects.get(k) != self.original.objects.get(k)]
            if not failing and not changed_sas:
                continue
            introspector = any(f.pod_kind == INTROSPECTOR for f in failing)
            name = INTROSPECT_FIELD if introspector else RESTART_FIELD
            key = ObjectKey("Domain", d.namespace, d.name)
            spec = self.work.objects[key].setdefault("spec", {})
            before = (self.original.objects[key].get("spec") or {}).get(name)
            spec[name] = _bump(before)
            for rule in (["IA009"] if failing else []) + [r for k in changed_sas for r in self.reasons.get(k, [])]:
                self._reason(key, rule)

    # -- result -----------------------------------------------------------------------------------

    def actions(self) -> List[Action]:
        out: List[Action] = []
        for key, after in self.work.objects.items():
            before = self.original.objects.get(key)
            if before == after:
                continue
            if key.kind not in _KIND_ORDER or key.namespace not in self.namespaces:
                raise AssertionError(f"planner changed {key}, outside what fix may write")
            out.append(_action(key, before, after, self.reasons.get(key, [])))
        out.sort(key=lambda a: (_KIND_ORDER[a.kind], a.namespace, a.name))
        return out


def _action(key: ObjectKey, before: Optional[Obj], after: Obj, reasons: List[str]) -> Action:
    reason = sorted(r for r in reasons if r.startswith("IA")) or list(reasons)
    if key.kind == "Secret":
        annotations = (after.get("metadata") or {}).get("annotations") or {}
        if annotations.get("imgaccess.weblogic.oracle/copied-from"):
            what = f"copy of Secret {annotations['imgaccess.weblogic.oracle/copied-from']}"
        elif annotations.get(BUILT_FROM_ANNOTATION):
            what = f"typed sibling of {annotations[BUILT_FROM_ANNOTATION]} (kept as it is)"
        else:
            what = "pull Secret"
        summary = f"create {what}, type {after.get('type')}"
        return Action("create", key.kind, key.namespace, key.name, reason, summary,
                      ["pods that list it use it at their next pull attempt"], None, after)
    path: Tuple[str, ...] = ("spec", "imagePullSecrets") if key.kind == "Domain" else ("imagePullSecrets",)
    old_names = _names(_dig(before, path)) if before is not None else []
    new_names = _names(_dig(after, path))
    if any(n not in new_names for n in old_names):
        raise AssertionError(f"planner would drop a list entry of {key}")
    added = [n for n in new_names if n not in old_names]
    set_fields: Dict[str, str] = {}
    effects: List[str] = []
    parts: List[str] = []
    if key.kind == "ServiceAccount":
        if before is None:
            parts.append("create ServiceAccount" + (f" with imagePullSecrets {', '.join(added)}" if added else ""))
        elif added:
            parts.append(f"append {', '.join(added)} to imagePullSecrets")
        effects.append("a ServiceAccount change reaches only pods created afterwards; existing pods keep "
                       "their pull secrets until they are created again (--restart)")
    else:
        if added:
            parts.append(f"append {', '.join(added)} to spec.imagePullSecrets")
            effects.append("changing spec.imagePullSecrets rolls every server pod of the Domain")
        for name in (RESTART_FIELD, INTROSPECT_FIELD):
            old = ((before or {}).get("spec") or {}).get(name)
            new = (after.get("spec") or {}).get(name)
            if new != old and new is not None:
                set_fields[name] = str(new)
                parts.append(f"set spec.{name} to {new}")
                effects.append("the operator restarts every server pod" if name == RESTART_FIELD
                               else "the operator runs the introspector again")
    op: FixOp = "create" if before is None else "patch"
    return Action(op, key.kind, key.namespace, key.name, reason, "; ".join(parts), effects, before, after,
                  added, set_fields)


def _dig(obj: Optional[Mapping[str, Any]], path: Sequence[str]) -> Any:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def make_plan(snapshot: Snapshot, report: Report, options: FixOptions = FixOptions()) -> Plan:
    """The plan for the report's Domains. Pure: neither argument is modified."""
    planner = _Planner(snapshot, report, options)
    audit_options = AuditOptions(cloud=options.cloud)
    current = report
    for _ in range(MAX_ROUNDS):
        if not planner.round(current):
            break
        current = audit(planner.work, options.config, audit_options)
    if options.restart:
        planner.restart(report)
    expected = audit(planner.work, options.config, audit_options) if planner.work.objects != snapshot.objects \
        else report
    unfixed = [
        Unfixed(d.namespace, d.name, f.rule, f.severity, f.message, f.fix, f.secret)
        for d in expected.domains for f in d.findings
        if not f.suppressed and f.severity in ("error", "warning") and f.rule != "IA009"
    ]
    return Plan(planner.actions(), list(planner.refusals), unfixed, report, expected, options.strategy)
