"""Command line: parse (cli.flags), set up logging, run one command's use case, map errors to exit codes.

Nothing here imports `kubernetes`; a command's use case is imported only when it runs (`_command`).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

from kubectl_imgaccess.cli.flags import build_parser, normalize_argv
from kubectl_imgaccess.deadline import start_run
from kubectl_imgaccess.errors import ImgaccessError
from kubectl_imgaccess.exitcodes import ExitCode
from kubectl_imgaccess.text import safe

log = logging.getLogger("kubectl_imgaccess")
Command = Callable[[argparse.Namespace], int]


class _SafeFormatter(logging.Formatter):
    """Every diagnostic line is redacted and escaped, tracebacks included (one line per record)."""

    def format(self, record: logging.LogRecord) -> str:
        return safe(super().format(record), multiline=True)


def _setup_logging(verbosity: int) -> None:
    """-v raises only the project's own loggers: the client libraries log bodies (Secrets) at debug level."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity < 4 else logging.DEBUG
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_SafeFormatter("%(levelname).1s %(name)s: %(message)s"))
    log.setLevel(level)


def _traceback() -> None:
    """The current exception's traceback (-v 6 and up), redacted and escaped like every other line."""
    sys.stderr.write(safe(traceback.format_exc(), multiline=True))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args_list = normalize_argv(sys.argv[1:] if argv is None else argv, parser)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:
        return int(exc.code or 0)
    verbosity = getattr(args, "verbosity", 0)
    with _logging(verbosity), _on_sigterm():
        return _dispatch(parser, args, verbosity)


class _Terminated(BaseException):
    """SIGTERM arrived: stop where we are (BaseException, so no `except Exception` swallows it)."""


@contextlib.contextmanager
def _on_sigterm() -> Iterator[None]:
    """SIGTERM ends the run with ExitCode.TERMINATED; the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stdout_gone() -> int:
    """The reader of stdout went away: never report success (the verdict was not delivered), and point stdout at
    /dev/null so that the interpreter's last flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return ExitCode.BROKEN_PIPE


@contextlib.contextmanager
def _logging(verbosity: int) -> Iterator[None]:
    """The run's logging; afterwards a caller in the same process (a test, an embedding) finds its own as it was:
    the project logger's and the root logger's levels, the root handlers and their formatters."""
    root = logging.getLogger()
    level, root_level, handlers = log.level, root.level, list(root.handlers)
    formatters = [h.formatter for h in handlers]
    _setup_logging(verbosity)
    try:
        yield
    finally:
        log.setLevel(level)
        root.setLevel(root_level)
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler, formatter in zip(handlers, formatters):
            handler.setFormatter(formatter)


@contextlib.contextmanager
def _no_full_collections() -> Iterator[None]:
    """A command reads, audits and writes JSON values and records of them, which form no reference cycles:
    reference counting frees them, and a full cyclic collection, which walks every object alive again, finds
    nothing in them (at 12,000 Domains 16 of them took 5.2 s of the run, growing faster than the cluster).
    For the command, full collections wait; the young generations are collected as always. Set once for the
    process, here, and put back after the command, also when it fails (several contexts are read on threads,
    which must not set it each)."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, 2**31 - 1)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace, verbosity: int) -> int:
    start_run(getattr(args, "timeout", None))  # commands without cluster flags have no deadline
    try:
        if args.command is None:
            parser.print_help()
            return ExitCode.OK
        with _no_full_collections():
            return int(_command(args.command)(args))
    except ImgaccessError as exc:
        if verbosity >= 6:
            _traceback()
        sys.stderr.write(f"error: {safe(exc)}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:  # Ctrl-C outside the readers (which say what they did not read)
        sys.stderr.write("error: interrupted before the run finished\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return _stdout_gone()
    except _Terminated:
        sys.stderr.write("error: terminated\n")
        return ExitCode.TERMINATED
    except Exception as exc:  # a bug: say so without dumping internals unless asked
        if verbosity >= 6:
            _traceback()
        sys.stderr.write(f"error: internal error ({type(exc).__name__}); run with -v 6 for details\n")
        return ExitCode.ERROR


def _command(name: str) -> Command:
    """The command line's one lazy seam: a command's use case (and with it the audit, the readers, the
    renderers and their libraries) is imported only when that command runs, so `--help` starts without it
    (`make bench` measures the start-up)."""
    if name == "check":
        from kubectl_imgaccess.cli.check import command as check

        return check
    if name == "fix":
        from kubectl_imgaccess.cli.fix import run_fix

        return run_fix
    from kubectl_imgaccess.cli import info

    commands: Dict[str, Command] = {"rules": info.rules, "explain": info.explain, "version": info.version}
    return commands[name]
