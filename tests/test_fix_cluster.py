"""fix against the sandbox API server, through the real `kubernetes` client (and kubectl where it counts):
concurrency, guarded patches, dry runs, confirmation, idempotence, secrecy of the password."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from kubectl_imgaccess.cli.main import main
from kubectl_imgaccess.kube import writer as cluster_writer
from tests.builders import IMAGE, NS, OCR, domain, secret, service_account
from tests.clitools import FIXTURES, script
from tests.reportschema import validate_output
from tools.sandbox import Sandbox

PASSWORD = "Pa55&<word>-only-on-stdin"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def fix(kubeconfig: str, *args: str, stdin: str = "") -> Tuple[int, str, str]:
    """Run `fix` in-process (pytest's stdin is no terminal), capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        code = main(["fix", "--kubeconfig", kubeconfig, "-n", NS, *args])
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def check(kubeconfig: str, *args: str) -> Tuple[int, Dict[str, Any]]:
    out = io.StringIO()
    saved = sys.stdout
    sys.stdout = out
    try:
        code = main(["check", "--kubeconfig", kubeconfig, "-n", NS, "-o", "json", *args])
    finally:
        sys.stdout = saved
    return code, json.loads(out.getvalue())


def writes(sb: Sandbox) -> List[Any]:
    return [r for r in sb.requests if r.method in WRITES]


def pull_names(obj: Optional[Dict[str, Any]], *path: str) -> List[str]:
    cur: Any = obj
    for p in path:
        cur = (cur or {}).get(p)
    return [e["name"] for e in cur or []]


def concurrent_on_first_read(monkeypatch: pytest.MonkeyPatch, kind: str, change: Callable[[], None]) -> None:
    """Between fix's first read of a `kind` object and its write, another client changes that object."""
    original = cluster_writer.ClusterWriter.read
    fired: List[bool] = []

    def read(self: Any, k: str, namespace: str, name: str) -> Any:
        obj = original(self, k, namespace, name)
        if k == kind and not fired:
            fired.append(True)
            change()
        return obj

    monkeypatch.setattr(cluster_writer.ClusterWriter, "read", read)


def store_update(sb: Sandbox, kind: str, namespace: str, name: str, mutate: Callable[[Dict[str, Any]], None]) -> None:
    obj = sb.get(kind, namespace, name)
    assert obj is not None
    mutate(obj)
    sb.store.update(sb._kind(kind), namespace, name, obj)


def seed_sa_case(sb: Sandbox) -> None:
    sb.add(domain())
    sb.add(service_account(pull=("a",)))
    sb.add(secret("a", registry="ghcr.io"))
    sb.add(secret("regcred"))


# ------------------------------------------------------------------------------------------ concurrency


def test_serviceaccount_strategy_appends(sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    seed_sa_case(sandbox)
    code, out, err = fix(sandbox_kubeconfig, "--strategy", "serviceaccount", "--yes")
    assert code == 0, err
    assert pull_names(sandbox.get("ServiceAccount", NS, "default"), "imagePullSecrets") == ["a", "regcred"]
    put = [r for r in writes(sandbox) if r.method == "PUT"]
    assert len(put) == 1 and put[0].json()["metadata"]["resourceVersion"]
    assert "reaches only pods created afterwards" in out
    assert not [r for r in sandbox.requests if r.method == "DELETE"]


def test_serviceaccount_concurrent_writer_is_kept(sandbox: Sandbox, sandbox_kubeconfig: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    seed_sa_case(sandbox)
    sandbox.add(secret("b", registry="quay.io"))

    def add_b(obj: Dict[str, Any]) -> None:
        obj["imagePullSecrets"].append({"name": "b"})

    concurrent_on_first_read(monkeypatch, "ServiceAccount",
                             lambda: store_update(sandbox, "ServiceAccount", NS, "default", add_b))
    code, _, err = fix(sandbox_kubeconfig, "--strategy", "serviceaccount", "--yes")
    assert code == 0, err
    assert pull_names(sandbox.get("ServiceAccount", NS, "default"), "imagePullSecrets") == ["a", "b", "regcred"]
    assert [r.status for r in writes(sandbox) if r.method == "PUT"] == [409, 200]


def test_domain_strategy_guarded_json_patch_retries_a_conflict(sandbox: Sandbox, sandbox_kubeconfig: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.add(domain(pull=("x",)))
    sandbox.add(service_account())
    sandbox.add(secret("x", registry="ghcr.io"))
    sandbox.add(secret("c", registry="quay.io"))
    sandbox.add(secret("regcred"))

    def add_c(obj: Dict[str, Any]) -> None:
        obj["spec"]["imagePullSecrets"].append({"name": "c"})

    concurrent_on_first_read(monkeypatch, "Domain", lambda: store_update(sandbox, "Domain", NS, "d1", add_c))
    code, out, err = fix(sandbox_kubeconfig, "--strategy", "domain", "--yes")
    assert code == 0, err
    assert pull_names(sandbox.get("Domain", NS, "d1"), "spec", "imagePullSecrets") == ["x", "c", "regcred"]
    patches = [r for r in writes(sandbox) if r.method == "PATCH"]
    assert [r.status for r in patches] == [422, 200]
    assert all(r.content_type == "application/json-patch+json" for r in patches)
    first, second = (r.json() for r in patches)
    assert first[0] == {"op": "test", "path": "/spec/imagePullSecrets", "value": [{"name": "x"}]}
    assert second[0]["value"] == [{"name": "x"}, {"name": "c"}]
    assert {"op": "add", "path": "/spec/imagePullSecrets/-", "value": {"name": "regcred"}} in second
    assert "rolls every server pod" in out


# ------------------------------------------------------------------------------------------ dry runs, asking


def test_dry_run_server_sends_dry_run_all_and_changes_nothing(sandbox: Sandbox,
                                                              sandbox_kubeconfig: str) -> None:
    sandbox.add(domain(pull=("regcred",)))
    sandbox.add(service_account())
    state = {k: json.dumps(sandbox.objects(k), sort_keys=True) for k in ("Secret", "ServiceAccount", "Domain")}
    code, out, err = fix(sandbox_kubeconfig, "--secret", "regcred", "--docker-server", OCR, "--docker-username",
                         "scott", "--password-stdin", "--dry-run=server", "--yes", stdin=PASSWORD + "\n")
    assert code == 0, err
    sent = writes(sandbox)
    assert sent and all(r.query.get("dryRun") == ["All"] for r in sent)
    assert "(dry run: server)" in out
    assert {k: json.dumps(sandbox.objects(k), sort_keys=True) for k in state} == state


def test_dry_run_client_sends_no_write(sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    seed_sa_case(sandbox)
    code, out, _ = fix(sandbox_kubeconfig, "--dry-run=client")
    assert code == 0
    assert "append regcred to imagePullSecrets" in out and "nothing was sent" in out
    assert sandbox.requests and writes(sandbox) == []


def test_without_terminal_and_yes_nothing_is_written_then_second_run_plans_nothing(
        sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    seed_sa_case(sandbox)
    code, out, err = fix(sandbox_kubeconfig, "-o", "json")
    assert code == 2 and "--yes" in err
    assert json.loads(out)["applied"] is False and len(json.loads(out)["actions"]) == 1
    assert writes(sandbox) == []
    code, out, err = fix(sandbox_kubeconfig, "-o", "json", "--yes")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["applied"] is True and doc["before"] == {"fail": 1, "warn": 0}
    assert doc["after"] == {"fail": 0, "warn": 0}
    sandbox.clear_requests()
    code, out, err = fix(sandbox_kubeconfig, "-o", "json")
    assert code == 0, err
    assert json.loads(out)["actions"] == [] and writes(sandbox) == []


def test_a_different_existing_secret_is_refused_at_apply(sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    sandbox.add(domain())
    sandbox.add(service_account())
    opaque = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred", "namespace": NS},
              "type": "Opaque", "data": {"token": base64.b64encode(b"keep me").decode()}}
    sandbox.add(opaque)  # not a pull Secret, referenced by nobody: the snapshot does not hold it
    code, _, err = fix(sandbox_kubeconfig, "--secret", "regcred", "--docker-server", OCR, "--docker-username", "u",
                       "--password-stdin", "--yes", stdin=PASSWORD)
    assert code == 2 and "already exists with different content" in err
    kept = sandbox.get("Secret", NS, "regcred")
    assert kept is not None and kept["type"] == "Opaque" and kept["data"] == opaque["data"]
    assert [r.method for r in writes(sandbox)] == ["POST"]


def test_restart_bumps_restart_version_and_says_so(sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    seed_sa_case(sandbox)
    sandbox.add({"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "d1-admin-server", "namespace": NS, "labels": {"weblogic.domainUID": "d1"}},
                 "spec": {"containers": [{"name": "weblogic-server", "image": IMAGE}]},
                 "status": {"containerStatuses": [{"name": "weblogic-server", "image": IMAGE,
                                                   "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}})
    code, out, err = fix(sandbox_kubeconfig, "--restart", "--yes")
    assert code in (0, 1), err  # the stuck pod is live evidence until the operator recreates it
    assert sandbox.get("Domain", NS, "d1")["spec"]["restartVersion"] == "1"  # type: ignore[index]
    assert "set spec.restartVersion to 1" in out and "restarts every server pod" in out


# ------------------------------------------------------------------------------------------ secrets


def test_password_flag_is_refused_without_echo(sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    code, out, err = fix(sandbox_kubeconfig, "--secret", "r", "--docker-username", "u", "--docker-password",
                         PASSWORD)
    assert code == 2 and "refused" in err
    assert PASSWORD not in out + err and sandbox.requests == []


def test_password_from_stdin_is_never_shown_at_v9(sandbox: Sandbox, sandbox_kubeconfig: str,
                                                  tmp_path: Path) -> None:
    sandbox.add(domain(pull=("regcred",)))
    sandbox.add(service_account())
    argv = [script(), "fix", "--kubeconfig", sandbox_kubeconfig, "-n", NS, "--secret", "regcred",
            "--docker-server", OCR, "--docker-username", "scott", "--password-stdin", "--yes", "-v", "9"]
    outputs = []
    for fmt in ("table", "json", "yaml"):
        if fmt != "table":
            sandbox.clear_requests()
        proc = subprocess.run([*argv, "-o", fmt], input=PASSWORD + "\n", capture_output=True, text=True,
                              env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        validate_output(["fix", "-o", fmt], proc.stdout, proc.returncode)
        outputs += [proc.stdout, proc.stderr]
    assert any("POST" in text for text in outputs)  # -v 9 did log the requests
    created = sandbox.get("Secret", NS, "regcred")
    assert created is not None
    data = created["data"][".dockerconfigjson"]
    auth = base64.b64encode(f"scott:{PASSWORD}".encode()).decode()
    needles = [PASSWORD, PASSWORD.replace("&", "\\u0026"), PASSWORD[:10], auth, data, data[:24],
               base64.b64encode(PASSWORD.encode()).decode()]
    for text in [*outputs, " ".join(argv)]:
        for needle in needles:
            assert needle not in text


def test_fix_then_check_passes_and_kubectl_reads_what_it_would_write(
        sandbox: Sandbox, sandbox_kubeconfig: str, kubectl: Callable[..., Any]) -> None:
    sandbox.add(domain(pull=("regcred",)))
    sandbox.add(service_account())
    assert check(sandbox_kubeconfig)[0] == 1
    code, _, err = fix(sandbox_kubeconfig, "--secret", "regcred", "--docker-server", OCR, "--docker-username",
                       "scott", "--docker-email", "ops@example.com", "--password-stdin", "--yes", stdin=PASSWORD)
    assert code == 0, err
    code, doc = check(sandbox_kubeconfig)
    assert code == 0 and doc["domains"][0]["verdict"] == "pass"
    got = kubectl("get", "secret", "regcred", "-n", NS, "-o", "json")
    assert got.returncode == 0, got.stderr
    want = kubectl("create", "secret", "docker-registry", "regcred", "-n", NS, f"--docker-server={OCR}",
                   "--docker-username=scott", f"--docker-password={PASSWORD}", "--docker-email=ops@example.com",
                   "--dry-run=client", "-o", "json")
    assert want.returncode == 0, want.stderr
    got_doc, want_doc = json.loads(got.stdout), json.loads(want.stdout)
    assert got_doc["type"] == want_doc["type"] == "kubernetes.io/dockerconfigjson"
    decode = base64.b64decode
    assert decode(got_doc["data"][".dockerconfigjson"]) == decode(want_doc["data"][".dockerconfigjson"])


def test_three_mistakes_end_to_end(sandbox: Sandbox, sandbox_kubeconfig: str) -> None:
    sandbox.load_yaml((FIXTURES / "three-mistakes.yaml").read_text())
    sandbox.add(service_account(ns="sample-domain1-ns"))
    base = ["--secret", "weblogic-repo-credentials", "--docker-server", OCR, "--docker-username", "scott",
            "--password-stdin", "-n", "sample-domain1-ns"]
    code, out, err = fix(sandbox_kubeconfig, *base, "--yes", stdin=PASSWORD)
    assert code == 0, err
    assert "sample-domain1-ns/sample-domain1  fail    warn" in out
    dom = sandbox.get("Domain", "sample-domain1-ns", "sample-domain1")
    assert pull_names(dom, "spec", "imagePullSecrets") == [
        "weblogic-repo-credentials", "ghcr-cred", "ghcr-cred-dockerconfigjson"]
    assert sandbox.get("Secret", "sample-domain1-ns", "ghcr-cred") is not None  # never deleted
    assert sandbox.get("ServiceAccount", "sample-domain1-ns", "wls-admin") is not None
    code, out, _ = fix(sandbox_kubeconfig, *base, "-o", "json", stdin=PASSWORD)
    assert code == 0 and json.loads(out)["actions"] == []


def test_fix_help_does_not_import_kubernetes() -> None:
    program = ("import contextlib, io, sys\nfrom kubectl_imgaccess.cli.main import main\n"
               "with contextlib.redirect_stdout(io.StringIO()):\n    code = main(['fix', '--help'])\n"
               "print(code, any(m == 'kubernetes' or m.startswith('kubernetes.') for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["0", "False"]


def test_an_identical_secret_created_meanwhile_is_fine(sandbox: Sandbox, sandbox_kubeconfig: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.add(domain(pull=("regcred",)))
    sandbox.add(service_account())
    original = cluster_writer.ClusterWriter.create

    def create(self: Any, kind: str, namespace: str, body: Dict[str, Any]) -> Any:
        if kind == "Secret" and sandbox.get("Secret", namespace, body["metadata"]["name"]) is None:
            sandbox.add(json.loads(json.dumps(body)))  # another client wrote the very same Secret first
        return original(self, kind, namespace, body)

    monkeypatch.setattr(cluster_writer.ClusterWriter, "create", create)
    code, out, err = fix(sandbox_kubeconfig, "--secret", "regcred", "--docker-server", OCR, "--docker-username",
                         "scott", "--password-stdin", "--yes", stdin=PASSWORD)
    assert code == 0, err
    assert "exists with the same content" in out
    assert [(r.method, r.status) for r in writes(sandbox)] == [("POST", 409)]


def test_copy_from_another_namespace_writes_only_in_the_domain_namespace(sandbox: Sandbox,
                                                                          sandbox_kubeconfig: str) -> None:
    sandbox.add(domain())
    sandbox.add(service_account())
    source = secret("ocr-cred", ns="ops")
    source["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    sandbox.add(source)
    code, out, err = fix(sandbox_kubeconfig, "--copy-from", "ops/ocr-cred", "--yes")
    assert "copy of Secret ops/ocr-cred" in out
    assert code == 0, err
    copied = sandbox.get("Secret", NS, "ocr-cred")
    assert copied is not None and copied["data"] == source["data"] and copied["type"] == source["type"]
    assert copied["metadata"]["labels"] == {"imgaccess.weblogic.oracle/copied-from-namespace": "ops"}
    assert "kubectl.kubernetes.io/last-applied-configuration" not in copied["metadata"].get("annotations", {})
    assert pull_names(sandbox.get("Domain", NS, "d1"), "spec", "imagePullSecrets") == ["ocr-cred"]
    assert all(f"/namespaces/{NS}/" in r.path for r in writes(sandbox))


@pytest.mark.parametrize("answer,code,written", [(False, 2, False), (True, 0, True)])
def test_on_a_terminal_fix_asks(sandbox: Sandbox, sandbox_kubeconfig: str, answer: bool, code: int,
                                written: bool) -> None:
    from kubectl_imgaccess.cli.fix import run_fix
    from kubectl_imgaccess.cli.flags import build_parser
    from kubectl_imgaccess.errors import FixRefused

    seed_sa_case(sandbox)
    args = build_parser().parse_args(["fix", "--kubeconfig", sandbox_kubeconfig, "-n", NS])
    asked: List[str] = []

    def ask(prompt: str) -> bool:
        asked.append(prompt)
        return answer

    out = io.StringIO()
    if written:
        assert run_fix(args, stdin=io.StringIO(), stdout=out, ask=ask) == code
    else:
        with pytest.raises(FixRefused, match="aborted"):
            run_fix(args, stdin=io.StringIO(), stdout=out, ask=ask)
    assert asked == ["Apply these 1 change(s)? [y/N] "]
    assert bool(writes(sandbox)) is written
