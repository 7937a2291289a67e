"""Pull Secret -> registry credentials, exactly as the kubelet reads `imagePullSecrets`.

Mirrors kubernetes/kubernetes `pkg/credentialprovider/secrets/secrets.go` and `config.go`, including the
Go `encoding/json` behaviour they inherit: field names matched case-insensitively, the last of duplicate
keys winning, `null` leaving a field untouched, unknown fields ignored, wrong value types rejected. A
parse error in any listed secret makes the kubelet fail the credential lookup for the whole pod, so
`read_pull_secret` raises instead of guessing.

No secret value (password, `auth`, token) ever appears in an error message or a repr.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from kubectl_imgaccess.objects import Credential, json_kind
from kubectl_imgaccess.text import remember_secret

__all__ = [
    "CANDIDATE_KEYS",
    "PULL_SECRET_TYPES",
    "PullSecretPayload",
    "SecretParseError",
    "looks_like_pull_credentials",
    "payload_identity",
    "read_pull_secret",
]

DOCKER_CONFIG_JSON = ".dockerconfigjson"
DOCKER_CFG = ".dockercfg"

#: The only (type, data key) pairs the kubelet reads.
PULL_SECRET_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "kubernetes.io/dockerconfigjson": DOCKER_CONFIG_JSON,
        "kubernetes.io/dockercfg": DOCKER_CFG,
    }
)

#: Data keys where registry credentials are looked for (those the kubelet reads, and where users put them in
#: Secrets the kubelet ignores): the only keys of a Secret whose values the audit reads.
CANDIDATE_KEYS = (DOCKER_CONFIG_JSON, DOCKER_CFG, "config.json")

_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
# Go unicode.IsSpace (narrower than str.strip, which also drops \x1c-\x1f): decides padded vs raw auth.
_GO_SPACE_CLASS = "[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_GO_SPACE = re.compile(f"^{_GO_SPACE_CLASS}+|{_GO_SPACE_CLASS}+$")
_SURROGATE = re.compile("[\ud800-\udfff]")

_ENTRY_FIELDS = ("username", "password", "email", "auth")
_TOKEN_FIELDS = ("identitytoken", "registrytoken")


class SecretParseError(Exception):
    """The kubelet cannot parse this secret: the whole pod's credential lookup fails (IA003 error).

    The message names the secret and the registry key at fault, never a value.
    """


@dataclass(frozen=True)
class PullSecretPayload:
    """What the kubelet takes from one Secret on a pod's pull-secret list."""

    namespace: str
    name: str
    usable: bool  # False: the kubelet skips the secret silently (IA002)
    skip_reason: Optional[str]  # why it is skipped, when not usable
    credentials: Tuple[Credential, ...]  # every entry, in document order (identity-token entries included)
    no_usable_entries: Optional[str]  # parses but gives nothing usable (IA003 warning): why


class _Obj(List[Tuple[str, Any]]):
    """A JSON object as its key/value pairs in document order, duplicates kept (Go sees every one)."""


class _Problem(Exception):
    """A parse failure described without values; turned into SecretParseError by the caller."""


# --------------------------------------------------------------------------------------------------
# Go encoding/json and encoding/base64 behaviour


def _go_string(text: str) -> str:
    """Go has no lone surrogates: its decoder turns an unpaired \\uD800 escape into U+FFFD."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def _reject_constant(name: str) -> Any:
    raise _Problem(f"not valid JSON ({name} is not a JSON value)")


def _load_json(raw: bytes) -> Any:
    """Parse like Go `json.Unmarshal` would accept (invalid UTF-8 inside strings becomes U+FFFD)."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text, object_pairs_hook=_Obj, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # Only the position: the library's message can quote a fragment of the document.
        raise _Problem(f"not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise _Problem("not valid JSON (nested too deeply)") from None


def _field(key: str, names: Sequence[str]) -> Optional[str]:
    """The struct field a JSON key decodes into: exact name first, then case-insensitive (Go rules)."""
    if key in names:
        return key
    folded = _fold_go(key)
    for name in names:
        if _fold_go(name) == folded:
            return name
    return None


def _fold_go(name: str) -> str:
    out = []
    for ch in name:
        if ch < "\x80":
            out.append(ch.upper())
        elif ch == "\u017f":  # LATIN SMALL LETTER LONG S folds with "s"
            out.append("S")
        elif ch == "\u212a":  # KELVIN SIGN folds with "k"
            out.append("K")
        else:
            out.append(ch)
    return "".join(out)


def _kind(value: Any) -> str:
    return json_kind(value, (_Obj,))


def _quote(key: str) -> str:
    """A registry key or field name for a message: quoted, one line, ASCII."""
    return json.dumps(key)


def _go_b64decode(text: str, padded: bool) -> Optional[bytes]:
    """Go `base64.StdEncoding` (padded) or `RawStdEncoding` (unpadded); CR and LF are skipped."""
    s = text.replace("\r", "").replace("\n", "")
    if any(ch not in _B64_ALPHABET and ch != "=" for ch in s):
        return None
    if padded:
        body = s.rstrip("=")
        if len(s) - len(body) > 2 or "=" in body or len(s) % 4:
            return None
    else:
        body = s
        if "=" in body or len(body) % 4 == 1:
            return None
    return base64.b64decode(body + "=" * (-len(body) % 4))


def _go_trim_space(text: str) -> str:
    return _GO_SPACE.sub("", text)


def _decode_auth(auth: str) -> Tuple[str, str]:
    """`auth` = base64(username:password); padded decoding only when the trimmed value ends with '='."""
    padded = _go_trim_space(auth).endswith("=")
    decoded = _go_b64decode(auth, padded)
    if decoded is None:
        encoding = "padded" if padded else "unpadded"
        raise _Problem(f"field \"auth\" is not valid base64 ({encoding} standard encoding)")
    user, colon, password = decoded.partition(b":")
    if not colon:
        raise _Problem("field \"auth\" does not decode to \"username:password\" (no ':')")
    return user.decode("utf-8", "surrogateescape"), password.decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------------------------------
# The kubelet's types: DockerConfigJSON {auths, HttpHeaders}, DockerConfig map, DockerConfigEntry


class _Entry:
    """A decoded DockerConfigEntry (no repr: it holds the password)."""

    __slots__ = ("password", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        return "_Entry(...)"


def _decode_entry(value: Any, where: str) -> _Entry:
    """DockerConfigEntry.UnmarshalJSON: `null` gives an empty entry; a non-empty auth wins."""
    if value is None:
        return _Entry("", "")
    if not isinstance(value, _Obj):
        raise _Problem(f"{where} is {_kind(value)}, not an object")
    fields: Dict[str, str] = dict.fromkeys(_ENTRY_FIELDS, "")
    for key, item in value:
        name = _field(key, _ENTRY_FIELDS)
        if name is None:
            continue  # identitytoken, registrytoken, anything else: ignored, whatever its type
        if item is None:
            continue  # Go leaves the field as it was
        if not isinstance(item, str):
            raise _Problem(f"{where} field {_quote(key)} is {_kind(item)}, not a string")
        fields[name] = _go_string(item)
    if not fields["auth"]:
        return _Entry(fields["username"], fields["password"])
    try:
        user, password = _decode_auth(fields["auth"])
    except _Problem as exc:
        raise _Problem(f"{where} {exc}") from None
    return _Entry(user, password)


def _decode_map(value: Any, where: str, into: Dict[str, _Entry]) -> None:
    """Decode a DockerConfig object into `into` (Go reuses an existing map: duplicate objects merge)."""
    for key, item in value:
        registry = _go_string(key)
        into[registry] = _decode_entry(item, f"{where}[{_quote(registry)}]")


def _decode_headers(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, _Obj):
        raise _Problem(f"field \"HttpHeaders\" is {_kind(value)}, not an object")
    for key, item in value:
        if item is not None and not isinstance(item, str):
            raise _Problem(f"HttpHeaders[{_quote(key)}] is {_kind(item)}, not a string")


class _Parsed:
    def __init__(self, entries: Optional[Dict[str, _Entry]], empty_reason: Optional[str]) -> None:
        self.entries = entries if entries is not None else {}
        self.empty_reason = empty_reason


def _parse_config_json(doc: Any) -> _Parsed:
    """`.dockerconfigjson`: {"auths": {KEY: ENTRY}}; anything else at the top level is ignored."""
    if doc is None:
        return _Parsed(None, "the value is JSON null: no \"auths\"")
    if not isinstance(doc, _Obj):
        raise _Problem(f"the value is {_kind(doc)}, not a JSON object")
    auths: Optional[Dict[str, _Entry]] = None
    for key, value in doc:
        name = _field(key, ("auths", "HttpHeaders"))
        if name == "HttpHeaders":
            _decode_headers(value)
        elif name == "auths":
            if value is None:
                auths = None
                continue
            if not isinstance(value, _Obj):
                raise _Problem(f"field {_quote(key)} is {_kind(value)}, not an object")
            if auths is None:
                auths = {}
            _decode_map(value, "auths", auths)
    if auths is None:
        if any(_field(key, ("auths",)) is None for key, _ in doc):
            return _Parsed(None, "there is no \"auths\" object: this is the legacy .dockercfg layout, "
                                 "which the kubelet does not read under .dockerconfigjson")
        return _Parsed(None, "there is no \"auths\" object")
    return _Parsed(auths, None if auths else "the \"auths\" object is empty")


def _parse_dockercfg(doc: Any) -> _Parsed:
    """`.dockercfg`: the legacy flat {KEY: ENTRY} layout."""
    if doc is None:
        return _Parsed(None, "the value is JSON null: no registry entries")
    if not isinstance(doc, _Obj):
        raise _Problem(f"the value is {_kind(doc)}, not a JSON object")
    entries: Dict[str, _Entry] = {}
    _decode_map(doc, "entry", entries)
    if not entries:
        return _Parsed(entries, "there are no registry entries")
    return _Parsed(entries, None)


# --------------------------------------------------------------------------------------------------
# The Secret object


def _secret_id(secret: Mapping[str, Any]) -> Tuple[str, str]:
    meta = secret.get("metadata")
    if not isinstance(meta, Mapping):
        return "", ""
    namespace, name = meta.get("namespace"), meta.get("name")
    return (namespace if isinstance(namespace, str) else ""), (name if isinstance(name, str) else "")


def _secret_type(secret: Mapping[str, Any]) -> str:
    kind = secret.get("type")
    if kind is None or kind == "":
        return "Opaque"  # the API server's default
    return kind if isinstance(kind, str) else str(kind)


def _data_value(secret: Mapping[str, Any], key: str) -> Optional[bytes]:
    """The bytes the API server would store under `key`: stringData wins over data. None: absent."""
    string_data = secret.get("stringData")
    if string_data is not None:
        if not isinstance(string_data, Mapping):
            raise _Problem("stringData is not a map")
        if key in string_data:
            plain = string_data[key]
            if plain is None:
                return b""
            if not isinstance(plain, str):
                raise _Problem(f"stringData[{_quote(key)}] is not a string")
            return plain.encode("utf-8", "surrogateescape")
    data = secret.get("data")
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise _Problem("data is not a map")
    if key not in data:
        return None
    encoded = data[key]
    if encoded is None:
        return b""
    if not isinstance(encoded, str):
        raise _Problem(f"data[{_quote(key)}] is not a base64 string")
    decoded = _go_b64decode(encoded, padded=True)
    if decoded is None:
        raise _Problem(f"data[{_quote(key)}] is not valid base64")
    return decoded


def _has_key(secret: Mapping[str, Any], key: str) -> bool:
    for part in ("stringData", "data"):
        values = secret.get(part)
        if isinstance(values, Mapping) and key in values:
            return True
    return False


def _credentials(
    entries: Mapping[str, _Entry], namespace: str, name: str, data_key: str
) -> Tuple[Credential, ...]:
    for entry in entries.values():
        remember_secret(entry.password)
    return tuple(
        Credential(
            secret=name,
            namespace=namespace,
            key=registry,
            username=entry.username,
            password=entry.password,
            secret_key=data_key,
            entry=n,
        )
        for n, (registry, entry) in enumerate(entries.items())
    )


def _skipped(namespace: str, name: str, reason: str) -> PullSecretPayload:
    return PullSecretPayload(namespace, name, False, reason, (), None)


def payload_identity(secret: Mapping[str, Any]) -> Optional[Tuple[str, str]]:
    """What read_pull_secret's credentials depend on besides the Secret's name and namespace, for the common
    shape (a pull type, no stringData, the type's key in data as a string): (type, that base64 value). Two
    Secrets with the same identity give the same credentials entry by entry (the same Secret copied into
    many namespaces). None for any other shape: such a Secret is read on its own."""
    kind = secret.get("type")
    data = secret.get("data")
    if not isinstance(kind, str) or "stringData" in secret or not isinstance(data, Mapping):
        return None
    data_key = PULL_SECRET_TYPES.get(kind)
    value = data.get(data_key) if data_key is not None else None
    return (kind, value) if isinstance(value, str) else None


def read_pull_secret(secret: Mapping[str, Any]) -> PullSecretPayload:
    """The credentials the kubelet takes from this Secret; raises SecretParseError where the kubelet fails."""
    namespace, name = _secret_id(secret)
    label = f"Secret {namespace}/{name}" if namespace else f"Secret {name}"
    kind = _secret_type(secret)
    data_key = PULL_SECRET_TYPES.get(kind)
    if data_key is None:
        return _skipped(namespace, name, f"type {kind} is not a pull-secret type")
    try:
        raw = _data_value(secret, data_key)
    except _Problem as exc:
        raise SecretParseError(f"{label}: {exc}") from None
    if raw is None:
        reason = f"type {kind} has no {data_key} key"
        others = [key for key in PULL_SECRET_TYPES.values() if key != data_key and _has_key(secret, key)]
        if others:
            reason += f" (it holds {others[0]}, which needs type "
            reason += next(t for t, k in PULL_SECRET_TYPES.items() if k == others[0]) + ")"
        return _skipped(namespace, name, reason)
    if not raw:
        return _skipped(namespace, name, f"the {data_key} value is empty")
    try:
        doc = _load_json(raw)
        parsed = _parse_config_json(doc) if data_key == DOCKER_CONFIG_JSON else _parse_dockercfg(doc)
    except _Problem as exc:
        raise SecretParseError(f"{label}: {data_key}: {exc}") from None
    credentials = _credentials(parsed.entries, namespace, name, data_key)
    problem = parsed.empty_reason
    if problem is None and all(cred.empty for cred in credentials):
        problem = "every entry is empty or holds only an identity token: no username or password"
    no_usable = None if problem is None else f"the {data_key} value parses but gives no credential: {problem}"
    return PullSecretPayload(namespace, name, True, None, credentials, no_usable)


# --------------------------------------------------------------------------------------------------
# Best effort: credentials the kubelet would not use


def _lenient_entries(doc: Any) -> Dict[str, _Entry]:
    """Entries of either layout, skipping anything malformed; for explanations only."""
    if not isinstance(doc, _Obj):
        return {}
    entries: Dict[str, _Entry] = {}
    auths = [value for key, value in doc if _field(key, ("auths",)) and isinstance(value, _Obj)]
    if auths:
        for block in auths:
            for key, value in block:
                try:
                    entries[_go_string(key)] = _decode_entry(value, "")
                except _Problem:
                    continue
        return entries
    known = _ENTRY_FIELDS + _TOKEN_FIELDS
    for key, value in doc:
        if not isinstance(value, _Obj) or not any(_field(k, known) for k, _ in value):
            continue  # credsStore, credHelpers and the like
        try:
            entries[_go_string(key)] = _decode_entry(value, "")
        except _Problem:
            continue
    return entries


def looks_like_pull_credentials(secret: Mapping[str, Any]) -> Tuple[Credential, ...]:
    """Credentials this Secret holds where the kubelet will not look (wrong type, wrong key, wrong layout).

    Used to say "this secret has a credential for X but the kubelet ignores it". Never raises.
    """
    try:
        namespace, name = _secret_id(secret)
        used_key = PULL_SECRET_TYPES.get(_secret_type(secret))
        found: List[Credential] = []
        for data_key in CANDIDATE_KEYS:
            try:
                raw = _data_value(secret, data_key)
            except _Problem:
                continue
            if not raw:
                continue
            try:
                doc = _load_json(raw)
            except _Problem:
                continue
            if data_key == used_key:
                try:
                    payload = read_pull_secret(secret)
                except SecretParseError:
                    continue
                if payload.credentials or not isinstance(doc, _Obj):
                    continue  # the kubelet reads this one; nothing hidden in it
            entries = _lenient_entries(doc)
            found.extend(_credentials(entries, namespace, name, data_key))
        return tuple(found)
    except Exception:  # best effort by contract: a surprising shape means "nothing to show"
        return ()
