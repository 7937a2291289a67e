"""Optimistic concurrency, the way the API server asks for it: read, compute the change from what was read,
write it with what was read (resourceVersion, a JSON patch `test`); when the object changed or appeared
meanwhile (Conflict, AlreadyExists), read it again and start over. One loop for every writer (fix, the
PolicyReports of check --write-reports)."""

from __future__ import annotations

import logging
from typing import Callable, Optional, TypeVar

from kubectl_imgaccess.errors import AlreadyExists, Conflict

T = TypeVar("T")
S = TypeVar("S")


def read_modify_write(read: Callable[[], Optional[S]], change: Callable[[Optional[S]], T], tries: int, what: str,
                      log: logging.Logger, *, first: Optional[Callable[[], Optional[S]]] = None) -> Optional[T]:
    """`change(read())`, read again and changed again after each Conflict or AlreadyExists, at most `tries`
    times in all; None when every try met a change made meanwhile (the caller says what to do). `what` names
    the object in the caller's log. first: where the first try's object comes from, when the caller already
    holds it (a LIST's item)."""
    current = (first or read)()
    for attempt in range(1, tries + 1):
        try:
            return change(current)
        except (Conflict, AlreadyExists) as exc:
            log.info("%s %s meanwhile (try %d): reading it again", what,
                     "appeared" if isinstance(exc, AlreadyExists) else "changed", attempt)
        if attempt < tries:
            current = read()
    return None
