"""Text that reaches a person or a CI file: one escaping rule, one XML rule, one redaction rule.

- `escape(s)`: everything human-readable (table, wide, findings, fix plans and diffs, errors, progress) passes
  through it. Control characters (C0, DEL, C1), line and paragraph separators, bidirectional overrides and
  lone surrogates are shown visibly (`\\x1b`, `\\r`, `\\n`, `\\u202e`) and never emitted; ordinary printable
  Unicode is kept. With `multiline=True` a line feed stays a line break (for diffs and plans built from
  already-escaped lines).
- `xml_safe(s)`: what XML 1.0 forbids (most C0 controls, U+FFFE/U+FFFF, lone surrogates) is written visibly
  the same way, so a JUnit file is always well-formed.
- `redact(s)`: anything that can carry a credential: userinfo in URLs and registry keys, `Authorization`-like
  headers and fields, bearer/basic tokens, JWTs, base64 that decodes to `user:password`, and every value
  registered with `remember_secret` (passwords, tokens, pull-secret passwords read during this run).

JSON, YAML and SARIF keep data exact: they escape by their own syntax and only `redact` applies to them
(a registry key with userinfo is a credential wherever it is shown).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from typing import Dict, List, Match, Set

__all__ = ["REDACTED", "escape", "redact", "remember_secret", "safe", "xml_safe"]

REDACTED = "<redacted>"

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
# Bidirectional embedding/override/isolate controls (the "Trojan Source" set) and the zero-width no-break
# space used as a BOM; they reorder or hide what a terminal shows.
_BIDI = {0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF}


def _visible(ch: str) -> str:
    named = _NAMED.get(ch)
    if named is not None:
        return named
    cp = ord(ch)
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def _unsafe_for_terminal(cp: int) -> bool:
    return (cp < 0x20 or 0x7F <= cp <= 0x9F or cp in (0x2028, 0x2029) or cp in _BIDI
            or 0xD800 <= cp <= 0xDFFF)


_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")
_TERMINAL_UNSAFE_KEEP_LF = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def escape(value: object, multiline: bool = False) -> str:
    """`value` as text safe for a terminal: control characters shown visibly, never emitted."""
    text = value if isinstance(value, str) else str(value)
    pattern = _TERMINAL_UNSAFE_KEEP_LF if multiline else _TERMINAL_UNSAFE
    return pattern.sub(lambda m: _visible(m.group(0)), text)


# XML 1.0 Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: object) -> str:
    """`value` with every character XML 1.0 forbids written visibly (`\\x1b`); the rest unchanged."""
    text = value if isinstance(value, str) else str(value)
    return _XML_FORBIDDEN.sub(lambda m: _visible(m.group(0)), text)


# --- redaction -------------------------------------------------------------------------------------------

_known: Set[str] = set()
_known_lock = threading.Lock()
# What redact made of a text, while the remembered values stay as they were (a report repeats the same
# messages for every Domain): cleared whenever a value is remembered or forgotten. Bounded.
_redacted: Dict[str, str] = {}
_known_longest_first: List[str] = []
_REDACTED_ENTRIES = 8192
_REDACTED_TEXT = 2048  # longer texts (error bodies) are redacted every time
_MIN_SECRET = 6  # shorter values would redact ordinary words; patterns still catch them in their context


def remember_secret(value: object) -> None:
    """Register a secret value read during this run (a password, a token): `redact` removes it anywhere."""
    if not isinstance(value, str):
        return
    value = value.strip()
    if len(value) >= _MIN_SECRET:
        with _known_lock:
            if value not in _known:
                _known.add(value)
                _known.add(escape(value))
                _known_changed()


def forget_secrets() -> None:
    """Drop every remembered value (tests; a long-lived process between runs)."""
    with _known_lock:
        _known.clear()
        _known_changed()


def _known_changed() -> None:
    """(Under _known_lock.) What redact remembered of earlier texts no longer holds."""
    global _known_longest_first
    _redacted.clear()
    _known_longest_first = sorted(_known, key=len, reverse=True)


# scheme://userinfo@host -> scheme://<redacted>@host (any userinfo: a token alone is a credential too)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#\"'<>]+@")
# a registry key or URL without a scheme: user:password@host (not name:tag@sha256:<hex>, an image digest)
_BARE_USERINFO = re.compile(
    r"(?<![\w.:/@-])[^\s/@:\"'<>,;=]+:[^\s/@\"'<>,;]+@"
    r"(?![A-Za-z][A-Za-z0-9]*(?:[.+_-][A-Za-z0-9]+)*:[0-9A-Fa-f]{32,})(?=[A-Za-z0-9\[])")
# Authorization-like headers, with or without quotes: the value up to the end of the field
_HEADER_NAMES = (r"(?:proxy-)?authorization|x-auth-token|x-api-key|x-registry-auth|x-docker-token|"
                 r"private-token|cookie|set-cookie")
# fields that hold a credential in JSON (`"password": "..."`) or query/form text (`token=...`); "token: x"
# in prose is left alone ("could not get token: connection refused")
_FIELD_NAMES = (r"password|passwd|token|id_?token|access_?token|refresh_?token|identity_?token|"
                r"identitytoken|registry_?token|registrytoken|auth|api_?key|client_?secret|secret_?key")
_VALUE = (r"(\"(?:[^\"\\]|\\.)*\"|'[^']*'|(?:(?:basic|bearer|token|digest|negotiate|aws4-hmac-sha256)\s+)?"
          r"[^\s,;&\"'}]+)")
_FIELD = re.compile(
    r"(?i)(?<![\w-])((?:[\"']?(?:" + _HEADER_NAMES + r")[\"']?\s*[:=]\s*)|"
    r"(?:[\"'](?:" + _FIELD_NAMES + r")[\"']\s*[:=]\s*)|(?:(?:" + _FIELD_NAMES + r")=))" + _VALUE)
# `Bearer <token68>` but not `Bearer realm="..."` (a challenge's parameters)
_SCHEME_TOKEN = re.compile(r"(?i)\b(basic|bearer|negotiate)(\s+)[A-Za-z0-9._~+/-]{4,}=*(?![\w\"=])")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_B64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=])")


def _field_value(m: Match[str]) -> str:
    value = m.group(2)
    if value == REDACTED or value.strip("\"'") == REDACTED:
        return m.group(0)
    quote = value[0] if value[:1] in ("\"", "'") else ""
    return f"{m.group(1)}{quote}{REDACTED}{quote}"


def _decodes_to_userpass(token: str) -> bool:
    raw = token + "=" * (-len(token) % 4)
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return False
    user, sep, password = text.partition(":")
    return bool(sep) and bool(password) and text.isprintable() and " " not in user and len(text) >= 3


def _b64(m: Match[str]) -> str:
    return REDACTED if _decodes_to_userpass(m.group(0)) else m.group(0)


def redact(value: object) -> str:
    """`value` with everything that can carry a credential replaced by `<redacted>`."""
    text = value if isinstance(value, str) else str(value)
    with _known_lock:
        done = _redacted.get(text)
        if done is not None:
            return done
        known = _known_longest_first
    result = _redact(text, known)
    if len(text) <= _REDACTED_TEXT:
        with _known_lock:
            if known is _known_longest_first:  # nothing remembered meanwhile
                if len(_redacted) >= _REDACTED_ENTRIES:
                    _redacted.clear()
                _redacted[text] = result
    return result


def _redact(text: str, known: List[str]) -> str:
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _BARE_USERINFO.sub(f"{REDACTED}@", text)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _FIELD.sub(_field_value, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    text = _B64.sub(_b64, text)
    while REDACTED + REDACTED in text:  # a remembered value inside a token: one marker for the whole
        text = text.replace(REDACTED + REDACTED, REDACTED)
    return text


def safe(value: object, multiline: bool = False) -> str:
    """Redacted, then escaped: what every human-readable line built from data or error text goes through."""
    return escape(redact(value), multiline=multiline)
