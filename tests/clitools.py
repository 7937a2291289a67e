"""Helpers for tests that run the real console script as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

from tests.reportschema import validate_output

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "manifests"
SHARED = ROOT.parent / "shared"


def script() -> str:
    """The installed `kubectl-imgaccess` executable (beside the running interpreter)."""
    candidate = Path(sys.executable).parent / "kubectl-imgaccess"
    found = str(candidate) if candidate.exists() else shutil.which("kubectl-imgaccess")
    assert found, "kubectl-imgaccess is not installed (pip install -e .)"
    return found


def run(args: Sequence[str], stdin: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
        timeout: float = 120, cwd: Optional[str] = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env["XDG_CONFIG_HOME"] = str(ROOT / "tests" / "fixtures" / "no-config")
    if env:
        full_env.update(env)
    proc = subprocess.run([script(), *args], input=stdin, capture_output=True, text=True, env=full_env,
                          timeout=timeout, check=False, cwd=cwd)
    validate_output(args, proc.stdout, proc.returncode)
    return proc


def check_json(*args: str, stdin: Optional[str] = None) -> tuple[int, Dict[str, Any]]:
    proc = run(["check", "--offline", "-o", "json", *args], stdin=stdin)
    assert proc.returncode in (0, 1, 3), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def active_rules(doc: Dict[str, Any], domain: Optional[str] = None) -> set[str]:
    return {
        f["rule"]
        for d in doc["domains"] if domain is None or d["name"] == domain
        for f in d["findings"] if not f["suppressed"]
    }


def run_tty(args: Sequence[str], columns: int, env: Optional[Mapping[str, str]] = None,
            timeout: float = 60) -> tuple[int, str]:
    """Run the script with stdout on a pseudo-terminal `columns` wide (stderr and stdin are pipes)."""
    import pty
    import select
    import struct
    import termios
    from fcntl import ioctl

    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR  # keep "\n" as the program wrote it
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    full_env = dict(os.environ, XDG_CONFIG_HOME=str(ROOT / "tests" / "fixtures" / "no-config"))
    for name in ("NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        full_env.pop(name, None)
    full_env.update(env or {})
    proc = subprocess.Popen([script(), *args], stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                            env=full_env)
    os.close(slave)
    chunks: list[bytes] = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                proc.kill()
                raise TimeoutError(f"no output within {timeout}s")
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return proc.wait(timeout), b"".join(chunks).decode()
