"""The audit over in-memory snapshots: what manifests alone cannot show (live evidence, unreadable objects,
probe answers) and the verdict arithmetic."""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from kubectl_imgaccess.audit.report import Gate, Report
from kubectl_imgaccess.audit.run import (
    AuditOptions,
    SecretIndex,
    apply_probe,
    audit,
    credentials_for,
    probe_keys,
)
from kubectl_imgaccess.audit.snapshot import Mode, Snapshot, Unreadable
from kubectl_imgaccess.exitcodes import ExitCode
from kubectl_imgaccess.kubelet.pullsecret import PullSecretPayload, payload_identity, read_pull_secret
from kubectl_imgaccess.manifests import load_config, read_files
from kubectl_imgaccess.objects import Credential
from kubectl_imgaccess.probe.types import ProbeResult, ProbeStatus
from kubectl_imgaccess.probe.verdict import outcome
from tests import builders
from tests.builders import IMAGE, NS, b64, domain, node, secret, service_account

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def snapshot(*objs: Dict[str, Any], mode: Mode = "cluster", unreadable: Optional[List[Unreadable]] = None) -> Snapshot:
    snap = Snapshot(mode=mode)
    for o in objs:
        snap.add(o)
    snap.unreadable = list(unreadable or [])
    return snap


def rules(report: Report) -> Dict[str, str]:
    return {f.rule: f.severity for d in report.domains for f in d.findings if not f.suppressed}


def test_serviceaccount_path_is_used_when_the_domain_lists_none() -> None:
    report = audit(snapshot(domain(), service_account(pull=["ocr"]), secret("ocr")))
    img = report.domains[0].images[0]
    assert (img.pull_from, img.pull_names) == ("serviceaccount", ("ocr",))
    assert [c.secret for c in img.credentials] == ["ocr"]
    assert img.verdict == "pass" and report.domains[0].verdict == "pass"


def test_missing_default_serviceaccount_on_a_cluster_is_ia005() -> None:
    report = audit(snapshot(domain(pull=["ocr"]), secret("ocr")))
    assert "IA005" in rules(report)
    files = audit(snapshot(domain(pull=["ocr"]), secret("ocr"), mode="files"))
    assert "IA005" not in rules(files)


def test_unreadable_secret_makes_verdict_unknown_and_report_incomplete() -> None:
    snap = snapshot(domain(pull=["ocr"]), service_account(pull=[]),
                    unreadable=[Unreadable("Secret", NS, None, "forbidden")])
    report = audit(snap)
    assert rules(report) == {"IA017": "warning", "IA016": "info"}
    assert report.domains[0].images[0].verdict == "unknown"
    assert report.domains[0].verdict == "unknown"
    assert report.incomplete and not Gate("error").failed(report)
    assert Gate("error").exit_code(report) == ExitCode.INCOMPLETE


def test_unreadable_serviceaccount_leaves_the_path_unknown_not_passing() -> None:
    snap = snapshot(domain(), unreadable=[Unreadable("ServiceAccount", NS, "default", "forbidden")])
    report = audit(snap)
    assert "IA004" not in rules(report) and "IA005" not in rules(report)
    assert report.domains[0].images[0].verdict == "unknown"


def test_malformed_secret_fails_every_image_of_the_pod_public_included() -> None:
    bad = secret("ocr")
    bad["data"][".dockerconfigjson"] = base64.b64encode(b'{"auths": {"x": {"auth": "%%%"}}}').decode()
    d = domain(pull=["ocr"])
    d["spec"]["monitoringExporter"] = {"configuration": {"domainQualifier": True}}
    report = audit(snapshot(d, service_account(pull=[]), bad))
    assert rules(report)["IA003"] == "error"
    assert {i.verdict for i in report.domains[0].images} == {"fail"}


def test_live_pull_failures_are_ia009() -> None:
    pod = builders.pod("d1-admin-server", "d1", image=IMAGE)
    event = builders.event("e1", "FailedToRetrieveImagePullSecret", "d1-admin-server",
                           message="Unable to retrieve some image pull secrets")
    d = domain(pull=["ocr"])
    d["status"] = {"conditions": [{"type": "Failed", "reason": "ServerPod",
                                   "message": "Back-off pulling image container-registry.oracle.com/x"}]}
    report = audit(snapshot(d, service_account(pull=[]), secret("ocr"), pod, event))
    ia009 = [f for f in report.domains[0].findings if f.rule == "IA009"]
    assert len(ia009) == 3
    assert ia009[0].images == [0]  # the entry of the image the pod waits for
    assert report.domains[0].verdict == "fail"


def test_node_local_image_on_a_multi_node_cluster() -> None:
    nodes = [node(f"n{i}", images=["docker.io/library/wls-custom:dev"] if i == 1 else []) for i in range(3)]
    report = audit(snapshot(domain(image="wls-custom:dev"), service_account(pull=[]), *nodes))
    f = next(f for f in report.domains[0].findings if f.rule == "IA011")
    assert "1 of 3 nodes (n1)" in f.message


def probe_report(status: ProbeStatus, code: Optional[str]) -> Report:
    snap = snapshot(domain(pull=["ocr"]), service_account(pull=[]), secret("ocr"))
    first = audit(snap)
    (key,) = probe_keys(first)
    credential: Credential = credentials_for(snap, key[2])[key[2][0]]
    result = ProbeResult(status, 401 if status == "unauthorized" else 200, code, credential, "registry said so", 1)
    report = audit(snap)
    apply_probe(report, {key: outcome(result, key[0])})
    return report


def test_probe_results_map_to_rules_and_clear_terms() -> None:
    ok = probe_report("ok", None)
    assert "IA016" not in rules(ok) and ok.domains[0].images[0].probe is not None
    assert rules(probe_report("unauthorized", "UNAUTHORIZED"))["IA012"] == "error"
    denied = probe_report("denied", "DENIED")
    assert "license terms" in next(f.message for f in denied.domains[0].findings if f.rule == "IA013")
    assert "IA014" in rules(probe_report("not-found", "MANIFEST_UNKNOWN"))
    assert rules(probe_report("unreachable", "TIMEOUT"))["IA015"] == "warning"


def test_probe_answers_are_folded_into_the_report_without_reading_the_snapshot_again(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config_file = tmp_path / "config.yaml"
    config_file.write_text("ignore:\n  - rule: IA015\n    domain: quiet\n    reason: mirror down\n"
                           "  - rule: IA012\n    domain: loud\n    expires: 2026-01-01\n")
    config = load_config(str(config_file))
    options = AuditOptions(now=datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc))
    snap = snapshot(domain("quiet", pull=["ocr"]), domain("loud", pull=["ghcr"], image="ghcr.io/team/app:1"),
                    service_account(pull=[]), secret("ocr"), secret("ghcr", registry="ghcr.io"))
    report = audit(snap, config, options)
    assert [f.rule for f in report.domains[1].findings] == ["IA016"] and not report.probed
    keys = probe_keys(report)
    credentials = credentials_for(snap, (c for _, _, refs in keys for c in refs))
    answers = {key: outcome(ProbeResult("unreachable" if key[0].startswith("ghcr") else "unauthorized", None,
                                        None, credentials[key[2][0]], "no", 1), key[0]) for key in keys}
    answers = {key: dataclasses.replace(answers[key], rule="IA015" if key[0].startswith("container") else "IA012")
               for key in keys}

    def no_second_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the snapshot is modelled again")

    monkeypatch.setattr("kubectl_imgaccess.audit.run.model_domain", no_second_read)
    snap.objects.clear()
    apply_probe(report, answers, config, options)

    loud, quiet = report.domains
    assert report.probed and all(img.probe is not None for d in report.domains for img in d.images)
    # quiet: IA015 where IA016 was (the pull was not seen to work, so the terms still stand), suppressed by name
    assert [(f.rule, f.suppressed) for f in quiet.findings] == [("IA016", False), ("IA015", True)]
    assert quiet.verdict == "pass" and "mirror down" in str(quiet.findings[1].suppressed_by)
    # loud: IA012 is an error that fails the image; the expired entry says so once, in the Domain's and the
    # report's notes
    assert [(f.rule, f.suppressed) for f in loud.findings] == [("IA012", False)]
    assert loud.verdict == "fail" and loud.images[0].verdict == "fail"
    assert loud.findings[0].expired_suppressions and [n for n in report.notes if "IA012" in n] == loud.notes
    assert Gate("error").failed(report)


def test_a_probe_that_pulls_lifts_the_license_terms_finding_from_that_image_only() -> None:
    snap = snapshot(domain(), service_account(pull=["ocr"]), secret("ocr"), service_account("other", pull=[]))
    snap.objects[next(k for k in snap.objects if k.kind == "Domain")]["spec"]["adminServer"] = {
        "serverPod": {"serviceAccountName": "other"}}
    report = audit(snap)
    assert len(report.domains[0].images) == 2
    ia016 = [f for f in report.domains[0].findings if f.rule == "IA016"]
    assert len(ia016) == 1 and ia016[0].images == [0, 1]
    keys = probe_keys(report)
    credentials = credentials_for(snap, (c for _, _, refs in keys for c in refs))
    answers = {key: outcome(ProbeResult("ok" if key[2] else "unauthorized", 200, None,
                                        credentials[key[2][0]] if key[2] else None, "", 1), key[0])
               for key in keys}
    apply_probe(report, answers)
    ia016 = [f for f in report.domains[0].findings if f.rule == "IA016"]
    anonymous = next(i for i, img in enumerate(report.domains[0].images) if not img.credentials)
    assert len(ia016) == 1 and ia016[0].images == [anonymous]


def test_probe_keys_are_distinct_across_domains() -> None:
    objs: List[Dict[str, Any]] = [service_account(pull=[]), secret("ocr")]
    objs += [domain(name=f"d{i}", pull=["ocr"]) for i in range(20)]
    assert len(probe_keys(audit(snapshot(*objs)))) == 1


def test_fail_on_never_and_info() -> None:
    snap = snapshot(domain(pull=["ocr"]), service_account(pull=[]), secret("ocr"))
    report = audit(snap)
    assert not Gate("error").failed(report)
    assert Gate("info").failed(report)  # IA016 is info
    assert not Gate("never").failed(report)
    assert Gate("info").exit_code(report) == ExitCode.GATE_FAILED and Gate("error").exit_code(report) == ExitCode.OK


def test_ia004_says_when_other_namespaces_were_not_searched() -> None:
    snap = snapshot(domain(pull=[]), service_account(pull=[]))
    message = next(f.message for f in audit(snap).domains[0].findings if f.rule == "IA004")
    assert "-A looks there too" in message
    snap.secrets_listed_everywhere = True
    message = next(f.message for f in audit(snap).domains[0].findings if f.rule == "IA004")
    assert "-A" not in message


CANARY = "canary-Pw-5f1e0c"  # a password no report, of any part, may hold


def _secret_values(found: List[str], value: Any, forbidden: List[str], path: str = "report") -> None:
    """Every place under `value` (dataclasses, containers, strings, recursively) that holds a forbidden value."""
    if isinstance(value, str):
        found.extend(f"{path}: {value!r}" for f in forbidden if f in value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _secret_values(found, getattr(value, f.name), forbidden, f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _secret_values(found, k, forbidden, f"{path}[{k!r}]")
            _secret_values(found, v, forbidden, f"{path}[{k!r}]")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            _secret_values(found, v, forbidden, f"{path}[{i}]")


def test_a_report_holds_references_to_credentials_never_their_values() -> None:
    snap = read_files([str(EXAMPLES)], "default")
    ocr = "container-registry.oracle.com"
    auths = {ocr: {"username": "robot", "password": CANARY, "auth": b64(f"robot:{CANARY}")},
             # userinfo in a registry key, and an entry with tokens only (IA003 names the entry)
             f"https://robot:{CANARY}-userinfo@ghcr.io": {"identitytoken": f"{CANARY}-identity",
                                                          "registrytoken": f"{CANARY}-registry"}}
    canary = secret("canary", "canary-ns", doc={"auths": auths})
    for obj in (canary, service_account(ns="canary-ns", pull=[]),
                domain("ocr", "canary-ns", pull=["canary"]),
                domain("ghcr", "canary-ns", image="ghcr.io/team/app:1", pull=["canary"])):
        snap.add(obj)
    report = audit(snap)
    keys = probe_keys(report)
    credentials = credentials_for(snap, (c for _, _, refs in keys for c in refs))
    outcomes = {key: outcome(ProbeResult("denied", 403, "DENIED", credentials[key[2][0]] if key[2] else None,
                                         f"denied {CANARY}", 1), key[0]) for key in keys}
    probed = copy.deepcopy(report)
    apply_probe(probed, outcomes)
    forbidden = [CANARY, b64(f"robot:{CANARY}"), canary["data"][".dockerconfigjson"]]

    # What is being checked is there: the canary Secret's credential, by reference, and a probe's answer with it.
    d = next(d for d in probed.domains if d.name == "ocr")
    assert [str(c) for c in d.images[0].credentials] == [f"canary-ns/canary[{ocr}]"]
    assert d.images[0].probe is not None and d.images[0].probe.credential == d.images[0].credentials[0]
    assert any(f.rule == "IA003" and f.secret == "canary" for d in probed.domains for f in d.findings)
    assert any(c.password == CANARY for c in credentials.values())  # the probe's own map holds the value
    found: List[str] = []
    _secret_values(found, list(credentials.values()), forbidden)
    assert found, "the walk finds a password where there is one"

    found = []
    _secret_values(found, report, forbidden)
    _secret_values(found, probed, forbidden, "probed")
    assert found == []


def test_secrets_with_one_payload_share_one_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same pull Secret copied into many namespaces is parsed once per audit; a Secret whose payload differs,
    or whose shape is not the common one (stringData), is read on its own, and answers for itself."""
    parsed: List[str] = []

    def counting(obj: Dict[str, Any]) -> PullSecretPayload:
        parsed.append(f"{obj['metadata']['namespace']}/{obj['metadata']['name']}")
        return read_pull_secret(obj)

    monkeypatch.setattr("kubectl_imgaccess.audit.run.read_pull_secret", counting)
    copies = [secret("ocr", ns) for ns in ("a", "b", "c")]
    other = secret("ocr", "d", password="another")
    hollow = secret("ocr", "e", doc={"auths": {builders.OCR: {}}})
    plain = secret("ocr", "f", data=None, string_data={".dockerconfigjson": json.dumps(builders.auths())})
    broken = [secret("bad", ns, data={".dockerconfigjson": "not base64!"}) for ns in ("a", "b")]
    index = SecretIndex(snapshot(*copies, other, hollow, plain, *broken))
    repository = "container-registry.oracle.com/middleware/weblogic"
    assert [ns for ns in "abcdef" if index.matches(ns, "ocr", repository)] == ["a", "b", "c", "d", "f"]
    assert not index.matches("a", "bad", repository) and not index.matches("b", "bad", repository)
    assert sorted(parsed) == ["a/bad", "a/ocr", "d/ocr", "e/ocr", "f/ocr"]
    assert payload_identity(plain) is None and payload_identity(copies[0]) == payload_identity(copies[1])
