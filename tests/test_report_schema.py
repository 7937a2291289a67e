"""The published schemas accept the reports the tool writes and reject broken ones."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict

import jsonschema
import pytest

from tests.clitools import FIXTURES, run
from tests.reportschema import validate


def report() -> Dict[str, Any]:
    proc = run(["check", "--offline", "-o", "json", "-f", str(FIXTURES)])
    assert proc.returncode == 1
    doc: Dict[str, Any] = json.loads(proc.stdout)
    return doc


def _drop_summary(d: Dict[str, Any]) -> None:
    del d["summary"]


def _unknown_verdict(d: Dict[str, Any]) -> None:
    d["domains"][0]["verdict"] = "maybe"


def _unknown_image_verdict(d: Dict[str, Any]) -> None:
    d["domains"][0]["images"][0]["verdict"] = "ok"


def _schema_version_2(d: Dict[str, Any]) -> None:
    d["schemaVersion"] = 2


def _bad_rule_id(d: Dict[str, Any]) -> None:
    next(dom for dom in d["domains"] if dom["findings"])["findings"][0]["rule"] = "R1"


def _gate_maybe(d: Dict[str, Any]) -> None:
    d["summary"]["gate"] = "maybe"


def _credential_with_a_password(d: Dict[str, Any]) -> None:
    img = next(i for dom in d["domains"] for i in dom["images"] if i["credentials"])
    img["credentials"][0]["password"] = "x"


def _missing_finding_key(d: Dict[str, Any]) -> None:
    del next(dom for dom in d["domains"] if dom["findings"])["findings"][0]["suppressed"]


BREAKAGES: Dict[str, Callable[[Dict[str, Any]], None]] = {
    f.__name__.strip("_"): f for f in (_drop_summary, _unknown_verdict, _unknown_image_verdict, _schema_version_2,
                                       _bad_rule_id, _gate_maybe, _credential_with_a_password, _missing_finding_key)
}


def test_a_real_report_validates_and_may_grow() -> None:
    doc = report()
    validate("report", doc)
    doc["someFutureKey"] = {"added": True}  # additive changes keep schemaVersion 1 valid
    doc["domains"][0]["someFutureKey"] = 1
    validate("report", doc)


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_broken_report_is_rejected(name: str) -> None:
    doc = copy.deepcopy(report())
    BREAKAGES[name](doc)
    with pytest.raises(jsonschema.ValidationError):
        validate("report", doc)


def test_a_broken_fix_report_is_rejected() -> None:
    good = {"schemaVersion": 1, "dryRun": "client", "applied": False, "strategy": "auto",
            "actions": [{"op": "patch", "kind": "Domain", "namespace": "ns", "name": "d", "reason": ["IA007"],
                         "summary": "add ocr to spec.imagePullSecrets", "effects": [], "diff": ""}],
            "refused": [], "unfixed": [], "results": [], "before": {"fail": 1, "warn": 0},
            "expected": {"fail": 0, "warn": 0}, "after": None}
    validate("fix", good)
    for key, value in (("dryRun", "maybe"), ("after", {"fail": -1, "warn": 0}), ("actions", [{"op": "delete"}])):
        broken = dict(good, **{key: value})
        with pytest.raises(jsonschema.ValidationError):
            validate("fix", broken)
