"""Exit codes never lie: a reader that goes away or a SIGTERM ends the run with a documented code that is neither
0 (a pass) nor 1 (a gate failure)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubectl_imgaccess.exitcodes import ExitCode
from tests.clitools import FIXTURES, ROOT, script


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CONFIG_HOME"] = str(ROOT / "tests" / "fixtures" / "no-config")
    return env


def test_codes_are_the_shells() -> None:
    assert ExitCode.BROKEN_PIPE == 128 + signal.SIGPIPE == 141
    assert ExitCode.TERMINATED == 128 + signal.SIGTERM == 143


@pytest.mark.parametrize("fixture", ["healthy.yaml", "three-mistakes.yaml"])  # a pass and a failing gate
def test_reader_gone_is_141_never_0(fixture: str) -> None:
    proc = subprocess.Popen([script(), "check", "--offline", "-o", "json", "-f", str(FIXTURES / fixture)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head` that has already exited
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == ExitCode.BROKEN_PIPE, err
    assert "Traceback" not in err and "Exception ignored" not in err


def _catches_sigterm(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to know the handler is in place")
def test_sigterm_is_143() -> None:
    # `-f -` with stdin left open: the run waits for input, the way a slow cluster read would.
    proc = subprocess.Popen([script(), "check", "--offline", "-f", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        deadline = time.monotonic() + 60
        while not _catches_sigterm(proc.pid):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.TERMINATED, err
    assert err.decode().strip().splitlines() == ["error: terminated"]
