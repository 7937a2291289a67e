"""A registry token server of the project's own (the Docker token protocol), for the Bearer tests.

`GET /token?service=S&scope=repository:NAME:ACTIONS` with optional Basic auth answers an ES256 JWT that
Distribution verifies through the `kid` (libtrust fingerprint of the signing key, whose certificate is
the registry's `rootcertbundle`). Rights are what `allow()` granted intersected with what was asked, so
a user can be given fewer rights than requested, which is not an error (the registry then answers
401 insufficient_scope). Every request is logged in `log` for the tests to assert on.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tools.registry.httpstub import Reply, Request, StubServer


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@dataclass(frozen=True)
class TokenRequest:
    """One request as the token server saw it (never the password)."""

    user: Optional[str]  # None = anonymous (no Authorization header)
    authenticated: bool
    service: Optional[str]
    scopes: Tuple[str, ...]
    granted: Tuple[Tuple[str, Tuple[str, ...]], ...]  # (repository, actions)


@dataclass
class TokenServer:
    """Issues tokens for one registry service; start with `start()`, stop with `stop()`."""

    signing_key: ec.EllipticCurvePrivateKey
    kid: str
    tls: Tuple[str, str]
    issuer: str = "imgaccess-test-issuer"
    service: str = "imgaccess-test-registry"
    users: Dict[str, str] = field(default_factory=dict)
    expires_in: Optional[int] = 300
    token_field: str = "token"  # "token", "access_token" or "both"
    log: List[TokenRequest] = field(default_factory=list)
    issued: List[str] = field(default_factory=list)  # every token handed out (the leak tests look for them)
    _rights: Dict[Optional[str], List[Tuple[str, Set[str]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stub: Optional[StubServer] = None

    def allow(self, user: Optional[str], repository_glob: str, actions: Set[str]) -> None:
        """Grant `actions` on matching repositories to `user` (None = anonymous callers)."""
        self._rights.setdefault(user, []).append((repository_glob, set(actions)))

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()

    def entries(self) -> List[TokenRequest]:
        with self._lock:
            return list(self.log)

    @property
    def realm(self) -> str:
        assert self._stub is not None
        return f"{self._stub.url()}/token"

    def start(self) -> TokenServer:
        self._stub = StubServer(self._handle, tls=self.tls).start()
        return self

    def stop(self) -> None:
        if self._stub is not None:
            self._stub.stop()

    def _granted(self, user: Optional[str], name: str, asked: Set[str]) -> Set[str]:
        out: Set[str] = set()
        for glob, actions in self._rights.get(user, []):
            if fnmatch.fnmatchcase(name, glob):
                out |= actions & asked
        return out

    def _handle(self, req: Request) -> Reply:
        parts = urlsplit(req.path)
        if parts.path != "/token" or req.method != "GET":
            return Reply(404, body=b"not found")
        query = parse_qs(parts.query)
        service: Optional[str] = query["service"][0] if query.get("service") else None
        scopes = tuple(s for v in query.get("scope", []) for s in v.split(" ") if s)
        user: Optional[str] = None
        authenticated = False
        header = req.header("authorization")
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                return self._record(
                    Reply(401, body=b'{"details":"basic auth required"}'), None, False, service, scopes, ()
                )
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return Reply(400, body=b"bad authorization header")
            authenticated = self.users.get(user) == password
            if not authenticated:
                body = b'{"details":"incorrect username or password"}'
                return self._record(
                    Reply(401, {"Content-Type": "application/json"}, body), user, False, service, scopes, ()
                )
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, acts = rest.rpartition(":")
            if kind != "repository" or not name:
                continue
            granted = self._granted(user, name, set(acts.split(",")))
            access.append((name, tuple(sorted(granted))))
        token = self._sign(user or "", service, access)
        with self._lock:
            self.issued.append(token)
        payload: Dict[str, object] = {"issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if self.token_field in ("token", "both"):
            payload["token"] = token
        if self.token_field in ("access_token", "both"):
            payload["access_token"] = token
        if self.expires_in is not None:
            payload["expires_in"] = self.expires_in
        reply = Reply(200, {"Content-Type": "application/json"}, json.dumps(payload).encode())
        return self._record(reply, user, authenticated, service, scopes, tuple(access))

    def _record(
        self,
        reply: Reply,
        user: Optional[str],
        authenticated: bool,
        service: Optional[str],
        scopes: Tuple[str, ...],
        granted: Tuple[Tuple[str, Tuple[str, ...]], ...],
    ) -> Reply:
        with self._lock:
            self.log.append(TokenRequest(user, authenticated, service, scopes, granted))
        return reply

    def _sign(self, subject: str, service: Optional[str], access: List[Tuple[str, Tuple[str, ...]]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "kid": self.kid}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": service or self.service,
            "exp": now + (self.expires_in or 60) + 60,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": [{"type": "repository", "name": n, "actions": list(a)} for n, a in access],
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        der = self.signing_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return signing_input + "." + _b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
