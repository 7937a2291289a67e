"""The check use case: gather a snapshot (files, cluster, or both), audit it, probe if asked."""

from __future__ import annotations

import dataclasses
import datetime
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Dict, List, Optional

from kubectl_imgaccess.audit.config import default_config_path, load_config
from kubectl_imgaccess.audit.report import ProbeOutcome, Report
from kubectl_imgaccess.audit.run import AuditOptions, ProbeKey, audit, probe_keys
from kubectl_imgaccess.audit.snapshot import Snapshot
from kubectl_imgaccess.errors import InputError, UsageError
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.objects import ObjectKey
from kubectl_imgaccess.selectors import parse_selector
from kubectl_imgaccess.text import safe


@dataclass
class CheckOptions:
    scope: ClusterScope = field(default_factory=ClusterScope)
    files: List[str] = field(default_factory=list)
    kustomizations: List[str] = field(default_factory=list)  # -k DIR: rendered with kubectl kustomize
    offline: bool = False
    output: str = "table"
    fail_on: str = "error"
    config: Optional[str] = None
    probe: bool = False
    registry_ca: Optional[str] = None
    insecure_registries: List[str] = field(default_factory=list)
    probe_concurrency: int = 8
    annotation_ignores: bool = True  # --no-annotation-ignores: Domains cannot exempt themselves
    cloud: Optional[str] = None  # --cloud


def gather(opts: CheckOptions, stdin: Optional[IO[str]] = None, notes: Optional[IO[str]] = None) -> Snapshot:
    """The snapshot to audit: files only (--offline), the cluster, or files laid over the cluster."""
    scope = opts.scope
    if opts.offline and not opts.files and not opts.kustomizations:
        raise UsageError("--offline needs manifests: -f FILE|DIR|- or -k DIR (repeatable)")
    files_snap: Optional[Snapshot] = None
    if opts.files or opts.kustomizations:
        from kubectl_imgaccess.manifests import read_files

        files_snap = read_files(opts.files, scope.namespace or "default", stdin, opts.kustomizations)
        if notes is not None:
            for note in files_snap.notes:
                notes.write(f"note: {safe(note)}\n")
        if not files_snap.files and files_snap.notes:
            raise InputError("nothing to check: every input under -f was skipped (see the notes above); "
                             "render templates and charts first and pass the output with -f -")
        file_domains = _select(files_snap, scope)
        files_snap.audit_domains = file_domains
    if opts.offline:
        assert files_snap is not None
        return files_snap
    from kubectl_imgaccess.kube.reader import read_cluster

    if files_snap is None:
        return read_cluster(scope)
    scope.file_domains = list(files_snap.audit_domains or [])
    snap = read_cluster(scope, file_objects=list(files_snap.objects.values()))
    snap.overlay(files_snap)
    snap.audit_domains = files_snap.audit_domains
    return snap


def _select(snap: Snapshot, scope: ClusterScope) -> List[ObjectKey]:
    keys = sorted(k for k in snap.objects if k.kind == "Domain")
    if scope.selector:
        match = parse_selector(scope.selector)
        keys = [k for k in keys if match((snap.objects[k].get("metadata") or {}).get("labels") or {})]
    if scope.domains:
        wanted = set(scope.domains)
        found = {k.name for k in keys}
        missing = sorted(wanted - found)
        if missing:
            raise InputError(f'Domain "{missing[0]}" not found in the files given with -f/-k')
        keys = [k for k in keys if k.name in wanted]
    return keys


def run_check(opts: CheckOptions, stdin: Optional[IO[str]] = None, notes: Optional[IO[str]] = None) -> Report:
    config = load_config(opts.config or default_config_path(os.environ))
    snap = gather(opts, stdin, notes)
    options = AuditOptions(fail_on=opts.fail_on, now=datetime.datetime.now(datetime.timezone.utc),
                           annotation_ignores=opts.annotation_ignores, cloud=opts.cloud)
    report = audit(snap, config, options)
    if notes is not None:  # the files' notes were said while reading them; now the audit's own
        for note in report.notes[len(snap.notes):]:
            notes.write(f"note: {safe(note)}\n")
    if opts.probe:
        results = run_probe(report, opts)
        report = audit(snap, config, dataclasses.replace(options, probe_results=results))
    return report


def run_probe(report: Report, opts: CheckOptions) -> Dict[ProbeKey, ProbeOutcome]:
    """Ask the registries about every distinct (repository, reference, credentials) in the report."""
    from kubectl_imgaccess.probe import ProbeOptions, ProbeTarget, probe
    from kubectl_imgaccess.probe.verdict import outcome

    keys = probe_keys(report)
    targets = {ProbeTarget(repo, ref, creds): (repo, ref, creds) for repo, ref, creds in keys}
    options = ProbeOptions(
        timeout=opts.scope.request_timeout if opts.scope.request_timeout is not None else 30.0,
        concurrency=opts.probe_concurrency,
        insecure_registries=frozenset(opts.insecure_registries),
        ca_file=opts.registry_ca,
        progress=sys.stderr.isatty() and len(targets) > 4,
    )
    results = probe(list(targets), options)
    return {targets[t]: outcome(r, t.repository) for t, r in results.items()}
