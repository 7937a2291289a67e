"""The registry client: can these credentials pull this manifest, asked the way a node would ask.

Per credential (kubelet order, first success wins, no anonymous retry once a credential matched):
`GET /v2/` for the challenge (cached per registry), a Basic header or a Bearer token for
`repository:NAME:pull` (cached per realm, service, scope and credential until it expires), then
`HEAD /v2/NAME/manifests/REF` with every manifest media type in Accept; a GET only when the HEAD
answer carries no usable error code. No layer is ever fetched.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import (
    Callable,
    Dict,
    FrozenSet,
    Generic,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)
from urllib.parse import urlencode, urlsplit

from kubectl_imgaccess import __version__
from kubectl_imgaccess.deadline import Interrupted, Unfinished, run_all
from kubectl_imgaccess.kubelet import imageref
from kubectl_imgaccess.objects import Credential
from kubectl_imgaccess.probe.challenge import Challenge, parse_challenges, pick
from kubectl_imgaccess.probe.transport import Response, Transport, TransportError
from kubectl_imgaccess.probe.types import ProbeOptions, ProbeResult, ProbeStatus, ProbeTarget
from kubectl_imgaccess.text import redact

log = logging.getLogger("kubectl_imgaccess.probe")

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPT = ", ".join(MANIFEST_TYPES)
USER_AGENT = f"kubectl-imgaccess/{__version__}"
DEFAULT_TOKEN_TTL = 60.0  # seconds, when the token server says nothing (the token spec's default)
DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
DOCKER_HUB_API = "https://registry-1.docker.io"


# When no credential works, the most telling failure is reported.
_FAILURE_RANK = {"denied": 0, "not-found": 1, "error": 2, "unreachable": 3, "unauthorized": 4}


def api_base(repository_host: str, insecure: FrozenSet[str]) -> str:
    """The registry API's base URL: Docker Hub's API host for docker.io, http only for insecure hosts."""
    host = repository_host.strip()
    if host.lower() in DOCKER_HUB:
        return DOCKER_HUB_API
    scheme = "http" if host in insecure or host.lower() in {h.lower() for h in insecure} else "https"
    return f"{scheme}://{host}"


def split_repository(repository: str) -> Tuple[str, str]:
    """(registry host, repository path) of a normalized name; a bare name is Docker Hub's."""
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        return first, rest
    path = repository if "/" in repository else f"library/{repository}"
    return "docker.io", path


@dataclass(frozen=True)
class _Auth:
    """A username/password pair as the registry sees it: equal pairs share requests and tokens."""

    username: str
    password: str = field(repr=False)

    def basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")


def _auth_of(cred: Optional[Credential]) -> Optional[_Auth]:
    if cred is None or cred.empty:
        return None  # an identity-token-only entry: the node pulls anonymously with it
    return _Auth(cred.username, cred.password)


@dataclass(frozen=True)
class _Outcome:
    """The answer for one credential (or anonymous) before it is attached to a target."""

    status: ProbeStatus
    http_status: Optional[int]
    error_code: Optional[str]
    message: str


@dataclass(frozen=True)
class _Token:
    value: Union[str, _Outcome] = field(repr=False)
    expires: float


K = TypeVar("K")
V = TypeVar("V")


class _Memo(Generic[K, V]):
    """Compute each key once even when threads ask at the same time (single flight)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: Dict[K, V] = {}
        self._pending: Dict[K, threading.Event] = {}

    def get(self, key: K, compute: Callable[[], V], fresh: Optional[Callable[[V], bool]] = None) -> V:
        for _ in range(3):
            with self._lock:
                if key in self._done and (fresh is None or fresh(self._done[key])):
                    return self._done[key]
                event = self._pending.get(key)
                mine = event is None
                if event is None:
                    event = threading.Event()
                    self._pending[key] = event
            if mine:
                try:
                    value = compute()
                    with self._lock:
                        self._done[key] = value
                    return value
                finally:
                    with self._lock:
                        self._pending.pop(key, None)
                    event.set()
            event.wait()
        return compute()  # the owner kept failing: do it ourselves


@dataclass(frozen=True)
class _Registry:
    host: str  # as in the repository name, e.g. "127.0.0.1:5000" or "docker.io"
    base: str  # API base URL


class RegistryClient:
    """Probes targets; keep one instance to share challenges and tokens across `probe()` calls."""

    def __init__(self, options: Optional[ProbeOptions] = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options or ProbeOptions()
        self._clock = clock
        self._insecure = frozenset(self.options.insecure_registries)
        self._transport = Transport(
            self.options.timeout, self.options.ca_file, maxsize=max(1, self.options.concurrency)
        )
        self._pings: _Memo[str, Union[List[Challenge], _Outcome]] = _Memo()
        self._tokens: _Memo[Tuple[str, str, str, Optional[_Auth]], _Token] = _Memo()
        self._chains: _Memo[Tuple[str, str, str, Optional[_Auth]], _Outcome] = _Memo()

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public --------------------------------------------------------------------------------------

    def probe(self, targets: Iterable[ProbeTarget]) -> Dict[ProbeTarget, ProbeResult]:
        """Results for every distinct target; identical requests are made once."""
        unique = list(dict.fromkeys(targets))
        results: Dict[ProbeTarget, ProbeResult] = {}
        progress = self.options.progress if unique else None
        workers = max(1, min(self.options.concurrency, len(unique)))
        try:
            if workers == 1:
                for target in unique:
                    results[target] = self.probe_one(target)
                    if progress:
                        progress.step("probing registries", len(results), len(unique))
            else:
                finished = [0]

                def step(_target: ProbeTarget, _result: ProbeResult) -> None:
                    finished[0] += 1
                    if progress:
                        progress.step("probing registries", finished[0], len(unique))

                calls = {t: functools.partial(self.probe_one, t) for t in unique}
                try:
                    results = run_all(calls, workers, done=step)
                except Unfinished as stopped:
                    cause = stopped.cause
                    if isinstance(cause, KeyboardInterrupt):
                        names = sorted({t.repository for t in stopped.pending})
                        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                        raise Interrupted(f"interrupted: nothing written; registries not asked about: {shown}"
                                          ) from None
                    raise cause from None
            results = {t: results[t] for t in unique}  # the callers' order
        finally:
            if progress:
                progress.finish()
        return results

    def probe_one(self, target: ProbeTarget) -> ProbeResult:
        """The kubelet's order: credentials in turn, first success wins; anonymous only without any."""
        host, name = split_repository(target.repository)
        if not imageref.valid_path(name) or not imageref.valid_tag_or_digest(target.reference):
            ref = f"{target.repository}:{target.reference}"
            return ProbeResult("error", None, "INVALID_REFERENCE", None, f"not a valid image reference: {ref}", 0)
        reg = _Registry(host, api_base(host, self._insecure))
        if not target.credentials:
            o = self._chain(reg, name, target.reference, None)
            return ProbeResult(o.status, o.http_status, o.error_code, None, o.message, 0)
        tried: List[Tuple[Credential, _Outcome]] = []
        for cred in target.credentials:
            o = self._chain(reg, name, target.reference, _auth_of(cred))
            tried.append((cred, o))
            if o.status == "ok":
                break
            if o.status == "unreachable":
                break  # the registry cannot judge any credential now
        cred, o = tried[-1]
        if o.status != "ok":
            best = min(_FAILURE_RANK.get(x.status, 2) for _, x in tried)
            cred, o = [(c, x) for c, x in tried if _FAILURE_RANK.get(x.status, 2) == best][-1]
        message = o.message
        if len(tried) > 1:
            message += f" ({len(tried)} credentials tried)"
        return ProbeResult(o.status, o.http_status, o.error_code, cred, message, len(tried))

    # -- one credential ------------------------------------------------------------------------------

    def _chain(self, reg: _Registry, name: str, reference: str, auth: Optional[_Auth]) -> _Outcome:
        key = (reg.base, name, reference, auth)
        return self._chains.get(key, lambda: self._attempt(reg, name, reference, auth))

    def _attempt(self, reg: _Registry, name: str, reference: str, auth: Optional[_Auth]) -> _Outcome:
        ping = self._pings.get(reg.base, lambda: self._ping(reg))
        if isinstance(ping, _Outcome):
            return ping
        url = f"{reg.base}/v2/{name}/manifests/{reference}"
        headers = {"Accept": ACCEPT, "User-Agent": USER_AGENT}
        challenge = pick(ping)
        used: Optional[Tuple[str, ...]] = None
        if challenge is not None:
            authz = self._authorization(reg, challenge, name, auth)
            if isinstance(authz, _Outcome):
                return authz
            if authz:
                headers["Authorization"] = authz
            used = _challenge_key(challenge, name)
        try:
            resp = self._transport.send("HEAD", url, headers)
            if resp.status == 401:
                again = pick(parse_challenges(resp.header_values("www-authenticate")))
                # The manifest's own challenge may name another realm or scope than /v2/ did: answer
                # it once, unless it is the one already answered.
                if again is not None and _challenge_key(again, name) != used:
                    authz = self._authorization(reg, again, name, auth)
                    if isinstance(authz, _Outcome):
                        return authz
                    if authz:
                        headers["Authorization"] = authz
                    resp = self._transport.send("HEAD", url, headers)
            if not (200 <= resp.status < 300) and resp.status not in (401, 429) and not _error_code(resp.body)[0]:
                # HEAD carries no error document: GET the manifest for the registry's error code.
                resp = self._transport.send("GET", url, headers)
        except TransportError as exc:
            return _Outcome("unreachable", None, exc.kind, redact(str(exc)))
        return self._classify(resp, reg, name, reference, auth)

    def _ping(self, reg: _Registry) -> Union[List[Challenge], _Outcome]:
        try:
            resp = self._transport.send("GET", f"{reg.base}/v2/", {"User-Agent": USER_AGENT})
        except TransportError as exc:
            return _Outcome("unreachable", None, exc.kind, redact(str(exc)))
        if resp.status == 429:
            return _Outcome("unreachable", 429, "TOOMANYREQUESTS", f"{reg.host} is rate limiting (HTTP 429)")
        if resp.status >= 500:
            return _Outcome("error", resp.status, None, f"{reg.host} answered /v2/ with HTTP {resp.status}")
        if resp.status == 401:
            return parse_challenges(resp.header_values("www-authenticate"))
        return []  # 200, or a registry without a useful /v2/: let the manifest request tell

    def _authorization(
        self, reg: _Registry, challenge: Challenge, name: str, auth: Optional[_Auth]
    ) -> Union[str, _Outcome, None]:
        """The Authorization value for a challenge, None for anonymous, or why it cannot be had."""
        if challenge.scheme == "basic":
            return auth.basic() if auth else None
        realm = challenge.get("realm") or ""
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return _Outcome("error", None, "BAD_CHALLENGE", f"{reg.host} names an unusable token realm")
        realm_host = parts.netloc.rsplit("@", 1)[-1]
        same_host = parts.hostname.lower() == (urlsplit(reg.base).hostname or "").lower()
        if auth is not None and parts.scheme == "http" and not same_host and realm_host not in self._insecure:
            return _Outcome(
                "error",
                None,
                "INSECURE_REALM",
                f"{reg.host} asks for credentials at a plain-http token realm on {realm_host}; not sent"
                " (list that host with --insecure-registry to allow it)",
            )
        scopes = _scopes(challenge, name)
        service = challenge.get("service") or ""
        key = (realm, service, " ".join(scopes), auth)
        now = self._clock()
        token = self._tokens.get(
            key,
            lambda: self._fetch_token(reg, realm, service, scopes, auth),
            fresh=lambda t: t.expires > now,
        )
        if isinstance(token.value, _Outcome):
            return token.value
        return "Bearer " + token.value

    def _fetch_token(
        self, reg: _Registry, realm: str, service: str, scopes: Sequence[str], auth: Optional[_Auth]
    ) -> _Token:
        query: List[Tuple[str, str]] = [("service", service)] if service else []
        query += [("scope", s) for s in scopes]
        url = realm + ("&" if "?" in realm else "?") + urlencode(query) if query else realm
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if auth is not None:
            headers["Authorization"] = auth.basic()
        where = urlsplit(realm).netloc.rsplit("@", 1)[-1]
        forever = float("inf")  # failures are kept for the client's lifetime: asking again changes nothing
        try:
            resp = self._transport.send("GET", url, headers)
        except TransportError as exc:
            return _Token(_Outcome("unreachable", None, exc.kind, redact(f"token server: {exc}")), forever)
        if resp.status == 200:
            try:
                doc = json.loads(resp.body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                doc = None
            token = None
            if isinstance(doc, dict):
                token = doc.get("token") or doc.get("access_token")
            if not isinstance(token, str) or not token:
                return _Token(_Outcome("error", 200, "BAD_TOKEN", f"token server {where} answered no token"), forever)
            ttl = doc.get("expires_in") if isinstance(doc, dict) else None
            seconds = float(ttl) if isinstance(ttl, (int, float)) and not isinstance(ttl, bool) and ttl > 0 else 0
            seconds = seconds or DEFAULT_TOKEN_TTL
            return _Token(token, self._clock() + seconds)
        who = f"user {auth.username}" if auth else "anonymous access"
        if resp.status == 401:
            outcome = _Outcome(
                "unauthorized",
                401,
                "UNAUTHORIZED",
                f"token server {where} rejected {who} for {reg.host} (HTTP 401)",
            )
        elif resp.status == 403:
            outcome = _Outcome("denied", 403, "DENIED", f"token server {where} refused {who} (HTTP 403)")
        elif resp.status == 429:
            outcome = _Outcome(
                "unreachable", 429, "TOOMANYREQUESTS", f"token server {where} is rate limiting (HTTP 429)"
            )
        else:
            outcome = _Outcome("error", resp.status, None, f"token server {where} answered HTTP {resp.status}")
        return _Token(outcome, forever if resp.status != 429 else 0.0)

    def _classify(self, resp: Response, reg: _Registry, name: str, reference: str, auth: Optional[_Auth]) -> _Outcome:
        status = resp.status
        code, detail = _error_code(resp.body)
        image = f"{reg.host}/{name}{'@' if ':' in reference else ':'}{reference}"
        who = f"user {auth.username}" if auth else "anonymous access"
        suffix = f": {detail}" if detail else ""
        if 200 <= status < 300:
            digest = resp.header("docker-content-digest")
            return _Outcome(
                "ok", status, None, f"{image} can be pulled with {who}" + (f" ({digest})" if digest else "")
            )
        if status == 429 or code == "TOOMANYREQUESTS":
            return _Outcome("unreachable", status, "TOOMANYREQUESTS", f"{reg.host} is rate limiting (HTTP {status})")
        if code in ("NAME_UNKNOWN", "MANIFEST_UNKNOWN") or status == 404:
            what = "repository" if code == "NAME_UNKNOWN" else "tag or digest"
            return _Outcome("not-found", status, code, f"{image}: {what} not found (HTTP {status}){suffix}")
        if code == "DENIED" or status == 403:
            return _Outcome("denied", status, code or "DENIED", f"{reg.host} denies {who} pulling {image}{suffix}")
        if status == 401:
            challenges = parse_challenges(resp.header_values("www-authenticate"))
            scope_error = any((c.get("error") or "").lower() == "insufficient_scope" for c in challenges)
            if scope_error and auth is not None:
                return _Outcome(
                    "denied",
                    status,
                    "INSUFFICIENT_SCOPE",
                    f"{reg.host} accepted {who} but grants no pull on {name} (insufficient_scope): "
                    "no access to the repository, or it does not exist",
                )
            return _Outcome(
                "unauthorized",
                status,
                code or "UNAUTHORIZED",
                f"{reg.host} rejected {who} for {image} (HTTP 401)",
            )
        return _Outcome("error", status, code, f"{reg.host} answered HTTP {status} for {image}{suffix}")


def _scopes(challenge: Challenge, name: str) -> Tuple[str, ...]:
    wanted = {f"repository:{name}:pull"}
    wanted.update(s for s in (challenge.get("scope") or "").split(" ") if s)
    return tuple(sorted(wanted))


def _challenge_key(challenge: Challenge, name: str) -> Tuple[str, ...]:
    """What answering a challenge amounts to: the same key means the same Authorization."""
    if challenge.scheme == "basic":
        return ("basic",)
    return ("bearer", challenge.get("realm") or "", challenge.get("service") or "", *_scopes(challenge, name))


def _error_code(body: bytes) -> Tuple[Optional[str], str]:
    """The first error's code and message from a distribution error document, if there is one."""
    if not body:
        return None, ""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, ""
    errors = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return None, ""
    code = errors[0].get("code")
    message = errors[0].get("message")
    # a registry, proxy or WAF may echo the request's Authorization: redact before it enters any message
    text = redact(" ".join(str(message).split()))[:200] if isinstance(message, str) else ""
    return (code.upper() if isinstance(code, str) and code else None), text


def probe(targets: Iterable[ProbeTarget], options: ProbeOptions) -> Dict[ProbeTarget, ProbeResult]:
    """Ask the registries about every target; see RegistryClient."""
    with RegistryClient(options) as client:
        return client.probe(targets)
