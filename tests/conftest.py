"""Fixtures shared by the whole suite: the sandbox API server's (sandbox, sandbox_kubeconfig, kube_env, kubectl)
and the real registry's (registry_pki, registry_env); the schema check of every report the suite makes;
and the test tiers.

Tiers: the modules in UNIT_MODULES are the in-memory tier (marker `unit`, `make unit-fast`): they start no
process, no sandbox API server, no registry and open no connection, and a guard fails any of their tests that
tries. Every other module is the integration tier (the real console script, kubectl, the sandbox API server,
docker-registry, packaging)."""

from __future__ import annotations

import json
import socket
import subprocess
from typing import Any, Iterator, List, NoReturn

import pytest

from kubectl_imgaccess.text import forget_secrets

pytest_plugins = ["tests.sandbox.fixtures", "tests.registry.fixtures"]

UNIT_MODULES = frozenset({
    "test_api_errors", "test_audit", "test_config", "test_dockercfg", "test_docs", "test_durations",
    "test_files_source", "test_fix_plan", "test_imageref", "test_keyring", "test_probe_units", "test_properties",
    "test_objects", "test_selectors", "test_text", "test_tiers", "test_weblogic",
})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Name the order of the run even under -q (which hides pytest-randomly's header), so a failure that
    depends on it can be repeated."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and not hasattr(config, "workerinput"):
        terminalreporter.write_line(f"random order: repeat it with --randomly-seed={seed}")


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in UNIT_MODULES:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def _no_remembered_secrets_between_tests() -> Iterator[None]:
    """The values a test's run registered for redaction (text.remember_secret) do not reach the next test:
    each test redacts what it read itself, whatever ran before it."""
    yield
    forget_secrets()


@pytest.fixture(autouse=True)
def _unit_tier_stays_in_memory(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test of the in-memory tier that starts a process or opens a connection fails, naming what it tried."""
    if request.node.get_closest_marker("unit") is None:
        yield
        return

    def no_process(self: Any, args: Any, *rest: Any, **kwargs: Any) -> NoReturn:
        raise AssertionError(f"the unit tier starts no process (tried {args!r}); move the test out of UNIT_MODULES")

    def no_connection(self: Any, address: Any) -> NoReturn:
        raise AssertionError(f"the unit tier opens no connection (tried {address!r}); move the test out of "
                             "UNIT_MODULES")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
    monkeypatch.setattr(socket.socket, "connect", no_connection)
    yield


@pytest.fixture(autouse=True, scope="session")
def _every_report_matches_its_schema() -> Iterator[None]:
    """Wrap the functions that build the check, fix and SARIF documents so that each one made in-process is
    validated against the published schema (tests.reportschema) the moment it is made."""
    from kubectl_imgaccess.audit.report import Gate, Report
    from kubectl_imgaccess.fix import view
    from kubectl_imgaccess.render import sarif
    from tests.reportschema import validate

    to_document, document, render_sarif = Report.to_document, view.document, sarif.render_sarif

    def checked_to_document(self: Report, gate: Gate, *args: Any, **kwargs: Any) -> Any:
        # JSON is streamed Domain by Domain (to_document(domains=False) + each Domain): validate the whole
        # document the stream adds up to, whichever part was asked for.
        validate("report", json.loads(json.dumps(to_document(self, gate))))
        return to_document(self, gate, *args, **kwargs)

    def checked_document(*args: Any, **kwargs: Any) -> Any:
        doc = document(*args, **kwargs)
        validate("fix", json.loads(json.dumps(doc)))
        return doc

    def checked_render_sarif(report: Report, gate: Gate) -> str:
        text = render_sarif(report, gate)
        validate("sarif", json.loads(text))
        return text

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Report, "to_document", checked_to_document)
        mp.setattr(view, "document", checked_document)
        mp.setattr(sarif, "render_sarif", checked_render_sarif)
        yield
