"""Where the credentials fix writes come from, and the exact bytes it writes.

A Secret made from `--docker-*` flags must be byte-for-byte what `kubectl create secret docker-registry`
stores for the same inputs, so users can compare and tools that hash Secrets see no drift. That means
Go `encoding/json`: compact, struct fields in declaration order, empty fields omitted, and `<`, `>`,
`&`, U+2028, U+2029 escaped. Nothing here ever formats a credential value into a message or a repr.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from kubectl_imgaccess.kubelet.keyring import Keyring
from kubectl_imgaccess.kubelet.pullsecret import SecretParseError, read_pull_secret

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
DEFAULT_DOCKER_SERVER = "https://index.docker.io/v1/"  # kubectl's --docker-server default
_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}

Data = Dict[str, str]  # a Secret's `data`: key -> base64


def _go_text(text: str) -> str:
    for raw, escaped in _GO_HTML_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def go_json(value: Any) -> bytes:
    """Go json.Marshal's bytes for plain dicts/lists/strings (map keys sorted, HTML-safe escaping)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return _go_text(text).encode("utf-8", "surrogateescape")


def docker_registry_payload(server: str, username: str, password: str, email: str = "") -> bytes:
    """The `.dockerconfigjson` bytes `kubectl create secret docker-registry` writes for these inputs."""
    auth = base64.b64encode(f"{username}:{password}".encode("utf-8", "surrogateescape")).decode("ascii")
    entry: Dict[str, str] = {}
    # DockerConfigEntry's field order (a struct, not a map: not sorted); every field is omitempty.
    for name, value in (("username", username), ("password", password), ("email", email), ("auth", auth)):
        if value:
            entry[name] = value
    body = json.dumps({"auths": {server: entry}}, separators=(",", ":"), ensure_ascii=False)
    return _go_text(body).encode("utf-8", "surrogateescape")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def secret_object(namespace: str, name: str, type_: str, data: Mapping[str, str],
                  labels: Optional[Mapping[str, str]] = None,
                  annotations: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    meta: Dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": type_, "data": dict(data)}


def decoded_data(secret: Mapping[str, Any]) -> Optional[Dict[str, bytes]]:
    """data (+ stringData) as bytes, for "is this the same Secret" comparisons; None when undecodable."""
    out: Dict[str, bytes] = {}
    data = secret.get("data") or {}
    if not isinstance(data, Mapping):
        return None
    for key, value in data.items():
        try:
            out[str(key)] = base64.b64decode(str(value or ""), validate=True)
        except (ValueError, TypeError):
            return None
    string_data = secret.get("stringData") or {}
    if isinstance(string_data, Mapping):
        for key, value in string_data.items():
            out[str(key)] = str(value or "").encode("utf-8")
    return out


def same_secret(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Same type and same decoded data: the Secret fix wanted already exists."""
    type_a = a.get("type") or "Opaque"
    type_b = b.get("type") or "Opaque"
    da, db = decoded_data(a), decoded_data(b)
    return type_a == type_b and da is not None and da == db


def matches(type_: str, data: Mapping[str, str], repository: str) -> bool:
    """Would the kubelet take a credential for `repository` from a Secret with this type and data?"""
    try:
        payload = read_pull_secret({"metadata": {}, "type": type_, "data": dict(data)})
    except SecretParseError:
        return False
    return payload.usable and any(not c.empty for c in Keyring(payload.credentials).lookup(repository))


@dataclass(frozen=True)
class CredentialSource:
    """One credential source from the flags; `payload(repositories)` gives (type, data, labels, annotations).

    kind: "docker-registry" (fixed payload), "docker-config" (entries of a config.json, filtered to the
    images of the namespace), "copy" (type and data of an existing pull Secret).
    """

    kind: str
    name: str  # the Secret name to create
    description: str
    type_: str = DOCKERCONFIGJSON
    data: Mapping[str, str] = field(default_factory=dict, repr=False)
    entries: Tuple[Tuple[str, Any], ...] = field(default=(), repr=False)  # docker-config: (key, raw entry)
    origin: Optional[str] = None  # "namespace/name" for copies

    def payload(self, repositories: Sequence[str]) -> Optional[Tuple[str, Data, Data, Data]]:
        labels: Data = {}
        annotations: Data = {}
        if self.kind == "docker-config":
            kept: Dict[str, Any] = {}
            for key, entry in self.entries:
                one = {DOCKERCONFIGJSON_KEY: b64(go_json({"auths": {key: entry}}))}
                if any(matches(DOCKERCONFIGJSON, one, repo) for repo in repositories):
                    kept[key] = entry
            if not kept:
                return None
            return DOCKERCONFIGJSON, {DOCKERCONFIGJSON_KEY: b64(go_json({"auths": kept}))}, labels, annotations
        if self.kind == "copy" and self.origin:
            namespace = self.origin.split("/", 1)[0]
            labels[ORIGIN_NAMESPACE_LABEL] = namespace
            annotations[ORIGIN_ANNOTATION] = self.origin
        return self.type_, dict(self.data), labels, annotations


ORIGIN_ANNOTATION = "imgaccess.weblogic.oracle/copied-from"
ORIGIN_NAMESPACE_LABEL = "imgaccess.weblogic.oracle/copied-from-namespace"
BUILT_FROM_ANNOTATION = "imgaccess.weblogic.oracle/built-from"


def from_flags(name: str, server: str, username: str, password: str, email: str = "") -> CredentialSource:
    data = {DOCKERCONFIGJSON_KEY: b64(docker_registry_payload(server, username, password, email))}
    return CredentialSource("docker-registry", name, f"credential for {server}", data=data)


class SourceError(ValueError):
    """A credential source cannot be used; the message names the file or Secret, never a value."""


def from_docker_config(name: str, text: str, where: str) -> CredentialSource:
    """Entries of a docker config.json (`auths`) that carry credentials; helpers and tokens are skipped."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise SourceError(f"{where}: not valid JSON (line {getattr(exc, 'lineno', '?')})") from None
    auths = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(auths, dict) or not auths:
        raise SourceError(f"{where}: no \"auths\" entries (credentials kept by a credsStore/credHelpers "
                          "cannot be copied; log in with the credential store disabled)")
    usable: List[Tuple[str, Any]] = []
    for key, entry in auths.items():
        one = {DOCKERCONFIGJSON_KEY: b64(go_json({"auths": {key: entry}}))}
        try:
            payload = read_pull_secret({"metadata": {}, "type": DOCKERCONFIGJSON, "data": one})
        except SecretParseError:
            raise SourceError(f"{where}: the entry for {json.dumps(str(key))} cannot be parsed") from None
        if any(not c.empty for c in payload.credentials):
            usable.append((str(key), entry))
    if not usable:
        raise SourceError(f"{where}: no entry holds a username and password (identity tokens only?)")
    return CredentialSource("docker-config", name, f"entries of {where}", entries=tuple(usable))


def from_secret(name: str, secret: Mapping[str, Any], origin: str) -> CredentialSource:
    """A copy of an existing pull Secret: same type and data, nothing else (annotations may hold values)."""
    try:
        payload = read_pull_secret(secret)
    except SecretParseError as exc:
        raise SourceError(f"--copy-from {origin}: {exc}") from None
    if not payload.usable or not any(not c.empty for c in payload.credentials):
        reason = payload.skip_reason or payload.no_usable_entries or "no credential"
        raise SourceError(f"--copy-from {origin}: not a usable pull Secret ({reason})")
    data = secret.get("data") or {}
    return CredentialSource("copy", name, f"copy of Secret {origin}", type_=str(secret.get("type")),
                            data={str(k): str(v) for k, v in data.items()}, origin=origin)
