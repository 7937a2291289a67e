"""Progress on stderr: one line rewritten in place on a terminal, nothing otherwise."""

from __future__ import annotations

import io
import os
import pty
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

from kubectl_imgaccess.cli.flags import show_progress
from kubectl_imgaccess.progress import Progress
from tests.clitools import ROOT, script
from tools.sandbox.server import Fault, Sandbox


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_quick_work_shows_nothing_then_throttled_updates_and_a_clean_finish() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(out, clock=clock)
    p.count("reading the cluster", "Pod", 500)
    assert out.getvalue() == ""  # the first half second: nothing
    clock.now = 0.6
    p.count("reading the cluster", "Pod", 500)
    p.count("reading the cluster", "Secret", 3)  # within 0.1 s: not drawn
    clock.now = 0.75
    p.count("reading the cluster", "Secret", 1)
    assert out.getvalue() == ("\rreading the cluster: 1000 Pod\x1b[K"
                              "\rreading the cluster: 1000 Pod, 4 Secret\x1b[K")
    p.finish()
    assert out.getvalue().endswith("\r\x1b[K")
    p.finish()  # twice: nothing more
    assert out.getvalue().count("\r\x1b[K") == 1


def test_a_quick_run_is_never_cleared_either() -> None:
    out = io.StringIO()
    p = Progress(out, clock=Clock())
    p.step("probing registries", 4, 4)
    p.finish()
    assert out.getvalue() == ""


def test_when_a_line_is_shown() -> None:
    tty, pipe = Tty(True), Tty(False)
    assert show_progress("table", 0, stdout=pipe, stderr=tty)
    assert show_progress("json", 0, stdout=tty, stderr=tty)
    assert not show_progress("json", 0, stdout=pipe, stderr=tty)  # -o json to a pipe: a script reads
    assert not show_progress("table", 0, stdout=tty, stderr=pipe)  # stderr not a terminal
    assert not show_progress("table", 2, stdout=tty, stderr=tty)  # -v lines would tear it


def run_with_stderr_on_a_tty(args: List[str], env: Dict[str, str]) -> Tuple[int, str, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([script(), *args], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                            env=env, text=True)
    os.close(slave)
    chunks: List[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stdout = proc.stdout.read() if proc.stdout else ""
    return proc.wait(60), stdout, b"".join(chunks).decode()


def test_a_slow_cluster_shows_the_pages_read(sandbox: Sandbox, sandbox_kubeconfig: str, tmp_path: Path) -> None:
    sandbox.load_dir(str(ROOT / "examples"))
    sandbox.inject(Fault(path_regex="/pods$", delay=0.8, times=None))
    env = dict(os.environ, KUBECONFIG=sandbox_kubeconfig, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    code, stdout, stderr = run_with_stderr_on_a_tty(["check", "-A"], env)
    assert code == 1 and stdout.startswith("NAMESPACE")
    assert "\rreading the cluster: " in stderr and "Domain" in stderr
    assert stderr.endswith("\r\x1b[K")  # cleared before the report
    code, stdout, stderr = run_with_stderr_on_a_tty(["check", "-A", "-o", "json"], env)
    assert code == 1 and stdout.startswith("{") and stderr == ""
