"""`kubectl_complete-imgaccess ARGS... PARTIAL`: TAB completion through kubectl's plugin completion.

kubectl (1.26+) runs this executable when the user presses TAB after `kubectl imgaccess`, passing the words
typed so far and the word being completed (maybe ""). It prints one candidate a line (`value<TAB>help`
where there is help) and a last line with cobra's directive: `:4` no file completion, `:0` files make sense.

Every static candidate (commands, flags, choices such as `-o` values, rule ids, kubeconfig contexts) is read
from the command parser and the rule catalog, so nothing is listed twice; nothing here imports the
Kubernetes client. Namespaces after `-n` and Domain names as arguments come from the cluster (honouring
`--kubeconfig`, `--context` and KUBECONFIG as typed): that lookup gives up after LOOKUP_SECONDS and then
prints no candidate at all, and never writes to stderr. Imports are lazy here (a seam of the import
contract): YAML and the cluster reader load only for the candidates that need them, so a TAB stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from kubectl_imgaccess.catalog import RULES
from kubectl_imgaccess.cli.flags import build_parser, global_flags_parser, normalize_argv, scope_from
from kubectl_imgaccess.errors import ImgaccessError
from kubectl_imgaccess.kube.scope import ClusterScope

LOOKUP_SECONDS = 2.0
NO_FILES = ":4"  # cobra's ShellCompDirectiveNoFileComp
FILES = ":0"  # cobra's ShellCompDirectiveDefault: the shell completes file names
FILE_METAVARS = frozenset({"FILE", "PATH", "DIR"})

Candidate = Tuple[str, str]  # value, help


@dataclass
class _State:
    """What the typed words say: the command's parser and the values given to its options so far."""

    parser: argparse.ArgumentParser
    command: Optional[str] = None
    values: Dict[str, List[str]] = field(default_factory=dict)
    flags: List[str] = field(default_factory=list)
    positionals: List[str] = field(default_factory=list)
    pending: Optional[argparse.Action] = None  # the option whose value is being typed
    pending_inline: bool = False  # ... as --option=PARTIAL (the option is not among the words)
    words: List[str] = field(default_factory=list)


def _subcommands(parser: argparse.ArgumentParser) -> Dict[str, Tuple[argparse.ArgumentParser, str]]:
    out: Dict[str, Tuple[argparse.ArgumentParser, str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out[name] = (sub, helps.get(name, ""))
    return out


def _options(parser: argparse.ArgumentParser) -> Dict[str, argparse.Action]:
    return {s: a for a in parser._actions for s in a.option_strings}


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _scan(words: Sequence[str]) -> _State:
    state = _State(build_parser(), words=list(words))
    options = {**_options(global_flags_parser()), **_options(state.parser)}  # global flags before the command
    for word in words:
        if state.pending is not None:
            state.values.setdefault(state.pending.dest, []).append(word)
            state.pending = None
            continue
        if word.startswith("-") and word != "-":
            name, eq, value = word.partition("=")
            action = options.get(name)
            if action is None and not word.startswith("--") and len(word) > 2:
                action = options.get(word[:2])  # -nNAMESPACE
                if action is not None and _takes_value(action):
                    name, eq, value = word[:2], "=", word[2:]
            if action is None:
                continue
            state.flags.append(name)
            if eq:
                state.values.setdefault(action.dest, []).append(value)
            elif _takes_value(action):
                state.pending = action
            else:
                state.values.setdefault(action.dest, []).append("")
            continue
        if state.command is None:
            sub = _subcommands(state.parser).get(word)
            if sub is not None:
                state.command, state.parser = word, sub[0]
                options = _options(state.parser)
                continue
        state.positionals.append(word)
    return state


def _flag_candidates(state: _State) -> List[Candidate]:
    out: List[Candidate] = []
    for action in state.parser._actions:
        if action.help == argparse.SUPPRESS or not action.option_strings:
            continue
        repeatable = isinstance(action, (argparse._AppendAction, argparse._CountAction))
        if not repeatable and any(s in state.flags for s in action.option_strings):
            continue
        for option in action.option_strings:
            out.append((option, action.help or ""))
    return out


def _contexts(state: _State) -> List[Candidate]:
    """Context names from the kubeconfig files kubectl would read (no cluster call, no client import)."""
    import yaml

    paths = _kubeconfig_paths(state)
    seen: Dict[str, str] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        entries = doc.get("contexts") if isinstance(doc, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                ctx = entry.get("context")
                cluster = ctx.get("cluster") if isinstance(ctx, dict) else None
                seen.setdefault(entry["name"], f"cluster {cluster}" if cluster else "")
    return sorted(seen.items())


def _kubeconfig_paths(state: _State) -> List[str]:
    given = state.values.get("kubeconfig")
    if given:
        return [os.path.expanduser(given[-1])]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [os.path.expanduser(p) for p in env.split(os.pathsep) if p]
    return [os.path.expanduser(os.path.join("~", ".kube", "config"))]


def _scope(state: _State) -> Optional[ClusterScope]:
    """The cluster scope the typed words ask for, read by the command's own parser (every kubectl flag it
    knows: --kubeconfig, --context, --cluster, --user, --server, --token, -n, -A, -l ...)."""
    parser = build_parser()
    words = state.words[:-1] if state.pending is not None and not state.pending_inline else state.words
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            args, _ = parser.parse_known_args(normalize_argv(words, parser))
        except SystemExit:
            return None  # words the command would refuse: no lookup
    try:
        scope: ClusterScope = scope_from(args)
    except ImgaccessError:
        return None
    scope.request_timeout = LOOKUP_SECONDS
    return scope


def _from_cluster(lookup: Callable[[ClusterScope], List[str]], state: _State) -> List[Candidate]:
    """Names from the cluster, or none when it does not answer within LOOKUP_SECONDS."""
    from kubectl_imgaccess.kube.client import load_library

    scope = _scope(state)
    if scope is None:
        return []
    load_library()  # imports are not the cluster's answer: LOOKUP_SECONDS starts after them
    found: List[str] = []

    def work() -> None:
        try:
            found.extend(lookup(scope))
        except BaseException:  # completion prints nothing on any failure
            found.clear()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(LOOKUP_SECONDS)
    if worker.is_alive():
        raise _GaveUp
    return [(name, "") for name in sorted(set(found))]


class _GaveUp(Exception):
    """The cluster lookup is still running: print no candidate and leave without waiting for it."""


def _namespaces(state: _State) -> List[Candidate]:
    from kubectl_imgaccess.kube.reader import namespace_names

    return _from_cluster(namespace_names, state)


def _domains(state: _State) -> List[Candidate]:
    from kubectl_imgaccess.kube.reader import domain_names

    return _from_cluster(domain_names, state)


def _rules(state: _State) -> List[Candidate]:
    return [(rule.id, rule.name) for rule in RULES]


# Option and argument destinations whose values are names rather than free text or files.
_VALUES: Dict[str, Callable[[_State], List[Candidate]]] = {
    "namespace": _namespaces,
    "context": _contexts,
    "domains": _domains,
    "rule": _rules,
}


def _value_candidates(action: argparse.Action, state: _State) -> Tuple[List[Candidate], str]:
    if action.choices:
        return [(str(c), "") for c in action.choices], NO_FILES
    if action.dest in _VALUES:
        return _VALUES[action.dest](state), NO_FILES
    if str(action.metavar or "").upper() in FILE_METAVARS:
        return [], FILES
    return [], NO_FILES


def _positional(state: _State) -> Optional[argparse.Action]:
    used = len(state.positionals)
    for action in state.parser._actions:
        if action.option_strings or isinstance(action, argparse._SubParsersAction):
            continue
        if action.nargs in ("*", "+", argparse.REMAINDER):
            return action
        count = 1 if action.nargs is None or action.nargs == "?" else int(action.nargs)
        if used < count:
            return action
        used -= count
    return None


def candidates(args: Sequence[str]) -> Tuple[List[Candidate], str]:
    """The candidates and the directive for `kubectl imgaccess ARGS[:-1] <TAB>` (ARGS[-1] = partial)."""
    words, partial = list(args[:-1]), (args[-1] if args else "")
    state = _scan(words)
    prefix = ""
    if state.pending is not None:
        found, directive = _value_candidates(state.pending, state)
    elif partial.startswith("-") and "=" in partial:
        name, _, partial = partial.partition("=")
        action = _options(state.parser).get(name)
        if action is None or not _takes_value(action):
            return [], NO_FILES
        prefix = name + "="
        state.pending, state.pending_inline = action, True
        found, directive = _value_candidates(action, state)
    elif partial.startswith("-"):
        found, directive = _flag_candidates(state), NO_FILES
    elif state.command is None:
        found = [(name, help) for name, (_, help) in _subcommands(state.parser).items()]
        directive = NO_FILES
    else:
        action = _positional(state)
        if action is None:
            return [], NO_FILES
        found, directive = _value_candidates(action, state)
        if action.dest == "domains":
            given = set(state.positionals)
            found = [c for c in found if c[0] not in given]
    return [(prefix + v, h) for v, h in found if v.startswith(partial)], directive


def _line(value: str, help: str) -> str:
    text = value + ("\t" + " ".join(help.split()) if help else "")
    return "".join(ch for ch in text if ch == "\t" or ch.isprintable())


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    logging.disable(logging.CRITICAL)  # a completion never writes diagnostics into the user's prompt
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - exec plugins must not prompt on TAB
    out = sys.stdout
    try:
        found, directive = candidates(args)
    except _GaveUp:
        out.write(NO_FILES + "\n")
        out.flush()
        os._exit(0)  # the lookup thread may be stuck in a socket: do not wait for it
    except Exception:  # TAB must never show a traceback
        found, directive = [], NO_FILES
    for value, help in found:
        out.write(_line(value, help) + "\n")
    out.write(directive + "\n")
    return 0
