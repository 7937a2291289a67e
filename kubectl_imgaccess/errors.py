"""The project's own exceptions: user-facing errors carry one line that names what is at fault.

Anything that is not an `ImgaccessError` is a bug and is reported as such (traceback only at -v 6+).
"""

from __future__ import annotations

from typing import Optional

from kubectl_imgaccess.exitcodes import ExitCode


class ImgaccessError(Exception):
    """An error the user can act on; `str()` is the one-line message. Never holds a secret value."""

    exit_code: ExitCode = ExitCode.ERROR


class UsageError(ImgaccessError):
    """Bad flags or arguments."""


class InputError(ImgaccessError):
    """Unreadable or invalid input; names the file and line when known."""

    def __init__(self, message: str, file: Optional[str] = None, line: Optional[int] = None) -> None:
        self.file = file
        self.line = line
        where = ""
        if file is not None:
            where = f"{file}:{line}: " if line is not None else f"{file}: "
        super().__init__(f"{where}{message}")


class ClusterError(ImgaccessError):
    """The cluster could not be reached or refused us (unreachable, 401, TLS, timeouts)."""


class FixRefused(ImgaccessError):
    """fix will not act (unsafe, aborted, or no terminal and no --yes)."""
