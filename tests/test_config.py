from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_imgaccess.audit.config import DEFAULT, default_config_path
from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.manifests import load_config


def test_builtin_registry_knowledge() -> None:
    assert DEFAULT.registry_for("container-registry.oracle.com/middleware/weblogic").auth == "required"
    assert DEFAULT.registry_for("container-registry.oracle.com/middleware/weblogic").terms
    assert DEFAULT.registry_for("ghcr.io/oracle/weblogic-monitoring-exporter").auth == "anonymous"
    assert DEFAULT.registry_for("docker.io/fluent/fluentd-kubernetes-daemonset").auth == "anonymous"
    assert DEFAULT.registry_for("ghcr.io/oracle/other").auth == "unknown"
    assert DEFAULT.registry_for("docker.io/library/busybox").auth == "unknown"


def test_user_entries_come_first(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("registries:\n  - match: container-registry.oracle.com\n    auth: anonymous\n")
    config = load_config(str(cfg))
    assert config.registry_for("container-registry.oracle.com/x").auth == "anonymous"
    assert config.registry_for("ghcr.io/oracle/weblogic-monitoring-exporter").auth == "anonymous"


def test_ignore_by_name_with_globs(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ignore:\n  - rule: anonymous-pull\n    namespace: 'team-*'\n    domain: d?\n")
    config = load_config(str(cfg))
    assert config.ignore_entries("IA018", "team-a", "d1")
    assert not config.ignore_entries("IA018", "ops", "d1")
    assert not config.ignore_entries("IA004", "team-a", "d1")


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("registries: {}\n", 1, "registries must be a list"),
        ("registries:\n  - auth: required\n", 2, "needs a 'match'"),
        ("ignore:\n  - rule: IA404\n", 2, "unknown rule 'IA404'"),
        ("registries: []\nextra: 1\n", 2, "unknown key 'extra'"),
        ("registries:\n  - match: x.io\n    terms: yes please\n", 3, "terms must be true or false"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(InputError) as err:
        load_config(str(cfg))
    assert str(err.value).startswith(f"{cfg}:{line}: ")
    assert message in str(err.value)


def test_default_path_from_xdg(tmp_path: Path) -> None:
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) is None
    (tmp_path / "kubectl-imgaccess").mkdir()
    (tmp_path / "kubectl-imgaccess" / "config.yaml").write_text("ignore: []\n")
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == str(
        tmp_path / "kubectl-imgaccess" / "config.yaml")
