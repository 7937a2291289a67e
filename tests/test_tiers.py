"""The in-memory tier's guard holds: a test in UNIT_MODULES cannot start a process or open a connection."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests.conftest import UNIT_MODULES


def test_this_module_is_in_the_unit_tier(request: pytest.FixtureRequest) -> None:
    assert __name__.rsplit(".", 1)[-1] in UNIT_MODULES
    assert request.node.get_closest_marker("unit") is not None


def test_a_process_fails_the_unit_tier() -> None:
    with pytest.raises(AssertionError, match="starts no process"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)


def test_a_connection_fails_the_unit_tier() -> None:
    with socket.socket() as sock, pytest.raises(AssertionError, match="opens no connection"):
        sock.connect(("127.0.0.1", 9))
