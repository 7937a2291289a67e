"""The contract's exit codes, named once."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # evaluated completely; nothing at or above --fail-on
    GATE_FAILED = 1  # at least one finding at or above --fail-on
    ERROR = 2  # could not evaluate or act: bad flags or input, cluster unreachable, refused
    INCOMPLETE = 3  # evaluated, gate not failed, but some objects could not be read (IA017)
    # Ended before its verdict was written, the shell's way (128 + signal number); never 0 and never 1, so a
    # pipeline cannot mistake them for a pass or a gate failure.
    INTERRUPTED = 130  # Ctrl-C (SIGINT): stopped at once, nothing more read or written
    BROKEN_PIPE = 141  # the reader of stdout went away (SIGPIPE: `check ... | head`)
    TERMINATED = 143  # SIGTERM (a CI job cancelled, a pod stopped)


def for_outcome(gate_failed: bool, incomplete: bool) -> ExitCode:
    """The one place an audit's outcome becomes an exit code."""
    if gate_failed:
        return ExitCode.GATE_FAILED
    if incomplete:
        return ExitCode.INCOMPLETE
    return ExitCode.OK
