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


class OutputError(ImgaccessError):
    """An --output-file cannot be written (the file named is left as it was)."""



class ApiError(ClusterError):
    """The API server answered with an error status. kube.client maps each response to one subclass, once;
    callers catch the subclass by name and never compare status codes."""

    def __init__(self, server: str, status: int, message: str = "", reason: str = "Error") -> None:
        self.server = server
        self.status = status
        self.reason = reason  # the HTTP reason phrase, e.g. "Not Found"
        self.detail = message
        text = f"{server}: {status} {reason}"
        super().__init__(f"{text}: {message}" if message else text)


class BadRequest(ApiError):
    """400."""


class Unauthorized(ApiError):
    """401: the credentials of the context were refused."""


class Forbidden(ApiError):
    """403: RBAC refused the request."""


class NotFound(ApiError):
    """404: no such object, or the API (a CRD) is not served."""


class Conflict(ApiError):
    """409: the object changed since it was read (also a failed JSON patch `test`, which the server
    answers with 422)."""


class AlreadyExists(Conflict):
    """409 with reason AlreadyExists: a create found an object of that name."""


class Gone(ApiError):
    """410: a list's continue token outlived the snapshot behind it."""


class Invalid(ApiError):
    """422: the server refused the object or patch as invalid."""


class TooManyRequests(ApiError):
    """429."""


class ServerError(ApiError):
    """5xx."""
