"""Deadlines: the run's --timeout, --request-timeout as a whole-request deadline (body, retries and exec
plugins included), Retry-After bounded by it, and Ctrl-C that stops within a second with exit 130.

The servers here misbehave on purpose at the TCP level: accept and never answer, trickle a body a byte at a
time, or answer 429 with Retry-After: 30 forever. Every bound below is far under what the old code took
(unbounded, or 240 s for the 429 storm); the tests assert exit codes and messages, not timings, except the
generous ceilings that show a run is not held."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List

import pytest

from kubectl_imgaccess import deadline
from tests.clitools import script

Handler = Callable[[socket.socket], None]
ACCEPTED: Dict[str, int] = {}  # server URL -> connections accepted so far


def _wait_for_quiet_connections(url: str, settle: float = 1.0, limit: float = 60.0) -> None:
    """Until the client has connected and opened no new connection for `settle` seconds: every request it
    sends at once is then in flight, however long the machine took to start the process."""
    end = time.monotonic() + limit
    seen, since = 0, time.monotonic()
    while time.monotonic() < end:
        now = ACCEPTED.get(url, 0)
        if now != seen:
            seen, since = now, time.monotonic()
        elif seen and time.monotonic() - since >= settle:
            return
        time.sleep(0.05)
    raise AssertionError(f"the client opened {seen} connection(s) to {url} in {limit:.0f}s")


def _serve(handler: Handler) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()
    held: List[socket.socket] = []
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"

    def loop() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            ACCEPTED[url] = len(held)
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        ACCEPTED.pop(url, None)
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def _silent(conn: socket.socket) -> None:
    time.sleep(120)  # accepts TCP, never answers


def _trickle(conn: socket.socket) -> None:
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100000):
            conn.sendall(b" ")
            time.sleep(0.1)
    except OSError:
        pass


def _storm(conn: socket.socket) -> None:
    try:
        while conn.recv(65536):
            body = b'{"kind":"Status","status":"Failure","reason":"TooManyRequests","code":429}'
            conn.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    except OSError:
        pass


@pytest.fixture
def silent() -> Iterator[str]:
    yield from _serve(_silent)


@pytest.fixture
def trickle() -> Iterator[str]:
    yield from _serve(_trickle)


@pytest.fixture
def storm() -> Iterator[str]:
    yield from _serve(_storm)


def _kubeconfig(tmp_path: Path, server: str, user: object = None) -> str:
    path = tmp_path / "kc"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": user or {"token": "t0ken-value"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}]}))
    return str(path)


def _run(args: List[str], tmp_path: Path, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(tmp_path)
    started = time.monotonic()
    proc = subprocess.run([script(), *args], capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL, check=False)
    return proc, time.monotonic() - started


def test_silent_server_is_bounded_by_the_run_timeout(silent: str, tmp_path: Path) -> None:
    proc, took = _run(["check", "-A", "--kubeconfig", _kubeconfig(tmp_path, silent), "--timeout", "2s"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "the run did not finish within 2s (--timeout)" in proc.stderr and "not read:" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert took < 30


def test_trickled_body_is_bounded_by_the_request_timeout(trickle: str, tmp_path: Path) -> None:
    proc, took = _run(["version", "--server", "--kubeconfig", _kubeconfig(tmp_path, trickle),
                       "--request-timeout", "1s"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "timeout: no complete answer within 1s (see --request-timeout)" in proc.stderr
    assert took < 30


def test_retry_after_never_waits_past_the_request_deadline(storm: str, tmp_path: Path) -> None:
    proc, took = _run(["check", "-A", "--kubeconfig", _kubeconfig(tmp_path, storm), "--request-timeout", "2s"],
                      tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "retry in 30s" in proc.stderr and "--request-timeout" in proc.stderr
    assert took < 30  # the old code waited 240 s


def test_retry_after_never_waits_past_the_run_deadline(storm: str, tmp_path: Path) -> None:
    proc, took = _run(["check", "-A", "--kubeconfig", _kubeconfig(tmp_path, storm), "--timeout", "3s"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "(--timeout)" in proc.stderr
    assert took < 30


@pytest.mark.parametrize("flags", [["--request-timeout", "1s"], ["--timeout", "2s"]])
def test_hanging_exec_plugin_is_bounded(flags: List[str], silent: str, tmp_path: Path) -> None:
    plugin = tmp_path / "hang.py"
    plugin.write_text("import time\ntime.sleep(600)\n")
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                     "args": [str(plugin)], "interactiveMode": "Never"}}
    proc, took = _run(["check", "-A", "--kubeconfig", _kubeconfig(tmp_path, silent, user), *flags], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "exec credential plugin" in proc.stderr and "no answer within" in proc.stderr
    assert took < 30


def test_ctrl_c_stops_within_a_second_with_130(silent: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = str(tmp_path)
    proc = subprocess.Popen([script(), "check", "-A", "--kubeconfig", _kubeconfig(tmp_path, silent)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            stdin=subprocess.DEVNULL)
    _wait_for_quiet_connections(silent)  # connected, every list request in flight, none answered
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert err.startswith("error: interrupted: nothing written; not read: "), err
    assert "Domain in all namespaces" in err and out == ""
    assert took < 1.5, took


def test_run_all_returns_at_once_when_interrupted() -> None:
    release = threading.Event()

    def slow() -> int:
        release.wait(30)
        return 1

    def interrupt() -> int:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(deadline.Unfinished) as stopped:
        deadline.run_all({"a": slow, "b": interrupt, "c": slow}, workers=3)
    assert isinstance(stopped.value.cause, KeyboardInterrupt)
    assert set(stopped.value.pending) >= {"a", "c"}
    assert time.monotonic() - started < 5
    release.set()


def test_flag_bounds(tmp_path: Path) -> None:
    for args, words in ((["--probe-concurrency", "99999999"], "between 1 and 64"),
                        (["--probe-concurrency", "0"], "between 1 and 64"),
                        (["--request-timeout", "100000000h"], "out of range"),
                        (["--timeout", "100000000h"], "out of range")):
        proc, _ = _run(["check", "--offline", "-f", str(tmp_path), *args], tmp_path)
        assert proc.returncode == 2 and words in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_the_largest_durations_do_not_break_anything(silent: str, tmp_path: Path) -> None:
    proc, _ = _run(["check", "-A", "--kubeconfig", _kubeconfig(tmp_path, silent), "--request-timeout", "2562047h",
                    "--timeout", "2s"], tmp_path)
    assert proc.returncode == 2 and "(--timeout)" in proc.stderr and "internal" not in proc.stderr
