"""Pull Secret parsing as the kubelet does it: type/key pairs, layouts, Go JSON rules, auth decoding, secrecy.

Entry and auth rows include the cases of kubernetes config_test.go (TestDockerConfigEntryJSONDecode,
TestDecodeDockerConfigFieldAuth, TestDockerConfig*JSONDecode, TestReadDockerConfigFile).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, List, Optional, Tuple

import pytest

from kubectl_imgaccess.kubelet.pullsecret import (
    PULL_SECRET_TYPES,
    PullSecretPayload,
    SecretParseError,
    looks_like_pull_credentials,
    read_pull_secret,
)
from tests.builders import DOCKERCFG as DCFG
from tests.builders import DOCKERCONFIGJSON as DCJ
from tests.builders import b64, secret


def make_secret(
    payload: Optional[str],
    kind: Optional[str] = DCJ,
    key: str = ".dockerconfigjson",
    via: str = "data",
) -> Dict[str, Any]:
    """The Secret "pull" holding `payload` text as it is (None: a null value), in data or in stringData."""
    if via == "data":
        return secret("pull", "ns", type_=kind, data={key: None if payload is None else b64(payload)})
    return secret("pull", "ns", type_=kind, string_data={key: payload})


def config(entries: Dict[str, Any]) -> str:
    return json.dumps({"auths": entries})


def triples(payload: PullSecretPayload) -> List[Tuple[str, str, str]]:
    return [(c.key, c.username, c.password) for c in payload.credentials]


def test_pull_secret_types() -> None:
    assert dict(PULL_SECRET_TYPES) == {DCJ: ".dockerconfigjson", DCFG: ".dockercfg"}


# --- documents that parse: (id, secret type, data key, JSON text, [(key, username, password)], warns) -----
GOOD: List[Tuple[str, str, str, str, List[Tuple[str, str, str]], bool]] = [
    (
        "kubectl create secret docker-registry",
        DCJ, ".dockerconfigjson",
        config({"https://index.docker.io/v1/": {"username": "u", "password": "p", "email": "e@x", "auth": b64("u:p")}}),
        [("https://index.docker.io/v1/", "u", "p")], False,
    ),
    (
        "config_test dockerconfigjson two entries in document order",
        DCJ, ".dockerconfigjson",
        '{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},'
        ' "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}',
        [("http://foo.example.com", "foo", "bar"), ("http://bar.example.com", "bar", "baz")], False,
    ),
    (
        "config_test legacy dockercfg flat layout",
        DCFG, ".dockercfg",
        '{"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},'
        ' "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}',
        [("http://foo.example.com", "foo", "bar"), ("http://bar.example.com", "bar", "baz")], False,
    ),
    (
        "config_test auth with trailing newline in the decoded text",
        DCJ, ".dockerconfigjson",
        '{ "auths": { "http://foo.example.com":{"auth":"Zm9vOmJhcgo=","email":"foo@example.com"}}}',
        [("http://foo.example.com", "foo", "bar\n")], False,
    ),
    ("entry simple fields", DCJ, ".dockerconfigjson",
     config({"r": {"username": "foo", "password": "bar", "email": "foo@example.com"}}), [("r", "foo", "bar")], False),
    ("entry auth decodes", DCJ, ".dockerconfigjson",
     config({"r": {"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}}), [("r", "foo", "bar")], False),
    ("entry auth overrides username and password", DCJ, ".dockerconfigjson",
     config({"r": {"username": "foo", "password": "bar", "auth": "cGluZzpwb25n"}}), [("r", "ping", "pong")], False),
    ("empty auth keeps username and password", DCJ, ".dockerconfigjson",
     config({"r": {"username": "foo", "password": "bar", "auth": ""}}), [("r", "foo", "bar")], False),
    ("auth unpadded", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9vOmJhcg"}}), [("r", "foo", "bar")], False),
    ("auth needing no padding", DCJ, ".dockerconfigjson", config({"r": {"auth": b64("user:pass")}}),
     [("r", "user", "pass")], False),
    ("auth with CR LF inside", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9v\r\nOmJh\ncg=="}}),
     [("r", "foo", "bar")], False),
    ("auth with trailing newline after padding", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9vOmJhcg==\n"}}),
     [("r", "foo", "bar")], False),
    ("auth splits at the first colon", DCJ, ".dockerconfigjson", config({"r": {"auth": b64("user:pa:ss")}}),
     [("r", "user", "pa:ss")], False),
    ("auth with empty username", DCJ, ".dockerconfigjson", config({"r": {"auth": b64(":pw")}}),
     [("r", "", "pw")], False),
    ("auth of a lone colon", DCJ, ".dockerconfigjson", config({"r": {"auth": b64(":")}}), [("r", "", "")], True),
    ("field names are case-insensitive", DCJ, ".dockerconfigjson",
     '{"AUTHS": {"r": {"UserName": "u", "PASSWORD": "p"}}}', [("r", "u", "p")], False),
    ("Auths and Auth spelled in mixed case", DCJ, ".dockerconfigjson",
     '{"Auths": {"r": {"AUTH": "' + b64("a:b") + '"}}}', [("r", "a", "b")], False),
    ("long s folds onto s like Go", DCJ, ".dockerconfigjson",
     '{"auth\u017f": {"r": {"u\u017fername": "u", "pa\u017f\u017fword": "p"}}}', [("r", "u", "p")], False),
    ("duplicate field differing in case: last wins", DCJ, ".dockerconfigjson",
     '{"auths": {"r": {"username": "first", "USERNAME": "last", "password": "p"}}}', [("r", "last", "p")], False),
    ("duplicate field: exact name first, folded last wins", DCJ, ".dockerconfigjson",
     '{"auths": {"r": {"USERNAME": "first", "username": "last", "password": "p"}}}', [("r", "last", "p")], False),
    ("null leaves a field as it was", DCJ, ".dockerconfigjson",
     '{"auths": {"r": {"username": "u", "username": null, "password": "p", "auth": null}}}', [("r", "u", "p")], False),
    ("duplicate registry key: last wins", DCJ, ".dockerconfigjson",
     '{"auths": {"r": {"username": "x", "password": "1"}, "r": {"username": "y", "password": "2"}}}',
     [("r", "y", "2")], False),
    ("two auths objects merge", DCJ, ".dockerconfigjson",
     '{"auths": {"a": {"username": "u", "password": "1"}}, "Auths": {"b": {"username": "v", "password": "2"}}}',
     [("a", "u", "1"), ("b", "v", "2")], False),
    ("null entry is an empty credential", DCJ, ".dockerconfigjson", '{"auths": {"r": null}}', [("r", "", "")], True),
    ("identity token only", DCJ, ".dockerconfigjson", config({"r": {"identitytoken": "tok"}}), [("r", "", "")], True),
    ("registry token only", DCJ, ".dockerconfigjson", config({"r": {"registrytoken": "tok"}}), [("r", "", "")], True),
    ("identity token of a wrong type is ignored too", DCJ, ".dockerconfigjson",
     config({"r": {"identitytoken": 5, "username": "u", "password": "p"}}), [("r", "u", "p")], False),
    ("one empty entry next to a good one", DCJ, ".dockerconfigjson",
     config({"a": {"identitytoken": "t"}, "b": {"username": "u", "password": "p"}}),
     [("a", "", ""), ("b", "u", "p")], False),
    ("unknown fields of any type are ignored", DCJ, ".dockerconfigjson",
     '{"credsStore": "x", "credHelpers": {"a": "b"}, "auths": {"r": {"username": "u", "password": "p", "x": [1]}}}',
     [("r", "u", "p")], False),
    ("HttpHeaders of strings", DCJ, ".dockerconfigjson",
     '{"HttpHeaders": {"User-Agent": "x", "Y": null}, "auths": {"r": {"username": "u", "password": "p"}}}',
     [("r", "u", "p")], False),
    ("legacy flat layout under .dockerconfigjson", DCJ, ".dockerconfigjson",
     '{"reg.io": {"username": "u", "password": "p"}}', [], True),
    ("legacy layout with wrong types is not even read", DCJ, ".dockerconfigjson",
     '{"reg.io": {"username": 5}}', [], True),
    ("auths null", DCJ, ".dockerconfigjson", '{"auths": null}', [], True),
    ("auths replaced by a later null", DCJ, ".dockerconfigjson",
     '{"auths": {"r": {"username": "u", "password": "p"}}, "auths": null}', [], True),
    ("empty auths", DCJ, ".dockerconfigjson", '{"auths": {}}', [], True),
    ("empty object", DCJ, ".dockerconfigjson", "{}", [], True),
    ("JSON null document", DCJ, ".dockerconfigjson", "null", [], True),
    ("dockercfg null document", DCFG, ".dockercfg", "null", [], True),
    ("dockercfg empty object", DCFG, ".dockercfg", "{}", [], True),
    ("config.json layout under .dockercfg", DCFG, ".dockercfg",
     config({"r": {"username": "u", "password": "p"}}), [("auths", "", "")], True),
    ("whitespace around the document", DCJ, ".dockerconfigjson",
     ' \n\t{"auths": {"r": {"username": "u", "password": "p"}}}\r\n', [("r", "u", "p")], False),
]


@pytest.mark.parametrize(
    ("kind", "key", "text", "expected", "warns"), [g[1:] for g in GOOD], ids=[g[0] for g in GOOD]
)
def test_good_documents(kind: str, key: str, text: str, expected: List[Tuple[str, str, str]], warns: bool) -> None:
    payload = read_pull_secret(make_secret(text, kind, key))
    assert payload.usable and payload.skip_reason is None
    assert triples(payload) == expected
    assert (payload.no_usable_entries is not None) is warns
    assert all(c.secret == "pull" and c.namespace == "ns" and c.secret_key == key for c in payload.credentials)


def test_legacy_layout_warning_says_why() -> None:
    payload = read_pull_secret(make_secret('{"reg.io": {"username": "u", "password": "p"}}'))
    assert payload.no_usable_entries is not None and "legacy" in payload.no_usable_entries
    assert read_pull_secret(make_secret(config({"r": {"identitytoken": "t"}}))).no_usable_entries is not None


# --- documents the kubelet cannot parse (IA003 error) ------------------------------------------------
BAD: List[Tuple[str, str, str, str]] = [
    ("entry auth not base64 (config_test pants)", DCJ, ".dockerconfigjson", config({"r": {"auth": "pants"}})),
    ("entry email of a wrong type (config_test)", DCJ, ".dockerconfigjson", config({"r": {"email": False}})),
    ("auth without colon (config_test)", DCJ, ".dockerconfigjson", config({"r": {"auth": "cGFudHM="}})),
    ("auth of text without colon", DCJ, ".dockerconfigjson", config({"r": {"auth": b64("justuser")}})),
    ("auth empty after decoding newlines", DCJ, ".dockerconfigjson", config({"r": {"auth": "\n"}})),
    ("auth padded but too short", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9vOmJhcg="}})),
    ("auth unpadded with one extra char", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9vOmJhcgab1"}})),
    ("auth url-safe alphabet", DCJ, ".dockerconfigjson", config({"r": {"auth": "dTo-Pj4="}})),
    ("auth url-safe underscore", DCJ, ".dockerconfigjson", config({"r": {"auth": "dTo_Pz8_"}})),
    ("auth with inner space", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9v OmJhcg=="}})),
    ("auth with trailing space", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9vOmJhcg== "}})),
    ("auth with padding in the middle", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9=vOmJhcg="}})),
    ("auth with three padding chars", DCJ, ".dockerconfigjson", config({"r": {"auth": "Zm9vOmJ==="}})),
    ("username a number", DCJ, ".dockerconfigjson", config({"r": {"username": 5}})),
    ("password a boolean", DCJ, ".dockerconfigjson", config({"r": {"password": True}})),
    ("auth an array", DCJ, ".dockerconfigjson", config({"r": {"auth": []}})),
    ("email an object", DCJ, ".dockerconfigjson", config({"r": {"email": {}}})),
    ("folded field name still type-checked", DCJ, ".dockerconfigjson", '{"auths": {"r": {"USERNAME": 1}}}'),
    ("entry a string", DCJ, ".dockerconfigjson", config({"r": "user:pass"})),
    ("entry a number", DCJ, ".dockerconfigjson", config({"r": 5})),
    ("entry an array", DCJ, ".dockerconfigjson", config({"r": []})),
    ("auths an array", DCJ, ".dockerconfigjson", '{"auths": []}'),
    ("auths a string", DCJ, ".dockerconfigjson", '{"auths": "x"}'),
    ("auths a number", DCJ, ".dockerconfigjson", '{"auths": 1}'),
    ("HttpHeaders not an object", DCJ, ".dockerconfigjson", '{"HttpHeaders": 5, "auths": {}}'),
    ("HttpHeaders value not a string", DCJ, ".dockerconfigjson", '{"httpheaders": {"a": 1}, "auths": {}}'),
    ("document an array", DCJ, ".dockerconfigjson", "[]"),
    ("document a string", DCJ, ".dockerconfigjson", '"auths"'),
    ("document a number", DCJ, ".dockerconfigjson", "5"),
    ("document a boolean", DCFG, ".dockercfg", "true"),
    ("dockercfg entry a string", DCFG, ".dockercfg", '{"r": "x"}'),
    ("dockercfg wrong field type", DCFG, ".dockercfg", '{"r": {"password": 1}}'),
    ("dockercfg bad auth", DCFG, ".dockercfg", '{"r": {"auth": "%%%"}}'),
    ("not JSON", DCJ, ".dockerconfigjson", "{"),
    ("not JSON at all", DCJ, ".dockerconfigjson", "auths: {}"),
    ("trailing data", DCJ, ".dockerconfigjson", "{} {}"),
    ("NaN is not JSON", DCJ, ".dockerconfigjson", '{"auths": {"r": {"username": NaN}}}'),
    ("Infinity is not JSON", DCJ, ".dockerconfigjson", "Infinity"),
    ("byte order mark", DCJ, ".dockerconfigjson", "\ufeff{}"),
    ("control character in a string", DCJ, ".dockerconfigjson", '{"auths": {"r\x01": {}}}'),
    ("single quotes", DCJ, ".dockerconfigjson", "{'auths': {}}"),
]


@pytest.mark.parametrize(("kind", "key", "text"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_documents(kind: str, key: str, text: str) -> None:
    with pytest.raises(SecretParseError) as info:
        read_pull_secret(make_secret(text, kind, key))
    message = str(info.value)
    assert "ns/pull" in message and key in message


def test_error_names_the_registry_key() -> None:
    with pytest.raises(SecretParseError, match=r'"quay\.io".*"username"'):
        read_pull_secret(make_secret(config({"docker.io": {}, "quay.io": {"username": 5}})))


def test_url_safe_row_really_differs_from_standard() -> None:
    raw = b"u:>>>"
    assert base64.b64encode(raw) != base64.urlsafe_b64encode(raw)
    assert base64.urlsafe_b64encode(raw).decode() == "dTo-Pj4="
    ok = read_pull_secret(make_secret(config({"r": {"auth": base64.b64encode(raw).decode()}})))
    assert triples(ok) == [("r", "u", ">>>")]


# --- which secrets the kubelet reads (IA002) -----------------------------------------------------------
GOOD_DOC = config({"r": {"username": "u", "password": "p"}})
SKIPPED: List[Tuple[str, Dict[str, Any], str]] = [
    ("Opaque holding .dockerconfigjson", make_secret(GOOD_DOC, "Opaque"), "type Opaque is not a pull-secret type"),
    ("no type defaults to Opaque", make_secret(GOOD_DOC, None), "type Opaque is not a pull-secret type"),
    ("basic-auth", make_secret(GOOD_DOC, "kubernetes.io/basic-auth", "password"), "kubernetes.io/basic-auth"),
    ("dockerconfigjson type with .dockercfg key", make_secret(GOOD_DOC, DCJ, ".dockercfg"),
     "type kubernetes.io/dockerconfigjson has no .dockerconfigjson key"),
    ("dockercfg type with .dockerconfigjson key", make_secret(GOOD_DOC, DCFG, ".dockerconfigjson"),
     "type kubernetes.io/dockercfg has no .dockercfg key"),
    ("dockerconfigjson type with config.json key", make_secret(GOOD_DOC, DCJ, "config.json"),
     "has no .dockerconfigjson key"),
    ("empty value", make_secret("", DCJ), "the .dockerconfigjson value is empty"),
    ("null value", make_secret(None, DCJ), "the .dockerconfigjson value is empty"),
    ("empty stringData value", make_secret("", DCJ, via="stringData"), "the .dockerconfigjson value is empty"),
    ("no data at all", {"type": DCJ, "metadata": {"name": "pull", "namespace": "ns"}}, "has no .dockerconfigjson"),
    ("empty dockercfg value", make_secret("", DCFG, ".dockercfg"), "the .dockercfg value is empty"),
]


@pytest.mark.parametrize(("secret", "reason"), [s[1:] for s in SKIPPED], ids=[s[0] for s in SKIPPED])
def test_skipped_secrets(secret: Dict[str, Any], reason: str) -> None:
    payload = read_pull_secret(secret)
    assert not payload.usable
    assert payload.skip_reason is not None and reason in payload.skip_reason
    assert payload.credentials == () and payload.no_usable_entries is None
    assert (payload.namespace, payload.name) == ("ns", "pull")


def test_mismatched_key_reason_names_the_right_type() -> None:
    payload = read_pull_secret(make_secret(GOOD_DOC, DCJ, ".dockercfg"))
    assert payload.skip_reason is not None and DCFG in payload.skip_reason


def test_a_broken_value_in_a_skipped_secret_does_not_fail() -> None:
    assert not read_pull_secret(make_secret("{", "Opaque")).usable


# --- the Secret's own encoding -------------------------------------------------------------------------
def test_string_data_is_read() -> None:
    payload = read_pull_secret(make_secret(GOOD_DOC, via="stringData"))
    assert triples(payload) == [("r", "u", "p")]


def test_string_data_wins_over_data() -> None:
    secret = make_secret("{", DCJ)
    secret["stringData"] = {".dockerconfigjson": GOOD_DOC}
    assert triples(read_pull_secret(secret)) == [("r", "u", "p")]


def test_data_base64_may_be_wrapped() -> None:
    encoded = b64(GOOD_DOC)
    secret = make_secret(None)
    secret["data"][".dockerconfigjson"] = "\n".join(encoded[i : i + 8] for i in range(0, len(encoded), 8))
    assert triples(read_pull_secret(secret)) == [("r", "u", "p")]


@pytest.mark.parametrize("value", ["not base64!", b64(GOOD_DOC).rstrip("=") + "x", 5, ["a"]])
def test_bad_data_encoding_is_an_error(value: Any) -> None:
    secret = make_secret(None)
    secret["data"][".dockerconfigjson"] = value
    with pytest.raises(SecretParseError, match=r"ns/pull.*data\[\"\.dockerconfigjson\"\]"):
        read_pull_secret(secret)


def test_data_not_a_map_is_an_error() -> None:
    with pytest.raises(SecretParseError, match="data is not a map"):
        read_pull_secret({"type": DCJ, "metadata": {"name": "pull", "namespace": "ns"}, "data": ["x"]})


def test_secret_without_metadata() -> None:
    payload = read_pull_secret({"type": DCJ, "stringData": {".dockerconfigjson": GOOD_DOC}})
    assert (payload.namespace, payload.name) == ("", "")
    assert triples(payload) == [("r", "u", "p")]


def test_lone_surrogate_escape_becomes_replacement_character() -> None:
    payload = read_pull_secret(make_secret('{"auths": {"r\\ud800": {"username": "u\\udc80", "password": "p"}}}'))
    assert triples(payload) == [("r\ufffd", "u\ufffd", "p")]


# --- nothing secret leaks ---------------------------------------------------------------------------
PASSWORD = "S3cr3t-pw-Zq9"
AUTH = b64("robot:" + PASSWORD)
LEAKY: List[str] = [
    config({"r": {"auth": b64(PASSWORD)}}),  # no colon
    config({"r": {"auth": PASSWORD + "!"}}),  # not base64
    config({"r": {"auth": AUTH[:-3] + " =="}}),
    config({"r": {"password": PASSWORD, "username": 5}}),
    config({"r": {"password": [PASSWORD]}}),
    config({"r": {"identitytoken": PASSWORD, "email": 1}}),
    '{"auths": {"r": {"password": "' + PASSWORD + '\x01"}}}',
    '{"auths": {"r": {"password": "' + PASSWORD + '\\q"}}}',
    '{"auths": {"r": {"auth": "' + AUTH + '", "password": "' + PASSWORD + '" ',
    '{"auths": {"r": {"auth": "' + AUTH + '"}}, ' + PASSWORD + "}",
]


@pytest.mark.parametrize("text", LEAKY)
def test_errors_never_show_secret_values(text: str) -> None:
    for via in ("data", "stringData"):
        with pytest.raises(SecretParseError) as info:
            read_pull_secret(make_secret(text, via=via))
        shown = str(info.value) + repr(info.value) + repr(info.value.args)
        for secret_text in (PASSWORD, AUTH, AUTH[:12], b64(PASSWORD)):
            assert secret_text not in shown
        assert info.value.__cause__ is None and info.value.__suppress_context__


def test_results_never_show_secret_values() -> None:
    payloads = [
        read_pull_secret(make_secret(config({"r": {"auth": AUTH}, "q": {"username": "robot", "password": PASSWORD}}))),
        read_pull_secret(make_secret(json.dumps({"r": {"auth": AUTH}}), DCFG, ".dockercfg")),
    ]
    for payload in payloads:
        assert {c.password for c in payload.credentials} == {PASSWORD}
        shown = repr(payload) + str(payload) + "".join(str(c) + repr(c) for c in payload.credentials)
        assert PASSWORD not in shown and AUTH not in shown
    hidden = looks_like_pull_credentials(make_secret(config({"r": {"auth": AUTH}}), "Opaque"))
    assert [c.password for c in hidden] == [PASSWORD]
    assert PASSWORD not in repr(hidden) and AUTH not in repr(hidden)


# --- credentials the kubelet would not use -------------------------------------------------------------
def looks(secret: Dict[str, Any]) -> List[Tuple[str, str, str, str]]:
    return [(c.key, c.username, c.password, c.secret_key) for c in looks_like_pull_credentials(secret)]


def test_looks_like_opaque_dockerconfigjson() -> None:
    assert looks(make_secret(GOOD_DOC, "Opaque")) == [("r", "u", "p", ".dockerconfigjson")]


def test_looks_like_type_key_mismatch() -> None:
    assert looks(make_secret(GOOD_DOC, DCFG, ".dockerconfigjson")) == [("r", "u", "p", ".dockerconfigjson")]
    flat = json.dumps({"r": {"auth": b64("a:b")}})
    assert looks(make_secret(flat, DCJ, ".dockercfg")) == [("r", "a", "b", ".dockercfg")]


def test_looks_like_config_json_key() -> None:
    assert looks(make_secret(GOOD_DOC, "Opaque", "config.json")) == [("r", "u", "p", "config.json")]


def test_looks_like_legacy_layout_under_dockerconfigjson() -> None:
    legacy = json.dumps({"credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"}, "reg.io": {"auth": b64("a:b")}})
    assert looks(make_secret(legacy)) == [("reg.io", "a", "b", ".dockerconfigjson")]


def test_looks_like_nothing_hidden_in_a_usable_secret() -> None:
    assert looks(make_secret(GOOD_DOC)) == []
    assert looks(make_secret(json.dumps({"r": {"username": "u"}}), DCFG, ".dockercfg")) == []


def test_looks_like_skips_malformed_entries() -> None:
    doc = config({"bad": {"username": 5}, "good": {"username": "u", "password": "p"}, "worse": "x"})
    assert looks(make_secret(doc, "Opaque")) == [("good", "u", "p", ".dockerconfigjson")]


@pytest.mark.parametrize(
    "secret",
    [
        make_secret("{", "Opaque"),
        make_secret("[1, 2]", "Opaque"),
        make_secret("null", "Opaque"),
        {"type": "Opaque", "data": 5},
        {"type": "Opaque", "data": {".dockerconfigjson": "%%%"}},
        {"type": 7, "metadata": "x", "stringData": {".dockercfg": 1}},
        {},
    ],
)
def test_looks_like_never_raises(secret: Dict[str, Any]) -> None:
    assert looks_like_pull_credentials(secret) == ()
