"""Snapshot -> Report: for every Domain, pod path and image, would the kubelet find credentials?

Pure: reads a Snapshot and a Config, returns a Report. The probe's answers are folded into that report
afterwards by apply_probe, without reading the snapshot again.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from kubectl_imgaccess.audit.config import DEFAULT, PROVIDER_ID_PREFIXES, Config, IgnoreRule, RegistryRule
from kubectl_imgaccess.audit.evidence import (
    cluster_cloud,
    kubelet_at_least,
    node_holders,
    nodes_caching,
    pull_failures,
)
from kubectl_imgaccess.audit.report import (
    DomainReport,
    Finding,
    ImageEntry,
    ProbeOutcome,
    Report,
    Suppression,
    Verdict,
    worst,
)
from kubectl_imgaccess.audit.snapshot import REGISTRIES_ANNOTATION, Obj, ProvidedSecret, Snapshot, Unreadable
from kubectl_imgaccess.audit.tokens import short_lived_token
from kubectl_imgaccess.catalog import BY_ID, Severity, find_rule, severity_rank
from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.kubelet import imageref
from kubectl_imgaccess.kubelet.keyring import Keyring
from kubectl_imgaccess.kubelet.pullsecret import (
    PULL_SECRET_TYPES,
    SecretParseError,
    looks_like_pull_credentials,
    payload_identity,
    read_pull_secret,
)
from kubectl_imgaccess.objects import (
    Credential,
    CredentialRef,
    FieldRef,
    Location,
    ObjectKey,
    describe_ref,
    share_texts,
    shared_text,
    shared_tuple,
)
from kubectl_imgaccess.weblogic.domain import (
    IGNORE_ANNOTATION,
    DomainError,
    DomainModel,
    ImageUse,
    PodGroup,
    cluster_names,
    model_domain,
)

ProbeKey = Tuple[str, str, Tuple[CredentialRef, ...]]  # (repository, reference, credentials in order)

# KEP-2535: the kubelet version from which KubeletEnsureSecretPulledImages is on by default (beta).
ENSURE_PULLED_IMAGES_KUBELET = "1.35"


@dataclass(frozen=True)
class AuditOptions:
    now: Optional[datetime.datetime] = None  # for ignore entries' `expires` (None: none expires) and token ages
    annotation_ignores: bool = True  # False (--no-annotation-ignores): the Domain annotation suppresses nothing
    cloud: Optional[str] = None  # --cloud: aws | gcp | azure | none; None = from the nodes' spec.providerID


def audit(snapshot: Snapshot, config: Config = DEFAULT, options: AuditOptions = AuditOptions()) -> Report:
    keys = snapshot.audit_domains
    if keys is None:
        keys = sorted(k for k in snapshot.objects if k.kind == "Domain")
    secrets = SecretIndex(snapshot, config)
    notes = list(snapshot.notes)
    domains = [_audit_domain(snapshot, k, config, options, secrets, notes) for k in keys if k in snapshot.objects]
    scope = [_scope_finding(u) for u in snapshot.unreadable if u.kind == "Domain"]
    incomplete = bool(scope) or any(f.rule == "IA017" for d in domains for f in d.findings)
    return Report(
        domains=domains,
        findings=scope + _unreferenced_clusters(snapshot, config, options.now),
        mode=snapshot.mode,
        context=snapshot.context,
        files=list(snapshot.files),
        incomplete=incomplete,
        notes=notes,
        clusters=[snapshot.context] if snapshot.mode != "files" else [],
        blind=[snapshot.context] if scope and snapshot.mode != "files" else [],
    )


def _scope_finding(u: Unreadable) -> Finding:
    """Domains that could not be listed or read: the audit cannot even say which Domains it missed."""
    rule = BY_ID["IA017"]
    where = f"Domain {u.namespace}/{u.name}" if u.name else (
        f"Domains in namespace {u.namespace}" if u.namespace else "Domains in any namespace")
    subject = "/".join(([f"namespaces/{u.namespace}"] if u.namespace else []) + ["domains"]
                       + ([u.name] if u.name else []))
    return Finding(rule.id, rule.name, rule.severity, f"cannot read {where}: {u.reason}", subject=subject,
                   fix=f"grant get/list on domains.weblogic.oracle (kubectl auth can-i list domains.weblogic.oracle"
                       f"{' -n ' + u.namespace if u.namespace else ' -A'})")


def _unreferenced_clusters(snapshot: Snapshot, config: Config, now: Optional[datetime.datetime]) -> List[Finding]:
    """Cluster resources from files that no Domain of their namespace names in spec.clusters: the operator
    reads only referenced Clusters, so their serverPod images are never pulled (IA019)."""
    referenced: Set[Tuple[str, str]] = set()
    for key, obj in snapshot.objects.items():
        if key.kind == "Domain":
            try:
                referenced.update((key.namespace, name) for name in cluster_names(obj))
            except DomainError:
                continue  # the Domain's own audit reports its shape
    namespaces = None if snapshot.audit_domains is None else {k.namespace for k in snapshot.audit_domains}
    rule = BY_ID["IA019"]
    found: List[Finding] = []
    for key in sorted(k for k in snapshot.objects if k.kind == "Cluster"):
        location = snapshot.location(FieldRef(key, ""))
        if (key.namespace, key.name) in referenced or location is None:
            continue
        if namespaces is not None and key.namespace not in namespaces:
            continue
        f = Finding(rule.id, rule.name, rule.severity,
                    f"Cluster {key.namespace}/{key.name} is not named in any Domain's spec.clusters: the operator "
                    "ignores it, so its serverPod images are never pulled", location=location)
        live = [e for e in config.ignore_entries(rule.id, key.namespace, "") if now is None or not e.expired(now)]
        if live:
            f.suppressed = True
            f.suppressed_by = Suppression("config", live[0].where, live[0].reason,
                                          _rfc3339(live[0].expires) if live[0].expires else None)
        found.append(f)
    return found


def probe_keys(report: Report) -> List[ProbeKey]:
    """The distinct (repository, reference, credentials) a probe must ask about."""
    seen: Dict[ProbeKey, None] = {}
    for d in report.domains:
        for img in d.images:
            # Content that cannot be read cannot be sent to a registry either.
            unreadable = img.unverified or any(c.provided_by for c in img.credentials)
            if img.repository and img.pull_policy != "Never" and not unreadable:
                seen.setdefault((img.repository, img.reference, img.credentials), None)
    return list(seen)


def credentials_for(snapshot: Snapshot, refs: Iterable[CredentialRef]) -> Dict[CredentialRef, Credential]:
    """The credentials behind a report's references, read again from the snapshot's pull Secrets: for the probe
    alone, which must send them (the report itself holds no value). Every reference is found: the report was
    made from this snapshot, and content that cannot be read is never probed (probe_keys)."""
    wanted = set(refs)
    found: Dict[CredentialRef, Credential] = {}
    for ns, name in sorted({(r.namespace, r.secret) for r in wanted}):
        secret = snapshot.get("Secret", ns, name)
        if secret is None:
            continue
        try:
            payload = read_pull_secret(secret)
        except SecretParseError:
            continue
        found.update((c.ref, c) for c in payload.credentials if c.ref in wanted)
    missing = sorted(str(r) for r in wanted if r not in found)
    if missing:
        raise AssertionError(f"no credential in the snapshot behind {missing[0]}")
    return found


class _DomainAudit:
    """Working state while one Domain is audited; findings are deduplicated as they are added."""

    def __init__(self, snap: Snapshot, key: ObjectKey, config: Config, options: AuditOptions,
                 secrets: SecretIndex) -> None:
        self.snap = snap
        self.secrets = secrets
        self.key = key
        self.ns = key.namespace
        self.config = config
        self.options = options
        self.obj: Obj = snap.objects[key]
        meta: Dict[str, Any] = self.obj.get("metadata") or {}
        self.report = DomainReport(key.namespace, key.name, key.name, location=snap.location(FieldRef(key, "")),
                                   uid=str(meta["uid"]) if meta.get("uid") else None,
                                   api_version=str(self.obj.get("apiVersion") or ""),
                                   context=snap.context if snap.mode != "files" else None)
        # The nodes' cloud, found once per snapshot (not once per Domain: every Domain would scan every node).
        self.cloud = options.cloud if options.cloud is not None else snap.derived(
            "audit.cloud", lambda s: cluster_cloud(s, PROVIDER_ID_PREFIXES))
        self.now = options.now or datetime.datetime.now(datetime.timezone.utc)
        self._by_key: Dict[Tuple[Any, ...], Finding] = {}
        self.notes: List[str] = []

    def add(self, rule_id: str, message: str, images: Sequence[int] = (), *, where: Optional[FieldRef] = None,
            image: Optional[str] = None, secret: Optional[str] = None, sa: Optional[str] = None,
            severity: Optional[Severity] = None, fix: Optional[str] = None,
            location: Optional[Location] = None) -> Finding:
        rule = BY_ID[rule_id]
        f = Finding(rule.id, rule.name, severity or rule.severity, shared_text(message),
                    shared_text(describe_ref(where)) if where else None, shared_text(image), shared_text(secret),
                    shared_text(sa), location or self.snap.location(where), shared_text(fix), images=list(images))
        existing = self._by_key.get(f.dedupe_key())
        if existing is not None:
            existing.images = sorted(set(existing.images) | set(f.images))
            if severity_rank(f.severity) > severity_rank(existing.severity):
                existing.severity = f.severity
            return existing
        self._by_key[f.dedupe_key()] = f
        self.report.findings.append(f)
        return f

    def auth(self, registry: RegistryRule) -> str:
        """The registry's auth on this cluster: cloud registries are `node` on their own cloud."""
        return registry.auth_on(self.cloud)

    def unreadable(self, kind: str, name: Optional[str], images: Sequence[int], *, verdict: bool = True) -> bool:
        """IA017 when the object could not be read. `images`: the verdicts that depend on it (none: the Domain's
        own verdict, unless `verdict` is False because the object is evidence only)."""
        u = self.snap.is_unreadable(kind, self.ns, name)
        if u is None:
            return False
        for i in images:
            self.report.images[i].needs_unreadable = True
        if not images and verdict:
            self.report.needs_unreadable = True
        what = f"{kind} {self.ns}/{name}" if name else f"{kind}s in namespace {self.ns}" if u.namespace else \
            f"{kind}s"
        self.add("IA017", f"cannot read {what}: {u.reason}", images)
        return True


def _audit_domain(snap: Snapshot, key: ObjectKey, config: Config, options: AuditOptions,
                  secrets: SecretIndex, notes: List[str]) -> DomainReport:
    a = _DomainAudit(snap, key, config, options, secrets)
    try:
        model = snap.take_model(key) or model_domain(
            a.obj, {c["metadata"]["name"]: c for c in snap.of_kind("Cluster", key.namespace)}, namespace=key.namespace)
    except DomainError as exc:
        loc = a.report.location
        raise InputError(f"Domain {key.namespace}/{key.name}: {exc}", loc.file if loc else None,
                         loc.line if loc else None) from None
    a.report.domain_uid = model.domain_uid
    for ignored in model.ignored_fields:
        message = f"{ignored.image}: {ignored.message}" if ignored.image else ignored.message
        a.add("IA019", message, where=ignored.field, image=ignored.image)
    for ref in model.missing_clusters:
        a.unreadable("Cluster", ref.name, ())
    for group in model.groups:
        _audit_group(a, model, group)
    for failure in pull_failures(snap, key.namespace, model.domain_uid, a.obj, a.report.images):
        found = a.add("IA009", failure.message, failure.images, image=failure.image,
                      fix="fix the causes named by the other findings, then: kubectl imgaccess fix --restart")
        found.pod_kind = found.pod_kind or failure.pod_kind
    if snap.mode != "files":
        # Evidence only: live pull failures (IA009) and what nodes cache (IA011); the verdict stands without them.
        a.unreadable("Pod", None, (), verdict=False)
        a.unreadable("Event", None, (), verdict=False)
        a.unreadable("Node", None, (), verdict=False)
    _probe_findings(a.report, None, config)
    _link_causes(a.report)
    _suppress(a, model)
    a.report.notes = list(a.notes)
    notes.extend(n for n in a.notes if n not in notes)
    _verdicts(a.report)
    return a.report


# What the registries' answers decide: IA016 (license terms) stands until a probe pulls the image; IA012-IA015
# are what a probe found. Only _probe_findings makes them, for a plain audit (no answers) as after a probe.
PROBE_RULES = frozenset({"IA012", "IA013", "IA014", "IA015", "IA016"})


def apply_probe(report: Report, outcomes: Mapping[ProbeKey, ProbeOutcome], config: Config = DEFAULT,
                options: AuditOptions = AuditOptions()) -> None:
    """Fold the probe's answers into a report that audit() made with the same config and options: each image's
    outcome, its IA012-IA015 finding, IA016 lifted where a pull worked, with the suppressions, notes and
    verdicts those change. The snapshot is not read, nor a Domain modelled, again."""
    said = {n for d in report.domains for n in d.notes}
    notes = [n for n in report.notes if n not in said]  # the sources' own notes, then each Domain's
    for d in report.domains:
        expired_before = _expired_notes(d, d.findings, config, options.now)
        annotation = [n for n in d.notes if n not in expired_before]
        for f in _probe_findings(d, outcomes, config):
            _suppress_finding(f, d, config, options.now)
        d.notes = annotation + [n for n in dict.fromkeys(_expired_notes(d, d.findings, config, options.now))
                                if n not in annotation]
        notes.extend(n for n in d.notes if n not in notes)
        _verdicts(d)
    report.notes = notes
    report.probed = True


def _probe_findings(d: DomainReport, outcomes: Optional[Mapping[ProbeKey, ProbeOutcome]],
                    config: Config) -> List[Finding]:
    """The Domain's findings of PROBE_RULES made again from `outcomes` (None: no probe ran), each put where the
    audit reached its image's probe_slot, merged as the audit merges its own; the ones made are returned."""
    others = [f for f in d.findings if f.rule not in PROBE_RULES]
    made: Dict[Tuple[Any, ...], Finding] = {}
    placed: List[Tuple[int, Finding]] = []

    def add(rule_id: str, message: str, i: int, e: ImageEntry, secret: Optional[str] = None,
            fix: Optional[str] = None) -> None:
        rule = BY_ID[rule_id]
        f = Finding(rule.id, rule.name, rule.severity, shared_text(message), e.field, e.image, shared_text(secret),
                    None, e.location, shared_text(fix), images=[i])
        same = made.get(f.dedupe_key())
        if same is not None:
            same.images = sorted(set(same.images) | {i})
            return
        made[f.dedupe_key()] = f
        placed.append((e.probe_slot, f))

    for i, e in enumerate(d.images):
        if not e.repository:
            continue
        answer = outcomes.get((e.repository, e.reference, e.credentials)) if outcomes is not None else None
        e.probe = answer
        if config.registry_for(e.repository).terms and not (answer is not None and answer.status == "ok"):
            add("IA016", f"{e.image}: the license terms of {e.repository.split('/', 1)[1]} must be accepted once "
                f"in the {_host(e)} web page for the pulling account", i, e,
                fix="accept the terms in the registry's web page, then run check --probe")
        if answer is not None and answer.rule is not None:
            add(answer.rule, answer.finding, i, e, secret=answer.credential.secret if answer.credential else None)
    findings: List[Finding] = []
    taken = 0
    for slot, f in placed:  # slots grow with the image index: the audit reaches the images in order
        findings.extend(others[taken:slot])
        taken = max(taken, slot)
        findings.append(f)
    findings.extend(others[taken:])
    d.findings = findings
    return [f for _, f in placed]


def keep_service_account(sa: Mapping[str, Any]) -> Obj:
    """A ServiceAccount as the audit (_sa_pull_refs) and the cluster reader read it, for a read that only audits
    (check; fix patches ServiceAccounts and shows them before and after, so it keeps them whole): kind,
    apiVersion, name, namespace and imagePullSecrets."""
    kept: Obj = {key: sa[key] for key in ("kind", "apiVersion", "imagePullSecrets") if key in sa}
    meta = sa.get("metadata")
    if isinstance(meta, dict):
        kept["metadata"] = {key: meta[key] for key in ("name", "namespace") if key in meta}
    elif "metadata" in sa:
        kept["metadata"] = meta
    return share_texts(kept)


def _sa_pull_refs(sa: Obj, sa_key: ObjectKey) -> List[Tuple[str, FieldRef]]:
    refs = []
    for i, entry in enumerate(sa.get("imagePullSecrets") or []):
        name = entry.get("name", "") if isinstance(entry, dict) else ""
        refs.append((str(name or ""), FieldRef(sa_key, f"imagePullSecrets[{i}]")))
    return refs


# Rules that explain an anonymous pull (IA004). They never stand in for it: IA004 is always reported, so
# suppressing an explanation silences that explanation and nothing else.
EXPLANATIONS = ("IA001", "IA002", "IA003", "IA005", "IA006", "IA007", "IA008")


@dataclass
class _PathCauses:
    """Why a pod group's pull path holds no credential, as findings already known for the group."""

    skipped: List[Tuple[str, str, FieldRef, str, str]]  # (IA001|IA002, secret, field, message, fix)
    sa_missing: bool = False  # IA005 and the path comes from that ServiceAccount
    broken: List[str] = field(default_factory=list)  # Secrets the kubelet cannot parse (IA003 error)
    latent: Optional[Keyring] = None  # credentials inside listed Secrets the kubelet ignores (IA002)
    empty: List[Credential] = field(default_factory=list)  # entries with no username/password (IA003 warning)
    unverified: List[ProvidedSecret] = field(default_factory=list)  # will exist, content unreadable (IA020)


def _audit_group(a: _DomainAudit, model: DomainModel, group: PodGroup) -> None:
    snap, ns = a.snap, a.ns
    sa_name = group.service_account
    sa_key = ObjectKey("ServiceAccount", ns, sa_name)
    sa = snap.objects.get(sa_key)
    first = len(a.report.images)
    entries = [_entry(a, use, group) for use in group.images]
    a.report.images.extend(entries)
    idx = list(range(first, first + len(entries)))
    sa_where = group.service_account_field or FieldRef(a.key, "")

    if sa is None and snap.mode == "files" and sa_name == "default":
        sa = {"imagePullSecrets": []}  # every namespace gets a `default` ServiceAccount
    # An unreadable ServiceAccount leaves both pod admission and (without a Domain list) the pull path unknown;
    # only `default`, which every namespace has, under a Domain that lists its own Secrets, decides nothing.
    depends = idx if not (sa_name == "default" and model.lists_pull_secrets) else ()
    sa_unreadable = sa is None and a.unreadable("ServiceAccount", sa_name, depends, verdict=False)
    sa_missing = sa is None and not sa_unreadable
    if sa_missing:
        a.add("IA005", f"ServiceAccount {ns}/{sa_name} does not exist: the API server rejects the "
              f"{_roles(group)} pod(s)", idx, where=sa_where, sa=sa_name,
              fix=f"kubectl create serviceaccount {sa_name} -n {ns}")
    sa_refs = _sa_pull_refs(sa, sa_key) if sa is not None else []

    if model.lists_pull_secrets:
        pull_from = "domain"
        refs = [(r.name, r.field) for r in model.pull_secrets]
    elif sa is None:
        pull_from, refs = "serviceaccount", []  # missing: it lends nothing; unreadable: unknown
    elif sa_refs:
        pull_from, refs = "serviceaccount", sa_refs
    else:
        pull_from, refs = "none", []
    names = shared_tuple(n for n, _ in refs if n)
    for e in entries:
        e.pull_from, e.pull_names = pull_from, names
    path_unknown = pull_from == "serviceaccount" and sa_unreadable

    creds: List[Credential] = []
    causes = _PathCauses(skipped=[], sa_missing=sa_missing and not model.lists_pull_secrets)
    ignored: List[Credential] = []  # credentials inside listed Secrets the kubelet ignores (IA002)
    hollow: Set[str] = set()  # Secrets already reported as holding no usable entry at all
    for name, where in refs:
        if not name:
            continue
        secret = snap.get("Secret", ns, name)
        provided = a.secrets.provided_for(ns, name) if secret is None else None
        if provided is not None:
            if provided.type is not None and provided.type not in PULL_SECRET_TYPES:
                causes.skipped.append((
                    "IA002", name, where, f"Secret {ns}/{name}, made by {provided.describe()}, will be "
                    f"of type {provided.type}: the kubelet ignores it",
                    f"make it of type kubernetes.io/dockerconfigjson: {_type_field(provided)}"))
            elif provided.registries:
                creds.extend(provided.credentials())
            else:
                causes.unverified.append(provided)
            continue
        if secret is None:
            if a.unreadable("Secret", name, idx):
                path_unknown = True
                continue
            causes.skipped.append((
                "IA001", name, where, f"pull Secret {ns}/{name} does not exist: the kubelet skips it",
                f"create it in the repository, never in clear text: {sealed_secret_step(name, ns)} "
                "(or an ExternalSecret with this target), or correct the name" if snap.mode == "files"
                else _secret_fix("IA001", name, ns)))
            continue
        try:
            payload = read_pull_secret(secret)
        except SecretParseError as exc:
            causes.broken.append(name)
            a.add("IA003", f"the kubelet cannot parse pull Secret {ns}/{name} ({exc}): every pull of these "
                  "pods fails, public images included", idx, where=where, secret=name,
                  fix=f"recreate it: kubectl create secret docker-registry {name} -n {ns} ...")
            continue
        if not payload.usable:
            causes.skipped.append(("IA002", name, where, f"Secret {ns}/{name} is ignored by the kubelet: "
                                   f"{payload.skip_reason}",
                                   f"recreate it as type kubernetes.io/dockerconfigjson, never in clear text: "
                                   f"{sealed_secret_step(name, ns)}" if snap.mode == "files"
                                   else _secret_fix("IA002", name, ns)))
            ignored.extend(looks_like_pull_credentials(secret))
            continue
        if payload.no_usable_entries:
            hollow.add(name)
            a.add("IA003", f"pull Secret {ns}/{name} holds no usable credential: {payload.no_usable_entries}",
                  idx, where=where, secret=name, severity="warning",
                  fix=f"recreate it with a username and password: kubectl create secret docker-registry {name} "
                      f"-n {ns} ...")
        creds.extend(payload.credentials)
        _token_checks(a, secret, payload.credentials, where, entries, idx)

    keyring = Keyring(creds)
    causes.latent = Keyring(ignored)
    uncovered = False
    for i, (e, use) in zip(idx, zip(entries, group.images)):
        if not e.repository:
            _invalid_reference(a, e, i, use)
            continue
        matched = keyring.lookup(e.repository)
        if not causes.broken:
            # An entry without username and password matches but gives empty credentials: an anonymous pull.
            e.credentials = tuple(c.ref for c in matched if not c.empty)
        registry = a.config.registry_for(e.repository)
        if causes.broken or (not e.credentials and a.auth(registry) not in ("anonymous", "node")):
            uncovered = True
        if not e.credentials:
            e.unverified = shared_tuple(p.describe() for p in causes.unverified)
        empties = [c for c in matched if c.empty] if not e.credentials else []
        for c in empties:
            if c.secret in hollow:
                continue
            a.add("IA003", f"{e.image}: the entry {c.shown_key!r} of pull Secret {ns}/{c.secret} matches "
                  f"{_host(e)} but holds no username or password (an identity or registry token only, or nothing): "
                  "the kubelet ignores tokens and pulls with empty credentials, that is anonymously", [i],
                  where=_secret_field(refs, c.secret), image=e.image, secret=c.secret, severity="warning",
                  fix=f"recreate {c.secret} with a username and password for {_host(e)}")
        _image_checks(a, model, group, e, i, use, sa_refs, path_unknown,
                      _PathCauses(causes.skipped, causes.sa_missing, causes.broken, causes.latent, empties,
                                  causes.unverified))
    for rule_id, name, where, message, fix in causes.skipped:
        severity: Severity = "warning" if not uncovered else "error"
        a.add(rule_id, message, idx, where=where, secret=name, severity=severity, fix=fix)
    if model.lists_pull_secrets and sa_refs:
        extra = sorted({n for n, _ in sa_refs if n} - set(names))
        explained = any(f.rule == "IA006" and f.service_account == sa_name for f in a.report.findings)
        if extra and not explained:
            a.add("IA006", f"ServiceAccount {ns}/{sa_name} lists {', '.join(extra)}, but the Domain lists its own "
                  "spec.imagePullSecrets, so the ServiceAccount's are never applied", idx,
                  where=model.pull_secrets[0].field, sa=sa_name,
                  fix="add them to spec.imagePullSecrets (kubectl imgaccess fix --strategy domain)")


def _host(e: ImageEntry) -> str:
    return e.repository.split("/", 1)[0]


def _secret_field(refs: List[Tuple[str, FieldRef]], name: str) -> Optional[FieldRef]:
    return next((where for n, where in refs if n == name), None)


def _entry(a: _DomainAudit, use: ImageUse, group: PodGroup) -> ImageEntry:
    try:
        ref = imageref.parse(use.image)
        repository, reference = ref.name, ref.reference
    except imageref.InvalidReference:
        repository, reference = "", ""
    return ImageEntry(
        image=shared_text(use.image), repository=shared_text(repository), reference=shared_text(reference),
        field=shared_text(describe_ref(use.field)), pods=shared_tuple(sorted(use.pods)),
        service_account=shared_text(group.service_account), pull_from="none", pull_names=(), credentials=(),
        pull_policy=shared_text(use.pull_policy), roles=shared_tuple(group.roles),
        defaulted=use.defaulted, location=a.snap.location(use.field),
    )



def _image_checks(a: _DomainAudit, model: DomainModel, group: PodGroup, e: ImageEntry, i: int, use: ImageUse,
                  sa_refs: List[Tuple[str, FieldRef]], path_unknown: bool, causes: _PathCauses) -> None:
    """Per-image rules. `path_unknown`: an object of the pull path could not be read (IA017: verdict unknown)."""
    ns = a.ns
    registry = a.config.registry_for(e.repository)
    host = _host(e)
    if use.pull_policy == "Never":
        a.add("IA011", f"{e.image} has imagePullPolicy Never: pods start only on nodes that already hold it",
              [i], where=use.pull_policy_field or use.field, image=e.image,
              fix="push the image to a registry and use IfNotPresent")
    e.probe_slot = len(a.report.findings)  # what the registry answers goes here (_probe_findings)
    if use.pull_policy == "Never":
        return
    if causes.broken:
        listed = ", ".join(f"{ns}/{n}" for n in causes.broken)
        _anonymous(a, e, i, use, group, "error", ["IA003"], f"{e.image}: no credential on {_path_words(e, group)} "
                   f"can be used: the kubelet cannot parse pull Secret {listed}, so the credential lookup fails and "
                   f"the pull of every image of the {_roles(group)} pod(s) fails")
        return
    if e.credentials or path_unknown:
        return
    auth = a.auth(registry)
    holders = node_holders(a.snap, e)
    if holders is not None:
        held, total = holders
        if 0 < len(held) < total and auth not in ("anonymous", "node"):
            a.add("IA011", f"{e.image} has no credential and is cached only on {len(held)} of {total} nodes "
                  f"({', '.join(held)}): pods scheduled elsewhere cannot get it", [i], where=use.field,
                  image=e.image)
    if auth == "anonymous":
        a.add("IA018", f"{e.image} is pulled anonymously from {host}, which serves it without credentials",
              [i], where=use.field, image=e.image)
        return
    if auth == "node":
        a.add("IA020", f"{e.image}: no pull Secret needed: on these nodes {registry.node_provider(a.cloud)} "
              f"supplies the credentials for {host} (not visible through the API)", [i], where=use.field,
              image=e.image, severity="info")
        return
    _cached_image_check(a, group, e, i, use, auth)
    if causes.unverified:
        # Not known to be anonymous: a Secret on the path will exist, but what it serves cannot be read here.
        first = causes.unverified[0]
        more = f" (and {len(causes.unverified) - 1} more)" if len(causes.unverified) > 1 else ""
        a.add("IA020", f"{e.image}: no readable credential matches {host}; Secret {ns}/{first.name}{more} on the "
              f"pull path is made by {first.describe()}, and its content cannot be read here: whether it serves "
              f"{host} is unknown", [i], where=use.field, image=e.image, secret=first.name,
              location=first.location or a.snap.location(use.field),
              fix=_declare_fix(first, host))
        return
    # The fact (IA004) is always reported; what follows only explains it. A missing listed Secret (IA001) may
    # have been this image's credential; an ignored one (IA002) is a cause only when it holds one for this image.
    because: List[str] = ["IA001"] if any(s[0] == "IA001" for s in causes.skipped) else []
    if causes.latent is not None and causes.latent.lookup(e.repository):
        because.append("IA002")
    if causes.empty:
        because.append("IA003")
    if causes.sa_missing:
        because.append("IA005")
    unsearched = ""
    own_listed = a.snap.is_unreadable("Secret", ns) is None
    holder = None
    if model.lists_pull_secrets and sa_refs:
        holder = _first_matching(a.snap, a.secrets, ns, [n for n, _ in sa_refs], e.repository)
        if holder:
            a.add("IA006", f"{e.image}: only ServiceAccount {ns}/{group.service_account}'s Secret {holder} matches "
                  f"{host}, and the Domain's own spec.imagePullSecrets make the kubelet ignore it", [i],
                  where=model.pull_secrets[0].field, image=e.image, secret=holder, sa=group.service_account,
                  severity="error", fix=f"add {holder} to spec.imagePullSecrets (kubectl imgaccess fix)")
            because.append("IA006")
    if not holder and not own_listed:
        # IA007 and IA008 both need every Secret of the Domain's own namespace: say that they were not read.
        unsearched = (f"; the Secrets of namespace {ns} could not be listed, so whether one of them holds a "
                      f"credential for {host} (here or in another namespace) is not known")
    elif not holder:
        local = _first_matching(a.snap, a.secrets, ns, None, e.repository)
        elsewhere = [] if local else _other_namespace_matches(a.snap, a.secrets, ns, e.repository,
                                                              set(e.pull_names))
        if local:
            target = "spec.imagePullSecrets" if pull_target_is_domain(model, sa_refs) else \
                f"ServiceAccount {group.service_account}'s imagePullSecrets"
            made = a.secrets.provided_for(ns, local)
            holds = f", made by {made.describe()}, serves {host} (declared)" if made is not None else \
                f" holds a credential for {host}"
            a.add("IA007", f"{e.image}: Secret {ns}/{local}{holds} but is not on the pull path of the "
                  f"{_roles(group)} pod(s)", [i], where=use.field, image=e.image, secret=local,
                  sa=group.service_account, fix=f"add {local} to {target} ({_fix_command(a)})")
            because.append("IA007")
        elif elsewhere:
            more = f" (and {len(elsewhere) - 1} more)" if len(elsewhere) > 1 else ""
            a.add("IA008", f"{e.image}: a credential for {host} exists only in another namespace: Secret "
                  f"{elsewhere[0]}{more}; pull Secrets are namespace-local", [i], where=use.field, image=e.image,
                  secret=elsewhere[0], fix=f"kubectl imgaccess fix --copy-from {elsewhere[0]}")
            because.append("IA008")
        elif a.snap.mode != "files" and not a.snap.secrets_listed_everywhere:
            # IA008 could only be ruled out with every namespace's Secrets in view: say so when they were not read.
            unsearched = "; Secrets of other namespaces were not read (-A looks there too)"
    unknown = a.secrets.unverified_in(ns)
    if unknown:
        unsearched += (f"; Secret {ns}/{unknown[0].name} (made by {unknown[0].describe()}) is not on the pull path "
                       "and its registries are not declared")
    # Error when the registry needs authentication, or when a credential for it was evidently intended.
    severity: Severity = "error" if auth == "required" or because else "warning"
    known = " (a registry known to need authentication)" if auth == "required" else ""
    if registry.cloud is not None and a.cloud is None:
        known = (f" (on {registry.cloud.upper() if registry.cloud != 'azure' else 'Azure'} nodes the kubelet's "
                 f"credential provider would serve it: say --cloud {registry.cloud} if the cluster runs there)")
    elif registry.cloud is not None:
        known = f" (a {registry.cloud} registry; this cluster's nodes are not on {registry.cloud})"
    _anonymous(a, e, i, use, group, severity, because,
               f"{e.image}: no credential on {_path_words(e, group)} matches {host}{known}; the pull is anonymous "
               f"(node-level credentials cannot be seen and are not counted){unsearched}")


def _path_words(e: ImageEntry, group: PodGroup) -> str:
    return f"ServiceAccount {group.service_account}'s pull path" if e.pull_from != "domain" else \
        "the Domain's pull path"


def _anonymous(a: _DomainAudit, e: ImageEntry, i: int, use: ImageUse, group: PodGroup, severity: Severity,
               because: List[str], message: str) -> None:
    """IA004, the fact of a pull without a usable credential, linked to the findings that explain it."""
    # The cure is the explanation's own fix when there is one: a new Secret is advice only for a bare IA004.
    cause = next((f for f in a.report.findings if f.rule in because and i in f.images and f.fix), None)
    if cause is not None:
        fix = f"{cause.rule}: {cause.fix}"
    elif because:
        causes = sorted(set(because))
        fix = f"see {', '.join(causes)}, which {'says' if len(causes) == 1 else 'say'} why no credential matches"
    else:
        fix = _new_secret_fix(a, _host(e))
    f = a.add("IA004", message, [i], where=use.field, image=e.image, severity=severity,
              sa=group.service_account if e.pull_from != "domain" else None, fix=fix)
    f.causes = shared_tuple(sorted(set(f.causes) | set(because)))


def _link_causes(d: DomainReport) -> None:
    """Each explanation names the IA004 it explains (same image, rule among the fact's causes)."""
    for fact in d.findings:
        if fact.rule != "IA004" or not fact.causes:
            continue
        for f in d.findings:
            if f.rule in fact.causes and set(f.images) & set(fact.images) and "IA004" not in f.explains:
                f.explains += ("IA004",)


def _cached_image_check(a: _DomainAudit, group: PodGroup, e: ImageEntry, i: int, use: ImageUse, auth: str) -> None:
    """IA022 (KEP-2535): no credential, IfNotPresent, from a registry that needs one, yet cached on nodes."""
    if use.pull_policy != "IfNotPresent":
        return
    cached = nodes_caching(a.snap, e)
    if not cached:
        return
    # "needs one": known to, or some pull Secret in the cluster holds a credential for it (evidently needed)
    needs = auth == "required" or (auth == "unknown" and any(
        a.secrets.matches(k.namespace, k.name, e.repository) for k in a.secrets.all_keys()))
    if not needs:
        return
    newer = [n for n, v in cached if kubelet_at_least(v, ENSURE_PULLED_IMAGES_KUBELET)]
    versions = ", ".join(f"{n} ({v or 'kubelet version unknown'})" for n, v in cached)
    host = e.repository.split("/", 1)[0]
    lead = (f"{e.image}: the {_roles(group)} pod(s) pull it IfNotPresent with no credential for {host}, and start "
            f"only because nodes cache it: {versions}")
    if newer:
        a.add("IA022", f"{lead}; kubelet {ENSURE_PULLED_IMAGES_KUBELET}+ on {', '.join(newer)} re-checks "
              "credentials for cached images (KEP-2535, KubeletEnsureSecretPulledImages): new pods there fail "
              "to start", [i], where=use.pull_policy_field or use.field, image=e.image, severity="error",
              fix="give these pods their own credential for the registry (kubectl imgaccess fix)")
    else:
        a.add("IA022", f"{lead}; once the nodes run kubelet {ENSURE_PULLED_IMAGES_KUBELET} or newer, which re-checks "
              "credentials for cached images (KEP-2535), the pods will stop starting", [i],
              where=use.pull_policy_field or use.field, image=e.image,
              fix="give these pods their own credential for the registry before the node upgrade "
                  "(kubectl imgaccess fix)")


def _token_checks(a: _DomainAudit, secret: Obj, credentials: Sequence[Credential], where: FieldRef,
                  entries: Sequence[ImageEntry], idx: Sequence[int]) -> None:
    """IA021: entries that hold a short-lived registry token; an error when the Secret outlived it."""
    for cred in credentials:
        token = short_lived_token(cred)
        if token is None:
            continue
        keyring = Keyring([cred])
        images = [i for i, e in zip(idx, entries) if e.repository and keyring.lookup(e.repository)]
        written = last_written(secret)
        ns, name = cred.namespace, cred.secret
        what = (f"Secret {ns}/{name}'s entry for {cred.shown_key} (user {cred.username}) holds {token.what}, valid "
                f"{token.life_text}")
        fix = (f"let the nodes' credential provider pull from {token.registry} (no Secret), or refresh the Secret "
               f"well within {token.life_text} ({token.refresh}); check --probe tells whether it still works")
        if written is None:
            a.add("IA021", f"{what}; when it was last written is unknown: unless a refresher rewrites it, pulls "
                  "fail once the token expires", images, where=where, secret=name, fix=fix)
            continue
        age = a.now - written
        ago = _duration(age.total_seconds())
        if age > token.life:
            a.add("IA021", f"{what}; the Secret was last written {ago} ago ({written:%Y-%m-%d %H:%M}Z), so the "
                  "token has almost certainly expired: pulls that need it fail with 401", images, where=where,
                  secret=name, severity="error", fix=fix)
        else:
            a.add("IA021", f"{what}; the Secret was last written {ago} ago: it works only while a refresher keeps "
                  "rewriting it", images, where=where, secret=name, fix=fix)


def keep_secret(secret: Mapping[str, Any]) -> Obj:
    """A Secret as the audit (and fix, which copies pull Secrets) reads it: name, namespace, type, data, and the
    times last_written reads. The cluster reader keeps this much of every listed pull Secret as its page
    arrives; annotations (kubectl's last-applied copy of the whole Secret), labels and the rest of
    managedFields are not kept."""
    kept: Obj = {key: secret[key] for key in ("kind", "apiVersion", "type", "data", "stringData") if key in secret}
    meta = secret.get("metadata")
    if isinstance(meta, dict):
        kept_meta = {key: meta[key] for key in ("name", "namespace", "creationTimestamp") if key in meta}
        managed = meta.get("managedFields")
        if isinstance(managed, list):
            kept_meta["managedFields"] = [{"time": m["time"]} for m in managed if isinstance(m, dict) and "time" in m]
        kept["metadata"] = kept_meta
    return share_texts(kept)


def last_written(obj: Obj) -> Optional[datetime.datetime]:
    """The newest of metadata.creationTimestamp and its managedFields times; None when none is recorded."""
    meta = obj.get("metadata") or {}
    stamps = [meta.get("creationTimestamp")] + [m.get("time") for m in meta.get("managedFields") or []
                                                if isinstance(m, dict)]
    times = []
    for stamp in stamps:
        if isinstance(stamp, datetime.datetime):  # YAML reads unquoted timestamps as datetimes
            times.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=datetime.timezone.utc))
        elif isinstance(stamp, str) and stamp:
            try:
                parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            except ValueError:
                continue
            times.append(parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc))
    return max(times) if times else None


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} d"


def _invalid_reference(a: _DomainAudit, e: ImageEntry, i: int, use: ImageUse) -> None:
    try:
        imageref.parse(e.image)
    except imageref.InvalidReference as exc:
        a.add("IA010", f"{e.image!r} is not a valid image reference: {exc} (the kubelet reports InvalidImageName)",
              [i], where=use.field, image=e.image, fix="correct the reference; repository paths are lowercase")


def pull_target_is_domain(model: DomainModel, sa_refs: List[Tuple[str, FieldRef]]) -> bool:
    return model.lists_pull_secrets or not sa_refs


def _first_matching(snap: Snapshot, index: SecretIndex, ns: str, names: Optional[List[str]],
                    repository: str) -> Optional[str]:
    """The first usable pull Secret in `ns` (optionally among `names`) with a credential for `repository`."""
    candidates = names if names is not None else index.names(ns)
    for name in candidates:
        if index.matches(ns, name, repository):
            return name
    return None


def _other_namespace_matches(snap: Snapshot, index: SecretIndex, ns: str, repository: str,
                             wanted: Set[str]) -> List[str]:
    """Matching pull Secrets of other namespaces, those named like the ones the pod wants first."""
    found = [k for k in index.matching(repository) if k.namespace != ns]
    found.sort(key=lambda k: (k.name not in wanted, k.namespace, k.name))
    return [f"{k.namespace}/{k.name}" for k in found]


def merge_provided(snap: Snapshot, config: Config) -> Dict[ObjectKey, ProvidedSecret]:
    """Secrets that will exist: from the files, with the config's entries (registries declared there count
    first), plus the config's entries for Secrets made out of band."""
    out = dict(snap.provided)
    for entry in config.provided:
        key = ObjectKey("Secret", entry.namespace, entry.name)
        made = out.get(key)
        if made is None:
            out[key] = entry
        else:
            registries = entry.registries + tuple(r for r in made.registries if r not in entry.registries)
            out[key] = ProvidedSecret(made.namespace, made.name, made.type, registries, made.source, made.location)
    return out


class SecretIndex:
    """Each Secret of the snapshot parsed once per audit, with a keyring that says which repositories its
    credentials match (for IA006/IA007/IA008), and the Secrets that will exist (content unreadable; they match
    the registries declared for them). Secrets with the same payload (pullsecret.payload_identity: the same
    pull Secret copied into every namespace) share one keyring, which is asked only what it matches."""

    def __init__(self, snap: Snapshot, config: Config = DEFAULT) -> None:
        self.snap = snap
        self.provided = merge_provided(snap, config)
        self._keyrings: Dict[ObjectKey, Optional[Keyring]] = {}
        self._by_payload: Dict[Tuple[str, str], Optional[Keyring]] = {}
        self._all: Optional[List[ObjectKey]] = None
        self._matching: Dict[str, List[ObjectKey]] = {}
        # (id of a keyring held above, repository) -> whether it holds a credential for it: keyrings are shared
        # per payload, and each Domain asks the same few questions of them
        self._answers: Dict[Tuple[int, str], bool] = {}

    def provided_for(self, ns: str, name: str) -> Optional[ProvidedSecret]:
        """The Secret that will exist under this name, unless a readable one is there (it wins)."""
        if self.snap.get("Secret", ns, name) is not None:
            return None
        return self.provided.get(ObjectKey("Secret", ns, name))

    def names(self, ns: str) -> List[str]:
        real = {str(s["metadata"]["name"]) for s in self.snap.of_kind("Secret", ns)}
        return sorted(real | {k.name for k in self.provided if k.namespace == ns})

    def all_keys(self) -> List[ObjectKey]:
        """Every Secret, readable or to be made (computed once: the snapshot does not change during an audit)."""
        if self._all is None:
            real = {ObjectKey("Secret", str((s.get("metadata") or {}).get("namespace") or ""),
                              str((s.get("metadata") or {}).get("name") or "")) for s in self.snap.of_kind("Secret")}
            self._all = sorted(real | set(self.provided))
        return self._all

    def matching(self, repository: str) -> List[ObjectKey]:
        """Every Secret (all_keys order) with a credential for the repository; computed once per repository,
        so asking for each Domain does not scan every Secret of the cluster again."""
        found = self._matching.get(repository)
        if found is None:
            found = self._matching[repository] = [
                k for k in self.all_keys() if self.matches(k.namespace, k.name, repository)]
        return found

    def unverified_in(self, ns: str) -> List[ProvidedSecret]:
        """Secrets that will exist in `ns` with a pull type (or an unknown one) and no declared registries."""
        return [p for k, p in sorted(self.provided.items()) if k.namespace == ns and not p.registries
                and (p.type is None or p.type in PULL_SECRET_TYPES) and self.provided_for(ns, k.name) is p]

    def matches(self, ns: str, name: str, repository: str) -> bool:
        key = ObjectKey("Secret", ns, name)
        if key not in self._keyrings:
            self._keyrings[key] = self._keyring(ns, name)
        keyring = self._keyrings[key]
        if keyring is None:
            return False
        asked = (id(keyring), repository)
        answer = self._answers.get(asked)
        if answer is None:
            # An entry without username and password is no credential (the kubelet pulls anonymously with it).
            answer = self._answers[asked] = any(not c.empty for c in keyring.lookup(repository))
        return answer

    def _keyring(self, ns: str, name: str) -> Optional[Keyring]:
        secret = self.snap.get("Secret", ns, name)
        if secret is None:
            made = self.provided.get(ObjectKey("Secret", ns, name))
            if made is None or (made.type is not None and made.type not in PULL_SECRET_TYPES):
                return None
            return Keyring(made.credentials())
        identity = payload_identity(secret)
        if identity is not None and identity in self._by_payload:
            return self._by_payload[identity]
        try:
            payload = read_pull_secret(secret)
        except SecretParseError:
            keyring = None
        else:
            keyring = Keyring(payload.credentials) if payload.usable else None
        if identity is not None:
            self._by_payload[identity] = keyring
        return keyring


def _fix_command(a: _DomainAudit) -> str:
    """How to run fix for this source: on the files themselves when the audit read only files."""
    return "kubectl imgaccess fix -f FILES --offline --write" if a.snap.mode == "files" else "kubectl imgaccess fix"


def sealed_secret_step(name: str, namespace: str) -> str:
    """The command that makes a pull Secret for a repository without its value in clear text."""
    return (f"kubectl create secret docker-registry {name} -n {namespace} "
            "--from-file=.dockerconfigjson=CONFIG.json --dry-run=client -o yaml | kubeseal -o yaml "
            f"> {name}.sealedsecret.yaml")


def _new_secret_fix(a: _DomainAudit, host: str) -> str:
    if a.snap.mode == "files":
        return (f"add a pull Secret for {host} to the repository, never in clear text: "
                f"{sealed_secret_step('NAME', a.ns)} (or an ExternalSecret whose target is NAME, type "
                "kubernetes.io/dockerconfigjson); then reference it: kubectl imgaccess fix -f FILES --offline "
                "--secret NAME --write")
    return f"kubectl imgaccess fix --secret NAME --docker-server {host} --docker-username USER --password-stdin"


def _type_field(provided: ProvidedSecret) -> str:
    fields = {"SealedSecret": "spec.template.type", "ExternalSecret": "spec.target.template.type",
              "VaultStaticSecret": "spec.destination.type (with create: true)",
              "VaultDynamicSecret": "spec.destination.type (with create: true)", "Secret": "type"}
    return f"{fields.get(provided.source.kind, 'type')} of {provided.describe()}"


def _declare_fix(provided: ProvidedSecret, host: str) -> str:
    if provided.source.kind == "config":
        return f"add {host} to the registries of {provided.describe()}"
    return (f"declare what it serves: annotate {provided.source} with {REGISTRIES_ANNOTATION}: \"{host}\" "
            "(or a provided: entry in the config); if it does not serve it, add a Secret that does")


def _secret_fix(rule_id: str, name: str, ns: str) -> str:
    if rule_id == "IA001":
        return (f"create it: kubectl imgaccess fix --secret {name} --docker-server HOST --docker-username USER "
                "--password-stdin, or correct the name")
    return f"recreate it as type kubernetes.io/dockerconfigjson (kubectl imgaccess fix writes {name}-dockerconfigjson)"


def _roles(group: PodGroup) -> str:
    return ", ".join(group.roles)


def _suppress(a: _DomainAudit, model: DomainModel) -> None:
    """Mark the findings of the rules named by the Domain's annotation (when the policy allows it) or by an
    unexpired config entry. Each suppressed finding says what suppressed it; nothing else is touched."""
    by_annotation: Set[str] = set()
    refused = _annotation_policy(a.config, a.options)
    if model.ignore and refused:
        a.notes.append(f"Domain {a.ns}/{a.key.name}: the annotation {IGNORE_ANNOTATION} is not honoured "
                       f"({refused}); its findings count")
    elif model.ignore:
        for text in sorted(model.ignore):
            rule = find_rule(text)
            if rule is not None:
                by_annotation.add(rule.id)
            else:  # a misspelt id must not look like a working suppression
                a.notes.append(f"Domain {a.ns}/{a.key.name}: the annotation {IGNORE_ANNOTATION} names no rule "
                               f"{text!r}; it suppresses nothing (`kubectl imgaccess rules` lists them)")
    if by_annotation:  # else the default: one empty set for every report
        a.report.annotation_ignores = frozenset(by_annotation)
    for f in a.report.findings:
        for note in _suppress_finding(f, a.report, a.config, a.options.now):
            if note not in a.notes:
                a.notes.append(note)


def _suppress_finding(f: Finding, d: DomainReport, config: Config, now: Optional[datetime.datetime]) -> List[str]:
    """Suppress one finding of the Domain when its annotation (d.annotation_ignores) or a live config entry names
    its rule; the notes for the entries that expired (they suppress nothing)."""
    entries = config.ignore_entries(f.rule, d.namespace, d.name)
    live = [e for e in entries if now is None or not e.expired(now)]
    notes = []
    for e in entries:
        if e not in live:
            f.expired_suppressions += (e.where,)
            notes.append(_expired_note(e, d))
    if f.rule in d.annotation_ignores:
        f.suppressed = True
        f.suppressed_by = Suppression("annotation", IGNORE_ANNOTATION)
    elif live:
        e = live[0]
        f.suppressed = True
        f.suppressed_by = Suppression("config", e.where, e.reason, _rfc3339(e.expires) if e.expires else None)
    return notes


def _expired_note(e: IgnoreRule, d: DomainReport) -> str:
    return (f"{e.where}: the ignore entry for {e.rule} expired on {_rfc3339(e.expires)} and no longer suppresses it "
            f"(Domain {d.namespace}/{d.name})")


def _expired_notes(d: DomainReport, findings: Sequence[Finding], config: Config,
                   now: Optional[datetime.datetime]) -> List[str]:
    """The notes _suppress_finding says for these findings of the Domain, in their order."""
    return [_expired_note(e, d) for f in findings for e in config.ignore_entries(f.rule, d.namespace, d.name)
            if now is not None and e.expired(now)]


def _annotation_policy(config: Config, options: AuditOptions) -> Optional[str]:
    """Why Domains may not suppress their own findings, or None when they may."""
    if not options.annotation_ignores:
        return "--no-annotation-ignores"
    if config.annotations == "deny":
        return f"suppressions.annotations: deny in {config.source or 'the config'}"
    return None


def _rfc3339(moment: Optional[datetime.datetime]) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _verdicts(d: DomainReport) -> None:
    per_image: Dict[int, List[Verdict]] = {}
    own: List[Verdict] = []
    for f in d.findings:
        if f.suppressed or f.severity == "info" or f.rule == "IA017":
            continue  # IA017 shows as the `unknown` verdict of what it concerns
        verdict: Verdict = "fail" if f.severity == "error" else "warn"
        if f.images:
            for i in f.images:
                per_image.setdefault(i, []).append(verdict)
        else:
            own.append(verdict)
    for i, img in enumerate(d.images):
        verdicts = per_image.get(i, [])
        if "fail" in verdicts:
            img.verdict = "fail"
        elif "warn" in verdicts:
            img.verdict = "warn"
        elif img.needs_unreadable:
            img.verdict = "unknown"
        else:
            img.verdict = "pass"
    if d.needs_unreadable:
        own.append("unknown")
    d.verdict = worst([img.verdict for img in d.images] + own)


__all__ = ["AuditOptions", "ProbeKey", "apply_probe", "audit", "credentials_for", "keep_secret", "merge_provided",
           "probe_keys", "sealed_secret_step"]
