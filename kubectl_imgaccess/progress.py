"""Progress on stderr for long runs: one line rewritten in place, cleared when the work is done.

The CLI decides whether there is one at all (stderr a terminal; not for a machine format to a pipe; not with
-v, whose lines would tear it); the layers below report to it when given one. Nothing is shown for the
first half second, so a quick run prints nothing; then at most ten updates a second. The line is cut to the
terminal's width so that `\\r` always returns to its start. Thread-safe: the reader lists concurrently.
"""

from __future__ import annotations

import os
import threading
import time
from typing import IO, Callable, Dict

DELAY = 0.5  # seconds before the first line
INTERVAL = 0.1  # seconds between updates


class Progress:
    def __init__(self, stream: IO[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()
        self._start = clock()
        self._last = 0.0
        self._shown = False
        self._title = ""
        self._counts: Dict[str, int] = {}

    def count(self, title: str, what: str, n: int) -> None:
        """Add n to the tally of `what` under `title`: `reading the cluster: 1500 Pod, 12 Secret`."""
        with self._lock:
            if title != self._title:
                self._title, self._counts = title, {}
            self._counts[what] = self._counts.get(what, 0) + n
            text = f"{title}: " + ", ".join(f"{v} {k}" for k, v in self._counts.items())
            self._show(text)

    def step(self, title: str, done: int, total: int) -> None:
        """`probing registries: 3/12`."""
        with self._lock:
            self._title, self._counts = title, {}
            self._show(f"{title}: {done}/{total}", force=done == total)

    def finish(self) -> None:
        """Clear the line (before the report is printed)."""
        with self._lock:
            if self._shown:
                self._stream.write("\r\x1b[K")
                self._stream.flush()
                self._shown = False
            self._title, self._counts = "", {}

    def _show(self, text: str, force: bool = False) -> None:
        now = self._clock()
        if now - self._start < DELAY or (not force and now - self._last < INTERVAL):
            return
        self._last = now
        try:
            width = os.get_terminal_size(self._stream.fileno()).columns or 80  # 0: a terminal of unknown size
        except (OSError, ValueError, AttributeError):
            width = 80
        self._stream.write("\r" + text[:max(width - 1, 10)] + "\x1b[K")
        self._stream.flush()
        self._shown = True
