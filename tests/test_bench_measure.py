"""`make bench` charges a command only its own memory: the bench process holds the sandbox (hundreds of MiB at
scale 8), and Linux counts the RSS of the process a child is forked from into the child's peak."""

from __future__ import annotations

import os
import sys

from tools.bench_scale import _measure

BIG = 300 * 1024 * 1024


def test_a_command_is_not_charged_for_the_bench_process_size() -> None:
    held = bytearray(BIG)
    for i in range(0, BIG, 4096):  # touch every page: resident, not just reserved
        held[i] = 1
    run = _measure([sys.executable, "-c", "pass"], dict(os.environ))
    assert run.peak_mib < 100, run  # an interpreter alone, not this process's 300 MiB and more
    assert run.seconds > 0
    del held


def test_the_command_s_own_peak_is_measured() -> None:
    run = _measure([sys.executable, "-c", "x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"],
                   dict(os.environ))
    assert 200 <= run.peak_mib < 400, run
