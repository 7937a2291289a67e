"""What an audit found, as plain data: per Domain, per image entry, findings, verdicts and the summary.

`to_document()` gives the contract's JSON document; renderers only read these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any, Dict, FrozenSet, List, Literal, Optional, Tuple

from kubectl_imgaccess import __version__
from kubectl_imgaccess.audit.snapshot import Mode
from kubectl_imgaccess.catalog import FailOn, Severity, severity_rank
from kubectl_imgaccess.exitcodes import ExitCode, for_outcome
from kubectl_imgaccess.objects import CredentialRef, Location, slotted
from kubectl_imgaccess.text import redact

Verdict = Literal["pass", "unknown", "warn", "fail"]
VERDICT_ORDER: Tuple[Verdict, ...] = ("pass", "unknown", "warn", "fail")  # ascending badness


def worst(verdicts: List[Verdict]) -> Verdict:
    return max(verdicts, key=VERDICT_ORDER.index, default="pass")


@slotted
@dataclass(frozen=True)
class Suppression:
    """What silenced a finding: the Domain's own annotation, or a config `ignore:` entry."""

    kind: str  # "annotation" | "config"
    source: str  # the annotation's name, or "FILE:LINE ignore[i]"
    reason: Optional[str] = None
    expires: Optional[str] = None  # RFC 3339, UTC

    def __str__(self) -> str:
        what = f"annotation {self.source}" if self.kind == "annotation" else f"config {self.source}"
        extra = [f"reason: {self.reason}"] if self.reason else []
        extra += [f"expires {self.expires}"] if self.expires else []
        return what + (f" ({'; '.join(extra)})" if extra else "")

    def to_document(self) -> Dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "reason": self.reason, "expires": self.expires}


@slotted
@dataclass
class Finding:
    rule: str
    name: str
    severity: Severity
    message: str
    field: Optional[str] = None
    image: Optional[str] = None
    secret: Optional[str] = None
    service_account: Optional[str] = None
    location: Optional[Location] = None
    fix: Optional[str] = None
    suppressed: bool = False
    images: List[int] = _field(default_factory=list)  # indexes of the DomainReport.images it concerns
    # IA004 (the anonymous pull) names the findings that explain it; they name IA004 back. Suppressing an
    # explanation never silences the fact.
    causes: Tuple[str, ...] = ()
    explains: Tuple[str, ...] = ()
    suppressed_by: Optional[Suppression] = None  # set exactly when suppressed
    expired_suppressions: Tuple[str, ...] = ()  # ignore entries that no longer apply
    baseline: bool = False  # matches a finding of the --baseline report: shown, but not counted by the gate
    subject: Optional[str] = None  # for findings about the scope itself: the API path it concerns
    pod_kind: Optional[str] = None  # IA009: the kind of pod that fails (weblogic.domain SERVER or INTROSPECTOR)

    def dedupe_key(self) -> Tuple[Any, ...]:
        return (self.rule, self.message, self.field, self.secret, self.service_account)

    @property
    def counts(self) -> bool:
        """Whether the gate counts it: neither suppressed nor already in the baseline."""
        return not self.suppressed and not self.baseline


def identity(rule: str, namespace: str, domain: str, field: Optional[str], image: Optional[str],
             secret: Optional[str], subject: Optional[str] = None) -> Tuple[str, ...]:
    """What makes a finding the same finding in another run: never its message or its line number.

    The one definition behind --baseline matching and SARIF's partialFingerprints.
    """
    return (rule, namespace, domain, field or "", image or "", secret or "", subject or "")


def finding_identity(f: Finding, d: Optional[DomainReport]) -> Tuple[str, ...]:
    return identity(f.rule, d.namespace if d else "", d.name if d else "", f.field, f.image, f.secret, f.subject)


@slotted
@dataclass
class ProbeOutcome:
    status: str
    http_status: Optional[int]
    error_code: Optional[str]
    credential: Optional[CredentialRef]  # the one that decided; None: an anonymous pull
    message: str
    rule: Optional[str] = None  # IA012-IA015, decided by the probe's own mapping (probe.verdict)
    finding: str = ""  # that rule's message


@slotted
@dataclass
class ImageEntry:
    image: str
    repository: str  # normalized name; "" when the reference is invalid
    reference: str  # tag or digest a pull asks for; "" when invalid
    field: str
    pods: Tuple[str, ...]
    service_account: str
    pull_from: str  # "domain" | "serviceaccount" | "none"
    pull_names: Tuple[str, ...]
    credentials: Tuple[CredentialRef, ...]  # matching, in kubelet order (references: a report holds no value)
    pull_policy: str
    roles: Tuple[str, ...]
    defaulted: bool = False
    location: Optional[Location] = None
    verdict: Verdict = "pass"
    needs_unreadable: bool = False
    probe: Optional[ProbeOutcome] = None
    # Where the findings about the registry's answer (IA016, IA012-IA015) go among its Domain's findings: after
    # this many of the others (audit.run.apply_probe puts them there, with or without a probe).
    probe_slot: int = 0
    # Secrets on the pull path that will exist but cannot be read, with no registries declared (IA020)
    unverified: Tuple[str, ...] = ()


@slotted
@dataclass
class DomainReport:
    namespace: str
    name: str
    domain_uid: str
    images: List[ImageEntry] = _field(default_factory=list)
    findings: List[Finding] = _field(default_factory=list)
    location: Optional[Location] = None
    verdict: Verdict = "pass"
    needs_unreadable: bool = False  # an object the Domain's verdict depends on (a Cluster) could not be read
    uid: Optional[str] = None  # metadata.uid (cluster objects; files may have none)
    api_version: str = ""  # the Domain's apiVersion as read
    context: Optional[str] = None  # the kubeconfig context it was read from (cluster and mixed modes)
    notes: List[str] = _field(default_factory=list)  # what the audit said about this Domain (in Report.notes too)
    annotation_ignores: FrozenSet[str] = frozenset()  # the rules its own ignore annotation suppresses, as honoured


def finding_order(f: Finding) -> Tuple[int, str]:
    """The order findings are listed in, by every renderer: the most severe first, then by rule id."""
    return (-severity_rank(f.severity), f.rule)


@dataclass
class Report:
    domains: List[DomainReport]
    mode: Mode
    context: Optional[str]
    files: List[str]
    incomplete: bool = False
    probed: bool = False
    baseline: Optional[str] = None  # the --baseline file, when one was given
    baseline_absent: int = 0  # findings of the baseline that this run no longer has
    duration: float = 0.0  # seconds the check took, for JUnit's time
    findings: List[Finding] = _field(default_factory=list)  # about the scope itself (Domains unreadable)
    notes: List[str] = _field(default_factory=list)  # said on stderr and kept in the JSON (never secret values)

    # Clusters of a fleet run that could not be read at all (IA023 in `findings`): the run is an error (exit 2).
    unreachable: List[str] = _field(default_factory=list)
    # The contexts read (in a fleet run; else the one context, None for in-cluster) and, of those, the ones whose
    # Domains could not all be listed (their PolicyReports of namespaces without Domains are left alone).
    clusters: List[Optional[str]] = _field(default_factory=list)
    blind: List[Optional[str]] = _field(default_factory=list)
    fleet: bool = False  # --context repeated or --all-contexts

    def all_findings(self) -> List[Finding]:
        return self.findings + [f for d in self.domains for f in d.findings]

    def active_findings(self) -> List[Finding]:
        """The findings the gate counts (not suppressed, not absorbed by the baseline)."""
        return [f for f in self.all_findings() if f.counts]

    def summary(self, gate: Gate) -> Dict[str, Any]:
        verdicts = {v: 0 for v in ("pass", "warn", "fail", "unknown")}
        domain_verdicts = dict(verdicts)
        for d in self.domains:
            domain_verdicts[d.verdict] += 1
            for img in d.images:
                verdicts[img.verdict] += 1
        counts = {"error": 0, "warning": 0, "info": 0}
        for f in self.active_findings():
            counts[f.severity] += 1
        return {
            "domains": len(self.domains),
            "images": sum(len(d.images) for d in self.domains),
            "verdicts": verdicts,
            "domainVerdicts": domain_verdicts,
            "findings": counts,
            "suppressed": sum(1 for f in self.all_findings() if f.suppressed),
            "baseline": sum(1 for f in self.all_findings() if f.baseline and not f.suppressed),
            "incomplete": self.incomplete,
            "gate": gate.verdict(self),
            "failOn": gate.fail_on,
        }

    def _source(self) -> Dict[str, Any]:
        doc: Dict[str, Any] = {"mode": self.mode, "context": self.context, "files": list(self.files),
                               "baseline": self.baseline}
        if self.fleet:
            doc["contexts"] = [c for c in self.clusters if c is not None] + list(self.unreachable)
            doc["unreachable"] = list(self.unreachable)
        return doc

    def to_document(self, gate: Gate, domains: bool = True) -> Dict[str, Any]:
        """The contract's document, its summary judged by `gate`; without `domains`, everything but that last
        member (for streaming)."""
        doc: Dict[str, Any] = {
            "schemaVersion": 1,
            "tool": {"name": "kubectl-imgaccess", "version": __version__},
            "source": self._source(),
            "summary": self.summary(gate),
            "findings": [_finding_doc(f, None) for f in self.findings],
            "notes": list(self.notes),
        }
        if domains:
            doc["domains"] = [_domain_doc(d) for d in self.domains]
        return doc


GateVerdict = Literal["pass", "fail"]


@dataclass(frozen=True)
class Gate:
    """--fail-on: which findings fail a run. The audit never sees it: the CLI builds it where the exit code is
    decided and hands it, beside the report, to whatever shows the outcome (renderers, the JSON document)."""

    fail_on: FailOn

    def fails(self, f: Finding) -> bool:
        """Whether this one finding fails the gate (suppressed and baseline findings never do)."""
        if self.fail_on == "never" or not f.counts:
            return False
        return severity_rank(f.severity) >= severity_rank(self.fail_on)

    def failed(self, report: Report) -> bool:
        return any(self.fails(f) for f in report.all_findings())

    def verdict(self, report: Report) -> GateVerdict:
        return "fail" if self.failed(report) else "pass"

    def failing_domains(self, report: Report) -> List[DomainReport]:
        """The Domains whose own findings fail the gate (what `-o name` lists)."""
        return [d for d in report.domains if any(self.fails(f) for f in d.findings)]

    def exit_code(self, report: Report) -> ExitCode:
        if report.unreachable:  # a cluster of the fleet was not audited at all
            return ExitCode.ERROR
        return for_outcome(self.failed(report), report.incomplete)


def _loc(loc: Optional[Location]) -> Optional[Dict[str, Any]]:
    return None if loc is None else {"file": loc.file, "line": loc.line}


def domain_document(d: DomainReport) -> Dict[str, Any]:
    """One Domain's member of the document's `domains`."""
    return _domain_doc(d)


def _domain_doc(d: DomainReport) -> Dict[str, Any]:
    return {
        "namespace": d.namespace,
        "name": d.name,
        "domainUID": d.domain_uid,
        "context": d.context,
        "verdict": d.verdict,
        "location": _loc(d.location),
        "images": [_image_doc(i) for i in d.images],
        "findings": [_finding_doc(f, d) for f in d.findings],
    }


def _image_doc(i: ImageEntry) -> Dict[str, Any]:
    doc: Dict[str, Any] = {
        "image": i.image,
        "repository": i.repository,
        "reference": i.reference,
        "field": i.field,
        "pods": list(i.pods),
        "roles": list(i.roles),
        "serviceAccount": i.service_account,
        "pullSecrets": {"from": i.pull_from, "names": list(i.pull_names)},
        "credentials": [_credential_doc(c) for c in i.credentials],
        "pullPolicy": i.pull_policy,
        "defaulted": i.defaulted,
        "location": _loc(i.location),
        "verdict": i.verdict,
    }
    if i.probe is not None:
        p = i.probe
        doc["probe"] = {
            "status": p.status,
            "httpStatus": p.http_status,
            "errorCode": p.error_code,
            "credential": None if p.credential is None else {"secret": p.credential.secret,
                                                                  "key": p.credential.key},
            "message": redact(p.message),
        }
    return doc


def _credential_doc(c: CredentialRef) -> Dict[str, Any]:
    doc: Dict[str, Any] = {"secret": c.secret, "key": c.key}
    if c.provided_by:
        doc["providedBy"] = c.provided_by  # content unreadable: stands for a declared registry
    return doc


def _finding_doc(f: Finding, d: Optional[DomainReport]) -> Dict[str, Any]:
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity,
        "message": redact(f.message),
        "field": f.field,
        "image": f.image,
        "secret": f.secret,
        "serviceAccount": f.service_account,
        "suppressed": f.suppressed,
        "suppressedBy": f.suppressed_by.to_document() if f.suppressed_by else None,
        "causes": list(f.causes),
        "explains": list(f.explains),
        "baseline": f.baseline,
        "subject": f.subject,
        "location": _loc(f.location),
        "fix": None if f.fix is None else redact(f.fix),
        "images": sorted({d.images[i].image for i in f.images}) if d is not None else [],
    }
