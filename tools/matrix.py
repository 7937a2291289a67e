"""`make test-matrix`: the test suite on every CPython 3.9-3.13 found on the machine, each in its own venv.

Interpreters are looked for on PATH (python3.X) and under pyenv ($PYENV_ROOT or ~/.pyenv). The oldest one
found also runs with the lowest `kubernetes` the package admits (the lower end of the pinned range); the
others get the newest the range allows, so the suite proves both ends. `--only oldest,newest` (what CI runs)
keeps to the two ends. Exits non-zero when any run fails or when no interpreter is found; prints one line
per interpreter at the end.
"""

from __future__ import annotations

import argparse
import configparser
import glob
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
MINORS = range(9, 14)  # the versions the classifiers name; a test keeps the two in step


def find_pythons() -> Dict[str, str]:
    """'3.X' -> an interpreter path, for each 3.9-3.13 on this machine."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found: Dict[str, str] = {}
    for minor in MINORS:
        version = f"3.{minor}"
        hits = sorted(glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")))
        on_path = shutil.which(f"python{version}")
        candidate = hits[-1] if hits else on_path
        if candidate and os.access(candidate, os.X_OK):
            found[version] = candidate
    return found


def _install_requires() -> List[Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    lines = cfg.get("options", "install_requires").strip().splitlines()
    return [Requirement(line.strip()) for line in lines if line.strip()]


def lowest_pins() -> List[str]:
    """`name==X` for each dependency whose range has a lower bound (>=X): the oldest releases admitted."""
    pins = []
    for req in _install_requires():
        floors = [s.version for s in SpecifierSet(str(req.specifier)) if s.operator == ">="]
        if req.name.lower() == "kubernetes" and floors:
            pins.append(f"{req.name}=={floors[0]}")
    return pins


def run_one(version: str, python: str, lowest: bool, pytest_args: Sequence[str]) -> Tuple[bool, str]:
    venv = ROOT / ".venv-matrix" / version
    started = time.monotonic()
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    pins = lowest_pins() if lowest else []
    constraints = venv / "constraints.txt"
    constraints.write_text("".join(p + "\n" for p in pins), encoding="utf-8")
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--upgrade", "-c", str(constraints),
                    "-e", f"{ROOT}[test]"], check=True)
    kube = subprocess.run([str(venv / "bin" / "python"), "-c",
                           "import importlib.metadata as m; print(m.version('kubernetes'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    print(f"== Python {version} ({python}), kubernetes {kube}", flush=True)
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *pytest_args], cwd=ROOT)
    took = time.monotonic() - started
    ok = proc.returncode == 0
    return ok, f"Python {version}: {'passed' if ok else 'FAILED'} with kubernetes {kube} in {took:.0f}s"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.matrix", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated 3.X versions, or oldest,newest")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args(argv)
    found = find_pythons()
    if not found:
        sys.stderr.write("error: no CPython 3.9-3.13 found (PATH or pyenv)\n")
        return 2
    order = sorted(found, key=lambda v: int(v.split(".")[1]))
    chosen = order
    if args.only:
        names = {s.strip() for s in args.only.split(",") if s.strip()}
        chosen = [v for v in order if v in names or (v == order[0] and "oldest" in names)
                  or (v == order[-1] and "newest" in names)]
    results = [run_one(v, found[v], v == order[0], args.pytest_args) for v in chosen]
    print("\n".join(line for _, line in results))
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
