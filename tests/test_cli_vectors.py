"""Every matching vector of kubelet-credentials.md section 4, through the public CLI (check --offline -o json).

Each vector becomes one Domain whose only pull Secret holds the vector's key; all run in one invocation.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

from tests.builders import domain, secret
from tests.clitools import check_json

DIGEST = "sha256:" + "a" * 64
# (image, key, match) ; match None = the reference is invalid
VECTORS: List[Tuple[str, str, Any]] = [
    ("nginx", "https://index.docker.io/v1/", True),
    ("nginx", "docker.io", True),
    ("nginx", "https://docker.io/v1/", True),
    ("nginx", "registry-1.docker.io", False),
    ("index.docker.io/myorg/app", "index.docker.io", True),
    ("myorg/app:1.0", "https://index.docker.io/v1/", True),
    ("localhost:5000/app", "https://index.docker.io/v1/", False),
    ("localhost:5000/app", "localhost:5000", True),
    ("localhost:5000/app", "localhost", False),
    ("registry.example.com/app", "registry.example.com:443", False),
    ("us.gcr.io/proj/img", "*.gcr.io", True),
    ("gcr.io/proj/img", "*.gcr.io", False),
    ("a.b.registry.io/x", "*.registry.io", False),
    ("a.b.registry.io/x", "*.*.registry.io", True),
    ("prefix-good.kubernetes.io/x", "*-good.kubernetes.io", True),
    ("nginx", "*.io", True),
    ("quay.io/org/app", "k*.io", False),
    ("registry.example.com/team", "registry.example.com/team/", False),
    ("registry.example.com/other/app", "registry.example.com/team", False),
    ("registry.example.com/app", "https://registry.example.com/v2/", True),
    ("registry.example.com/app", "http://registry.example.com", True),
    ("10.0.0.5:5000/app", "10.0.0.*:5000", True),
    (f"registry.example.com/app@{DIGEST}", "registry.example.com", True),
    ("registry.example.com:5000/team/app:v1", "registry.example.com:5000/team", True),
    ("registry.example.com/App", "registry.example.com", None),
    ("my-registry.io/images", "my-registry.io/images", True),
    ("a.sub.my-registry.io/images/my-image", "*.my-registry.io/images", False),
]


NS = "v"


def _spec_image(doc: Dict[str, Any], name: str) -> Dict[str, Any]:
    domain = next(d for d in doc["domains"] if d["name"] == name)
    return next(i for i in domain["images"] if i["field"] == "spec.image")


def test_section_4_vectors_through_the_cli() -> None:
    items: List[Dict[str, Any]] = []
    for n, (image, key, _) in enumerate(VECTORS):
        items += [domain(f"v{n}", NS, image=image, pull=[f"s{n}"]), secret(f"s{n}", NS, registry=key)]
    _, doc = check_json("-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    failures = []
    for n, (image, key, match) in enumerate(VECTORS):
        entry = _spec_image(doc, f"v{n}")
        rules = {f["rule"] for d in doc["domains"] if d["name"] == f"v{n}" for f in d["findings"]}
        if match is None:
            ok = "IA010" in rules and entry["credentials"] == []
        else:
            ok = (entry["credentials"] == [{"secret": f"s{n}", "key": key}]) == match
        if not ok:
            failures.append((image, key, match, entry["credentials"], sorted(rules)))
    assert failures == []


def test_ordering_vectors_through_the_cli() -> None:
    cases = [
        ("registry.io/team/app", [("A", "registry.io"), ("B", "registry.io/team")], ["B", "A"]),
        ("a.registry.io/x", [("A", "*.registry.io"), ("B", "a.registry.io")], ["B", "A"]),
        ("registry.io/x", [("first", "registry.io"), ("second", "registry.io")], ["first", "second"]),
    ]
    items: List[Dict[str, Any]] = []
    for n, (image, secrets, _) in enumerate(cases):
        items.append(domain(f"o{n}", NS, image=image, pull=[f"o{n}-{s}" for s, _ in secrets]))
        items += [secret(f"o{n}-{s}", NS, registry=k) for s, k in secrets]
    _, doc = check_json("-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    for n, (_, _, expected) in enumerate(cases):
        got = [c["secret"] for c in _spec_image(doc, f"o{n}")["credentials"]]
        assert got == [f"o{n}-{s}" for s in expected]
