"""Several outputs from one run: `-o FORMAT` to stdout and `--output-file FORMAT=PATH` (repeatable).

A file is written whole or not at all: the text goes to a temporary file in the same directory, is flushed to
disk, then renamed over PATH (atomic on POSIX and Windows). An error or Ctrl-C at any point leaves PATH as it
was and removes the temporary file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from typing import IO, Callable, Sequence, Tuple, Union

from kubectl_imgaccess.errors import OutputError, UsageError

OutputFile = Tuple[str, str]  # (format, path)


def output_file_type(formats: Sequence[str]) -> Callable[[str], OutputFile]:
    """The argparse type of --output-file: FORMAT=PATH with FORMAT one of formats."""

    def parse(text: str) -> OutputFile:
        fmt, eq, path = text.partition("=")
        if not eq or not path:
            raise argparse.ArgumentTypeError(f"{text!r}: use FORMAT=PATH, e.g. sarif=imgaccess.sarif")
        if fmt not in formats:
            raise argparse.ArgumentTypeError(f"{fmt!r} is not a format: use one of {', '.join(formats)}")
        if path == "-":
            raise argparse.ArgumentTypeError("PATH - is stdout: use -o for that")
        return fmt, path

    return parse


def check_destinations(files: Sequence[OutputFile]) -> None:
    """Before any work: each PATH named once, in a directory that exists and can be written."""
    seen = set()
    for fmt, path in files:
        real = os.path.realpath(path)
        if real in seen:
            raise UsageError(f"--output-file {fmt}={path}: that file is already written by another --output-file")
        seen.add(real)
        directory = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise UsageError(f"--output-file {fmt}={path}: is a directory")
        if not os.path.isdir(directory):
            raise UsageError(f"--output-file {fmt}={path}: no such directory {directory}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UsageError(f"--output-file {fmt}={path}: cannot write in {directory}")


def write_atomically(path: str, text: Union[str, Callable[[IO[str]], None]]) -> None:
    """Replace path with text (or what the callable writes to the file), whole or not at all (see the module's
    docstring)."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    tmp = ""
    for n in range(100):
        candidate = os.path.join(directory, f".{base}.{os.getpid()}.{n}.tmp")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"--output-file {path}: {exc.strerror or 'cannot write'}") from None
        tmp = candidate
        break
    else:
        raise OutputError(f"--output-file {path}: cannot create a temporary file in {directory}")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            if isinstance(text, str):
                fh.write(text)
            else:
                text(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"--output-file {path}: {exc.strerror or 'cannot write'}") from None
        raise
