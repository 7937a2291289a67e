"""Several outputs from one run (--output-file FORMAT=PATH), each written whole or not at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from kubectl_imgaccess.cli.outputs import write_atomically
from kubectl_imgaccess.errors import OutputError
from tests.clitools import ROOT, run, script
from tools.sandbox.server import Fault, Sandbox

EXAMPLES = str(ROOT / "examples")


def test_one_run_many_outputs(tmp_path: Path) -> None:
    proc = run(["check", "--offline", "-f", EXAMPLES, "-o", "name",
                "--output-file", f"sarif={tmp_path}/r.sarif", "--output-file", f"junit={tmp_path}/r.xml",
                "--output-file", f"json={tmp_path}/r.json", "--output-file", f"table={tmp_path}/r.txt"])
    assert proc.returncode == 1
    assert proc.stdout.startswith("domain.weblogic.oracle/")
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(
        run(["check", "--offline", "-f", EXAMPLES, "-o", "json"]).stdout)
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert ET.fromstring((tmp_path / "r.xml").read_text()).tag == "testsuites"
    table = (tmp_path / "r.txt").read_text()
    assert table == run(["check", "--offline", "-f", EXAMPLES]).stdout  # a file: no color, never cut
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.sarif", "r.txt", "r.xml"]


@pytest.mark.parametrize("spec, message", [
    ("xml=out.xml", "'xml' is not a format"),
    ("sarif", "use FORMAT=PATH"),
    ("json=-", "use -o for that"),
    ("json=/nonexistent/dir/r.json", "no such directory /nonexistent/dir"),
])
def test_bad_output_files_are_refused_before_any_work(spec: str, message: str) -> None:
    proc = run(["check", "--offline", "-f", EXAMPLES, "--output-file", spec])
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


def test_the_same_file_twice_is_refused(tmp_path: Path) -> None:
    proc = run(["check", "--offline", "-f", EXAMPLES, "--output-file", f"json={tmp_path}/x",
                "--output-file", f"yaml={tmp_path}/./x"])
    assert proc.returncode == 2 and "already written by another --output-file" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_the_old_file(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(target), "new " * 100000)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_failed_write_is_one_error_and_leaves_the_old_file(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomically(str(target), "new")
    assert target.read_text() == "old\n" and len(list(tmp_path.iterdir())) == 1


def test_ctrl_c_during_a_run_writes_nothing(sandbox: Sandbox, sandbox_kubeconfig: str, tmp_path: Path) -> None:
    sandbox.load_dir(EXAMPLES)
    fault = sandbox.inject(Fault(path_regex="/pods$", delay=2.0, times=None))
    out = tmp_path / "out"
    out.mkdir()
    (out / "r.json").write_text("old\n")
    env = dict(os.environ, KUBECONFIG=sandbox_kubeconfig, HOME=str(tmp_path))
    proc = subprocess.Popen([script(), "check", "-A", "--output-file", f"json={out}/r.json",
                             "--output-file", f"sarif={out}/r.sarif"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while fault.hits == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert fault.hits > 0, "the run never reached the pods"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in stderr  # Ctrl-C: the shell's 128 + SIGINT
    assert stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["r.json"]
    assert (out / "r.json").read_text() == "old\n"


def test_junit_lists_a_failing_image_findings_worst_first_as_the_table_does() -> None:
    proc = run(["check", "--offline", "-o", "junit", "-f", str(ROOT / "examples" / "04-opaque-secret.yaml")])
    assert proc.returncode == 1, proc.stderr
    case = next(c for c in ET.fromstring(proc.stdout).iter("testcase") if c.find("failure") is not None)
    failure = case.find("failure")
    assert failure is not None and failure.text
    import re

    lines = [m.group(0) for m in re.finditer(r"(error|warning|info) IA\d+", failure.text)]
    assert lines == ["error IA002", "error IA004"]  # what fails the gate, worst first
    out = case.find("system-out")  # the rest of the image's findings, below the failure
    assert out is not None and out.text and "info IA016" in out.text
