"""The sandbox API server: HTTPS on 127.0.0.1, Kubernetes REST paths, discovery, auth, faults, a request log.

It speaks enough of the real API for kubectl and the `kubernetes` client to work unmodified, so tests
exercise the same requests a cluster would see.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from tools.pki import CertificateAuthority

from . import auth, errors, resources
from .auth import ANONYMOUS, Authority, Rule, User
from .errors import ApiError
from .handlers import handle_resource, parse_route
from .resources import ResourceType
from .store import Obj, Store

JSON = "application/json"
MAX_BODY = 16 * 1024 * 1024


class Fault:
    """A failure to inject on requests whose method and path match (`times=None`: every time).

    status: answer this code (429 adds Retry-After); delay: sleep first (seconds); cut_body: answer
    normally but close the connection halfway through the body; gone: answer 410 Expired, only on
    requests that carry a `continue` token.
    """

    def __init__(
        self,
        method: Optional[str] = None,
        path_regex: str = "",
        status: Optional[int] = None,
        retry_after: Optional[int] = None,
        times: Optional[int] = 1,
        delay: float = 0.0,
        cut_body: bool = False,
        gone: bool = False,
        message: Optional[str] = None,
    ) -> None:
        self.method = method.upper() if method else None
        self.path_regex = path_regex
        self.status = status
        self.retry_after = retry_after
        self.times = times
        self.delay = delay
        self.cut_body = cut_body
        self.gone = gone
        self.message = message
        self.hits = 0

    def matches(self, method: str, path: str, query: Mapping[str, List[str]]) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method != method:
            return False
        if self.path_regex and not re.search(self.path_regex, path):
            return False
        return not (self.gone and not query.get("continue"))

    def __repr__(self) -> str:
        return (
            f"Fault(method={self.method!r}, path_regex={self.path_regex!r}, status={self.status!r}, "
            f"times={self.times!r}, hits={self.hits})"
        )


class Recorded:
    """One request as the server saw it, for assertions: who, what, which body, which answer."""

    def __init__(self, method: str, path: str, query: Dict[str, List[str]], headers: Any, body: bytes) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers  # http.client.HTTPMessage: .get() is case-insensitive
        self.body = body
        self.user: Optional[str] = None  # the identity the request ran as (the impersonated one, if any)
        self.impersonator: Optional[str] = None  # who sent Impersonate-* headers (allowed to)
        self.status = 0
        self.sent = 0  # bytes of the answer's body
        self.content_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        self.fault: Optional[Fault] = None

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        q = urllib.parse.urlencode(self.query, doseq=True)
        return f"<{self.method} {self.path}{'?' + q if q else ''} -> {self.status} user={self.user}>"


class _Server(ThreadingHTTPServer):
    """Tracks open connections so stop() can close keep-alive sockets instead of waiting on them."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr: Tuple[str, int], handler: Any, sandbox: Sandbox) -> None:
        super().__init__(addr, handler)
        self.sandbox = sandbox
        self.open_sockets: Set[Any] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that rejects our certificate or hangs up is a test's business, not a server bug."""
        if isinstance(sys.exc_info()[1], (ssl.SSLError, OSError)):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class Sandbox:
    """A Kubernetes API server for tests: start(), seed objects, grant rules, write kubeconfigs, stop()."""

    def __init__(self, kube_version: str = "1.32", admin_token: Optional[str] = "admin-token") -> None:
        self.kube_version = kube_version
        self.store = Store()
        self.authority = Authority()
        self._faults: List[Fault] = []
        self._requests: List[Recorded] = []
        self._log_lock = threading.Lock()
        self._dir = tempfile.mkdtemp(prefix="imgaccess-sandbox-")
        self._ca = CertificateAuthority(self._dir)
        self.ca_file = self._ca.ca_file
        self._httpd: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self.port = 0
        if admin_token:
            self.add_user("admin", admin_token, superuser=True)

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self, port: int = 0) -> Sandbox:
        if self._httpd is not None:
            return self
        cert, key = self._ca.server_pair()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(self.ca_file)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        httpd = _Server(("127.0.0.1", port), _Handler, self)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-apiserver-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            with httpd.sockets_lock:
                open_sockets = list(httpd.open_sockets)
            for s in open_sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    # -- identities and rules -----------------------------------------------------------------------

    def add_user(self, name: str, token: str, groups: Sequence[str] = (), superuser: bool = False) -> None:
        """Map a bearer token to a user (a user keeps one token: adding again replaces it)."""
        self.authority.add_user(name, token, groups, superuser)

    def allow(self, *rules: Rule) -> None:
        """Grant each rule: a user's (or group's) verbs on resources (see auth.Rule; namespaces=None means
        cluster-wide)."""
        for rule in rules:
            self.authority.add_rule(rule)

    def add_service_account_token(self, namespace: str, name: str, token: str) -> str:
        """A ServiceAccount's bearer token: user system:serviceaccount:NS:NAME with its groups. Returns the user."""
        user = auth.service_account_user(namespace, name)
        self.authority.add_user(user, token, auth.service_account_groups(namespace))
        return user

    def load_rbac(self, objects: Sequence[Obj]) -> List[Rule]:
        """Enforce the Roles/ClusterRoles and their bindings among objects (rbac.authorization.k8s.io/v1);
        other kinds are ignored. Returns the rules added."""
        rules = auth.rules_from_rbac(objects)
        for rule in rules:
            self.authority.add_rule(rule)
        return rules

    def clear_rules(self) -> None:
        """Drop every grant (users and tokens stay)."""
        self.authority.clear_rules()

    def can(
        self,
        user: str,
        verb: str,
        resource: str,
        namespace: Optional[str] = None,
        group: str = "",
        name: Optional[str] = None,
    ) -> bool:
        """The same decision the server and SelfSubjectAccessReview make."""
        u = User(user, self.authority.groups_of(user))
        return self.authority.allowed(u, verb, resource, group, namespace, name)

    def write_kubeconfig(
        self,
        path: str,
        user: str = "admin",
        context: str = "sandbox",
        namespace: Optional[str] = None,
        *,
        exec_plugin: Optional[List[str]] = None,
        client_cert: bool = False,
        token: Optional[str] = None,
    ) -> str:
        """Write a kubeconfig trusting the sandbox CA and authenticating as `user`.

        By default the user's bearer token (or `token`, e.g. an unknown one for 401 tests); with
        `exec_plugin` an exec credential command; with `client_cert` a certificate (CN=user) signed by the CA.
        """
        path = os.fspath(path)
        auth: Dict[str, Any] = {}
        if exec_plugin:
            auth["exec"] = {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": exec_plugin[0],
                "args": list(exec_plugin[1:]),
                "interactiveMode": "Never",
            }
        elif client_cert:
            directory = os.path.dirname(os.path.abspath(path))
            cert, key = self._ca.client_pair(user, self.authority.groups_of(user), directory)
            auth["client-certificate"] = cert
            auth["client-key"] = key
        else:
            tok = token if token is not None else self.authority.token_of(user)
            if tok is None:
                raise ValueError(f"no token for user {user!r}: add_user() first or pass token=")
            auth["token"] = tok
        ctx: Dict[str, Any] = {"cluster": "sandbox", "user": user}
        if namespace:
            ctx["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.url, "certificate-authority": self.ca_file}}],
            "users": [{"name": user, "user": auth}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
            "preferences": {},
        }
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2)
        return path

    # -- objects ------------------------------------------------------------------------------------

    def add(self, obj: Obj) -> Obj:
        """Store an object as seed data (namespace created on demand; given uid/timestamps kept)."""
        rt = resources.by_kind(obj.get("kind", ""), obj.get("apiVersion"))
        if rt is None:
            raise ValueError(f"kind not served by the sandbox: {obj.get('apiVersion')}/{obj.get('kind')}")
        return self.store.create(rt, None, obj, seed=True)

    def load_yaml(self, text: str) -> List[Obj]:
        """Seed from multi-document YAML or JSON; `List` kinds unwrapped; kinds not served are skipped."""
        import yaml  # seeding only: the server itself needs nothing beyond the standard library

        loaded: List[Obj] = []
        pending = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
        while pending:
            doc = pending.pop(0)
            if str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
                pending[:0] = [d for d in doc["items"] if isinstance(d, dict)]
                continue
            if resources.by_kind(doc.get("kind", ""), doc.get("apiVersion")) is None:
                continue
            loaded.append(self.add(doc))
        return loaded

    def load_dir(self, path: str) -> List[Obj]:
        """Seed from every .yaml/.yml/.json file under `path`, in sorted order."""
        loaded: List[Obj] = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for f in sorted(files):
                if f.endswith((".yaml", ".yml", ".json")):
                    with open(os.path.join(root, f), encoding="utf-8") as fh:
                        loaded += self.load_yaml(fh.read())
        return loaded

    def get(self, kind: str, namespace: str, name: str) -> Optional[Obj]:
        rt = self._kind(kind)
        return self.store.find(rt, namespace, name)

    def objects(self, kind: str) -> List[Obj]:
        return self.store.all(self._kind(kind))

    def replace(self, obj: Obj) -> Obj:
        """Store a changed object (as a PUT would; a resourceVersion in it must be current)."""
        rt = self._kind(str(obj.get("kind", "")))
        meta = obj.get("metadata") or {}
        return self.store.update(rt, str(meta.get("namespace") or ""), str(meta.get("name")), obj)

    def delete(self, kind: str, namespace: str, name: str) -> Obj:
        return self.store.delete(self._kind(kind), namespace, name)

    @staticmethod
    def _kind(kind: str) -> ResourceType:
        for rt in resources.RESOURCES:
            if kind in (rt.kind, rt.plural, rt.singular) or kind in rt.short_names:
                return rt
        raise ValueError(f"kind not served by the sandbox: {kind}")

    # -- faults and the request log -----------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self._log_lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._log_lock:
            self._faults.clear()

    def expire_continue_tokens(self) -> None:
        """Every continue token handed out so far answers 410 Expired from now on."""
        with self.store.lock:
            self.store.continue_epoch += 1

    def _take_fault(self, method: str, path: str, query: Mapping[str, List[str]]) -> Optional[Fault]:
        with self._log_lock:
            for f in self._faults:
                if f.matches(method, path, query):
                    f.hits += 1
                    return f
        return None

    @property
    def requests(self) -> List[Recorded]:
        with self._log_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def _record(self, rec: Recorded) -> None:
        with self._log_lock:
            self._requests.append(rec)


class _Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection: parse, authenticate, fault, authorize, dispatch, answer JSON."""

    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 60

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.do_handshake()  # in this thread, so a stalled client never blocks accept()
        except (ssl.SSLError, OSError):
            self.close_connection = True
            raise

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    # -- plumbing -----------------------------------------------------------------------------------

    @property
    def sandbox(self) -> Sandbox:
        return self.server.sandbox

    def _send(
        self, rec: Recorded, code: int, body: Any, headers: Optional[Dict[str, str]] = None, cut: bool = False
    ) -> None:
        payload = json.dumps(body).encode("utf-8")
        rec.status = code
        rec.sent = len(payload)
        self.sandbox._record(rec)
        self.send_response(code)
        self.send_header("Content-Type", JSON)
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if cut:
            self.wfile.write(payload[: max(1, len(payload) // 2)])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(payload)

    def _authenticate(self) -> User:
        header = self.headers.get("Authorization") or ""
        peer = None
        try:
            peer = self.connection.getpeercert()
        except (ValueError, AttributeError):
            peer = None
        if peer:
            cn, orgs = "", []
            for rdn in peer.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        cn = value
                    elif key == "organizationName":
                        orgs.append(value)
            if cn:
                return User(cn, (*orgs, "system:authenticated"))
        if header.lower().startswith("bearer "):
            user = self.sandbox.authority.user_for_token(header[7:].strip())
            if user is None:
                raise errors.unauthorized()
            return User(user.name, (*user.groups, "system:authenticated"))
        if header:
            raise errors.unauthorized()
        return User(ANONYMOUS, ("system:unauthenticated",))

    def _impersonate(self, user: User) -> User:
        """Impersonate-User/-Group/-Uid as the API server reads them: the caller needs `impersonate` on the
        users, groups and uids (authentication.k8s.io) named, else 403; the request then runs as that identity
        (its groups plus system:authenticated)."""
        name = self.headers.get("Impersonate-User")
        groups = list(self.headers.get_all("Impersonate-Group") or [])
        uid = self.headers.get("Impersonate-Uid")
        if name is None:
            if groups or uid:
                raise ApiError(500, "InternalError",
                               "Internal error occurred: requested groups or uid without impersonating a user")
            return user
        checks = [("users", "", name)] + [("groups", "", g) for g in groups]
        if uid is not None:
            checks.append(("uids", "authentication.k8s.io", uid))
        for resource, group, value in checks:
            if not self.sandbox.authority.allowed(user, "impersonate", resource, group, None, value):
                raise errors.forbidden(user.name, "impersonate", resource, group, None, value)
        return User(name, (*groups, "system:authenticated"))

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        method = self.command
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if 0 < length <= MAX_BODY else b""
        rec = Recorded(method, url.path, query, self.headers, body)
        try:
            if length > MAX_BODY:
                self.close_connection = True  # the unread body would be taken for the next request
                raise ApiError(413, "RequestEntityTooLarge", "request entity too large")
            user = self._authenticate()
            rec.user = user.name
            impersonated = self._impersonate(user)
            if impersonated is not user:
                rec.impersonator, rec.user, user = user.name, impersonated.name, impersonated
            fault = self.sandbox._take_fault(method, url.path, query)
            if fault is not None:
                rec.fault = fault
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.gone:
                    raise errors.expired()
                if fault.status:
                    raise _fault_error(fault)
            code, answer = self._dispatch(method, url.path, query, body, user)
            self._send(rec, code, answer, cut=bool(fault and fault.cut_body))
        except ApiError as exc:
            self._send(rec, exc.code, exc.status(), exc.headers)
        except Exception as exc:  # a sandbox bug must reach the test as a 500, not a hung client
            err = ApiError(500, "InternalError", f"Internal error occurred: {type(exc).__name__}: {exc}")
            self._send(rec, 500, err.status())

    def _dispatch(
        self, method: str, path: str, query: Dict[str, List[str]], body: bytes, user: User
    ) -> Tuple[int, Any]:
        sb = self.sandbox
        if path in ("/healthz", "/readyz", "/livez"):
            return 200, "ok"
        if path == "/version":
            major, minor = sb.kube_version.split(".")[:2]
            return 200, {
                "major": major,
                "minor": minor,
                "gitVersion": f"v{major}.{minor}.0-sandbox",
                "gitCommit": "0" * 40,
                "gitTreeState": "clean",
                "buildDate": "2025-01-01T00:00:00Z",
                "goVersion": "go1.23",
                "compiler": "gc",
                "platform": "linux/amd64",
            }
        if path == "/api":
            return 200, resources.api_versions(f"127.0.0.1:{sb.port}")
        if path == "/apis":
            return 200, resources.api_group_list()
        parts = path.strip("/").split("/")
        if path == "/api/v1":
            return 200, resources.resource_list("", "v1")
        if len(parts) == 2 and parts[0] == "apis":
            doc = resources.api_group(parts[1])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return 200, doc
        if len(parts) == 3 and parts[0] == "apis":
            doc = resources.resource_list(parts[1], parts[2])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return 200, doc
        route = parse_route(path)
        if route is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return handle_resource(sb, route, method, query, body, self.headers, user)


def _fault_error(fault: Fault) -> ApiError:
    code = fault.status or 500
    headers: Dict[str, str] = {}
    details: Optional[Dict[str, Any]] = None
    if code == 429:
        reason, message = "TooManyRequests", fault.message or "Too many requests, please try again later."
        retry = 1 if fault.retry_after is None else fault.retry_after
        headers["Retry-After"] = str(retry)
        details = {"retryAfterSeconds": retry}
    elif code == 503:
        reason, message = (
            "ServiceUnavailable",
            fault.message or "the server is currently unable to handle the request",
        )
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
    elif code == 504:
        reason, message = (
            "Timeout",
            fault.message or "the server was unable to return a response in the time allotted",
        )
    elif code == 410:
        reason, message = "Expired", fault.message or errors.expired().message
    else:
        reason, message = "InternalError", fault.message or "Internal error occurred: injected fault"
    return ApiError(code, reason, message, details, headers)
