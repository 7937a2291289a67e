"""Property tests: generated Domains, image references and pull-secret payloads always end as the contract
says (exit 0, 1 or 2 with one clear line), never in `internal error`."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_imgaccess.cli.main import main
from tests.builders import IMAGE, domain

SETTINGS = settings(max_examples=int(os.environ.get("IMGACCESS_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=30))
anything = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                        max_leaves=8)
name_like = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True), st.text(max_size=15))
REF_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEF0123456789.-_/:@[]%+ \x1b\u00e9"
image_refs = st.one_of(
    st.text(alphabet=REF_ALPHABET, max_size=80),
    st.builds(lambda h, p, r, t: f"{h}{p}/{r}{t}",
              st.sampled_from(["", "docker.io/", "container-registry.oracle.com/", "localhost:5000/", "[::1]:5000/",
                               "Registry.Example.com/", "ops:pw@reg.example/"]),
              st.from_regex(r"[a-z0-9._-]{1,20}", fullmatch=True), st.from_regex(r"[a-zA-Z0-9._/-]{0,30}",
                                                                                  fullmatch=True),
              st.sampled_from(["", ":latest", ":14.1.2.0", "@sha256:" + "a" * 64, "@sha256:abc", ":", "@"])),
)


def _run(docs: List[Any], extra: Tuple[str, ...] = ()) -> Tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text(yaml.safe_dump_all(docs, allow_unicode=True))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "--offline", "-o", "json", "-f", str(path), *extra])
    return code, out.getvalue(), err.getvalue()


def _contract(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), (code, err)
    assert "internal error" not in err and "Traceback" not in err, err
    if code == 2:
        assert out == "" and len(err.strip().splitlines()) == 1, err
    else:
        json.loads(out)


NS = "apps"


domain_specs = st.fixed_dictionaries({}, optional={
    "domainUID": anything, "image": st.one_of(image_refs, anything), "imagePullPolicy": anything,
    "imagePullSecrets": st.one_of(anything, st.lists(st.one_of(st.fixed_dictionaries({"name": name_like}),
                                                                anything), max_size=3)),
    "domainHomeSourceType": st.sampled_from(["Image", "FromModel", "PersistentVolume", 5]),
    "serverPod": st.one_of(anything, st.fixed_dictionaries({}, optional={
        "serviceAccountName": st.one_of(name_like, anything),
        "containers": st.one_of(anything, st.lists(st.fixed_dictionaries({"name": name_like, "image": image_refs}),
                                                   max_size=2)),
        "initContainers": anything})),
    "adminServer": anything, "clusters": anything, "managedServers": anything,
    "configuration": st.one_of(anything, st.fixed_dictionaries({}, optional={
        "model": st.one_of(anything, st.fixed_dictionaries({}, optional={
            "auxiliaryImages": st.one_of(anything, st.lists(st.fixed_dictionaries({"image": image_refs}),
                                                            max_size=2))}))})),
    "monitoringExporter": anything, "fluentdSpecification": anything, "introspector": anything,
})


@SETTINGS
@given(spec=domain_specs, name=st.one_of(name_like, anything))
def test_generated_domains_follow_the_exit_contract(spec: Dict[str, Any], name: Any) -> None:
    _contract(*_run([domain(name, NS, spec=spec)]))


@SETTINGS
@given(image=image_refs)
def test_generated_image_references_follow_the_exit_contract(image: str) -> None:
    doc = domain("d1", NS, spec={"domainUID": "d1", "domainHomeSourceType": "Image", "image": image,
                                 "imagePullSecrets": [{"name": "s"}]})
    _contract(*_run([doc]))


auth_entry = st.one_of(anything, st.fixed_dictionaries({}, optional={
    "username": st.one_of(st.text(max_size=10), anything), "password": st.one_of(st.text(max_size=10), anything),
    "auth": st.one_of(st.text(max_size=20), st.builds(lambda u, p: base64.b64encode(f"{u}:{p}".encode()).decode(),
                                                       st.text(max_size=8), st.text(max_size=8)), anything),
    "email": anything, "identitytoken": anything}))
payloads = st.one_of(
    st.text(max_size=60),
    st.builds(lambda d: json.dumps(d), st.fixed_dictionaries({"auths": st.one_of(
        anything, st.dictionaries(st.one_of(image_refs, st.text(max_size=20)), auth_entry, max_size=3))})),
    st.builds(lambda d: json.dumps(d), st.dictionaries(st.text(max_size=20), auth_entry, max_size=3)),
    st.builds(json.dumps, anything),
)


@SETTINGS
@given(payload=payloads, secret_type=st.sampled_from(["kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg",
                                                      "Opaque", 7]),
       encoded=st.booleans(), data_key=st.sampled_from([".dockerconfigjson", ".dockercfg", "other"]))
def test_generated_pull_secret_payloads_follow_the_exit_contract(payload: str, secret_type: Any, encoded: bool,
                                                                  data_key: str) -> None:
    secret: Dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "type": secret_type,
                              "metadata": {"name": "s", "namespace": NS}}
    if encoded:
        secret["data"] = {data_key: base64.b64encode(payload.encode("utf-8", "surrogatepass")).decode()}
    else:
        secret["stringData"] = {data_key: payload}
    doc = domain("d1", NS, spec={"domainUID": "d1", "domainHomeSourceType": "Image", "image": IMAGE,
                                 "imagePullSecrets": [{"name": "s"}]})
    _contract(*_run([doc, secret]))


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_text_as_a_manifest_follows_the_exit_contract(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["check", "--offline", "-o", "json", "-f", str(path)])
    _contract(code, out.getvalue(), err.getvalue())
