"""`kubectl imgaccess fix`: flags -> credential source -> plan -> show -> confirm -> apply -> check again.

Its flags are in cli.flags; this module loads only when `fix` runs.
Passwords come from stdin or a file only; a password flag on the command line is refused without
echoing it (argv is visible to every user of the machine).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Callable, List, Optional, TextIO

from kubectl_imgaccess.audit.config import default_config_path
from kubectl_imgaccess.audit.report import Gate, Report
from kubectl_imgaccess.audit.run import AuditOptions, audit
from kubectl_imgaccess.audit.snapshot import Snapshot
from kubectl_imgaccess.catalog import DEFAULT_FAIL_ON
from kubectl_imgaccess.cli.check import CheckOptions, gather
from kubectl_imgaccess.cli.flags import scope_from
from kubectl_imgaccess.deadline import Interrupted
from kubectl_imgaccess.errors import FixRefused, UsageError
from kubectl_imgaccess.exitcodes import ExitCode
from kubectl_imgaccess.fix import credentials, files, view
from kubectl_imgaccess.fix.apply import Applier
from kubectl_imgaccess.fix.plan import FixOptions, make_plan
from kubectl_imgaccess.kube.reader import read_cluster
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.kube.writer import open_writer, read_secret
from kubectl_imgaccess.manifests import load_config
from kubectl_imgaccess.render.structured import dump_json, dump_yaml
from kubectl_imgaccess.text import remember_secret, safe

log = logging.getLogger("kubectl_imgaccess.fix")
GATE = Gate(DEFAULT_FAIL_ON)  # the exit code of a fix run: the check's default gate, before or after the plan

Ask = Callable[[str], Optional[bool]]  # None: no terminal to ask on


def _read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    if args.password_stdin and args.password_file:
        raise UsageError("use one of --password-stdin and --password-file")
    if args.password_stdin:
        text = stdin.read()
    elif args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            # the path is not echoed: a password typed where the file name belongs would be printed
            raise UsageError(f"--password-file: {exc.strerror or 'cannot read it'} (the file named there)") from None
    else:
        raise UsageError("--docker-username needs the password on stdin (--password-stdin) or in a file "
                         "(--password-file)")
    if text.endswith("\n"):
        text = text[:-1]
    if text.endswith("\r"):
        text = text[:-1]
    if not text:
        raise UsageError("the password read is empty")
    remember_secret(text)
    return text


def credential_source(args: argparse.Namespace, stdin: TextIO, scope: Optional[ClusterScope] = None,
                      snapshot: Optional[Snapshot] = None) -> Optional[credentials.CredentialSource]:
    """The CredentialSource the flags describe, or None; validates the combinations."""
    if args.argv_password is not None:
        raise UsageError("a password on the command line is refused (argv is visible to every user of the "
                         "machine): use --password-stdin or --password-file")
    flags_given = bool(args.docker_username or args.docker_server or args.docker_email or args.password_stdin
                       or args.password_file)
    sources = [bool(flags_given), bool(args.from_docker_config), bool(args.copy_from)]
    if sum(sources) > 1:
        raise UsageError("use one credential source: --docker-username (+ --password-stdin), "
                         "--from-docker-config or --copy-from")
    if not any(sources):
        if args.secret:
            raise UsageError("--secret needs a source: --docker-username with --password-stdin, "
                             "--from-docker-config FILE or --copy-from NAMESPACE/NAME")
        return None
    try:
        if flags_given:
            if not args.docker_username:
                raise UsageError("--docker-username is required with --docker-server/--password-stdin")
            if not args.secret:
                raise UsageError("--secret NAME is required to create a pull Secret")
            password = _read_password(args, stdin)
            return credentials.from_flags(args.secret, args.docker_server or credentials.DEFAULT_DOCKER_SERVER,
                                          args.docker_username, password, args.docker_email or "")
        if args.from_docker_config:
            if not args.secret:
                raise UsageError("--secret NAME is required with --from-docker-config")
            path = args.from_docker_config
            try:
                if path == "-":
                    text = stdin.read()
                else:
                    with open(os.path.expanduser(path), encoding="utf-8") as fh:
                        text = fh.read()
            except OSError as exc:
                raise UsageError(f"--from-docker-config {path}: {exc.strerror or 'cannot read it'}") from None
            return credentials.from_docker_config(args.secret, text, path)
        namespace, _, name = str(args.copy_from).partition("/")
        if not namespace or not name or "/" in name:
            raise UsageError("--copy-from takes NAMESPACE/NAME")
        secret = snapshot.get("Secret", namespace, name) if snapshot is not None else None
        if secret is None and scope is not None:
            secret = read_secret(scope, namespace, name)
        if secret is None:
            raise UsageError(f"--copy-from: Secret {namespace}/{name} not found")
        return credentials.from_secret(args.secret or name, secret, f"{namespace}/{name}")
    except credentials.SourceError as exc:
        raise UsageError(str(exc)) from None


def _terminal_ask(prompt: str) -> Optional[bool]:
    """Ask on the controlling terminal (stdin may carry the password); None when there is none."""
    stream: Optional[TextIO] = None
    try:
        if sys.stdin.isatty():
            stream = sys.stdin
        elif sys.stderr.isatty():
            stream = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        stream = None
    if stream is None:
        return None
    try:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        answer = stream.readline()
    finally:
        if stream is not sys.stdin:
            stream.close()
    return answer.strip().lower() in ("y", "yes")


def run_fix(args: argparse.Namespace, stdin: Optional[TextIO] = None, stdout: Optional[TextIO] = None,
            ask: Ask = _terminal_ask) -> int:
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    if args.filename or args.offline or args.write:
        return _run_fix_files(args, stdin, out)
    # Flags that cannot work fail before the cluster is contacted; the password is read once, first.
    if args.argv_password is not None:
        credential_source(args, stdin)
    scope = scope_from(args)
    config = load_config(args.config or default_config_path(os.environ))
    snapshot = read_cluster(scope)
    _require_domains(snapshot, scope)
    source = credential_source(args, stdin, scope, snapshot)
    report = audit(snapshot, config, AuditOptions(cloud=args.cloud))
    plan = make_plan(snapshot, report, FixOptions(strategy=args.strategy, source=source, restart=args.restart,
                                                  config=config, cloud=args.cloud))
    structured = args.output in ("json", "yaml")

    def emit_doc(applied: bool, after: Optional[Report], results: List[str], not_applied: Any = None,
                 stopped: Optional[str] = None) -> None:
        doc = view.document(plan, args.dry_run, applied, after, results, not_applied, stopped)
        out.write(dump_json(doc) if args.output == "json" else dump_yaml(doc))
        out.flush()

    if not structured:
        out.write(view.render_plan(plan, args.dry_run))
        out.flush()
    if plan.refused:
        if structured:
            emit_doc(False, None, [])
        raise FixRefused(f"{plan.refusals[0]}; nothing was written")
    if not plan.actions:
        if structured:
            emit_doc(False, None, [])
        return int(GATE.exit_code(report))
    if args.dry_run == "client":
        if structured:
            emit_doc(False, None, [])
        else:
            out.write("Dry run (client): nothing was sent to the cluster.\n")
        return int(ExitCode.OK)
    if not args.yes:
        if structured:
            sys.stderr.write(view.render_plan(plan, args.dry_run))
        answer = ask(f"Apply these {len(plan.actions)} change(s)? [y/N] ")
        if answer is None:
            if structured:
                emit_doc(False, None, [])
            raise FixRefused("not applied: no terminal to ask on; run again with --yes to apply this plan")
        if not answer:
            if structured:
                emit_doc(False, None, [])
            raise FixRefused("aborted: nothing was written")


    namespaces = {d.namespace for d in report.domains}
    note = " (dry run: server)" if args.dry_run == "server" else ""
    # Each action is reported the moment it is applied (stderr beside a document, stdout otherwise), and
    # a run that stops part-way says what it applied and what it did not, so a rerun holds no surprise.
    progress_to = sys.stderr if structured else out
    header = ["Applied:" if args.dry_run != "server" else "Validated by the server (dry run):"]

    def show(line: str) -> None:
        if header:
            progress_to.write("\n" + header.pop() + "\n")
        progress_to.write(f"  {safe(line)}\n")
        progress_to.flush()

    applier = Applier(open_writer(scope, namespaces, args.dry_run), namespaces, note=note, progress=show)
    try:
        results = applier.apply(plan)
    except BaseException as exc:  # an error, a conflict storm, Ctrl-C, SIGTERM: say what was and was not done
        why = _why(exc)
        left = applier.not_applied(plan)
        if structured:
            emit_doc(bool(applier.applied), None, applier.results, left, why)
        else:
            sys.stderr.write(view.render_stopped(applier.results, left, why))
        if isinstance(exc, KeyboardInterrupt):
            raise Interrupted(f"interrupted: applied {len(applier.applied)} of {len(plan.actions)} change(s); "
                              "run fix again to finish") from None
        raise
    if args.dry_run == "server":
        if structured:
            emit_doc(False, None, results)
        else:
            out.write("Dry run (server): the cluster validated every write and kept none.\n")
        return int(ExitCode.OK)
    try:
        after_snapshot = read_cluster(scope_from(args))
    except BaseException as exc:  # everything was applied; only the check after it failed
        if structured:
            emit_doc(True, None, results, [], f"applied; the check after it failed: {_why(exc)}")
        raise
    after = audit(after_snapshot, config, AuditOptions(cloud=args.cloud))
    if structured:
        emit_doc(True, after, results)
    else:
        out.write(view.render_before_after(report, after))
    out.flush()
    return int(GATE.exit_code(after))


def _run_fix_files(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    """fix -f FILES --offline [--write]: plan against the files, show the unified diff, edit them with --write."""
    if not args.filename:
        raise UsageError("--offline and --write work on manifest files: name them with -f FILE|DIR")
    if not args.offline:
        raise UsageError("fix -f plans against the files only: add --offline (fix without -f works on a cluster)")
    if args.argv_password is not None or args.docker_username or args.password_stdin or args.password_file \
            or args.from_docker_config or args.copy_from or args.docker_email:
        raise UsageError("fix -f never writes a Secret's value into a file: create the Secret sealed or external "
                         "(kubectl create secret docker-registry NAME --from-file=.dockerconfigjson=CONFIG.json "
                         "--dry-run=client -o yaml | kubeseal -o yaml > NAME.sealedsecret.yaml), then run fix -f "
                         "--offline --secret NAME to reference it")
    if args.restart:
        raise UsageError("--restart acts on a cluster; fix -f edits files only")
    if args.dry_run != "none":
        raise UsageError("fix -f only prints the diff unless --write is given; --dry-run is for clusters")
    scope = scope_from(args)
    namespace = scope.namespace or "default"
    config = load_config(args.config or default_config_path(os.environ))
    opts = CheckOptions(scope=scope, files=list(args.filename), offline=True)
    snapshot = gather(opts, stdin, sys.stderr)
    report = audit(snapshot, config, AuditOptions(cloud=args.cloud))
    plan = make_plan(snapshot, report, FixOptions(strategy=args.strategy, config=config, files=True,
                                                  reference=args.secret, cloud=args.cloud))
    edits = files.plan_edits(snapshot, plan, namespace) if not plan.refused else []
    missing = sorted({(u.namespace, u.secret) for u in plan.unfixed if u.rule == "IA001" and u.secret})
    prefer_external = any(p.source.kind == "ExternalSecret" for p in snapshot.provided.values())
    steps = files.secret_steps(missing, prefer_external)
    structured = args.output in ("json", "yaml")
    if not structured:
        out.write(view.render_file_plan(plan, edits, steps))
        out.flush()
    if plan.refused:
        if structured:
            out.write(_dump(view.file_document(plan, edits, steps, [], None), args.output))
        raise FixRefused(f"{plan.refusals[0]}; nothing was written")
    changed = [e for e in edits if e.after != e.before]
    if not args.write or not changed:
        if structured:
            out.write(_dump(view.file_document(plan, edits, steps, [], None), args.output))
        elif changed:
            out.write("Not written: run again with --write to edit the files.\n")
        return int(ExitCode.OK) if changed else int(GATE.exit_code(report))
    written = files.write_files(changed)
    after_snapshot = gather(opts, stdin)
    after = audit(after_snapshot, config, AuditOptions(cloud=args.cloud))
    if structured:
        out.write(_dump(view.file_document(plan, edits, steps, written, after), args.output))
    else:
        out.write("\nWritten:\n" + "".join(f"  {path}\n" for path in written))
        out.write(view.render_before_after(report, after))
    out.flush()
    return int(GATE.exit_code(after))


def _dump(doc: Any, output: str) -> str:
    return dump_json(doc) if output == "json" else dump_yaml(doc)


def _require_domains(snapshot: Snapshot, scope: ClusterScope) -> None:
    """A named Domain that is not there is an error, not an empty plan."""
    keys = snapshot.audit_domains
    if keys is None:
        return
    missing = [k for k in keys if k not in snapshot.objects]
    if missing:
        raise UsageError(f'Domain "{missing[0].name}" not found in namespace {missing[0].namespace}')


def _why(exc: BaseException) -> str:
    """One line for why a run stopped."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    if isinstance(exc, SystemExit):
        return f"stopped (exit {exc.code})"
    text = str(exc)
    return text if text and not text.startswith("Traceback") else type(exc).__name__
