"""Cloud registries served by the nodes' credential providers, short-lived tokens in pull Secrets (IA021),
and images that run only because nodes cache them, which kubelet 1.35 re-checks (IA022, KEP-2535)."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import pytest
import yaml

from kubectl_imgaccess.audit.report import Finding
from kubectl_imgaccess.audit.run import AuditOptions, audit
from kubectl_imgaccess.manifests import load_config, read_files
from tests import builders
from tests.builders import IMAGE, OCR, namespace, secret, service_account
from tests.clitools import run
from tools.sandbox.server import Sandbox

NS = "team-a"
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
AR = "europe-west1-docker.pkg.dev"
ACR = "contoso.azurecr.io"


# Domains pull IfNotPresent (as KEP-2535 concerns), nodes report their (maybe empty) image lists.
domain = functools.partial(builders.domain, ns=NS, pull_policy="IfNotPresent")
node = functools.partial(builders.node, kubelet="v1.34.2", images=[])
TOKEN = "tok-3xQ9-not-real"


def written(created: Optional[str] = None, managed: Sequence[str] = ()) -> Dict[str, Any]:
    """Metadata saying when a Secret was created and, by managedFields, rewritten."""
    meta: Dict[str, Any] = {"creationTimestamp": created} if created else {}
    if managed:
        meta["managedFields"] = [{"manager": "refresher", "operation": "Update", "time": t} for t in managed]
    return meta


def findings(tmp_path: Path, objects: List[Dict[str, Any]], cloud: Optional[str] = None,
             config: Optional[str] = None) -> List[Finding]:
    f = tmp_path / "objs.yaml"
    f.write_text(yaml.safe_dump_all(objects))
    report = audit(read_files([str(f)], "default"), load_config(config), AuditOptions(cloud=cloud, now=NOW))
    return [x for d in report.domains for x in d.findings]


def by_rule(found: List[Finding], rule: str) -> Finding:
    return next(f for f in found if f.rule == rule)


# ------------------------------------------------------------------------------------------- cloud registries


@pytest.mark.parametrize("provider_id, image, provider", [
    ("aws:///eu-west-1a/i-0abc", f"{ECR}/wls/domain:1", "ecr-credential-provider"),
    ("gce://proj/europe-west1-b/gke-node-1", f"{AR}/proj/wls/domain:1", "auth-provider-gcp"),
    ("gce://proj/us-central1-a/gke-node-1", "gcr.io/proj/wls:1", "auth-provider-gcp"),
    ("gce://proj/us-central1-a/gke-node-1", "eu.gcr.io/proj/wls:1", "auth-provider-gcp"),
    ("azure:///subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v", f"{ACR}/wls:1",
     "acr-credential-provider"),
])
def test_cloud_registry_on_its_cloud_is_info_naming_the_provider(tmp_path: Path, provider_id: str, image: str,
                                                                 provider: str) -> None:
    nodes = [node(n, provider_id=provider_id) for n in ("n1", "n2")]
    found = findings(tmp_path, [domain(image=image), *nodes])
    assert [f.rule for f in found] == ["IA020"]
    assert found[0].severity == "info" and provider in found[0].message


def test_cloud_registry_elsewhere_or_unknown(tmp_path: Path) -> None:
    other = findings(tmp_path, [domain(image=f"{ACR}/wls:1"), node("n1", provider_id="aws:///x/i-1")])
    assert by_rule(other, "IA004").severity == "error" and "not on azure" in by_rule(other, "IA004").message
    kind_node = node("n1", provider_id="kind://docker/kind/kind-control-plane")
    kind = findings(tmp_path, [domain(image=f"{ECR}/wls:1"), kind_node])
    assert by_rule(kind, "IA004").severity == "error"
    unknown = findings(tmp_path, [domain(image=f"{ECR}/wls:1")])
    assert by_rule(unknown, "IA004").severity == "warning" and "--cloud aws" in by_rule(unknown, "IA004").message
    assert [f.rule for f in findings(tmp_path, [domain(image=f"{ECR}/wls:1")], cloud="aws")] == ["IA020"]
    assert by_rule(findings(tmp_path, [domain(image=f"{ECR}/wls:1")], cloud="none"), "IA004").severity == "error"


def test_config_auth_node_and_the_cloud_flag_through_the_cli(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("registries:\n  - match: registry.internal:5000\n    auth: node\n")
    found = findings(tmp_path, [domain(image="registry.internal:5000/wls:1")], config=str(cfg))
    assert [(f.rule, f.severity) for f in found] == [("IA020", "info")]
    assert "auth: node" in found[0].message
    f = tmp_path / "d.yaml"
    f.write_text(yaml.safe_dump(domain(image=f"{AR}/p/wls:1")))
    assert run(["check", "--offline", "-f", str(f)]).returncode == 0  # unknown cloud: a warning
    assert run(["check", "--offline", "-f", str(f), "--cloud", "aws"]).returncode == 1
    proc = run(["check", "--offline", "-f", str(f), "--cloud", "gcp", "-o", "json"])
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["domains"][0]["verdict"] == "pass" and doc["summary"]["findings"]["info"] == 1


# -------------------------------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("registry, user, life_h", [
    (ECR, "AWS", 12), ("https://gcr.io", "oauth2accesstoken", 1), (AR, "oauth2accesstoken", 1),
    (ACR, "00000000-0000-0000-0000-000000000000", 3),
])
def test_short_lived_token_ages(tmp_path: Path, registry: str, user: str, life_h: int) -> None:
    image = registry.replace("https://", "") + "/p/wls:1"
    young = (NOW - timedelta(hours=life_h) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = (NOW - timedelta(hours=life_h) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    d = domain(image=image, pull=["tok"])
    tok = functools.partial(secret, "tok", NS, registry=registry, user=user, password=TOKEN)
    fresh = by_rule(findings(tmp_path, [d, tok(metadata=written(young))]), "IA021")
    assert fresh.severity == "warning" and f"valid {life_h} h" in fresh.message and fresh.secret == "tok"
    stale = by_rule(findings(tmp_path, [d, tok(metadata=written(old))]), "IA021")
    assert stale.severity == "error" and "expired" in stale.message
    # a refresher's later write (managedFields) counts: the newest time wins
    refreshed = findings(tmp_path, [d, tok(metadata=written(old, [old, young]))])
    assert by_rule(refreshed, "IA021").severity == "warning"
    unknown = by_rule(findings(tmp_path, [d, tok()]), "IA021")
    assert unknown.severity == "warning" and "unknown" in unknown.message
    assert "tok-3xQ9" not in " ".join(f.message + (f.fix or "") for f in [fresh, stale, unknown])


def test_long_lived_credentials_are_not_tokens(tmp_path: Path) -> None:
    old = "2026-01-01T00:00:00Z"
    for registry, user in ((AR, "_json_key"), (ECR, "deployer"), (OCR, "AWS"), (ACR, "contoso-pull")):
        image = f"{registry}/p/wls:1"
        s = secret("s", NS, registry=registry, user=user, password=TOKEN, metadata=written(old))
        assert "IA021" not in {f.rule for f in findings(tmp_path, [domain(image=image, pull=["s"]), s])}


# ------------------------------------------------------------------------------------- KEP-2535 in the sandbox


def _kep_cluster(sandbox: Sandbox, kubelet: str) -> None:
    for ns in (NS, "team-b"):
        sandbox.add(namespace(ns))
        sandbox.add(service_account(ns=ns))
    sandbox.add(domain(image=IMAGE))  # no credential at all
    # another team's Domain pulled the image onto n1 with its own Secret
    sandbox.add(secret("ocr", "team-b", registry=OCR, user="someone", password=TOKEN))
    sandbox.add(domain("d2", ns="team-b", image=IMAGE, pull=["ocr"]))
    sandbox.add(node("n1", kubelet=kubelet, images=[IMAGE]))
    sandbox.add(node("n2", kubelet=kubelet))


@pytest.mark.parametrize("kubelet, severity, words", [
    ("v1.34.2", "warning", "will stop starting"),
    ("v1.35.0", "error", "re-checks credentials for cached images"),
])
def test_cached_image_without_credential(sandbox: Sandbox, kube_env: Dict[str, str], kubelet: str,
                                         severity: str, words: str) -> None:
    _kep_cluster(sandbox, kubelet)
    proc = run(["check", "-n", NS, "-o", "json"], env=kube_env)
    assert proc.returncode == 1, proc.stderr
    found = {f["rule"]: f for f in json.loads(proc.stdout)["domains"][0]["findings"]}
    assert {"IA004", "IA022"} <= set(found)
    ia022 = found["IA022"]
    assert ia022["severity"] == severity and words in ia022["message"]
    assert f"n1 ({kubelet})" in ia022["message"] and "n2" not in ia022["message"]
    ok = run(["check", "-n", "team-b", "-o", "json"], env=kube_env)
    assert "IA022" not in {f["rule"] for d in json.loads(ok.stdout)["domains"] for f in d["findings"]}


def test_explain_tells_the_kep_2535_story() -> None:
    proc = run(["explain", "cached-image-needs-credential"])
    assert proc.returncode == 0
    for words in ("IA022", "KEP-2535", "KubeletEnsureSecretPulledImages", "1.35", "IfNotPresent",
                  "NeverVerifyPreloadedImages", "before upgrading the nodes"):
        assert words in proc.stdout, words
