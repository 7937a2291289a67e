"""Helpers for tests that run the real console script as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

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
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env["XDG_CONFIG_HOME"] = str(ROOT / "tests" / "fixtures" / "no-config")
    if env:
        full_env.update(env)
    return subprocess.run([script(), *args], input=stdin, capture_output=True, text=True, env=full_env,
                          timeout=timeout, check=False)


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
