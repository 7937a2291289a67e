"""The pipeline gate end to end: exit codes at every --fail-on, SARIF that code scanning takes, JUnit that
agrees with the exit code, and --baseline; from files and from the sandbox cluster."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from kubectl_imgaccess.catalog import RULES
from tests.clitools import FIXTURES, ROOT, run
from tests.reportschema import SARIF_SCHEMA, validate
from tools.sandbox import Rule, Sandbox

EXAMPLES = ROOT / "examples"
NEEDS_SARIF_SCHEMA = pytest.mark.skipif(not SARIF_SCHEMA.exists(), reason="../shared/schemas is not beside the clone")
LEVELS = ("error", "warning", "info", "never")


def offline(*args: str, cwd: Optional[str] = None, stdin: Optional[str] = None) -> Tuple[int, str, str]:
    proc = run(["check", "--offline", *args], cwd=cwd, stdin=stdin)
    return proc.returncode, proc.stdout, proc.stderr


def findings(doc: Dict[str, Any]) -> List[Tuple[str, Dict[str, Any]]]:
    return [("", f) for f in doc["findings"]] + [(d["name"], f) for d in doc["domains"] for f in d["findings"]]


def worst_counting(doc: Dict[str, Any]) -> Optional[str]:
    sev = [f["severity"] for _, f in findings(doc) if not f["suppressed"] and not f.get("baseline")]
    for level in ("error", "warning", "info"):
        if level in sev:
            return level
    return None


def expected_exit(doc: Dict[str, Any], fail_on: str) -> int:
    worst = worst_counting(doc)
    order = ("info", "warning", "error")
    if fail_on != "never" and worst is not None and order.index(worst) >= order.index(fail_on):
        return 1
    return 3 if doc["summary"]["incomplete"] else 0


# ------------------------------------------------------------------------------------------ exit codes

GATE_CASES = {  # fixture -> exit code at error, warning, info, never
    "three-mistakes.yaml": (1, 1, 1, 0),  # errors
    "ia011-pull-policy-never.yaml": (0, 1, 1, 0),  # a warning at worst
    "ia018-anonymous-exporter.yaml": (0, 0, 1, 0),  # info only
    "suppressed.yaml": (0, 0, 0, 0),  # its error (IA004) and info (IA016) are suppressed
}


@pytest.mark.parametrize("name", sorted(GATE_CASES))
def test_exit_code_at_every_fail_on_level(name: str) -> None:
    for level, code in zip(LEVELS, GATE_CASES[name]):
        rc, out, err = offline("-f", str(FIXTURES / name), "--fail-on", level, "-o", "json")
        doc = json.loads(out)
        assert rc == code == expected_exit(doc, level), (name, level, err)
        assert doc["summary"]["gate"] == ("fail" if code == 1 else "pass")
        rc_junit, junit, _ = offline("-f", str(FIXTURES / name), "--fail-on", level, "-o", "junit")
        assert rc_junit == rc
        root = ET.fromstring(junit)
        assert (int(root.get("failures", "-1")) > 0) == (rc == 1), (name, level, junit)
        assert root.get("errors") == "0"


def test_suppressed_findings_stay_in_the_report_but_never_fail_the_gate() -> None:
    rc, out, _ = offline("-f", str(FIXTURES / "suppressed.yaml"), "--fail-on", "info", "-o", "json")
    doc = json.loads(out)
    assert rc == 0
    suppressed = {f["rule"] for _, f in findings(doc) if f["suppressed"]}
    assert {"IA004", "IA016"} <= suppressed
    assert doc["summary"]["findings"] == {"error": 0, "warning": 0, "info": 0}


# --------------------------------------------------------------------------------------------- SARIF

def sarif_run(doc: Dict[str, Any]) -> Dict[str, Any]:
    assert doc["version"] == "2.1.0" and len(doc["runs"]) == 1
    run0: Dict[str, Any] = doc["runs"][0]
    return run0


def assert_ingestible(doc: Dict[str, Any]) -> None:
    """What GitHub code scanning, GitLab and Azure DevOps need beyond the schema."""
    run0 = sarif_run(doc)
    rules = run0["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    for r in rules:
        assert r["helpUri"].startswith("https://") and r["helpUri"].endswith("/docs/rules.md#" + r["id"].lower())
        assert r["help"]["text"] and r["help"]["markdown"].startswith(f"## {r['id']}\n")
    bases = run0.get("originalUriBaseIds", {})
    for result in run0["results"]:
        assert result["locations"], result
        physical = result["locations"][0]["physicalLocation"]
        art = physical["artifactLocation"]
        assert art["uri"] and "<" not in art["uri"] and " " not in art["uri"]
        if "uriBaseId" in art:
            assert art["uriBaseId"] in bases
        else:
            assert art["uri"].startswith("file:///")
        assert set(result["partialFingerprints"]) == {"imgaccessFinding/v1"}
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


@NEEDS_SARIF_SCHEMA
def test_sarif_from_relative_files_keeps_paths_relative_and_encoded(tmp_path: Path) -> None:
    (tmp_path / "k8s dir").mkdir()
    shutil.copy(FIXTURES / "three-mistakes.yaml", tmp_path / "k8s dir" / "app#1.yaml")
    rc, out, _ = offline("-f", "./k8s dir/app#1.yaml", "-o", "sarif", cwd=str(tmp_path))
    assert rc == 1
    doc = json.loads(out)
    validate("sarif", doc)
    assert_ingestible(doc)
    run0 = sarif_run(doc)
    arts = {json.dumps(r["locations"][0]["physicalLocation"]["artifactLocation"], sort_keys=True)
            for r in run0["results"]}
    assert arts == {json.dumps({"uri": "k8s%20dir/app%231.yaml", "uriBaseId": "%SRCROOT%"}, sort_keys=True)}
    assert run0["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run0["invocations"][0]["exitCode"] == 1 and run0["invocations"][0]["executionSuccessful"] is True
    ia005 = next(r for r in run0["results"] if r["ruleId"] == "IA005")
    line = ia005["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert "serviceAccountName: wls-admin" in (FIXTURES / "three-mistakes.yaml").read_text().splitlines()[line - 1]
    assert ia005["locations"][0]["logicalLocations"] == [
        {"name": "sample-domain1", "fullyQualifiedName": "sample-domain1-ns/sample-domain1", "kind": "object"}]


@NEEDS_SARIF_SCHEMA
def test_sarif_from_stdin_has_a_valid_relative_uri() -> None:
    rc, out, _ = offline("-f", "-", "-o", "sarif", stdin=(FIXTURES / "three-mistakes.yaml").read_text())
    assert rc == 1
    doc = json.loads(out)
    validate("sarif", doc)
    assert_ingestible(doc)
    run0 = sarif_run(doc)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run0["results"]} == {"stdin"}
    assert "STDIN" in run0["originalUriBaseIds"]


def fingerprints(doc: Dict[str, Any]) -> List[Tuple[str, str]]:
    return sorted((r["ruleId"], r["partialFingerprints"]["imgaccessFinding/v1"]) for r in sarif_run(doc)["results"])


def test_fingerprints_are_stable_across_runs_and_edits_around_the_finding(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    text = (FIXTURES / "three-mistakes.yaml").read_text()
    path.write_text(text)
    first = json.loads(offline("-f", str(path), "-o", "sarif")[1])
    again = json.loads(offline("-f", str(path), "-o", "sarif")[1])
    path.write_text("# a new comment\n# and another\n" + text)  # every line moves
    moved = json.loads(offline("-f", str(path), "-o", "sarif")[1])
    assert fingerprints(first) == fingerprints(again) == fingerprints(moved)
    assert len({fp for _, fp in fingerprints(first)}) == len(fingerprints(first))  # distinct findings differ
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in sarif_run(moved)["results"]]
    assert lines == [n + 2 for n in (r["locations"][0]["physicalLocation"]["region"]["startLine"]
                                     for r in sarif_run(first)["results"])]


def test_sarif_marks_suppressed_findings() -> None:
    _, out, _ = offline("-f", str(FIXTURES / "suppressed.yaml"), "-o", "sarif")
    results = sarif_run(json.loads(out))["results"]
    suppressed = [r for r in results if r["ruleId"] in ("IA004", "IA016")]
    assert suppressed and all(r["suppressions"][0]["kind"] == "inSource" for r in suppressed)  # by annotation
    assert all("annotation" in r["suppressions"][0]["justification"] for r in suppressed)
    assert all("baselineState" not in r for r in results)


# --------------------------------------------------------------------------------------------- JUnit

def cases(root: ET.Element) -> List[ET.Element]:
    return list(root.iter("testcase"))


@pytest.mark.parametrize("level", LEVELS)
def test_junit_testcase_fails_exactly_when_its_findings_fail_the_gate(level: str, tmp_path: Path) -> None:
    # one Domain with an error (IA004 on the aux image), a warning (IA011) and info (IA016)
    path = tmp_path / "d.yaml"
    path.write_text(
        "apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata:\n  name: d1\n  namespace: apps\nspec:\n"
        "  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n  imagePullSecrets:\n"
        "    - name: ocr\n  configuration:\n    model:\n      auxiliaryImages:\n"
        "        - image: container-registry.oracle.com/middleware/wdt-model:1\n  serverPod:\n    initContainers:\n"
        "      - name: local\n        image: wls-tools:dev\n        imagePullPolicy: Never\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ocr\n  namespace: apps\n"
        "type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: "
        "'{\"auths\": {\"container-registry.oracle.com/middleware/weblogic\": "
        "{\"auth\": \"cm9ib3Q6ZXhhbXBsZS10b2tlbi0x\"}}}'\n")
    rc, out, _ = offline("-f", str(path), "--fail-on", level, "-o", "json")
    doc = json.loads(out)
    rc_junit, xml_text, _ = offline("-f", str(path), "--fail-on", level, "-o", "junit")
    assert rc == rc_junit
    root = ET.fromstring(xml_text)
    for attr in ("tests", "failures", "errors", "time"):
        assert root.get(attr) is not None
    d = doc["domains"][0]
    order = ("info", "warning", "error")
    by_case = {}
    for img in d["images"]:
        related = [f for f in d["findings"] if img["image"] in f["images"]]
        fails = level != "never" and any(not f["suppressed"] and order.index(f["severity"]) >= order.index(level)
                                         for f in related)
        by_case[f"{img['field']} {img['image']} (sa/{img['serviceAccount']})"] = fails
    seen = {c.get("name"): c for c in cases(root)}
    assert set(by_case) <= set(seen)
    for name, fails in by_case.items():
        failure = seen[name].find("failure")
        assert (failure is not None) == fails, (level, name)
        if failure is not None:
            assert failure.get("type", "").startswith("IA") and failure.get("message")
    assert (int(root.get("failures", "0")) > 0) == (rc == 1)
    assert rc == {"error": 1, "warning": 1, "info": 1, "never": 0}[level]


def test_junit_is_well_formed_with_control_characters_in_the_data(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text('apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata:\n  name: d1\n  namespace: apps\n'
                    'spec:\n  image: "Busybox\\e[2J\\x01\\x7f\\uFFFE"\n')
    rc, xml_text, _ = offline("-f", str(path), "-o", "junit")
    assert rc == 1
    root = ET.fromstring(xml_text)  # parses: nothing XML 1.0 forbids was written raw
    assert "\x1b" not in xml_text and "\\x1b" in xml_text and "\\ufffe" in xml_text
    failure = next(c.find("failure") for c in cases(root) if c.find("failure") is not None)
    assert failure is not None and failure.get("type") == "IA010"


# ------------------------------------------------------------------------------------------ baseline

DOMAIN = ("apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata:\n  name: d1\n  namespace: apps\nspec:\n"
          "  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0\n")
AUX = ("  configuration:\n    model:\n      auxiliaryImages:\n"
       "        - image: container-registry.oracle.com/middleware/wdt-model:1\n")


def test_baseline_absorbs_old_findings_and_fails_on_new_ones(tmp_path: Path) -> None:
    app, base = tmp_path / "app.yaml", tmp_path / "baseline.json"
    app.write_text(DOMAIN)
    rc, out, _ = offline("-f", str(app), "-o", "json")
    assert rc == 1
    base.write_text(out)

    rc, out, _ = offline("-f", str(app), "-o", "json", "--baseline", str(base))
    doc = json.loads(out)
    assert rc == 0 and doc["summary"]["gate"] == "pass" and doc["summary"]["baseline"] >= 1
    assert all(f["baseline"] for _, f in findings(doc) if not f["suppressed"])
    assert doc["domains"][0]["verdict"] == "fail"  # the pull still fails; only the gate knows it is old

    app.write_text("# moved\n" + DOMAIN + AUX)  # lines move; a new image brings a new finding
    rc, out, _ = offline("-f", str(app), "-o", "json", "--baseline", str(base))
    doc = json.loads(out)
    assert rc == 1 and doc["summary"]["gate"] == "fail"
    old = [f for _, f in findings(doc) if f["rule"] == "IA004" and f["field"] == "spec.image"]
    new = [f for _, f in findings(doc) if f["rule"] == "IA004" and f["field"] != "spec.image"]
    assert old and all(f["baseline"] for f in old)
    assert new and not any(f["baseline"] for f in new)
    assert doc["summary"]["findings"]["error"] == len(new)

    rc, table, _ = offline("-f", str(app), "--baseline", str(base))
    assert rc == 1
    summary = table.strip().splitlines()[-1]
    absorbed = doc["summary"]["baseline"]
    assert f"baseline absorbed {absorbed} finding{'s' * (absorbed != 1)}" in summary and "FAIL" in summary
    assert "wdt-model" in table and "(baseline)" not in table
    rc, table, _ = offline("-f", str(app), "--baseline", str(base), "--show", "baseline")
    assert "(baseline)" in table

    rc, out, _ = offline("-f", str(app), "-o", "sarif", "--baseline", str(base))
    results = sarif_run(json.loads(out))["results"]
    states = {(r["ruleId"], r["properties"]["field"]): r["baselineState"] for r in results}
    assert states[("IA004", "spec.image")] == "unchanged"
    assert "new" in {state for (_, field), state in states.items() if field != "spec.image"}

    rc, xml_text, _ = offline("-f", str(app), "-o", "junit", "--baseline", str(base))
    root = ET.fromstring(xml_text)
    verdicts = {c.get("name", "").split()[0]: c.find("failure") is not None for c in cases(root)}
    assert verdicts["spec.image"] is False
    assert any(fails for field, fails in verdicts.items() if field.startswith("spec.configuration"))
    assert rc == 1 and int(root.get("failures", "0")) >= 1


def test_baseline_does_not_accept_what_was_only_suppressed(tmp_path: Path) -> None:
    app, base = tmp_path / "app.yaml", tmp_path / "baseline.json"
    suppressed = DOMAIN.replace("  namespace: apps\n",
                                "  namespace: apps\n  annotations:\n    imgaccess.weblogic.oracle/ignore: IA004\n")
    app.write_text(suppressed)
    rc, out, _ = offline("-f", str(app), "-o", "json")
    assert rc == 0
    base.write_text(out)
    app.write_text(DOMAIN)  # the suppression is removed
    rc, out, _ = offline("-f", str(app), "-o", "json", "--baseline", str(base))
    assert rc == 1


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("not json at all", "not JSON"),
    ('{"schemaVersion": 2, "domains": []}', "not a `kubectl imgaccess check -o json` report"),
    ('[1, 2]', "not a `kubectl imgaccess check -o json` report"),
    ('{"schemaVersion": 1, "domains": [{"findings": 7}]}', "findings is not a list"),
])
def test_a_missing_or_unreadable_baseline_is_exit_2_with_one_line(content: Optional[str], message: str,
                                                                   tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    if content is not None:
        base.write_text(content)
    rc, out, err = offline("-f", str(FIXTURES / "healthy.yaml"), "--baseline", str(base))
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err and str(base) in err


def test_a_directory_as_baseline_is_exit_2(tmp_path: Path) -> None:
    rc, _, err = offline("-f", str(FIXTURES / "healthy.yaml"), "--baseline", str(tmp_path))
    assert rc == 2 and "is a directory" in err


# ------------------------------------------------------------------------------------ from a cluster

def cluster_check(kube_env: Dict[str, str], *args: str) -> Tuple[int, str, str]:
    proc = run(["check", *args], env=kube_env)
    return proc.returncode, proc.stdout, proc.stderr


@NEEDS_SARIF_SCHEMA
def test_sarif_from_a_cluster_has_logical_and_physical_locations(sandbox: Sandbox, kube_env: Dict[str, str]) -> None:
    sandbox.load_dir(str(EXAMPLES))
    rc, out, _ = cluster_check(kube_env, "-A", "-o", "sarif")
    assert rc == 1
    doc = json.loads(out)
    validate("sarif", doc)
    assert_ingestible(doc)
    run0 = sarif_run(doc)
    assert "CLUSTER" in run0["originalUriBaseIds"]
    for r in run0["results"]:
        loc = r["locations"][0]
        ns, name = r["properties"]["namespace"], r["properties"]["domain"]
        assert loc["physicalLocation"]["artifactLocation"] == {"uri": f"namespaces/{ns}/domains/{name}",
                                                               "uriBaseId": "CLUSTER"}
        assert loc["logicalLocations"] == [{"name": name, "fullyQualifiedName": f"{ns}/{name}", "kind": "object"}]
    again = json.loads(cluster_check(kube_env, "-A", "-o", "sarif")[1])
    assert fingerprints(again) == fingerprints(doc)


def test_incomplete_audit_is_exit_3_and_a_junit_error_naming_ia017(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.load_dir(str(EXAMPLES))
    sandbox.add_user("auditor", "auditor-token")
    ns = "payments-ns"
    sandbox.allow(Rule("auditor", ["get", "list"], ["domains", "clusters", "pods", "events", "serviceaccounts"],
                  namespaces=[ns]))  # no Secrets: every verdict that needs one is unknown
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="auditor", namespace=ns)
    env = {"KUBECONFIG": kc}
    rc, out, err = cluster_check(env, "-o", "json", "--fail-on", "error")
    doc = json.loads(out)
    assert rc == 3, err
    assert doc["summary"]["incomplete"] is True and doc["summary"]["gate"] == "pass"
    assert rc == expected_exit(doc, "error")

    rc, xml_text, _ = cluster_check(env, "-o", "junit")
    assert rc == 3
    root = ET.fromstring(xml_text)
    assert root.get("failures") == "0" and int(root.get("errors", "0")) == 1
    first_suite = root.find("testsuite")
    assert first_suite is not None and first_suite.get("name") == "kubectl-imgaccess audit"  # errors first
    error = first_suite.find("testcase/error")
    assert error is not None and error.get("type") == "IA017"
    assert "secrets" in (error.text or "").lower() and ns in (error.text or "")

    rc, out, _ = cluster_check(env, "-o", "sarif")
    assert rc == 3
    invocation = sarif_run(json.loads(out))["invocations"][0]
    assert invocation == {**invocation, "executionSuccessful": False, "exitCode": 3}
    assert invocation["toolExecutionNotifications"]

    rc, _, _ = cluster_check(env, "--fail-on", "warning")
    assert rc == 1  # IA017 is a warning: at --fail-on warning the gate fails, which outranks incomplete
