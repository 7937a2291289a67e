"""`check --probe` through the console script against Debian's docker-registry (Basic and Bearer)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

from tests.builders import domain, secret
from tests.clitools import run
from tests.registry.fixtures import BASIC_USERS, TOKEN_USERS, RegistryEnv
from tests.registry.helpers import manifest_requests

NS = "probe"


def probe_check(env: RegistryEnv, tmp_path: Path, items: List[Dict[str, Any]],
                *extra: str) -> Tuple[int, Dict[str, Any], str]:
    path = tmp_path / "domains.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    proc = run(["check", "--offline", "--probe", "--registry-ca", env.ca_file, "-o", "json", "-f", str(path),
                *extra])
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def by_name(doc: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {d["name"]: d for d in doc["domains"]}


def test_good_wrong_password_and_missing_tag(registry_env: RegistryEnv, tmp_path: Path) -> None:
    host = registry_env.basic.host
    items = [
        secret("good", NS, registry=host, user="alice", password=BASIC_USERS["alice"]),
        secret("stale", NS, registry=host, user="alice", password="expired-password"),
        domain("good", NS, image=f"{host}/team/app:v1", pull=["good"]),
        domain("wrong-password", NS, image=f"{host}/team/app:v1", pull=["stale"]),
        domain("missing-tag", NS, image=f"{host}/team/app:v404", pull=["good"]),
        domain("missing-repo", NS, image=f"{host}/team/nothing:v1", pull=["good"]),
    ]
    code, doc, stderr = probe_check(registry_env, tmp_path, items)
    assert code == 1
    d = by_name(doc)
    good = d["good"]["images"][0]
    assert good["probe"]["status"] == "ok" and good["probe"]["credential"] == {"secret": "good", "key": host}
    assert d["good"]["verdict"] == "pass"
    assert {f["rule"] for f in d["wrong-password"]["findings"]} >= {"IA012"}
    assert d["wrong-password"]["images"][0]["probe"]["httpStatus"] == 401
    assert {f["rule"] for f in d["missing-tag"]["findings"]} >= {"IA014"}
    assert d["missing-tag"]["images"][0]["probe"]["errorCode"] == "MANIFEST_UNKNOWN"
    assert "IA014" in {f["rule"] for f in d["missing-repo"]["findings"]}
    assert "expired-password" not in json.dumps(doc) and BASIC_USERS["alice"] not in stderr


def test_bearer_token_auth_and_denied(registry_env: RegistryEnv, tmp_path: Path) -> None:
    host = registry_env.bearer.host
    items = [
        secret("carol", NS, registry=host, user="carol", password=TOKEN_USERS["carol"]),
        secret("dave", NS, registry=host, user="dave", password=TOKEN_USERS["dave"]),
        domain("carol-app", NS, image=f"{host}/team/app:v2", pull=["carol"]),
        domain("dave-private", NS, image=f"{host}/private/secret:v1", pull=["dave"]),
    ]
    _, doc, _ = probe_check(registry_env, tmp_path, items)
    d = by_name(doc)
    assert d["carol-app"]["images"][0]["probe"]["status"] == "ok"
    assert "IA013" in {f["rule"] for f in d["dave-private"]["findings"]}


def test_hundred_domains_five_images_five_manifest_requests(registry_env: RegistryEnv, tmp_path: Path) -> None:
    host = registry_env.basic.host
    items: List[Dict[str, Any]] = [secret("good", NS, registry=host, user="alice", password=BASIC_USERS["alice"])]
    items += [domain(f"d{i:03d}", NS, image=f"{host}/team/app:v{i % 5 + 1}", pull=["good"]) for i in range(100)]
    mark = registry_env.basic.mark()
    code, doc, _ = probe_check(registry_env, tmp_path, items)
    assert code == 0 and doc["summary"]["domains"] == 100
    assert all(d["verdict"] == "pass" for d in doc["domains"])
    manifests = manifest_requests(registry_env.basic.requests_since(mark))
    assert sorted(r["path"] for r in manifests) == [f"/v2/team/app/manifests/v{n}" for n in range(1, 6)]
