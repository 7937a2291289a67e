"""Time limits: the run's overall deadline (--timeout), each request's whole deadline (--request-timeout),
bounded body reads, and work on daemon threads that Ctrl-C never has to wait for.

One clock (monotonic). A request's deadline is the earlier of `--request-timeout` from its start and the
run's deadline; it covers connecting, TLS, headers, the whole body and every retry of that request. A
wait (Retry-After, back-off) that would end past it is not taken. Reading a body checks the clock between
chunks, so a server that trickles bytes cannot hold a request past its deadline.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Dict, Generic, Hashable, List, Mapping, Optional, Tuple, TypeVar

from kubectl_imgaccess.errors import ImgaccessError
from kubectl_imgaccess.exitcodes import ExitCode

DEFAULT_RUN_TIMEOUT = 300.0  # --timeout default: 5 minutes for a whole run
MAX_WAIT = 86400.0  # longer limits are treated as this (a day): sockets and threads take no larger values
_CHUNK = 64 * 1024


def describe(seconds: float) -> str:
    """A duration as the flags write it: 300 -> 5m0s, 2.5 -> 2.5s."""
    if seconds < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + f"{minutes}m{rest}s"


class RunTimeout(ImgaccessError):
    """The run's --timeout passed; the message says what was not done."""


class Interrupted(ImgaccessError):
    """Ctrl-C: stopped at once; the message says what was not read or done."""

    exit_code = ExitCode.INTERRUPTED


class Deadline:
    """A point in time (None: none), and whether it is the run's own (--timeout) or a request's."""

    def __init__(self, at: Optional[float], seconds: Optional[float], is_run: bool) -> None:
        self.at = at
        self.seconds = seconds
        self.is_run = is_run

    @classmethod
    def after(cls, seconds: Optional[float], is_run: bool = False) -> Deadline:
        if seconds is None or seconds <= 0:
            return cls(None, None, is_run)
        seconds = min(seconds, MAX_WAIT)
        return cls(time.monotonic() + seconds, seconds, is_run)

    def remaining(self) -> Optional[float]:
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        left = self.remaining()
        return left is not None and left <= 0

    def allows(self, delay: float) -> bool:
        """Whether waiting `delay` seconds still ends before the deadline."""
        left = self.remaining()
        return left is None or delay < left

    def socket_timeout(self) -> Optional[float]:
        """What one socket operation may wait: the time left (at least a little), None when unlimited."""
        left = self.remaining()
        return None if left is None else max(0.001, min(left, MAX_WAIT))


_run = Deadline(None, None, True)
_run_lock = threading.Lock()


def start_run(seconds: Optional[float]) -> Deadline:
    """Set the run's deadline (None or 0: none) from now; every request made after this honours it."""
    global _run
    with _run_lock:
        _run = Deadline.after(seconds, is_run=True)
        return _run


def run_deadline() -> Deadline:
    return _run


def run_timeout_error(what: str = "") -> RunTimeout:
    shown = describe(_run.seconds) if _run.seconds is not None else "its time limit"
    return RunTimeout(f"the run did not finish within {shown} (--timeout)" + (f"; {what}" if what else ""))


def for_request(request_timeout: Optional[float]) -> Deadline:
    """A request's deadline: --request-timeout from now, or the run's when that comes first."""
    own = Deadline.after(request_timeout)
    run = _run
    if run.at is not None and (own.at is None or run.at <= own.at):
        return run
    return own


def read_body(response: Any, deadline: Deadline, limit: Optional[int] = None) -> bytes:
    """A urllib3 response's body, read in chunks with the clock checked between them; raises TimeoutError
    when the deadline passes first (however slowly the bytes arrive). `limit`: read at most this much."""
    chunks: List[bytes] = []
    size = 0
    sock = getattr(getattr(response, "connection", None), "sock", None)
    while limit is None or size < limit:
        if deadline.expired():
            raise TimeoutError("the body did not arrive before the deadline")
        if sock is not None:
            try:
                sock.settimeout(deadline.socket_timeout())
            except OSError:
                sock = None
        want = _CHUNK if limit is None else min(_CHUNK, limit - size)
        chunk = response.read1(want) if hasattr(response, "read1") else response.read(want)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Unfinished(Exception, Generic[K]):
    """`run_all` stopped early: `cause` is why (the first error, Ctrl-C, or the run's deadline)."""

    def __init__(self, cause: BaseException, pending: List[K]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.pending = pending


def run_all(calls: Mapping[K, Callable[[], V]], workers: int,
            done: Optional[Callable[[K, V], None]] = None) -> Dict[K, V]:
    """Run independent calls on at most `workers` daemon threads and return every result.

    The first exception stops the run: calls not started are dropped, calls in flight are abandoned (their
    threads are daemons: nothing waits for them, not even the interpreter's exit), and `Unfinished` is
    raised with the cause and the keys without a result. Ctrl-C and the run's deadline stop it the same way
    within a fraction of a second.
    """
    keys = list(calls)
    if not keys:
        return {}
    todo: queue.Queue[K] = queue.Queue()
    for key in keys:
        todo.put(key)
    results: queue.Queue[Tuple[K, bool, Any]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            try:
                key = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results.put((key, True, calls[key]()))
            except BaseException as exc:  # handed to the caller's thread
                results.put((key, False, exc))

    for i in range(max(1, min(workers, len(keys)))):
        threading.Thread(target=work, name=f"imgaccess-worker-{i}", daemon=True).start()
    out: Dict[K, V] = {}
    try:
        while len(out) < len(keys):
            try:
                key, ok, value = results.get(timeout=0.1)
            except queue.Empty:
                if _run.expired():
                    raise run_timeout_error() from None
                continue
            if not ok:
                raise value
            out[key] = value
            if done is not None:
                done(key, value)
    except BaseException as exc:
        stop.set()
        raise Unfinished(exc, [k for k in keys if k not in out]) from None
    return out
