"""fix -f FILES --offline: plans against the files, shows unified diffs of them, edits them with --write
(touching only the lines it must), never writes a Secret value, and a second run plans nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import List

import yaml

from tests.clitools import ROOT, run

SOURCES = ROOT / "tests" / "fixtures" / "secret-sources"

DOMAIN = """\
# team-a's Domain: comments and key order must survive the edit
apiVersion: weblogic.oracle/v9
kind: Domain
metadata:
  name: sample
  namespace: team-a
spec:
  domainUID: sample
  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0  # base image
{pull}  webLogicCredentialsSecret:
    name: sample-weblogic-credentials   # made by the operator's script
  serverPod:
    env:
      - name: JAVA_OPTIONS
        value: "-Dweblogic.StdoutDebugEnabled=false"
# end of the Domain
"""


def sealed(name: str = "ocr-pull", registries: str = "container-registry.oracle.com") -> str:
    return (SOURCES / "sealedsecret.yaml").read_text().replace("name: ocr-pull", f"name: {name}") \
        .replace("registries: container-registry.oracle.com", f"registries: {registries}")


def fix(*args: str) -> tuple[int, str, str]:
    proc = run(["fix", "--offline", *args])
    return proc.returncode, proc.stdout, proc.stderr


def check(*files: Path) -> dict:  # type: ignore[type-arg]
    proc = run(["check", "--offline", "-o", "json", *[a for f in files for a in ("-f", str(f))]])
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def changed_lines(before: str, after: str) -> List[str]:
    """Lines of `after` that are not in `before` (every line of `before` must still be there, in order)."""
    a, b = before.splitlines(), after.splitlines()
    out, i = [], 0
    for line in b:
        if i < len(a) and line == a[i]:
            i += 1
        else:
            out.append(line)
    assert i == len(a), "a line of the original was changed or dropped"
    return out


def test_domain_list_added_diff_write_recheck_and_second_run(tmp_path: Path) -> None:
    domain = tmp_path / "domain.yaml"
    domain.write_text(DOMAIN.format(pull=""))
    secret = tmp_path / "ocr-pull.sealedsecret.yaml"
    secret.write_text(sealed())
    before = check(domain, secret)
    assert before["summary"]["gate"] == "fail"
    assert {f["rule"] for f in before["domains"][0]["findings"]} >= {"IA007"}

    code, out, err = fix("-f", str(domain), "-f", str(secret))
    assert code == 0, err
    assert f"--- a/{domain}" in out and f"+++ b/{domain}" in out
    assert "+  imagePullSecrets:\n+    - name: ocr-pull\n" in out
    assert "Not written" in out and domain.read_text() == DOMAIN.format(pull="")  # no --write: untouched

    code, out, err = fix("-f", str(domain), "-f", str(secret), "--write")
    assert code == 0, err
    assert "Written:" in out and "team-a/sample  fail    pass" in out
    assert changed_lines(DOMAIN.format(pull=""), domain.read_text()) == ["  imagePullSecrets:", "    - name: ocr-pull"]
    assert secret.read_text() == sealed()
    assert check(domain, secret)["summary"]["gate"] == "pass"

    code, out, _ = fix("-f", str(domain), "-f", str(secret), "--write")
    assert code == 0 and "nothing to change" in out and "Written" not in out


def test_existing_list_is_extended_never_dropped(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    text = DOMAIN.format(pull="  imagePullSecrets:\n  - name: ghcr-pull   # for the sidecar\n")
    domain.write_text(text)
    (tmp_path / "ocr.yaml").write_text(sealed())
    (tmp_path / "ghcr.yaml").write_text(sealed("ghcr-pull", "ghcr.io"))
    code, _out, err = fix("-f", str(tmp_path), "--write")
    assert code == 0, err
    assert changed_lines(text, domain.read_text()) == ["  - name: ocr-pull"]
    names = [e["name"] for e in yaml.safe_load(domain.read_text())["spec"]["imagePullSecrets"]]
    assert names == ["ghcr-pull", "ocr-pull"]


def test_service_account_list_is_extended(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    domain.write_text(DOMAIN.format(pull="").replace("  serverPod:\n", "  serverPod:\n    serviceAccountName: wls\n"))
    sa = tmp_path / "sa.yaml"
    sa_text = ("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: wls\n  namespace: team-a\n"
               "imagePullSecrets:\n  - name: ghcr-pull\n# trailing comment\n")
    sa.write_text(sa_text)
    (tmp_path / "s.yaml").write_text(sealed() + "---\n" + sealed("ghcr-pull", "ghcr.io"))
    code, out, err = fix("-f", str(tmp_path), "--write")
    assert code == 0, err
    assert "append ocr-pull to imagePullSecrets" in out
    assert changed_lines(sa_text, sa.read_text()) == ["  - name: ocr-pull"]
    assert sa.read_text().endswith("  - name: ocr-pull\n# trailing comment\n")


def test_flow_style_and_json_files(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text(DOMAIN.format(pull="  imagePullSecrets: []\n"))
    (tmp_path / "s.yaml").write_text(sealed())
    code, _, err = fix("-f", str(tmp_path), "--write")
    assert code == 0, err
    assert '  imagePullSecrets: [{"name": "ocr-pull"}]\n' in flow.read_text()

    jdir = tmp_path / "j"
    jdir.mkdir()
    doc = yaml.safe_load(DOMAIN.format(pull=""))
    (jdir / "d.json").write_text(json.dumps(doc, indent=2) + "\n")
    (jdir / "s.yaml").write_text(sealed())
    code, _, err = fix("-f", str(jdir), "--write")
    assert code == 0, err
    assert json.loads((jdir / "d.json").read_text())["spec"]["imagePullSecrets"] == [{"name": "ocr-pull"}]


def test_missing_service_account_is_added_to_the_domain_file(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    text = DOMAIN.format(pull="  imagePullSecrets:\n    - name: ocr-pull\n").replace(
        "  serverPod:\n", "  serverPod:\n    serviceAccountName: wls-runner\n")
    domain.write_text(text)
    (tmp_path / "s.yaml").write_text(sealed())
    code, _out, err = fix("-f", str(tmp_path), "--write")
    assert code == 0, err
    docs = list(yaml.safe_load_all(domain.read_text()))
    assert docs[1] == {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": "wls-runner", "namespace": "team-a"}}
    assert domain.read_text().startswith(text)


def test_a_secret_is_never_written_a_step_is_printed(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    domain.write_text(DOMAIN.format(pull=""))
    code, out, err = fix("-f", str(domain), "--secret", "ocr-pull", "--write")
    assert code == 1, err  # the Secret does not exist yet: IA001 remains, and says so
    assert "- name: ocr-pull" in domain.read_text()
    assert list(tmp_path.iterdir()) == [domain]
    assert "Secrets to make (fix never writes a Secret's value into a file):" in out
    assert "kubectl create secret docker-registry ocr-pull -n team-a" in out and "| kubeseal" in out
    assert "fix: see IA001, which says why no credential matches" in out  # one cause: singular
    proc = run(["fix", "--offline", "-f", str(domain), "--secret", "x", "--docker-username", "u",
                "--password-stdin"], stdin="hunter2-secret\n")
    assert proc.returncode == 2 and "never writes a Secret's value" in proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr


def test_external_secrets_repositories_get_the_external_secret_step(tmp_path: Path) -> None:
    shutil.copy(SOURCES / "externalsecret-v1.yaml", tmp_path / "other.yaml")
    (tmp_path / "other.yaml").write_text((tmp_path / "other.yaml").read_text().replace("ocr-pull", "unrelated")
                                         .replace("container-registry.oracle.com, ", ""))
    domain = tmp_path / "d.yaml"
    domain.write_text(DOMAIN.format(pull="  imagePullSecrets:\n    - name: ocr-pull\n"))
    code, out, _ = fix("-f", str(tmp_path))
    assert code == 1
    assert "add an ExternalSecret (external-secrets.io/v1) in team-a with spec.target.name ocr-pull" in out


def test_bad_combinations_are_refused(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    domain.write_text(DOMAIN.format(pull=""))
    for args, words in ((["fix", "-f", str(domain)], "add --offline"),
                        (["fix", "--offline"], "-f FILE|DIR"),
                        (["fix", "--offline", "-f", str(domain), "--restart"], "--restart"),
                        (["fix", "--offline", "-f", "-", "--secret", "s", "--write"], "cannot edit stdin")):
        proc = run(args, stdin=domain.read_text())
        assert proc.returncode == 2 and words in proc.stderr, (args, proc.stderr)
    string_list = tmp_path / "bad"
    string_list.mkdir()
    (string_list / "d.yaml").write_text(DOMAIN.format(pull="  imagePullSecrets: ocr-pull\n"))
    (string_list / "s.yaml").write_text(sealed())
    before = (string_list / "d.yaml").read_text()
    proc = run(["fix", "--offline", "-f", str(string_list), "--write"])
    assert (string_list / "d.yaml").read_text() == before
    assert proc.returncode in (1, 2)


def test_json_plan_document(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    domain.write_text(DOMAIN.format(pull=""))
    (tmp_path / "s.yaml").write_text(sealed())
    proc = run(["fix", "--offline", "-f", str(tmp_path), "-o", "json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["applied"] is False and doc["actions"][0]["kind"] == "Domain"
    assert doc["files"][0]["file"] == str(domain) and "+  imagePullSecrets:" in doc["files"][0]["diff"]


def test_service_account_secret_that_will_exist_moves_to_the_domain_list(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    text = DOMAIN.format(pull="  imagePullSecrets:\n    - name: ghcr-pull\n").replace(
        "  serverPod:\n", "  serverPod:\n    serviceAccountName: wls\n")
    domain.write_text(text)
    (tmp_path / "sa.yaml").write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: wls, namespace: "
                                      "team-a}\nimagePullSecrets: [{name: ocr-pull}]\n")
    (tmp_path / "s.yaml").write_text(sealed() + "---\n" + sealed("ghcr-pull", "ghcr.io"))
    before = check(tmp_path)
    assert "IA006" in {f["rule"] for f in before["domains"][0]["findings"]}
    code, _out, err = fix("-f", str(tmp_path), "--write")
    assert code == 0, err
    assert changed_lines(text, domain.read_text()) == ["    - name: ocr-pull"]
    assert check(tmp_path)["summary"]["gate"] == "pass"


def test_an_ignored_secret_in_a_repository_is_not_rebuilt_into_a_file(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    domain.write_text(DOMAIN.format(pull="  imagePullSecrets:\n    - name: ocr-opaque\n"))
    opaque = tmp_path / "s.yaml"
    opaque.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: ocr-opaque, namespace: team-a}\ntype: Opaque\n"
                      "data:\n  .dockerconfigjson: eyJhdXRocyI6eyJjb250YWluZXItcmVnaXN0cnkub3JhY2xlLmNvbSI6eyJhdXRo"
                      "IjoiZFhObGNqcHdZWE56ZDI5eVpBPT0ifX19\n")
    code, out, _ = fix("-f", str(tmp_path), "--write")
    assert code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.yaml", "s.yaml"]
    assert "kubeseal" in out and "ocr-opaque-dockerconfigjson" not in out


def test_a_file_holding_a_long_opaque_secret_is_edited(tmp_path: Path) -> None:
    """check elides long values of a Secret the kubelet never reads; the edit is read back the same way, so
    the file that also holds such a Secret (a certificate, say) is edited, not refused."""
    blob = "\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: blob\n  namespace: team-a\ntype: Opaque\n" \
           "data:\n  cert: " + "QUJD" * 150 + "\n"
    domain = tmp_path / "domain.yaml"
    domain.write_text(DOMAIN.format(pull="") + blob)
    secret = tmp_path / "ocr-pull.sealedsecret.yaml"
    secret.write_text(sealed())
    code, _, err = fix("-f", str(domain), "-f", str(secret), "--write")
    assert code == 0, err
    assert changed_lines(DOMAIN.format(pull="") + blob, domain.read_text()) == \
        ["  imagePullSecrets:", "    - name: ocr-pull"]
    assert check(domain, secret)["summary"]["gate"] == "pass"
