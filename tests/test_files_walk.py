"""-f DIR: an unreadable directory or file is exit 2 naming it; non-regular files are skipped with a note and
never opened (opening a FIFO blocks)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, List

import pytest

from tests.clitools import FIXTURES, ROOT, script

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _without_dac_override() -> None:  # pragma: no cover - runs in the child, before exec
    """Root reads every file whatever its mode; without these two capabilities the modes hold for root too."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _check(args: List[str]) -> subprocess.CompletedProcess[str]:
    """The CLI bound by file modes (as root: with the capabilities that bypass them dropped)."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(ROOT / "tests" / "fixtures" / "no-config"))
    return subprocess.run([script(), "check", "--offline", *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False, preexec_fn=_without_dac_override if os.geteuid() == 0 else None)


@pytest.fixture
def tree() -> Iterator[Path]:
    """A manifest tree every user can read (the test's own tmp_path is private to root)."""
    top = Path(tempfile.mkdtemp(prefix="imgaccess-walk-"))
    top.chmod(0o755)
    (top / "ok").mkdir()
    shutil.copy(FIXTURES / "healthy.yaml", top / "ok" / "healthy.yaml")
    for p in [top / "ok", top / "ok" / "healthy.yaml"]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    try:
        yield top
    finally:
        for root, dirs, _ in os.walk(top):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(top)


def test_unreadable_subdirectory_is_exit_2_naming_it(tree: Path) -> None:
    hidden = tree / "team-b"
    hidden.mkdir()
    shutil.copy(FIXTURES / "ia004-wrong-registry.yaml", hidden / "failing.yaml")
    hidden.chmod(0o000)
    proc = _check(["-f", str(tree)])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip() == f"error: {hidden}: cannot read directory: Permission denied"


def test_unreadable_file_is_exit_2_naming_it(tree: Path) -> None:
    secret = tree / "ok" / "z-private.yaml"
    shutil.copy(FIXTURES / "ia004-wrong-registry.yaml", secret)
    secret.chmod(0o000)
    proc = _check(["-f", str(tree)])
    assert proc.returncode == 2 and str(secret) in proc.stderr and "Permission denied" in proc.stderr


def test_fifo_in_a_directory_is_skipped_with_a_note_never_opened(tree: Path) -> None:
    fifo = tree / "ok" / "pipe.yaml"
    os.mkfifo(fifo)
    fifo.chmod(0o666)
    proc = _check(["-f", str(tree)])  # opening the FIFO would block until the 60 s timeout
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"note: skipped {fifo}: not a regular file" in proc.stderr
