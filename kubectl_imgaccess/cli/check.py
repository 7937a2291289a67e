"""The check use case: gather a snapshot (files, cluster, or both), audit it, probe if asked."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import io
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Dict, List, Optional, Tuple

from kubectl_imgaccess.audit.baseline import apply_baseline, load_baseline
from kubectl_imgaccess.audit.config import Config, default_config_path
from kubectl_imgaccess.audit.policyreport import policy_reports
from kubectl_imgaccess.audit.report import Finding, Gate, ProbeOutcome, Report
from kubectl_imgaccess.audit.run import AuditOptions, ProbeKey, apply_probe, audit, credentials_for, probe_keys
from kubectl_imgaccess.audit.snapshot import Obj, Snapshot
from kubectl_imgaccess.catalog import BY_ID
from kubectl_imgaccess.cli.flags import (
    MAX_PROBE_CONCURRENCY,
    contexts_of,
    scope_from,
    show_progress,
    terminal_width,
    use_color,
)
from kubectl_imgaccess.cli.outputs import check_destinations, write_atomically
from kubectl_imgaccess.errors import ClusterError, InputError, UsageError
from kubectl_imgaccess.exitcodes import ExitCode
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.manifests import load_config, read_files
from kubectl_imgaccess.render import render_into
from kubectl_imgaccess.render.view import View

if TYPE_CHECKING:
    from kubectl_imgaccess.kube.client import ClusterClient
    from kubectl_imgaccess.kube.reports import Written
from kubectl_imgaccess.objects import ObjectKey
from kubectl_imgaccess.progress import Progress
from kubectl_imgaccess.selectors import parse_selector
from kubectl_imgaccess.text import safe


@dataclass
class CheckOptions:
    scope: ClusterScope = field(default_factory=ClusterScope)
    files: List[str] = field(default_factory=list)
    kustomizations: List[str] = field(default_factory=list)  # -k DIR: rendered with kubectl kustomize
    offline: bool = False
    output: str = "table"
    config: Optional[str] = None
    probe: bool = False
    registry_ca: Optional[str] = None
    insecure_registries: List[str] = field(default_factory=list)
    probe_concurrency: int = 8
    annotation_ignores: bool = True  # --no-annotation-ignores: Domains cannot exempt themselves
    cloud: Optional[str] = None  # --cloud
    require_domains: bool = False  # --require-domains: a scope without Domains is an error, not a pass
    contexts: List[str] = field(default_factory=list)  # --context, repeatable (distinct, in order)
    all_contexts: bool = False  # --all-contexts
    write_reports: bool = False  # --write-reports
    baseline: Optional[str] = None  # --baseline FILE


def gather(opts: CheckOptions, stdin: Optional[IO[str]] = None, notes: Optional[IO[str]] = None) -> Snapshot:
    """The snapshot to audit: files only (--offline), the cluster, or files laid over the cluster."""
    scope = opts.scope
    if opts.offline and not opts.files and not opts.kustomizations:
        raise UsageError("--offline needs manifests: -f FILE|DIR|- or -k DIR (repeatable)")
    client: Optional[ClusterClient] = None
    if not opts.offline and (opts.files or opts.kustomizations):
        client = _connect(scope)  # no request yet: only the kubeconfig, for the namespace `kubectl apply` uses
    files_snap: Optional[Snapshot] = None
    if opts.files or opts.kustomizations:
        # Objects without metadata.namespace land where `kubectl apply -f` would put them: -n, else the
        # context's namespace, else default.
        default_ns = client.namespace if client is not None else scope.namespace or "default"
        files_snap = read_files(opts.files, default_ns, stdin, opts.kustomizations)
        _say(files_snap.notes, notes)
        if not files_snap.files and files_snap.notes:
            raise InputError("nothing to check: every input under -f was skipped (see the notes above); "
                             "render templates and charts first and pass the output with -f -")
        if not any(k.kind == "Domain" for k in files_snap.objects):
            given = ", ".join(files_snap.files) or ", ".join(opts.files + opts.kustomizations)
            raise InputError(f"no Domain in the input ({given})")
        file_domains = _select(files_snap, scope)
        files_snap.audit_domains = file_domains
    if opts.offline:
        assert files_snap is not None
        return files_snap
    if files_snap is None:
        snap = _read_cluster(scope)
        _say(snap.notes, notes)
        _require_named(snap, scope)
        return snap
    assert client is not None
    snap = _read_cluster_for(scope, files_snap, client)
    _say(snap.notes, notes)
    snap.overlay(files_snap)
    snap.audit_domains = files_snap.audit_domains
    return snap


def _say(said: List[str], notes: Optional[IO[str]]) -> None:
    """Each source's notes, on stderr, as soon as it has been read."""
    if notes is not None:
        for note in said:
            notes.write(f"note: {safe(note)}\n")


def _quoted(names: List[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def _require_named(snap: Snapshot, scope: ClusterScope) -> None:
    """Exit 2 for what the API says does not exist: the namespace of the scope, or Domains named on the command
    line (every missing one listed). Domains that could not be read are IA017, not missing."""
    if snap.missing_namespaces:
        raise InputError(f'namespace "{snap.missing_namespaces[0]}" not found')
    if not scope.domains:
        return
    found = {k.name for k in snap.objects if k.kind == "Domain"}
    unreadable = {u.name for u in snap.unreadable if u.kind == "Domain"}
    if any(u.kind == "Domain" and u.name is None for u in snap.unreadable):
        return  # the list was refused: IA017 says which Domains could not be read
    missing = [n for n in dict.fromkeys(scope.domains) if n not in found and n not in unreadable]
    if missing:
        where = f"namespace {snap.scope_namespace}" if snap.scope_namespace is not None else "any namespace"
        word = "Domain" if len(missing) == 1 else "Domains"
        raise InputError(f"{word} {_quoted(missing)} not found in {where}")


def _select(snap: Snapshot, scope: ClusterScope) -> List[ObjectKey]:
    keys = sorted(k for k in snap.objects if k.kind == "Domain")
    if scope.selector:
        match = parse_selector(scope.selector)
        keys = [k for k in keys if match((snap.objects[k].get("metadata") or {}).get("labels") or {})]
    if scope.domains:
        wanted = list(dict.fromkeys(scope.domains))
        found = {k.name for k in keys}
        missing = [n for n in wanted if n not in found]
        if missing:
            word = "Domain" if len(missing) == 1 else "Domains"
            raise InputError(f"{word} {_quoted(missing)} not found in the files given with -f/-k")
        keys = [k for k in keys if k.name in set(wanted)]
    return keys


def empty_scope(report: Report, snap_namespace: Optional[str]) -> Optional[str]:
    """kubectl's line for a scope that holds no Domains (nothing was audited and nothing was unreadable)."""
    if report.domains or report.findings:
        return None
    if report.mode != "cluster":
        return "No Domains in the files match the selector."
    return f"No Domains found in {snap_namespace} namespace." if snap_namespace is not None else \
        "No Domains found."


FLEET_WORKERS = 4  # clusters read at once (each reader has its own small pool of requests)


def _validate(opts: CheckOptions) -> None:
    if opts.write_reports:
        if opts.offline or opts.files or opts.kustomizations:
            raise UsageError("--write-reports writes what the cluster holds: it does not take -f, -k or --offline")
        if opts.scope.domains or opts.scope.selector:
            raise UsageError("--write-reports writes one report per namespace, for all its Domains: "
                             "drop the DOMAIN names and -l")
    if opts.all_contexts and opts.contexts:
        raise UsageError("--all-contexts reads every context: do not name some with --context too")


def fleet_contexts(opts: CheckOptions) -> Optional[List[str]]:
    """The contexts of a fleet run (--context repeated, --all-contexts), or None for one cluster."""
    if opts.all_contexts:
        names = _context_names(opts.scope)
    elif len(opts.contexts) > 1:
        names = list(opts.contexts)
    else:
        return None
    if opts.offline or opts.files or opts.kustomizations:
        raise UsageError("several contexts audit what each cluster holds: -f, -k and --offline take one cluster")
    return names


def run_check(opts: CheckOptions, stdin: Optional[IO[str]] = None, notes: Optional[IO[str]] = None) -> Report:
    started = time.monotonic()
    _validate(opts)
    known = load_baseline(opts.baseline) if opts.baseline is not None else None  # before any cluster call
    config = load_config(opts.config or default_config_path(os.environ))  # once, whatever the contexts
    contexts = fleet_contexts(opts)
    report = (_run_one(opts, config, stdin, notes) if contexts is None
              else run_fleet(opts, config, contexts, notes))
    if known is not None and opts.baseline is not None:
        apply_baseline(report, known, opts.baseline)
    report.duration = time.monotonic() - started
    return report


def run_fleet(opts: CheckOptions, config: Config, contexts: List[str], notes: Optional[IO[str]] = None
              ) -> Report:
    """Audit each context concurrently (bounded); a cluster that cannot be read at all becomes an IA023 finding
    and the others' results stand in full."""
    def one(context: str) -> Tuple[Optional[Report], Optional[str], str]:
        buffer = io.StringIO()
        scope = dataclasses.replace(opts.scope, context=context, domains=list(opts.scope.domains))
        try:
            report = _run_one(dataclasses.replace(opts, scope=scope, contexts=[context]), config, None, buffer)
        except ClusterError as exc:
            return None, str(exc), buffer.getvalue()
        return report, None, buffer.getvalue()

    with ThreadPoolExecutor(max_workers=min(FLEET_WORKERS, len(contexts)),
                            thread_name_prefix="imgaccess-fleet") as pool:
        outcomes = list(pool.map(one, contexts))
    reports: List[Tuple[str, Report]] = []
    failed: List[Tuple[str, str]] = []
    for context, (report, error, said) in zip(contexts, outcomes):
        if notes is not None:
            for line in said.splitlines():
                notes.write(f"context {safe(context)}: {line}\n" if line.startswith("note: ") else line + "\n")
        if report is None:
            failed.append((context, error or "cannot be read"))
            if notes is not None:
                notes.write(f"error: context {safe(context)}: {safe(error or '')}\n")
        else:
            reports.append((context, report))
    return merge_fleet(reports, failed)


def merge_fleet(reports: List[Tuple[str, Report]], failed: List[Tuple[str, str]]) -> Report:
    """One report of several clusters: their Domains (each carrying its context), their scope findings named by
    context, and an IA023 finding per cluster that could not be read."""
    rule = BY_ID["IA023"]
    findings: List[Finding] = []
    for context, report in reports:
        for f in report.findings:
            findings.append(dataclasses.replace(f, message=f"context {context}: {f.message}"))
    for context, error in failed:
        findings.append(Finding(rule.id, rule.name, rule.severity, f"context {context}: {error}", fix=rule.fix))
    return Report(
        domains=[d for _, r in reports for d in r.domains], mode="cluster", context=None, files=[],
        incomplete=any(r.incomplete for _, r in reports),
        probed=any(r.probed for _, r in reports), findings=findings,
        notes=[f"context {c}: {n}" for c, r in reports for n in r.notes],
        unreachable=[c for c, _ in failed], clusters=[c for c, _ in reports],
        blind=[c for c, r in reports if r.blind], fleet=True)


def write_reports(opts: CheckOptions, report: Report, err: IO[str]) -> Optional[str]:
    """--write-reports: each cluster read gets its namespaces' PolicyReports; the first error, else None.
    A namespace whose Domains are gone is emptied only where every Domain could be listed."""
    for context in report.clusters:
        scope = dataclasses.replace(opts.scope, context=context) if report.fleet else opts.scope
        where = f"context {context}: " if report.fleet else ""
        try:
            done = _write_reports(scope, policy_reports(report, context if report.fleet else None),
                                  empty_gone=context not in report.blind)
        except ClusterError as exc:
            return f"{where}writing PolicyReports: {exc}"
        counts = {a: sum(1 for w in done if w.action == a) for a in ("created", "updated", "unchanged")}
        emptied = sum(1 for w in done if w.emptied)
        err.write(f"{safe(where)}PolicyReports: {counts['created']} created, {counts['updated']} updated, "
                  f"{counts['unchanged']} unchanged" + (f" ({emptied} emptied: no Domains left)" if emptied else "")
                  + "\n")
    return None


def _run_one(opts: CheckOptions, config: Config, stdin: Optional[IO[str]] = None,
             notes: Optional[IO[str]] = None) -> Report:
    snap = gather(opts, stdin, notes)
    options = AuditOptions(now=datetime.datetime.now(datetime.timezone.utc),
                           annotation_ignores=opts.annotation_ignores, cloud=opts.cloud)
    report = audit(snap, config, options)
    if notes is not None:  # the files' notes were said while reading them; now the audit's own
        for note in report.notes[len(snap.notes):]:
            notes.write(f"note: {safe(note)}\n")
    empty = empty_scope(report, snap.scope_namespace)
    if empty is not None:
        if opts.require_domains:
            raise InputError(f"{empty[:-1]} (--require-domains)")
        if notes is not None:
            notes.write(empty + "\n")
    if opts.probe:
        apply_probe(report, run_probe(report, snap, opts), config, options)
    return report


def _connect(scope: ClusterScope) -> ClusterClient:
    """Lazy seam: the cluster client's configuration code loads only when a run talks to a cluster, so
    `check --offline` starts without it (`make bench` measures the start-up)."""
    from kubectl_imgaccess.kube.client import connect

    return connect(scope)


def _read_cluster(scope: ClusterScope) -> Snapshot:
    """Lazy seam: the cluster reader loads only when a run reads a cluster (see `_connect`)."""
    from kubectl_imgaccess.kube.reader import read_cluster

    return read_cluster(scope, audit_only=True)  # check shows what the audit says, never the objects


def _read_cluster_for(scope: ClusterScope, files: Snapshot, client: ClusterClient) -> Snapshot:
    """Lazy seam, as `_read_cluster`: mixed mode, what the files' Domains need from the cluster."""
    from kubectl_imgaccess.kube.reader import read_cluster_for

    return read_cluster_for(scope, files.audit_domains or [], files.objects.values(), client=client,
                            audit_only=True)


def _context_names(scope: ClusterScope) -> List[str]:
    """Lazy seam: --all-contexts reads the kubeconfig with the cluster client's configuration code."""
    from kubectl_imgaccess.kube.client import context_names

    return context_names(scope)


def _write_reports(scope: ClusterScope, reports: List[Obj], empty_gone: bool) -> List[Written]:
    """Lazy seam: the report writer (and the cluster client) load only with --write-reports."""
    from kubectl_imgaccess.kube.reports import write_reports

    return write_reports(scope, reports, empty_gone=empty_gone)


def run_probe(report: Report, snap: Snapshot, opts: CheckOptions) -> Dict[ProbeKey, ProbeOutcome]:
    """Ask the registries about every distinct (repository, reference, credentials) in the report (of `snap`).
    The report names credentials; the probe's own map, read from the snapshot here, holds what they are.

    Lazy seam: the probe (and urllib3 with it) loads only with --probe."""
    from kubectl_imgaccess.probe import ProbeOptions, ProbeTarget, probe
    from kubectl_imgaccess.probe.verdict import outcome

    keys = probe_keys(report)
    credentials = credentials_for(snap, (c for _, _, refs in keys for c in refs))
    targets = {ProbeTarget(repository, reference, tuple(credentials[c] for c in refs)): (repository, reference, refs)
               for repository, reference, refs in keys}
    options = ProbeOptions(
        timeout=opts.scope.request_timeout if opts.scope.request_timeout is not None else 30.0,
        concurrency=opts.probe_concurrency,
        insecure_registries=frozenset(opts.insecure_registries),
        ca_file=opts.registry_ca,
        progress=opts.scope.progress,
    )
    results = probe(list(targets), options)
    return {targets[t]: outcome(r, t.repository) for t, r in results.items()}


def command(args: argparse.Namespace) -> int:
    """`check`: flags -> options -> report -> the chosen format on stdout; the exit code from the gate."""
    gate = Gate(args.fail_on)
    opts = CheckOptions(
        scope=scope_from(args), files=list(args.filename), kustomizations=list(args.kustomize),
        offline=args.offline, cloud=args.cloud, output=args.output, config=args.config, probe=args.probe,
        registry_ca=args.registry_ca,
        insecure_registries=list(args.insecure_registry), probe_concurrency=args.probe_concurrency,
        annotation_ignores=not args.no_annotation_ignores, require_domains=args.require_domains,
        contexts=contexts_of(args), all_contexts=args.all_contexts, write_reports=args.write_reports,
        baseline=args.baseline,
    )
    if not 1 <= opts.probe_concurrency <= MAX_PROBE_CONCURRENCY:
        raise UsageError(f"--probe-concurrency must be between 1 and {MAX_PROBE_CONCURRENCY}")
    check_destinations(args.output_file)  # before reading anything: a typo in a path costs no cluster read
    if show_progress(args.output, args.verbosity):
        opts.scope.progress = Progress(sys.stderr)
    try:
        report = run_check(opts, stdin=sys.stdin, notes=sys.stderr)
    finally:
        if opts.scope.progress is not None:
            opts.scope.progress.finish()
    written_error = write_reports(opts, report, sys.stderr) if opts.write_reports else None
    view = View(color=use_color(sys.stdout, args.color), width=terminal_width(sys.stdout),
                headers=not args.no_headers, show=frozenset(args.show))
    file_view = View(headers=view.headers, show=view.show)  # a file is not a terminal: no color, no cutting
    for fmt, path in args.output_file:
        write_atomically(path, functools.partial(render_into, report, gate, fmt, file_view))
    render_into(report, gate, args.output, view, sys.stdout)  # JSON streams Domain by Domain
    sys.stdout.flush()
    for context in report.unreachable:
        sys.stderr.write(f"error: context {safe(context)}: not audited (IA023 cluster-unreachable)\n")
    if written_error is not None:
        sys.stderr.write(f"error: {safe(written_error)}\n")
    if report.unreachable or written_error is not None:
        return ExitCode.ERROR
    return gate.exit_code(report)
