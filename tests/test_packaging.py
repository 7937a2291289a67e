"""The ways the program is installed and run: console script, `python -m`, and the krew manifest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kubectl_imgaccess import __version__
from tests.clitools import ROOT, run


def test_python_dash_m_and_the_script_agree() -> None:
    as_module = subprocess.run([sys.executable, "-m", "kubectl_imgaccess", "version"], capture_output=True,
                               text=True, check=True, cwd=ROOT)
    assert as_module.stdout == run(["version"]).stdout == f"Client Version: kubectl-imgaccess {__version__}\n"


def test_no_arguments_prints_help() -> None:
    proc = run([])
    assert proc.returncode == 0 and "check" in proc.stdout and "fix" in proc.stdout


def test_readme_quick_start_has_exactly_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = quick.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]


def test_version_flag() -> None:
    assert run(["--version"]).stdout.strip() == f"kubectl-imgaccess {__version__}"
    assert Path(ROOT / "LICENSE").is_file()


def test_classifiers_name_every_python_the_matrix_runs() -> None:
    import configparser

    from tools.matrix import MINORS

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    named = {line.rsplit("::", 1)[1].strip() for line in cfg.get("metadata", "classifiers").splitlines()
             if line.startswith("Programming Language :: Python :: 3.")}
    assert named == {f"3.{m}" for m in MINORS}
    assert cfg.get("options", "python_requires") == f">=3.{min(MINORS)}"
