"""text.escape / text.xml_safe / text.redact: the one escaping, XML and redaction rules, and their wiring."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List, Tuple

import pytest

from kubectl_imgaccess import text
from kubectl_imgaccess.cli.flags import redact_argument_values
from kubectl_imgaccess.cli.main import main

ESC_CASES: List[Tuple[str, str]] = [
    ("\x1b[2J", "\\x1b[2J"),  # clear screen
    ("\x1b]0;TITLE\x07", "\\x1b]0;TITLE\\x07"),  # OSC 0 window title
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\\x1b]8;;http://x\\x1b\\link\\x1b]8;;\\x1b\\"),  # OSC 8 link
    ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),  # OSC 52 clipboard write
    ("ok\rFAKE: all good", "ok\\rFAKE: all good"),
    ("a\nb", "a\\nb"),
    ("a\tb", "a\\tb"),
    ("nul\x00", "nul\\x00"),
    ("del\x7f", "del\\x7f"),
    ("csi\x9b2J", "csi\\x9b2J"),  # C1 CSI
    ("bidi\u202eevil", "bidi\\u202eevil"),
    ("iso\u2066x\u2069", "iso\\u2066x\\u2069"),
    ("ls\u2028ps\u2029", "ls\\u2028ps\\u2029"),
    ("bom\ufeff", "bom\\ufeff"),
    ("lone\udcff", "lone\\udcff"),  # a byte that was not UTF-8 (surrogateescape)
]
KEEP = ["weblogic:14.1.2.0", "café", "中文", "emoji 🙂", "naïve—dash", "ß", "a\\x1b literally"]


@pytest.mark.parametrize("raw,shown", ESC_CASES)
def test_escape_shows_control_characters_visibly(raw: str, shown: str) -> None:
    assert text.escape(raw) == shown


@pytest.mark.parametrize("value", KEEP)
def test_escape_keeps_printable_unicode(value: str) -> None:
    assert text.escape(value) == value


def test_escape_multiline_keeps_line_feeds_only() -> None:
    assert text.escape("a\nb\r\n\x1b", multiline=True) == "a\nb\\r\n\\x1b"


def test_xml_safe_makes_every_code_point_well_formed() -> None:
    every = "".join(chr(c) for c in range(0, 0x110000, 7) if not 0xD800 <= c <= 0xDFFF) + "\udc80\ufffe\uffff"
    el = ET.Element("t", a=text.xml_safe(every))
    el.text = text.xml_safe(every)
    ET.fromstring(ET.tostring(el, encoding="unicode"))  # raises when ill-formed
    assert text.xml_safe("ok \x1b\x00\ufffe\t\n") == "ok \\x1b\\x00\\ufffe\t\n"


PW = "CANARY-s3cr3t-PW"
B64 = base64.b64encode(f"ops:{PW}".encode()).decode()
REDACT_CASES = [
    (f"https://ops:{PW}@container-registry.oracle.com", "https://<redacted>@container-registry.oracle.com"),
    (f"http://TOKEN{PW}@registry.local:5000/v2/", "http://<redacted>@registry.local:5000/v2/"),
    (f"ops:{PW}@container-registry.oracle.com/middleware", "<redacted>@container-registry.oracle.com/middleware"),
    (f"denied: Authorization: Basic {B64}", "denied: Authorization: <redacted>"),
    (f'{{"errors":[{{"message":"bad header \\"Authorization\\": \\"Basic {B64}\\""}}]}}', None),
    (f"request had {B64} in it", "request had <redacted> in it"),
    (f"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.{PW}", "Bearer <redacted>"),
    (f"token={PW}&scope=repository", "token=<redacted>&scope=repository"),
    (f'"password": "{PW}"', '"password": "<redacted>"'),
    (f"proxy-authorization={PW}", "proxy-authorization=<redacted>"),
]
NOT_REDACTED = [
    "nginx:1.25@sha256:" + "ab" * 32,
    "registry.local:5000/team/app:1.0",
    "ops@example.com",
    'Bearer realm="https://auth.example/token",service="registry"',
    "could not get token: connection refused",
    "weblogic-domain-image-pull-secret",
    "spec.serverPod.containers[0].image",
]


@pytest.mark.parametrize("raw,shown", REDACT_CASES)
def test_redact_removes_credentials(raw: str, shown: str) -> None:
    out = text.redact(raw)
    assert PW not in out and B64 not in out
    if shown is not None:
        assert out == shown


@pytest.mark.parametrize("value", NOT_REDACTED)
def test_redact_keeps_ordinary_text(value: str) -> None:
    assert text.redact(value) == value


def test_remembered_secret_is_redacted_anywhere() -> None:
    text.remember_secret("plain-Value-42\n")
    try:
        assert text.redact("the server said plain-Value-42!") == "the server said <redacted>!"
    finally:
        text.forget_secrets()
    assert text.redact("plain-Value-42") == "plain-Value-42"


@pytest.mark.parametrize("raw,shown", [r for r in REDACT_CASES if r[1] is not None])
def test_a_remembered_value_inside_a_credential_is_one_marker(raw: str, shown: str) -> None:
    text.remember_secret(PW)
    try:
        assert text.redact(raw) == shown
    finally:
        text.forget_secrets()


@pytest.mark.parametrize("argv_tail,pw", [
    (["--password-stdin=PWcanary1"], "PWcanary1"),
    (["-pPWcanary2"], "PWcanary2"),
    (["--passwd=PWcanary3"], "PWcanary3"),
])
def test_mistyped_password_flags_never_echo_the_value(argv_tail: List[str], pw: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fix", *argv_tail])
    err = capsys.readouterr().err
    assert code == 2 and pw not in err and "error:" in err


def test_password_file_error_does_not_echo_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fix", "--secret", "s", "--docker-username", "u", "--password-file", "PWcanary4",
                 "--kubeconfig", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 2 and "PWcanary4" not in err, err


def test_redact_argument_values_glued_short_flag() -> None:
    assert "SECRET" not in redact_argument_values("unrecognized arguments: -pSECRET --x=SECRET")


HOSTILE = """\
apiVersion: weblogic.oracle/v9
kind: Domain
metadata:
  name: "evil\\x1b[2J"
  namespace: apps
spec:
  domainUID: evil
  domainHomeSourceType: Image
  image: container-registry.oracle.com/middleware/weblogic:14.1.2.0
  imagePullSecrets:
    - name: "ocr\\rFAKE: all good\\x1b]52;c;aGk=\\x07"
    - name: ocr-cred
---
apiVersion: v1
kind: Secret
metadata:
  name: ocr-cred
  namespace: apps
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"https://ops:PW@container-registry.oracle.com": {"username": "ops",
    "password": "PW"}}}'
""".replace("PW", PW)


@pytest.mark.parametrize("fmt", ["table", "wide", "json", "yaml", "sarif", "junit"])
def test_hostile_names_and_userinfo_keys_in_every_format(fmt: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE)
    code = main(["check", "--offline", "-o", fmt, "-f", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert PW not in out + err
    if fmt in ("table", "wide", "junit"):
        assert "\x1b" not in out + err and "\r" not in out + err and "\x07" not in out
        assert "evil\\x1b[2J" in out
    if fmt == "wide":
        assert "ocr-cred[https://<redacted>@container-registry.oracle.com]" in out
    if fmt == "json":
        doc = json.loads(out)
        assert doc["domains"][0]["name"] == "evil\x1b[2J"  # data kept exact
        keys = [c["key"] for c in doc["domains"][0]["images"][0]["credentials"]]
        assert keys == ["https://<redacted>@container-registry.oracle.com"]
    if fmt == "junit":
        ET.fromstring(out)


def test_registry_error_body_echoing_authorization_is_redacted() -> None:
    from kubectl_imgaccess.probe.client import _error_code

    body = json.dumps({"errors": [{"code": "DENIED", "message": f"denied; request had Authorization: Basic {B64}"
                                   f" and Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.{PW}"}]}).encode()
    code, message = _error_code(body)
    assert code == "DENIED" and PW not in message and B64 not in message and "<redacted>" in message


def test_a_text_redacted_before_a_secret_was_remembered_is_redacted_again_after() -> None:
    """redact keeps what it made of repeated texts; remembering (or forgetting) a value invalidates that."""
    from kubectl_imgaccess.text import forget_secrets, redact, remember_secret

    line = "pull of team/app failed with s3cr3t-value-42 in the reply"
    try:
        assert redact(line) == line and redact(line) == line  # the second answer comes from what was kept
        remember_secret("s3cr3t-value-42")
        assert redact(line) == "pull of team/app failed with <redacted> in the reply"
        forget_secrets()
        assert redact(line) == line
    finally:
        forget_secrets()
