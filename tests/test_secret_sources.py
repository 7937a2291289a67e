"""Secrets that will exist: SealedSecret, ExternalSecret (v1beta1, v1), SOPS, Vault Secrets Operator, config
`provided:` entries; and what `-f` does with kustomizations, Helm charts and values files, `-k` with the real
kubectl."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from kubectl_imgaccess.audit.run import audit, probe_keys
from kubectl_imgaccess.errors import InputError
from kubectl_imgaccess.manifests import load_config, read_files
from kubectl_imgaccess.objects import ObjectKey
from tests.clitools import ROOT, run

SOURCES = ROOT / "tests" / "fixtures" / "secret-sources"
DOMAIN = str(SOURCES / "domain.yaml")


def findings(*files: str, config: Optional[str] = None) -> List[Dict[str, Any]]:
    snap = read_files([DOMAIN, *[str(SOURCES / f) for f in files]], "default")
    report = audit(snap, load_config(config))
    return [{"rule": f.rule, "severity": f.severity, "message": f.message, "location": f.location,
             "fix": f.fix} for d in report.domains for f in d.findings if not f.suppressed]


def rules(*files: str, config: Optional[str] = None) -> Dict[str, str]:
    return {f["rule"]: f["severity"] for f in findings(*files, config=config)}


# source file -> (kind of the object that makes Secret team-a/ocr-pull, its type)
MADE = {
    "sealedsecret.yaml": ("SealedSecret", "kubernetes.io/dockerconfigjson"),
    "sealedsecret-opaque.yaml": ("SealedSecret", "Opaque"),
    "externalsecret-v1beta1.yaml": ("ExternalSecret", "kubernetes.io/dockerconfigjson"),
    "externalsecret-v1.yaml": ("ExternalSecret", "kubernetes.io/dockerconfigjson"),
    "sops-secret.yaml": ("Secret", "kubernetes.io/dockerconfigjson"),
    "vaultstaticsecret.yaml": ("VaultStaticSecret", "kubernetes.io/dockerconfigjson"),
    "vaultdynamicsecret.yaml": ("VaultDynamicSecret", None),
}


@pytest.mark.parametrize("name", sorted(MADE))
def test_each_source_makes_the_secret_with_its_name_and_type(name: str) -> None:
    snap = read_files([str(SOURCES / name)], "default")
    made = snap.provided[ObjectKey("Secret", "team-a", "ocr-pull")]
    assert (made.source.kind, made.type) == MADE[name]
    assert made.location is not None and made.location.file.endswith(name)
    assert ObjectKey("Secret", "team-a", "ocr-pull") not in snap.objects  # never read as a clear Secret


@pytest.mark.parametrize("name", ["sealedsecret.yaml", "externalsecret-v1beta1.yaml", "externalsecret-v1.yaml",
                                  "sops-secret.yaml", "vaultstaticsecret.yaml"])
def test_declared_registries_make_the_pull_pass(name: str) -> None:
    assert set(rules(name)) == {"IA016"}  # the terms note only: no IA001, IA004, IA020


@pytest.mark.parametrize("name", ["sealedsecret-undeclared.yaml", "vaultdynamicsecret.yaml"])
def test_undeclared_registries_warn_instead_of_failing(name: str) -> None:
    found = findings(name)
    assert {f["rule"] for f in found} == {"IA020", "IA016"}
    ia020 = next(f for f in found if f["rule"] == "IA020")
    assert ia020["severity"] == "warning"
    assert ia020["location"].file.endswith(name)  # the source object, file:line
    kind = MADE.get(name, ("SealedSecret",))[0]
    assert f"made by {kind} team-a/" in ia020["message"] and f"{name}:" in ia020["message"]
    assert "imgaccess.weblogic.oracle/registries" in ia020["fix"]


def test_a_sealed_secret_without_template_type_is_opaque() -> None:
    found = findings("sealedsecret-opaque.yaml")
    ia002 = next(f for f in found if f["rule"] == "IA002")
    assert ia002["severity"] == "error" and "will be of type Opaque" in ia002["message"]
    assert "SealedSecret team-a/ocr-pull (" in ia002["message"] and "spec.template.type" in ia002["fix"]


def test_creation_policy_none_makes_no_secret() -> None:
    assert {"IA001", "IA004"} <= set(rules("externalsecret-none.yaml"))


def test_config_provided_entries_and_their_registries() -> None:
    config = str(SOURCES / "config-provided.yaml")
    assert set(rules(config=config)) == {"IA016"}
    # declared in the config for a SealedSecret that carries no annotation
    assert set(rules("sealedsecret-undeclared.yaml", config=config)) == {"IA016"}
    assert {"IA001", "IA004"} <= set(rules())


def test_a_readable_secret_wins_over_the_one_that_will_be_made(tmp_path: Path) -> None:
    clear = tmp_path / "clear.yaml"
    clear.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: ocr-pull, namespace: team-a}\n"
                     "type: Opaque\ndata: {}\n")
    snap = read_files([DOMAIN, str(SOURCES / "sealedsecret.yaml"), str(clear)], "default")
    assert "IA002" in {f.rule for d in audit(snap).domains for f in d.findings}


def test_referenced_elsewhere_is_not_referenced(tmp_path: Path) -> None:
    domain = tmp_path / "d.yaml"
    domain.write_text(Path(DOMAIN).read_text().replace("  imagePullSecrets:\n    - name: ocr-pull\n", ""))
    snap = read_files([str(domain), str(SOURCES / "sealedsecret.yaml")], "default")
    report = audit(snap)
    ia007 = next(f for d in report.domains for f in d.findings if f.rule == "IA007")
    assert ia007.secret == "ocr-pull" and "made by SealedSecret team-a/ocr-pull" in ia007.message
    assert "fix -f FILES --offline" in (ia007.fix or "")


def test_unreadable_credentials_are_never_probed() -> None:
    for name in ("sealedsecret.yaml", "sealedsecret-undeclared.yaml"):
        snap = read_files([DOMAIN, str(SOURCES / name)], "default")
        assert probe_keys(audit(snap)) == []


def test_json_names_where_a_credential_comes_from() -> None:
    proc = run(["check", "--offline", "-o", "json", "-f", DOMAIN, "-f", str(SOURCES / "externalsecret-v1.yaml")])
    assert proc.returncode == 0, proc.stderr
    cred = json.loads(proc.stdout)["domains"][0]["images"][0]["credentials"][0]
    assert cred["secret"] == "ocr-pull" and cred["key"] == "container-registry.oracle.com"
    assert cred["providedBy"].startswith("ExternalSecret team-a/ocr-pull (")


def test_unknown_api_version_and_bad_fields_are_input_errors(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text("apiVersion: external-secrets.io/v1alpha1\nkind: ExternalSecret\nmetadata: {name: x}\n")
    with pytest.raises(InputError, match=r"old.yaml:1: .*external-secrets.io/v1alpha1"):
        read_files([str(old)], "default")
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: x}\n"
                   "spec:\n  template:\n    type: [a]\n")
    with pytest.raises(InputError, match=r"bad.yaml:6: .*spec.template.type must be a string"):
        read_files([str(bad)], "default")
    proc = run(["check", "--offline", "-f", str(bad)])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ kustomize, Helm, values files


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(DOMAIN, repo / "domain.yaml")
    shutil.copy(SOURCES / "sealedsecret.yaml", repo / "ocr-pull.sealedsecret.yaml")
    (repo / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources:\n  - domain.yaml\n  - ocr-pull.sealedsecret.yaml\n")
    return repo


def test_f_on_a_kustomization_says_use_k(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = run(["check", "--offline", "-f", str(repo)])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"-k {repo}" in proc.stderr and "kustomization.yaml" in proc.stderr
    nested = tmp_path / "outer"
    shutil.copytree(repo, nested / "overlays" / "prod")
    assert run(["check", "--offline", "-f", str(nested)]).returncode == 2


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_k_renders_with_kubectl_kustomize(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = run(["check", "--offline", "-o", "json", "-k", str(repo)])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["domains"] == 1 and doc["domains"][0]["verdict"] == "pass"
    assert doc["source"]["files"] == [f"<kustomize {repo}>"]
    (repo / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    broken = run(["check", "--offline", "-k", str(repo)])
    assert broken.returncode == 2 and "kubectl kustomize failed" in broken.stderr


def test_k_without_kubectl_is_one_clear_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = run(["check", "--offline", "-k", str(repo)], env={"PATH": str(empty)})
    assert proc.returncode == 2
    assert "kubectl is not on PATH" in proc.stderr and proc.stderr.count("\n") == 1


def test_helm_charts_templates_and_values_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    tree = tmp_path / "deploy"
    chart = tree / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: wls\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("image: container-registry.oracle.com/middleware/weblogic:14\n")
    (chart / "templates" / "domain.yaml").write_text("{{- if .Values.enabled }}\nkind: Domain\n{{- end }}\n")
    loose = tree / "loose"
    loose.mkdir()
    (loose / "snippet.yaml").write_text("metadata:\n  name: {{ .Release.Name }}\n")
    (loose / "values-prod.yaml").write_text("replicas: 3\nimage:\n  tag: '14'\n")
    shutil.copy(DOMAIN, tree / "domain.yaml")
    shutil.copy(SOURCES / "sealedsecret.yaml", tree / "ocr.yaml")
    proc = run(["check", "--offline", "-f", str(tree)])
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 3, proc.stderr
    assert any(f"{chart}: a Helm chart" in n and "helm template" in n for n in notes)
    assert any("snippet.yaml: a template" in n for n in notes)
    assert any("values-prod.yaml: not a Kubernetes manifest" in n for n in notes)
    # named explicitly, a template is still an error, with the hint
    proc = run(["check", "--offline", "-f", str(loose / "snippet.yaml")])
    assert proc.returncode == 2 and "helm template" in proc.stderr


def test_helm_template_output_on_stdin() -> None:
    rendered = Path(DOMAIN).read_text() + "---\n" + (SOURCES / "sealedsecret.yaml").read_text()
    proc = run(["check", "--offline", "-f", "-"], stdin=rendered)
    assert proc.returncode == 0, proc.stderr


def test_a_run_whose_inputs_were_all_skipped_is_not_a_pass(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: wls\nversion: 0.1.0\n")
    (chart / "templates" / "d.yaml").write_text("{{ .Values.domain | toYaml }}\n")
    proc = run(["check", "--offline", "-f", str(tmp_path)])
    assert proc.returncode == 2 and "nothing to check" in proc.stderr and "note: skipped" in proc.stderr
