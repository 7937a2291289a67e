"""Who may suppress what: `suppressions: {annotations: deny}`, `--no-annotation-ignores`, ignore entries with
`reason` and `expires`, and every format naming what suppressed a finding."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List

import pytest

from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.manifests import load_config
from tests.clitools import FIXTURES, run

SUPPRESSED = str(FIXTURES / "suppressed.yaml")  # annotation ignores IA004 and IA016 on an OCR image, no Secret
WRONG_REGISTRY = str(FIXTURES / "ia004-wrong-registry.yaml")


def _findings(doc: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [f for d in doc["domains"] for f in d["findings"]]


def test_annotation_suppression_is_named_in_json_table_and_junit() -> None:
    proc = run(["check", "--offline", "-o", "json", "-f", SUPPRESSED])
    assert proc.returncode == 0, proc.stderr
    quiet = [f for f in _findings(json.loads(proc.stdout)) if f["suppressed"]]
    assert {f["rule"] for f in quiet} == {"IA004", "IA016"}
    assert all(f["suppressedBy"] == {"kind": "annotation", "source": "imgaccess.weblogic.oracle/ignore",
                                     "reason": None, "expires": None} for f in quiet)
    table = run(["check", "--offline", "-f", SUPPRESSED, "--show", "suppressed"])
    assert "IA004 no-credential-for-registry: " in table.stdout
    assert "(suppressed by annotation imgaccess.weblogic.oracle/ignore)" in table.stdout
    junit = ET.fromstring(run(["check", "--offline", "-o", "junit", "-f", SUPPRESSED]).stdout)
    err = junit.find(".//testcase/system-err")
    assert err is not None and "IA004 suppressed by annotation" in (err.text or "")


def test_annotation_naming_no_rule_says_so_and_suppresses_nothing(tmp_path: Path) -> None:
    text = Path(SUPPRESSED).read_text().replace('"no-credential-for-registry, IA016"',
                                               '"no-credential-for-registy, IA016"')
    path = tmp_path / "typo.yaml"
    path.write_text(text)
    proc = run(["check", "--offline", "-o", "json", "-f", str(path)])
    assert proc.returncode == 1, proc.stderr  # IA004 is not silenced by the misspelt name
    doc = json.loads(proc.stdout)
    assert {f["rule"] for f in _findings(doc) if f["suppressed"]} == {"IA016"}
    note = ("Domain apps/suppressed: the annotation imgaccess.weblogic.oracle/ignore names no rule "
            "'no-credential-for-registy'; it suppresses nothing")
    assert note in proc.stderr and any(note in n for n in doc["notes"])


@pytest.mark.parametrize("how", ["flag", "config"])
def test_pipelines_can_refuse_self_exemptions(how: str, tmp_path: Path) -> None:
    args = ["check", "--offline", "-o", "json", "-f", SUPPRESSED]
    if how == "flag":
        args.append("--no-annotation-ignores")
    else:
        cfg = tmp_path / "config.yaml"
        cfg.write_text("suppressions:\n  annotations: deny\n")
        args += ["--config", str(cfg)]
    proc = run(args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert not any(f["suppressed"] for f in _findings(doc))
    assert doc["domains"][0]["verdict"] == "fail"
    reason = "--no-annotation-ignores" if how == "flag" else "suppressions.annotations: deny"
    assert "apps/suppressed: the annotation imgaccess.weblogic.oracle/ignore is not honoured" in proc.stderr
    assert reason in proc.stderr and doc["notes"] and reason in doc["notes"][0]


def test_config_entry_with_reason_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("ignore:\n  - rule: IA004\n    domain: wrong-registry\n"
                   "    reason: mirrored by the node credential provider (TICKET-12)\n    expires: 2999-01-01\n")
    proc = run(["check", "--offline", "-o", "json", "-f", WRONG_REGISTRY, "--config", str(cfg)])
    ia004 = [f for f in _findings(json.loads(proc.stdout)) if f["rule"] == "IA004"]
    assert ia004 and all(f["suppressed"] for f in ia004)
    assert ia004[0]["suppressedBy"] == {"kind": "config", "source": f"{cfg}:2 ignore[0]",
                                        "reason": "mirrored by the node credential provider (TICKET-12)",
                                        "expires": "2999-01-01T00:00:00Z"}
    table = run(["check", "--offline", "-f", WRONG_REGISTRY, "--config", str(cfg), "--show", "suppressed"])
    assert f"(suppressed by config {cfg}:2 ignore[0] (reason: mirrored by the node credential provider " \
           "(TICKET-12); expires 2999-01-01T00:00:00Z))" in table.stdout


def test_expired_entry_stops_suppressing_and_says_so(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("ignore:\n  - rule: IA004\n    reason: until the mirror is gone\n    expires: 2020-01-31\n")
    proc = run(["check", "--offline", "-o", "json", "-f", WRONG_REGISTRY, "--config", str(cfg)])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    ia004 = [f for f in _findings(doc) if f["rule"] == "IA004"]
    assert ia004 and not any(f["suppressed"] for f in ia004)
    said = f"{cfg}:2 ignore[0]: the ignore entry for IA004 expired on 2020-01-31T00:00:00Z and no longer suppresses it"
    assert said in proc.stderr and any(said in n for n in doc["notes"])


def test_expiry_is_exact_to_the_second() -> None:
    from kubectl_imgaccess.audit.config import IgnoreRule

    at = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    entry = IgnoreRule("IA004", expires=at)
    assert not entry.expired(at - datetime.timedelta(seconds=1)) and entry.expired(at)


@pytest.mark.parametrize("text, line, message", [
    ("suppressions:\n  annotations: maybe\n", 2, "suppressions.annotations must be allow or deny"),
    ("suppressions: deny\n", 1, "suppressions must be a mapping"),
    ("suppressions:\n  labels: deny\n", 2, "unknown key 'labels' under suppressions"),
    ("ignore:\n  - rule: IA004\n    expires: next week\n", 3, "expires must be a date"),
    ("ignore:\n  - rule: IA004\n    reason: 5\n", 3, "reason must be a string"),
    ("ignore:\n  - rule: IA004\n    until: 2026-01-01\n", 3, "unknown key 'until'"),
])
def test_bad_governance_config_names_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(InputError) as info:
        load_config(str(cfg))
    assert f"{cfg}:{line}: " in str(info.value) and message in str(info.value)


def test_rfc3339_expiry_with_offset(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ignore:\n  - rule: IA004\n    expires: '2026-06-01T12:00:00+02:00'\n")
    entry = load_config(str(cfg)).ignore[0]
    assert entry.expires == datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.timezone.utc)
