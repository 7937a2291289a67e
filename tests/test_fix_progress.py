"""fix reports progress: each action as it is applied, and when a run stops part-way (a write error, Ctrl-C)
what it applied and what it did not; with -o json the document is always written."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import List

from tests.builders import domain, service_account
from tests.clitools import script
from tests.test_security_doc import NS, _seed
from tools.sandbox import Fault, Sandbox

TEAM = "team"
ARGS = ["fix", "d3", "-n", TEAM, "--strategy", "domain", "--copy-from", f"{NS}/ocr", "--secret", "ocr-copy", "--yes"]


def _seed_team(sandbox: Sandbox) -> None:
    """apps holds the credential; d3 in team has none: fix copies the Secret, then patches d3 (two writes)."""
    _seed(sandbox)
    sandbox.add(service_account(ns=TEAM))
    sandbox.add(domain("d3", TEAM, uid="d3", source_type="Image"))


def _env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), namespace=NS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env.update({"HOME": str(tmp_path), "KUBECONFIG": kc})
    return env


def _run(sandbox: Sandbox, tmp_path: Path, extra: List[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([script(), *ARGS, *extra], capture_output=True, text=True, env=_env(sandbox, tmp_path),
                          timeout=120, check=False, stdin=subprocess.DEVNULL)


def test_write_error_part_way_json_lists_applied_and_not_applied(sandbox: Sandbox, tmp_path: Path) -> None:
    _seed_team(sandbox)
    sandbox.inject(Fault(method="PATCH", path_regex="/domains/d3$", status=422, times=None, message="denied by policy"))
    proc = _run(sandbox, tmp_path, ["-o", "json"])
    assert proc.returncode == 2, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["results"] == ["Secret team/ocr-copy: created"]
    assert [(a["kind"], a["name"]) for a in doc["notApplied"]] == [("Domain", "d3")]
    assert doc["stopped"] and "d3" in doc["stopped"]  # a 422 storm on the patch: retried, then stopped
    assert "Secret team/ocr-copy: created" in proc.stderr  # progress as it went
    assert sandbox.get("Secret", TEAM, "ocr-copy") is not None


def test_write_error_part_way_table_says_what_a_rerun_does(sandbox: Sandbox, tmp_path: Path) -> None:
    _seed_team(sandbox)
    sandbox.inject(Fault(method="PATCH", path_regex="/domains/d3$", status=422, times=None, message="denied"))
    proc = _run(sandbox, tmp_path, [])
    assert proc.returncode == 2
    assert "Applied:\n  Secret team/ocr-copy: created\n" in proc.stdout
    assert "Stopped:" in proc.stderr and "Not applied (1); run fix again" in proc.stderr
    assert "patch Domain team/d3" in proc.stderr


def test_ctrl_c_part_way_writes_the_document_and_exits_130(sandbox: Sandbox, tmp_path: Path) -> None:
    _seed_team(sandbox)
    fault = sandbox.inject(Fault(method="PATCH", path_regex="/domains/d3$", delay=30.0, times=None))
    proc = subprocess.Popen([script(), *ARGS, "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(sandbox, tmp_path), stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while fault.hits == 0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert fault.hits > 0
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["results"] == ["Secret team/ocr-copy: created"] and doc["stopped"] == "interrupted (Ctrl-C)"
    assert [a["kind"] for a in doc["notApplied"]] == ["Domain"]
    assert "interrupted: applied 1 of 2 change(s); run fix again to finish" in err
