"""`check --offline` through the real console script, on fixture manifests for every rule and mistake."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from tests.clitools import FIXTURES, ROOT, active_rules, check_json, run

# fixture -> (expected exit code, rules that must fire, rules that must not). IA004 is the fact of an anonymous
# pull; IA002/IA003/IA006/IA007/IA008 explain it and never replace it.
CASES = {
    "healthy.yaml": (0, {"IA016"}, {"IA001", "IA002", "IA003", "IA004", "IA005", "IA006", "IA007"}),
    "ia001-secret-not-found.yaml": (1, {"IA001", "IA004"}, {"IA002"}),
    "ia002-secret-wrong-type.yaml": (1, {"IA002", "IA004"}, {"IA001", "IA003", "IA008"}),
    "ia003-secret-malformed.yaml": (1, {"IA003", "IA004"}, {"IA001"}),
    "ia003-legacy-layout.yaml": (1, {"IA003", "IA004"}, {"IA002"}),
    "ia004-wrong-registry.yaml": (1, {"IA004"}, {"IA001", "IA002", "IA003"}),
    "ia005-serviceaccount-not-found.yaml": (1, {"IA005"}, {"IA004"}),
    "ia006-serviceaccount-secrets-ignored.yaml": (1, {"IA006", "IA004"}, {"IA007"}),
    "ia007-credential-not-referenced.yaml": (1, {"IA007", "IA004"}, {"IA006"}),
    "ia008-credential-in-other-namespace.yaml": (1, {"IA008", "IA004"}, {"IA007"}),
    "ia010-invalid-image-reference.yaml": (1, {"IA010"}, {"IA004"}),
    "ia011-pull-policy-never.yaml": (0, {"IA011"}, {"IA010"}),
    "ia018-anonymous-exporter.yaml": (0, {"IA018", "IA016"}, {"IA004"}),
    "ia019-operator-ignored-field.yaml": (0, {"IA019", "IA016"}, {"IA004"}),
    "suppressed.yaml": (0, set(), {"IA004", "IA016"}),
}


def finding(doc: Dict[str, Any], rule: str) -> Dict[str, Any]:
    return next(f for d in doc["domains"] for f in d["findings"] if f["rule"] == rule)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixture_rules(name: str) -> None:
    code, must, must_not = CASES[name]
    proc = run(["check", "--offline", "-o", "json", "-f", str(FIXTURES / name)])
    assert proc.returncode == code, proc.stdout + proc.stderr
    rules = active_rules(json.loads(proc.stdout))
    assert must <= rules
    assert not (must_not & rules)


def test_every_fixture_is_covered() -> None:
    assert {p.name for p in FIXTURES.glob("*.yaml")} - {"three-mistakes.yaml"} == set(CASES)


def test_findings_point_at_the_field_at_fault() -> None:
    path = FIXTURES / "ia001-secret-not-found.yaml"
    _, doc = check_json("-f", str(path))
    f = finding(doc, "IA001")
    lines = path.read_text().splitlines()
    assert f["location"]["file"] == str(path)
    assert "ocr-credentials" in lines[f["location"]["line"] - 1]
    assert f["field"] == "spec.imagePullSecrets[0]"
    assert f["secret"] == "ocr-credentials"
    img = finding(doc, "IA004")
    assert "image:" in lines[img["location"]["line"] - 1]


def test_ia001_is_a_warning_when_another_secret_covers_every_image(tmp_path: Any) -> None:
    healthy = (FIXTURES / "healthy.yaml").read_text()
    doc = healthy.replace("    - name: ocr-cred\n", "    - name: ocr-cred\n    - name: old-cred\n")
    (tmp_path / "d.yaml").write_text(doc)
    code, out = check_json("-f", str(tmp_path / "d.yaml"))
    assert code == 0
    assert finding(out, "IA001")["severity"] == "warning"
    assert out["domains"][0]["verdict"] == "warn"


def test_ia006_warns_when_serviceaccount_lists_secrets_the_domain_does_not(tmp_path: Any) -> None:
    text = (FIXTURES / "healthy.yaml").read_text() + (
        "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default\n  namespace: apps\n"
        "imagePullSecrets:\n  - name: extra\n")
    (tmp_path / "d.yaml").write_text(text)
    _, out = check_json("-f", str(tmp_path / "d.yaml"))
    assert finding(out, "IA006")["severity"] == "warning"


def test_json_carries_every_required_key() -> None:
    _, doc = check_json("-f", str(FIXTURES / "three-mistakes.yaml"))
    assert doc["schemaVersion"] == 1
    assert doc["tool"]["name"] == "kubectl-imgaccess" and doc["tool"]["version"]
    assert doc["source"] == {"mode": "files", "context": None, "files": [str(FIXTURES / "three-mistakes.yaml")],
                             "baseline": None}
    s = doc["summary"]
    assert set(s) >= {"domains", "images", "verdicts", "findings", "incomplete", "gate"}
    assert set(s["verdicts"]) == {"pass", "warn", "fail", "unknown"}
    assert set(s["findings"]) == {"error", "warning", "info"}
    assert s["gate"] == "fail" and s["incomplete"] is False
    d = doc["domains"][0]
    assert set(d) >= {"namespace", "name", "domainUID", "verdict", "images", "findings"}
    for img in d["images"]:
        assert set(img) >= {"image", "repository", "field", "pods", "serviceAccount", "pullSecrets",
                            "credentials", "verdict"}
        assert set(img["pullSecrets"]) == {"from", "names"}
        assert set(img["pods"]) <= {"server", "introspector"}
    for f in d["findings"]:
        assert set(f) >= {"rule", "name", "severity", "message", "field", "image", "secret", "serviceAccount",
                          "suppressed", "location", "fix"}


def test_three_mistakes_are_all_reported() -> None:
    code, doc = check_json("-f", str(FIXTURES / "three-mistakes.yaml"))
    assert code == 1
    assert {"IA001", "IA002", "IA005"} <= active_rules(doc)
    d = doc["domains"][0]
    admin = [i for i in d["images"] if i["serviceAccount"] == "wls-admin"]
    assert admin and all(i["verdict"] == "fail" for i in admin)


def test_yaml_output_is_the_same_document() -> None:
    path = str(FIXTURES / "three-mistakes.yaml")
    as_json = json.loads(run(["check", "--offline", "-o", "json", "-f", path]).stdout)
    as_yaml = yaml.safe_load(run(["check", "--offline", "-o", "yaml", "-f", path]).stdout)
    assert as_json == as_yaml


def test_table_has_a_row_per_domain_and_findings_with_file_line() -> None:
    path = FIXTURES / "three-mistakes.yaml"
    proc = run(["check", "--offline", "-f", str(path)])
    assert proc.returncode == 1
    out = proc.stdout
    lines = out.splitlines()
    assert lines[0].split() == ["NAMESPACE", "DOMAIN", "VERDICT", "IMAGES", "RULES", "REASON"]
    assert lines[1].split()[:5] == ["sample-domain1-ns", "sample-domain1", "fail", "0/4", "ok"]
    assert lines[2] == ""
    assert "container-registry.oracle.com/middleware/weblogic:14.1.2.0-generic-jdk17-ol8" in out  # whole: no tty
    assert f"{path}:" in out and "IA005" in out
    assert "\x1b[" not in out  # not a terminal: no color
    assert lines[-1].startswith("1 Domain (4 images): 1 fail |")
    assert "gate (--fail-on error): FAIL" in out


def test_wide_keeps_a_row_per_image() -> None:
    out = run(["check", "--offline", "-o", "wide", "-f", str(FIXTURES / "three-mistakes.yaml")]).stdout.splitlines()
    assert out[0].split()[:3] == ["NAMESPACE", "DOMAIN", "IMAGE"]
    assert [ln.split()[0] for ln in out[1:5]] == ["sample-domain1-ns"] * 4 and out[5] == ""


def test_wide_output_names_repository_and_field() -> None:
    out = run(["check", "--offline", "-o", "wide", "-f", str(FIXTURES / "healthy.yaml")]).stdout
    assert "container-registry.oracle.com/middleware/weblogic" in out
    assert "spec.image" in out
    assert "ocr-cred[container-registry.oracle.com]" in out


def test_fail_on_levels() -> None:
    path = str(FIXTURES / "ia011-pull-policy-never.yaml")
    assert run(["check", "--offline", "-f", path]).returncode == 0
    assert run(["check", "--offline", "-f", path, "--fail-on", "warning"]).returncode == 1
    bad = str(FIXTURES / "ia001-secret-not-found.yaml")
    assert run(["check", "--offline", "-f", bad, "--fail-on", "never"]).returncode == 0


def test_stdin_and_directories_and_lists() -> None:
    text = (FIXTURES / "healthy.yaml").read_text()
    code, doc = check_json("-f", "-", stdin=text)
    assert code == 0 and doc["domains"][0]["name"] == "good"
    assert doc["source"]["files"] == ["<stdin>"]
    objs = [o for o in yaml.safe_load_all(text) if o]
    as_list = json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})
    code, doc = check_json("-f", "-", stdin=as_list)
    assert code == 0 and doc["domains"][0]["images"][0]["credentials"] == [
        {"secret": "ocr-cred", "key": "container-registry.oracle.com"}]
    code, doc = check_json("-f", str(FIXTURES))
    assert doc["summary"]["domains"] == len(list(FIXTURES.glob("*.yaml")))


def test_domain_names_and_selector_narrow_the_audit(tmp_path: Any) -> None:
    _, doc = check_json("-f", str(FIXTURES), "good", "missing-sa")
    assert sorted(d["name"] for d in doc["domains"]) == ["good", "missing-sa"]
    proc = run(["check", "--offline", "-f", str(FIXTURES), "nope"])
    assert proc.returncode == 2 and 'Domain "nope" not found' in proc.stderr
    _, doc = check_json("-f", str(FIXTURES / "healthy.yaml"), "-l", "team=x")
    assert doc["domains"] == []


def test_suppression_stays_in_json() -> None:
    _, doc = check_json("-f", str(FIXTURES / "suppressed.yaml"))
    suppressed = [f for f in doc["domains"][0]["findings"] if f["suppressed"]]
    assert {f["rule"] for f in suppressed} == {"IA004", "IA016"}
    assert doc["summary"]["findings"] == {"error": 0, "warning": 0, "info": 0}


def test_config_file_ignores_and_registry_knowledge(tmp_path: Any) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("registries:\n  - match: '*.example.com'\n    auth: required\n"
                   "ignore:\n  - rule: registry-terms-required\n    namespace: 'ap*'\n")
    img = tmp_path / "d.yaml"
    img.write_text("apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata: {name: d, namespace: apps}\n"
                   "spec:\n  image: registry.example.com/wls:1\n")
    _, doc = check_json("-f", str(img), "--config", str(cfg))
    assert finding(doc, "IA004")["severity"] == "error"
    _, doc = check_json("-f", str(FIXTURES / "healthy.yaml"), "--config", str(cfg))
    assert all(f["suppressed"] for f in doc["domains"][0]["findings"] if f["rule"] == "IA016")


def test_config_errors_name_file_and_line(tmp_path: Any) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("registries:\n  - match: quay.io\n    auth: maybe\n")
    proc = run(["check", "--offline", "-f", str(FIXTURES / "healthy.yaml"), "--config", str(cfg)])
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {cfg}:3: auth must be one of required, anonymous, unknown, node, not 'maybe'"


@pytest.mark.parametrize("fmt", ["table", "wide", "json", "yaml", "sarif", "junit"])
def test_no_secret_value_in_any_format(fmt: str) -> None:
    for name in ("healthy.yaml", "three-mistakes.yaml", "ia002-secret-wrong-type.yaml", "ia003-legacy-layout.yaml"):
        proc = run(["check", "--offline", "-o", fmt, "-v", "9", "-f", str(FIXTURES / name)])
        for value in ("s3cr3t-Pa55", "ghp-token-value", "b3BzQGV4YW1wbGUuY29tOnMzY3IzdC1QYTU1"):
            assert value not in proc.stdout and value not in proc.stderr


def test_sarif_and_junit_are_well_formed() -> None:
    path = str(FIXTURES / "three-mistakes.yaml")
    sarif = json.loads(run(["check", "--offline", "-o", "sarif", "-f", path]).stdout)
    run0 = sarif["runs"][0]
    assert [r["id"] for r in run0["tool"]["driver"]["rules"]][:2] == ["IA001", "IA002"]
    results: List[Dict[str, Any]] = run0["results"]
    ia005 = next(r for r in results if r["ruleId"] == "IA005")
    assert ia005["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == Path(path).as_uri()
    junit = ET.fromstring(run(["check", "--offline", "-o", "junit", "-f", path]).stdout)
    assert int(junit.get("failures", "0")) >= 1


def test_ia019_names_the_ignored_image_in_every_format() -> None:
    """An ignored field is an info finding at its own line, in JSON, SARIF (a note) and the table."""
    path = FIXTURES / "ia019-operator-ignored-field.yaml"
    code, doc = check_json("-f", str(path))
    assert code == 0
    f = finding(doc, "IA019")
    assert (f["severity"], f["field"]) == ("info", "spec.configuration.model.auxiliaryImages[0].image")
    assert f["image"] == "registry.example.com/private/wdt-model:v1"
    assert "domainHomeSourceType is Image" in f["message"]
    assert "registry.example.com/private/wdt-model:v1" in path.read_text().splitlines()[f["location"]["line"] - 1]
    assert all(img["image"] != f["image"] for d in doc["domains"] for img in d["images"])
    assert doc["domains"][0]["verdict"] == "pass"

    sarif = json.loads(run(["check", "--offline", "-o", "sarif", "-f", str(path)]).stdout)["runs"][0]
    assert "IA019" in {r["id"] for r in sarif["tool"]["driver"]["rules"]}
    result = next(r for r in sarif["results"] if r["ruleId"] == "IA019")
    assert result["level"] == "note"
    assert result["properties"]["image"] == f["image"]

    table = run(["check", "--offline", "--show", "info", "-f", str(path)], env={"COLUMNS": "250"}).stdout
    assert f"{path}:{f['location']['line']}: info IA019 operator-ignored-field: {f['image']}: " in table
    collapsed = run(["check", "--offline", "-f", str(path)], env={"COLUMNS": "250"}).stdout
    assert "info IA019 operator-ignored-field on 1 image in 1 Domain: " in collapsed
    assert "operator-ignored-field" in run(["rules"]).stdout
    assert "domainHomeSourceType" in run(["explain", "operator-ignored-field"]).stdout


@pytest.mark.parametrize("version", ["v2", "v7"])
def test_domain_version_operator_4_does_not_serve_is_an_input_error(tmp_path: Any, version: str) -> None:
    """Operator 4.x serves weblogic.oracle/v9 and v8 only: files with older Domains are refused, at the line
    of their apiVersion, before anything is audited."""
    text = (FIXTURES / "healthy.yaml").read_text().replace("weblogic.oracle/v9", f"weblogic.oracle/{version}")
    (tmp_path / "old.yaml").write_text(text)
    proc = run(["check", "--offline", "-o", "json", "-f", str(tmp_path / "old.yaml")])
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        f"error: {tmp_path / 'old.yaml'}:3: Domain good: apiVersion weblogic.oracle/{version}: "
        "operator 4.x serves weblogic.oracle/v9 and v8 only"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["check", "--offline"], "--offline needs manifests"),
        (["check", "--offline", "-f", "/nonexistent/x.yaml"], "/nonexistent/x.yaml: no such file"),
        (["check", "--offline", "-f", "{bad}", "-o", "xml"], "invalid choice"),
        (["check", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["explain", "IA999"], "unknown rule 'IA999'"),
        (["check", "--request-timeout", "soon", "-f", "x", "--offline"], "invalid duration"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: List[str], message: str) -> None:
    proc = run(args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_invalid_yaml_names_file_and_line(tmp_path: Any) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: [unclosed\n")
    proc = run(["check", "--offline", "-f", str(bad)])
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: {bad}:")
    assert "Traceback" not in proc.stderr
    proc = run(["check", "--offline", "-f", str(bad), "-v", "6"])
    assert "Traceback" in proc.stderr


def test_malformed_domain_is_an_input_error(tmp_path: Any) -> None:
    bad = tmp_path / "d.yaml"
    bad.write_text("apiVersion: weblogic.oracle/v9\nkind: Domain\nmetadata:\n  name: d\nspec:\n"
                   "  imagePullSecrets: regcred\n")
    proc = run(["check", "--offline", "-f", str(bad)])
    assert proc.returncode == 2
    assert f"{bad}:" in proc.stderr and "imagePullSecrets" in proc.stderr


@pytest.mark.parametrize("args", [["check", "--docker-pw=hunter2"], ["rules", "--tokn", "hunter2"],
                                  ["fix", "--docker-pass=hunter2"], ["explain", "IA001", "hunter2"]])
def test_mistyped_flags_never_echo_their_values(args: List[str]) -> None:
    proc = run(args)
    assert proc.returncode == 2
    assert "hunter2" not in proc.stderr and "hunter2" not in proc.stdout


def test_long_flags_are_not_abbreviated() -> None:
    proc = run(["check", "--offl", "-f", str(FIXTURES / "healthy.yaml")])
    assert proc.returncode == 2 and "--offl" in proc.stderr


def test_main_leaves_the_callers_logging_as_it_found_it(capsys: pytest.CaptureFixture[str]) -> None:
    """In-process callers (tests, embeddings) keep their logging: -v changes it only for the run."""
    import logging

    from kubectl_imgaccess.cli.main import main

    logger, root = logging.getLogger("kubectl_imgaccess"), logging.getLogger()

    def state() -> object:
        return logger.level, root.level, [(h, h.formatter) for h in root.handlers]

    before = state()
    for verbosity in ("0", "6"):
        assert main(["check", "--offline", "-v", verbosity, "-o", "json", "-f", str(FIXTURES / "healthy.yaml")]) == 0
        assert state() == before
    capsys.readouterr()


def test_cluster_no_domain_names_is_reported_once_at_its_line(tmp_path: Any) -> None:
    """The operator reads only the Cluster resources a Domain names in spec.clusters
    (DomainPresenceInfo.getReferencedClusters): a Cluster from the files that no Domain names gets one IA019
    at its own line, and its images are audited nowhere."""
    base = (ROOT / "tests" / "fixtures" / "operator" / "model-in-image.yaml").read_text()
    stray = (
        "---\napiVersion: weblogic.oracle/v1\nkind: Cluster\nmetadata:\n  name: shop-cluster-2\n"
        "  namespace: shop-ns\nspec:\n  clusterName: cluster-2\n  serverPod:\n    containers:\n"
        "    - name: side\n      image: registry.example.com/side:1\n"
    )
    path = tmp_path / "shop.yaml"
    path.write_text(base + stray)
    _, doc = check_json("-f", str(path))
    ia019 = [f for f in doc["findings"] if f["rule"] == "IA019"]
    assert len(ia019) == 1
    assert "Cluster shop-ns/shop-cluster-2 is not named in any Domain's spec.clusters" in ia019[0]["message"]
    assert ia019[0]["severity"] == "info" and not ia019[0]["suppressed"]
    assert path.read_text().splitlines()[ia019[0]["location"]["line"] - 1].startswith("apiVersion")
    assert "registry.example.com/side:1" not in {i["image"] for d in doc["domains"] for i in d["images"]}
    assert not [f for d in doc["domains"] for f in d["findings"] if f["rule"] == "IA019"]
    assert doc["summary"]["incomplete"] is False  # an ignored Cluster leaves nothing unread

    cfg = tmp_path / "config.yaml"
    cfg.write_text("ignore:\n  - rule: operator-ignored-field\n    namespace: shop-ns\n    reason: known\n")
    _, doc = check_json("-f", str(path), "--config", str(cfg))
    assert [f["suppressed"] for f in doc["findings"] if f["rule"] == "IA019"] == [True]

    # Narrowed to a Domain of another namespace, the stray Cluster is none of the run's business.
    other = tmp_path / "other.yaml"
    other.write_text((FIXTURES / "healthy.yaml").read_text())
    _, doc = check_json("good", "-n", "apps", "-f", str(other), "-f", str(path))
    assert not [f for f in doc["findings"] if f["rule"] == "IA019"]
