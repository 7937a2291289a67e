"""The command line's grammar: every command's flags, kubectl's spellings of them, and reading them into options.

Building the parser imports nothing heavy: cli.main parses, then loads the one use case that runs."""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import IO, Any, Dict, List, Mapping, NoReturn, Optional, Sequence, Set

from kubectl_imgaccess import __version__
from kubectl_imgaccess.audit.config import CLOUD_CHOICES
from kubectl_imgaccess.catalog import DEFAULT_FAIL_ON, FAIL_ON
from kubectl_imgaccess.cli.outputs import output_file_type
from kubectl_imgaccess.deadline import DEFAULT_RUN_TIMEOUT
from kubectl_imgaccess.durations import parse_duration
from kubectl_imgaccess.errors import UsageError
from kubectl_imgaccess.exitcodes import ExitCode
from kubectl_imgaccess.kube.scope import AuthOverrides, ClusterScope
from kubectl_imgaccess.render import FORMATS
from kubectl_imgaccess.render.view import SHOW_CHOICES
from kubectl_imgaccess.text import remember_secret, safe
from kubectl_imgaccess.weblogic.domain import IGNORE_ANNOTATION

PROG = "kubectl-imgaccess"  # the executable (and the tool's name in --version)
PLUGIN_PROG = "kubectl imgaccess"  # how a user types it when kubectl runs it as a plugin


def program_name(argv0: Optional[str] = None, env: Optional[Mapping[str, str]] = None) -> str:
    """`kubectl imgaccess` when run as a plugin (kubectl sets KUBECTL_PLUGINS_CALLER; or the executable is
    kubectl-imgaccess), `python -m kubectl_imgaccess` when run so."""
    env = os.environ if env is None else env
    base = os.path.basename(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else ""))
    if env.get("KUBECTL_PLUGINS_CALLER") or base.startswith(PROG):
        return PLUGIN_PROG
    if base in ("__main__.py", "-m", "-c"):
        return "python -m kubectl_imgaccess"
    return PLUGIN_PROG


EXAMPLES = {
    "": """  # Audit every Domain in every namespace
  {prog} check -A

  # Audit manifests before applying them, without a cluster
  {prog} check -f domain.yaml --offline""",
    "check": """  # Audit every Domain in every namespace of the current context
  {prog} check -A

  # Audit two Domains in one namespace of another context, one line per image
  {prog} --context prod check -n orders-ns orders billing -o wide

  # Manifests laid over the cluster: what happens if these files are applied now
  {prog} check -f deploy/domain.yaml

  # CI: the table in the log, SARIF and JUnit as artifacts, from one run
  {prog} check -A --output-file sarif=imgaccess.sarif --output-file junit=imgaccess.xml

  # The failing Domains of a namespace, for xargs (names carry no namespace, as kubectl's -o name)
  {prog} check -n orders-ns -o name | xargs -r kubectl get -n orders-ns

  # Ask the registries whether the credentials really pull
  {prog} check -n orders-ns --probe""",
    "fix": """  # Show what would change, touching nothing
  {prog} fix -n orders-ns orders --dry-run=client

  # Create a pull Secret from a password on stdin and reference it
  {prog} fix -n orders-ns orders --secret ocr --docker-server container-registry.oracle.com \\
      --docker-username me@example.com --password-stdin < password.txt

  # Copy an existing pull Secret from another namespace, then restart the stuck pods
  {prog} fix -n orders-ns orders --copy-from hr-ns/ocr-credentials --restart --yes""",
    "rules": """  # The rule catalog
  {prog} rules

  # As JSON
  {prog} rules -o json""",
    "explain": """  # One rule by id or by name
  {prog} explain IA006
  {prog} explain serviceaccount-secrets-ignored""",
    "version": """  # The client's version
  {prog} version

  # With the server's, as JSON
  {prog} version --server -o json""",
}


def _examples(command: str, prog: str) -> str:
    return "Examples:\n" + EXAMPLES[command].format(prog=prog)
_SHORT_WITH_VALUE = ("-n", "-l", "-o", "-f", "-k", "-v")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (exit 2) instead of a usage dump."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # like kubectl: no prefix matching of long flags
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {redact_argument_values(message)} (see '{self.prog} --help')\n")
        raise SystemExit(ExitCode.ERROR)


def redact_argument_values(message: str) -> str:
    """A mistyped flag may carry a password: name unknown flags, never echo their values.

    `--password-stdin=PW` ("ignored explicit argument 'PW'"), `-pPW` (a short flag glued to its value) and
    `--flag=PW` all show `<value>` instead of what was typed.
    """
    message = re.sub(r"(--?[A-Za-z0-9][A-Za-z0-9-]*)=\S+", r"\1=<value>", message)
    message = re.sub(r"(ignored explicit argument) (['\"]).*\2", r"\1 <value>", message)
    prefix = "unrecognized arguments: "
    if message.startswith(prefix):
        words = [_flag_only(w) for w in message[len(prefix):].split()]
        message = prefix + " ".join(words)
    return safe(message)


def _flag_only(word: str) -> str:
    if word.startswith("--"):
        return word
    if word.startswith("-") and len(word) > 2:
        return word[:2] + "<value>"  # -pPW: a short flag with its value glued on
    return word if word.startswith("-") else "<value>"


def _duration(text: str) -> Optional[float]:
    """kubectl's --request-timeout: a Go duration (1m30s, 500ms, 1h2m3.5s), a bare number of seconds, 0 = none."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return None if value == 0 else value


def _level(text: str) -> int:
    try:
        return int(text.lstrip("="))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid level {text!r}") from None


MAX_PROBE_CONCURRENCY = 64  # parallel registry requests; more only opens connections a registry throttles

ASK_SERVER = "<ask the server>"  # `version --server` without a value: the contract's "also ask the cluster"


def _cluster_flags(p: argparse.ArgumentParser, hidden: bool = False, server_optional: bool = False) -> None:
    """The flags kubectl takes on every command (global: accepted before the subcommand too)."""
    def h(text: str) -> str:
        return argparse.SUPPRESS if hidden else text

    g = p.add_argument_group("cluster")
    g.add_argument("--kubeconfig", metavar="FILE", help=h("kubeconfig file (else $KUBECONFIG, ~/.kube/config, "
                                                          "in-cluster)"))
    g.add_argument("--context", metavar="NAME", action="append", default=None,
                   help=h("kubeconfig context (check: repeatable, one audit across several clusters)"))
    g.add_argument("--cluster", metavar="NAME", help=h("the kubeconfig cluster to use (instead of the context's)"))
    g.add_argument("--user", metavar="NAME", help=h("the kubeconfig user to use (instead of the context's)"))
    g.add_argument("-n", "--namespace", metavar="NS", help=h("namespace (else the context's, else default)"))
    g.add_argument("-A", "--all-namespaces", action="store_true", help=h("every namespace"))
    g.add_argument("-l", "--selector", metavar="SELECTOR", help=h("label selector on Domains"))
    g.add_argument("--timeout", type=_duration, default=DEFAULT_RUN_TIMEOUT, metavar="DURATION",
                   help=h("the whole run, every request and wait included (default 5m; 0 = none)"))
    g.add_argument("--request-timeout", type=_duration, default=None, metavar="DURATION",
                   help=h("per request, a Go duration: 30s, 1m30s, 500ms; 0 = none"))
    a = p.add_argument_group("authentication (as kubectl; laid over the kubeconfig)")
    if server_optional:
        a.add_argument("-s", "--server", nargs="?", const=ASK_SERVER, metavar="URL",
                       help=h("the API server's address; without a value: also show the server's version"))
    else:
        a.add_argument("-s", "--server", metavar="URL", help=h("the API server's address"))
    a.add_argument("--token", metavar="TOKEN", help=h("bearer token (visible to other users in the process "
                                                      "list: prefer a kubeconfig or its tokenFile)"))
    a.add_argument("--certificate-authority", metavar="FILE", help=h("CA bundle for the API server"))
    a.add_argument("--client-certificate", metavar="FILE", help=h("client certificate for TLS"))
    a.add_argument("--client-key", metavar="FILE", help=h("client key for TLS"))
    a.add_argument("--insecure-skip-tls-verify", action="store_true",
                   help=h("do not check the server's certificate (insecure)"))
    a.add_argument("--tls-server-name", metavar="NAME", help=h("server name to check the certificate for"))
    a.add_argument("--as", dest="as_user", metavar="USER", help=h("impersonate this user"))
    a.add_argument("--as-group", dest="as_group", action="append", default=[], metavar="GROUP",
                   help=h("impersonate this group (repeatable)"))
    a.add_argument("--as-uid", metavar="UID", help=h("impersonate this UID"))


def _common(p: argparse.ArgumentParser, hidden: bool = False) -> None:
    p.add_argument("-v", "--v", dest="verbosity", type=_level, default=0, metavar="LEVEL",
                   help=argparse.SUPPRESS if hidden else "diagnostics on stderr (never secret values)")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help=argparse.SUPPRESS if hidden else
                   "color the verdicts: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it)")


def build_parser(prog: Optional[str] = None) -> argparse.ArgumentParser:
    prog = prog or program_name()
    parser = _Parser(prog=prog, description="Can every pod of each WebLogic Domain pull every image it needs?",
                     epilog=_examples("", prog), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = sub.add_parser("check", help="audit Domains: can every pod pull every image?",
                           description="Audit Domains from a cluster or from manifests.")
    check.add_argument("domains", nargs="*", metavar="DOMAIN", help="Domain names (default: all in scope)")
    check.add_argument("-f", "--filename", action="append", default=[], metavar="PATH",
                       help="manifest file, directory or - (repeatable)")
    check.add_argument("-k", "--kustomize", action="append", default=[], metavar="DIR",
                       help="kustomization directory, rendered with kubectl kustomize (repeatable)")
    check.add_argument("--offline", action="store_true", help="never contact a cluster; only the files count")
    check.add_argument("-o", "--output", default="table", choices=FORMATS,
                       help="table (one row per Domain), wide (one row per image), name (failing Domains), "
                            "json, yaml, sarif, junit")
    check.add_argument("--output-file", action="append", default=[], type=output_file_type(FORMATS),
                       metavar="FORMAT=PATH", help="also write FORMAT to PATH from the same run (repeatable; "
                       "e.g. sarif=imgaccess.sarif); written whole or not at all")
    check.add_argument("--no-headers", action="store_true", help="table and wide: no header row")
    check.add_argument("--show", action="append", default=[], choices=SHOW_CHOICES,
                       help="table and wide: also list info findings one by one, suppressed ones, or those the "
                            "--baseline absorbed (repeatable)")
    check.add_argument("--fail-on", default=DEFAULT_FAIL_ON, choices=FAIL_ON,
                       help=f"lowest severity that fails the gate (default {DEFAULT_FAIL_ON})")
    check.add_argument("--config", metavar="FILE", help="registry knowledge and ignore rules")
    check.add_argument("--baseline", metavar="FILE",
                       help="a previous `check -o json` report: findings already in it do not fail the gate")
    check.add_argument("--require-domains", action="store_true",
                       help="a scope that holds no Domain is an error (exit 2), not a pass")
    check.add_argument("--no-annotation-ignores", action="store_true",
                       help=f"Domains cannot suppress their own findings with the {IGNORE_ANNOTATION} annotation")
    check.add_argument("--cloud", choices=CLOUD_CHOICES, default=None,
                       help="the cloud the nodes run on (default: from the nodes' spec.providerID; offline: "
                            "unknown): its registry is served by the kubelet's credential provider")
    check.add_argument("--all-contexts", action="store_true",
                       help="audit every context of the kubeconfig (clusters read concurrently)")
    check.add_argument("--write-reports", action="store_true",
                       help="create or update a PolicyReport kubectl-imgaccess per namespace in the cluster(s) read")
    check.add_argument("--probe", action="store_true", help="ask the registries whether the credentials pull")
    check.add_argument("--registry-ca", metavar="FILE", help="extra CA bundle for --probe")
    check.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                       help="probe this registry over plain http (repeatable)")
    check.add_argument("--probe-concurrency", type=int, default=8, metavar="N", help="parallel probes (default 8)")
    _cluster_flags(check)
    _common(check)

    rules = sub.add_parser("rules", help="the rule catalog")
    rules.add_argument("-o", "--output", default="table", choices=("table", "json", "yaml"))
    explain = sub.add_parser("explain", help="one rule: what it means, why, how to fix")
    explain.add_argument("rule", metavar="RULE", help="rule id or name")
    for p in (rules, explain):  # kubectl's global flags are accepted by every command
        _cluster_flags(p, hidden=True)
        _common(p, hidden=True)
    version = sub.add_parser("version", help="client version (and the cluster's with --server)")
    version.add_argument("-o", "--output", choices=("json", "yaml"), default=None,
                         help="json or yaml (clientVersion, and serverVersion with --server)")
    _cluster_flags(version, server_optional=True)
    _common(version)
    _fix(sub)
    for name, command in sub.choices.items():
        if name in EXAMPLES:
            command.epilog = _examples(name, prog)
            command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def global_flags_parser() -> argparse.ArgumentParser:
    """A parser with only kubectl's global flags (those accepted before the subcommand too)."""
    template = _Parser(add_help=False)
    _cluster_flags(template)
    _common(template)
    return template


def _global_flags() -> Dict[str, bool]:
    """kubectl's global flags (option string -> takes a value), from the one place that defines them."""
    return {o: a.nargs != 0 for a in global_flags_parser()._actions for o in a.option_strings}


def _boolean_flags(parser: argparse.ArgumentParser) -> Set[str]:
    """Every store_true long flag of every command (pflag also takes `--flag=true|false` for those)."""
    found: Set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                found |= _boolean_flags(command)
        elif isinstance(action, argparse._StoreTrueAction):
            found |= {o for o in action.option_strings if o.startswith("--")}
    return found


def hoist_global_flags(argv: Sequence[str], commands: Sequence[str]) -> List[str]:
    """`--context prod check`, `-A check` -> `check --context prod`, `check -A`: kubectl takes global flags
    before the subcommand too; argparse wants them after it. Anything else is left for argparse to judge."""
    flags = _global_flags()
    moved: List[str] = []
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] not in ("-", "--"):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        glued = False
        if name not in flags and not arg.startswith("--") and arg[:2] in flags:
            name, glued = arg[:2], True  # -nprod, -v6
        if name not in flags:
            return list(argv)
        takes_value = flags[name] and "=" not in arg and not glued
        moved.extend(argv[i:i + 2] if takes_value else [arg])
        i += 2 if takes_value else 1
    if moved and i < len(argv) and argv[i] in commands:
        return [argv[i], *moved, *argv[i + 1:]]
    return list(argv)


def _fix(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "fix", help="plan, show and apply the fixes for what check reports",
        description="Plan the changes that let every pod of each Domain pull its images, show them with "
                    "diffs (Secret values redacted), and apply them. Never deletes an object or a list entry.")
    p.add_argument("domains", nargs="*", metavar="DOMAIN", help="Domain names (default: all in scope)")
    files = p.add_argument_group("manifest files (a repository) instead of a cluster")
    files.add_argument("-f", "--filename", action="append", default=[], metavar="PATH",
                       help="manifest file or directory to plan against and edit (repeatable; needs --offline)")
    files.add_argument("--offline", action="store_true", help="never contact a cluster; only the files count")
    files.add_argument("--write", action="store_true",
                       help="apply the edits to the files (default: print the diff only)")
    p.add_argument("--strategy", choices=("auto", "domain", "serviceaccount"), default="auto",
                   help="where a credential is referenced (default auto)")
    creds = p.add_argument_group("credentials to create when none exists")
    creds.add_argument("--secret", metavar="NAME", help="name of the pull Secret to create")
    creds.add_argument("--docker-server", metavar="SERVER",
                       help="registry (default https://index.docker.io/v1/, as kubectl)")
    creds.add_argument("--docker-username", metavar="USER")
    creds.add_argument("--docker-email", metavar="EMAIL")
    creds.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    creds.add_argument("--password-file", metavar="FILE", help="read the password from a file")
    creds.add_argument("--docker-password", "--password", dest="argv_password", help=argparse.SUPPRESS)
    creds.add_argument("--from-docker-config", metavar="FILE",
                       help="copy the entries of a docker config.json that match the images")
    creds.add_argument("--copy-from", metavar="NAMESPACE/NAME", help="copy an existing pull Secret")
    p.add_argument("--dry-run", choices=("none", "client", "server"), default="none",
                   help="client: show the plan only; server: send every write with dryRun=All")
    p.add_argument("-y", "--yes", action="store_true", help="apply without asking")
    p.add_argument("--restart", action="store_true",
                   help="bump spec.restartVersion (spec.introspectVersion) so stuck pods are created again")
    p.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    p.add_argument("--config", metavar="FILE", help="registry knowledge and ignore rules")
    p.add_argument("--cloud", choices=CLOUD_CHOICES, default=None,
                   help="the cloud the nodes run on (default: from the nodes' spec.providerID)")
    _cluster_flags(p)
    _common(p)


def normalize_argv(argv: Sequence[str], parser: Optional[argparse.ArgumentParser] = None) -> List[str]:
    """kubectl's spellings argparse does not know: `-n=ns` / `-v=6` (argparse would read '=ns'),
    `--all-namespaces=true|false` (pflag booleans), and global flags before the subcommand."""
    booleans = _boolean_flags(parser) if parser is not None else set()
    out: List[str] = []
    for n, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[n:])
            break
        name, eq, value = arg.partition("=")
        if len(arg) > 3 and arg[:2] in _SHORT_WITH_VALUE and arg[2] == "=":
            out.extend([arg[:2], arg[3:]])
        elif eq and name in booleans and value.lower() in ("true", "false", "1", "0", "t", "f"):
            if value.lower() in ("true", "1", "t"):
                out.append(name)
        else:
            out.append(arg)
    if parser is not None:
        commands = [c for a in parser._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices]
        out = hoist_global_flags(out, commands)
    return out


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def use_color(stream: IO[str], mode: str = "auto", env: Optional[Mapping[str, str]] = None) -> bool:
    """--color always|never decide; auto: NO_COLOR (non-empty) off, FORCE_COLOR (non-empty, not 0) on,
    TERM=dumb off, else on only for a terminal."""
    if mode != "auto":
        return mode == "always"
    env = os.environ if env is None else env
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR") and env.get("FORCE_COLOR") != "0":
        return True
    return env.get("TERM") != "dumb" and _isatty(stream)


def show_progress(output: str, verbosity: int, stdout: Optional[IO[str]] = None,
                  stderr: Optional[IO[str]] = None) -> bool:
    """A progress line on stderr only when it is a terminal, never under -v (its lines would tear it) and
    never when a machine format goes to a pipe or file (a script is reading; nobody is watching)."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    if verbosity > 0 or not _isatty(stderr):
        return False
    return output in ("table", "wide") or _isatty(stdout)


def terminal_width(stream: IO[str], env: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """The columns to fit when stream is a terminal ($COLUMNS first, as shells export it), else None."""
    if not _isatty(stream):
        return None
    env = os.environ if env is None else env
    columns = (env.get("COLUMNS") or "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


def contexts_of(args: argparse.Namespace) -> List[str]:
    """The distinct --context values, in the order given."""
    return list(dict.fromkeys(getattr(args, "context", None) or []))


def scope_from(args: argparse.Namespace) -> ClusterScope:
    """The cluster and authentication flags as the readers and the writer take them: one cluster. Several
    --context values are check's alone (cli.check reads them with contexts_of); the last one is the scope's."""
    contexts = contexts_of(args)
    command = getattr(args, "command", None)
    if len(contexts) > 1 and command != "check":
        what = "fix plans and writes against one cluster at a time" if command == "fix" else \
            f"{command or 'this command'} works on one cluster"
        raise UsageError(f"--context given {len(contexts)} times ({', '.join(contexts)}): {what}; "
                         "run it once per context")
    if args.token:
        remember_secret(args.token)
    if (args.as_group or args.as_uid) and not args.as_user:
        raise UsageError("--as-group and --as-uid need --as USER (impersonating a user)")
    server = None if args.server == ASK_SERVER else args.server
    auth = AuthOverrides(
        cluster=args.cluster, user=args.user, server=server, certificate_authority=args.certificate_authority,
        client_certificate=args.client_certificate, client_key=args.client_key, token=args.token,
        insecure_skip_tls_verify=args.insecure_skip_tls_verify, tls_server_name=args.tls_server_name,
        as_user=args.as_user, as_groups=tuple(args.as_group), as_uid=args.as_uid,
    )
    return ClusterScope(
        kubeconfig=args.kubeconfig, context=(args.context or [None])[-1], namespace=args.namespace,
        all_namespaces=args.all_namespaces, selector=args.selector,
        domains=list(getattr(args, "domains", []) or []), request_timeout=args.request_timeout,
        verbosity=getattr(args, "verbosity", 0), auth=auth,
    )
