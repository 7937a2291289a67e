"""docs/ci.md works as written: every recipe validates with the real validators, every command line parses
with the tool's own parser, the Kustomize/Argo CD example renders, and its read-only Role is enough for the
hook's mixed-mode check against the sandbox cluster."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import yaml

from kubectl_imgaccess.cli.flags import build_parser
from tests.builders import secret, service_account
from tests.clitools import ROOT, run
from tests.sandbox.fixtures import kubectl_path
from tools.sandbox import Rule, Sandbox

CI_MD = ROOT / "docs" / "ci.md"
BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
PROGRAMS = ("kubectl imgaccess", "kubectl-imgaccess")
ARGO_DIR = "apps/orders/"
TEKTON_ONLY = {"script", "onError", "results", "stdoutConfig", "stderrConfig", "computeResources", "params",
               "ref", "timeout", "workspaces", "displayName"}


def blocks() -> List[Tuple[str, str]]:
    return [(lang, body) for lang, body in FENCE.findall(CI_MD.read_text(encoding="utf-8"))]


def yaml_blocks() -> List[Tuple[str, str]]:
    """(file named by the block's first-line comment, text) for every ```yaml block."""
    out = []
    for lang, body in blocks():
        if lang == "yaml":
            first = body.splitlines()[0]
            assert first.startswith("# "), f"a yaml recipe must start with '# FILE': {first!r}"
            out.append((first[2:].strip(), body))
    return out


def kind_of(path: str) -> str:
    if path.startswith(".github/workflows/"):
        return "github"
    if path == ".gitlab-ci.yml":
        return "gitlab"
    if path.endswith("kustomization.yaml"):
        return "kustomization"
    return "kubernetes"


def validator(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def check_jsonschema(schema: str, path: Path) -> None:
    proc = subprocess.run([validator("check-jsonschema"), "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def kubernetes_validate(path: Path) -> None:
    proc = subprocess.run([validator("kubernetes-validate"), "--strict", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "ERROR" not in proc.stdout, proc.stdout + proc.stderr


def test_every_recipe_the_issue_asks_for_is_there() -> None:
    kinds = [kind_of(p) for p, _ in yaml_blocks()]
    assert {"github", "gitlab", "kustomization", "kubernetes"} <= set(kinds)
    docs = [d for p, body in yaml_blocks() if kind_of(p) == "kubernetes" for d in yaml.safe_load_all(body) if d]
    assert {"Task", "Pod", "Job", "ServiceAccount", "Role", "RoleBinding"} <= {d["kind"] for d in docs}
    text = CI_MD.read_text(encoding="utf-8")
    assert "github/codeql-action/upload-sarif" in text and "upload-artifact" in text and "--baseline" in text
    assert "reports:" in text and "junit:" in text
    assert "helm template" in text and "kubectl kustomize" in text
    assert any(lang == "groovy" and "stage(" in body for lang, body in blocks())


@pytest.mark.parametrize("path", [p for p, _ in yaml_blocks() if kind_of(p) in ("github", "gitlab")])
def test_ci_files_validate_against_their_published_schemas(path: str, tmp_path: Path) -> None:
    body = dict(yaml_blocks())[path]
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    check_jsonschema("vendor.github-workflows" if kind_of(path) == "github" else "vendor.gitlab-ci", target)


@pytest.mark.parametrize("path", [p for p, _ in yaml_blocks() if kind_of(p) == "kubernetes"])
def test_kubernetes_objects_validate_strictly(path: str, tmp_path: Path) -> None:
    body = dict(yaml_blocks())[path]
    docs = [d for d in yaml.safe_load_all(body) if d]
    core = [d for d in docs if d.get("apiVersion") != "tekton.dev/v1"]
    for d in docs:
        if d.get("apiVersion") == "tekton.dev/v1":
            core.append(_tekton_steps_as_pod(d))
    target = tmp_path / "objects.yaml"
    target.write_text(yaml.safe_dump_all(core), encoding="utf-8")
    kubernetes_validate(target)


def _tekton_steps_as_pod(task: Dict[str, Any]) -> Dict[str, Any]:
    """Tekton's CRD does not describe steps; each step is a container, so validate them as a Pod's."""
    assert task["kind"] == "Task"
    spec = task["spec"]
    declared = {p["name"] for p in spec.get("params", [])}
    workspaces = {w["name"] for w in spec.get("workspaces", [])}
    text = yaml.safe_dump(spec["steps"])
    assert set(re.findall(r"\$\(params\.([\w-]+)\)", text)) <= declared
    assert set(re.findall(r"\$\(workspaces\.([\w-]+)\.path\)", text)) <= workspaces
    containers = [{k: v for k, v in step.items() if k not in TEKTON_ONLY} for step in spec["steps"]]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": task["metadata"]["name"]},
            "spec": {"containers": containers}}


def _argo_files() -> Dict[str, str]:
    return {p[len(ARGO_DIR):]: body for p, body in yaml_blocks() if p.startswith(ARGO_DIR)}


DOMAIN = """apiVersion: weblogic.oracle/v9
kind: Domain
metadata:
  name: orders
spec:
  domainUID: orders
  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0
  imagePullSecrets:
    - name: ocr-cred
"""


def _render_argo_app(tmp_path: Path, domain: str = DOMAIN) -> List[Dict[str, Any]]:
    app = tmp_path / "app"
    app.mkdir()
    for name, body in _argo_files().items():
        (app / name).write_text(body, encoding="utf-8")
    (app / "domain.yaml").write_text(domain, encoding="utf-8")
    proc = subprocess.run([kubectl_path(), "kustomize", str(app)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def test_the_argo_cd_application_renders_and_validates(tmp_path: Path) -> None:
    assert {"kustomization.yaml", "imgaccess-presync.yaml"} <= set(_argo_files())
    docs = _render_argo_app(tmp_path)
    by_kind = {d["kind"]: d for d in docs}
    assert by_kind["Domain"]["metadata"]["namespace"] == "orders"
    config_map, job = by_kind["ConfigMap"], by_kind["Job"]
    for d in docs:
        if d["kind"] != "Domain":
            assert d["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PreSync", d["kind"]
    assert yaml.safe_load(config_map["data"]["domain.yaml"])["kind"] == "Domain"
    pod = job["spec"]["template"]["spec"]
    mounted = {v["configMap"]["name"] for v in pod["volumes"]}
    assert config_map["metadata"]["name"] in mounted
    command = pod["containers"][0]["command"]
    manifests = command[command.index("-f") + 1]
    mount = pod["containers"][0]["volumeMounts"][0]["mountPath"]
    assert manifests.startswith(mount + "/") and manifests[len(mount) + 1:] in config_map["data"]
    assert "--offline" not in command  # mixed mode: the cluster's Secrets count
    for kind in ("Role", "ClusterRole"):  # read-only
        assert all(set(rule["verbs"]) <= {"get", "list", "watch"} for rule in by_kind[kind]["rules"])
    assert {r for rule in by_kind["ClusterRole"]["rules"] for r in rule["resources"]} == {"nodes"}
    target = tmp_path / "rendered.yaml"
    target.write_text(yaml.safe_dump_all([d for d in docs if d["kind"] != "Domain"]), encoding="utf-8")
    kubernetes_validate(target)


@pytest.mark.parametrize("secret_exists, code", [(True, 0), (False, 1)])
def test_the_presync_role_is_enough_for_the_mixed_mode_check(sandbox: Sandbox, tmp_path: Path,
                                                             secret_exists: bool, code: int) -> None:
    """The hook's own command, with exactly the Role's permissions, against a cluster: a complete audit."""
    docs = _render_argo_app(tmp_path)
    by_kind = {d["kind"]: d for d in docs}
    ns = by_kind["Job"]["metadata"]["namespace"]
    if secret_exists:
        sandbox.add(secret("ocr-cred", ns))
    sandbox.add(service_account(ns=ns))
    sandbox.add_user("imgaccess", "imgaccess-token")
    for kind, namespaces in (("Role", [ns]), ("ClusterRole", None)):
        for rule in by_kind[kind]["rules"]:
            sandbox.allow(Rule("imgaccess", rule["verbs"], rule["resources"], namespaces=namespaces,
                          api_groups=rule["apiGroups"]))
    subjects = {(s["kind"], s.get("namespace", ns), s["name"]) for b in ("RoleBinding", "ClusterRoleBinding")
                for s in by_kind[b]["subjects"]}
    assert subjects == {("ServiceAccount", ns, by_kind["Job"]["spec"]["template"]["spec"]["serviceAccountName"])}
    kc = sandbox.write_kubeconfig(str(tmp_path / "kc"), user="imgaccess", namespace=ns)
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "domain.yaml").write_text(by_kind["ConfigMap"]["data"]["domain.yaml"], encoding="utf-8")
    command = by_kind["Job"]["spec"]["template"]["spec"]["containers"][0]["command"]
    mount = by_kind["Job"]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"][0]["mountPath"]
    args = [str(manifests) + a[len(mount):] if a.startswith(mount) else a for a in command[1:]]
    proc = run(args, env={"KUBECONFIG": kc})
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "IA017" not in proc.stdout and "forbidden" not in proc.stderr


# ------------------------------------------------------------------------------------------- commands

def _shell_commands(text: str) -> Iterator[List[str]]:
    """Each `kubectl imgaccess ...` / `kubectl-imgaccess ...` in shell text, up to the first shell operator."""
    joined = re.sub(r"\\\n\s*", " ", text)
    for program in PROGRAMS:
        for m in re.finditer(re.escape(program) + r"[ \t]+([^\n'\"]*)", joined):
            lexer = shlex.shlex(m.group(1), posix=True, punctuation_chars=";&|<>")
            lexer.whitespace_split = True
            args: List[str] = []
            for token in lexer:
                if token and set(token) <= set(";&|<>"):
                    break
                args.append(token)
            yield args


def _container_commands(doc: Any) -> Iterator[List[str]]:
    if isinstance(doc, dict):
        command = doc.get("command")
        if isinstance(command, list) and command and command[0] == "kubectl-imgaccess":
            yield [str(a) for a in command[1:]] + [str(a) for a in doc.get("args", [])]
        for value in doc.values():
            yield from _container_commands(value)
    elif isinstance(doc, list):
        for value in doc:
            yield from _container_commands(value)


def _tekton_params(arg: str, defaults: Dict[str, str]) -> str:
    return re.sub(r"\$\(params\.([\w-]+)\)", lambda m: defaults[m.group(1)], arg)


def command_lines() -> List[List[str]]:
    found: List[List[str]] = []
    for lang, body in blocks():
        found.extend(_shell_commands(body))
        if lang == "yaml":
            for doc in yaml.safe_load_all(body):
                commands = list(_container_commands(doc))
                if isinstance(doc, dict) and doc.get("kind") == "Task":  # Tekton fills in its params' values
                    defaults = {p["name"]: str(p.get("default", "")) for p in doc["spec"].get("params", [])}
                    commands = [[_tekton_params(a, defaults) for a in c] for c in commands]
                found.extend(commands)
    return found


def test_the_docs_hold_the_command_lines_the_tests_parse() -> None:
    lines = command_lines()
    assert len(lines) >= 12
    assert all(args and args[0] == "check" for args in lines), lines


@pytest.mark.parametrize("args", command_lines(), ids=lambda a: " ".join(a)[:60])
def test_every_command_line_parses_with_the_cli_parser(args: List[str]) -> None:
    parsed = build_parser().parse_args(args)  # the parser exits 2 (a failing test) on anything it rejects
    assert parsed.command == "check"
