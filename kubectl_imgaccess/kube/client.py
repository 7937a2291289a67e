"""The connection to one API server: requests, retries, errors, TLS and credentials.

What to connect to comes from kube/kubeconfig.py (or, in a pod, the service account). Requests go through
one urllib3 pool (TLS with the kubeconfig's CA and client certificate, proxies) and bodies are decoded here
from raw JSON: model objects are far too slow for the lists of big shared clusters. Client libraries are
imported inside functions: urllib3 on the first request, and the `kubernetes` client only for a user whose
credential an auth-provider makes (gcp, azure, oidc), as its package loads ~780 generated modules (~48 MiB)
the tool has no other use for. Every failure the user can act on becomes one `ClusterError` line that names
the server; no library's own exception escapes.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import re
import ssl
import tempfile
import threading
import time
import warnings
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type
from urllib.parse import urlencode

from kubectl_imgaccess import __version__
from kubectl_imgaccess.deadline import Deadline, for_request, read_body, run_timeout_error
from kubectl_imgaccess.errors import (
    AlreadyExists,
    ApiError,
    BadRequest,
    ClusterError,
    Conflict,
    Forbidden,
    Gone,
    ImgaccessError,
    Invalid,
    NotFound,
    ServerError,
    TooManyRequests,
    Unauthorized,
)
from kubectl_imgaccess.kube.execcred import ExecCredential, run_plugin
from kubectl_imgaccess.kube.kubeconfig import (
    ClientCertificate,
    Connection,
    flags_only,
    from_kubeconfig,
    impersonation,
    kubeconfig_paths,
    read_kubeconfig,
    trimmed,
)
from kubectl_imgaccess.kube.scope import ClusterScope
from kubectl_imgaccess.progress import Progress
from kubectl_imgaccess.proxies import proxy_credentials, proxy_for
from kubectl_imgaccess.text import remember_secret

log = logging.getLogger("kubectl_imgaccess.cluster")

Obj = Dict[str, Any]
Query = Sequence[Tuple[str, str]]

PAGE_SIZE = 500
POOL_SIZE = 16  # connections kept to the server: the reader's threads and fix's writes
MAX_TRIES = 5  # per request, for 429 / 5xx / a connection cut while reading
MAX_RESTARTS = 3  # per list, for 410 Gone on a continue token
MAX_RETRY_AFTER = 30.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

NO_CLUSTER = "no cluster configured: set --kubeconfig or KUBECONFIG, or use -f FILE --offline"

# Internal: lets tests point the in-cluster configuration at their own token/ca.crt/namespace files.
SA_DIR_ENV = "_KUBECTL_IMGACCESS_INTERNAL_SA_DIR"
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

# Tests replace this to observe the back-off without waiting for it.
sleep: Callable[[float], None] = time.sleep

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


_ERRORS: Dict[int, Type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: TooManyRequests,
}


def api_error(server: str, status: int, message: str, status_reason: str = "") -> ApiError:
    """The one place a response status becomes an error class (`status_reason`: the `Status` object's reason)."""
    if status == 409 and status_reason == "AlreadyExists":
        cls: Type[ApiError] = AlreadyExists
    elif status >= 500:
        cls = ServerError
    else:
        cls = _ERRORS.get(status, ApiError)
    return cls(server, status, message, _REASONS.get(status, "Error"))


class _Retryable(Exception):
    """A connection cut while a GET was answered: safe to send again."""


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _module(name: str) -> Any:
    """Import a module of a client library on first use (`kubernetes` is slow to import and has no useful
    types; it is loaded only for a kubeconfig user whose credential an auth-provider makes).

    The client's dependencies warn at import about their own future (google-auth, pulled by kubernetes<35,
    about Python 3.9's end of life): stderr is for the tool's one-line messages, so those are not shown.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(name)


def load_library() -> None:
    """Import the modules a connection uses, ahead of it: what is CPU time only (no file, network or
    plugin is touched) can then be kept out of a clock that bounds the cluster's answer (completion)."""
    for name in ("urllib3", "yaml"):
        _module(name)


def _cause_of(exc: BaseException) -> str:
    """A short human cause for a transport failure (never the client's exception text verbatim)."""
    import urllib3.exceptions as u3

    text = str(exc)
    if isinstance(exc, u3.SSLError) or "SSL" in type(exc).__name__:
        m = re.search(r"certificate verify failed: ([^(]+)", text)
        if m or "CERTIFICATE_VERIFY_FAILED" in text:
            return "TLS certificate verification failed" + (f" ({m.group(1).strip()})" if m else "")
        return "TLS handshake failed"
    if isinstance(exc, u3.NameResolutionError):
        return "cannot resolve the host name"
    if isinstance(exc, u3.NewConnectionError):
        if "refused" in text.lower():
            return "connection refused"
        return "cannot connect"
    if isinstance(exc, u3.TimeoutError):
        return "timeout"
    if isinstance(exc, u3.ProtocolError):
        return "connection closed by the server"
    if isinstance(exc, u3.ProxyError):
        return "proxy error"
    return type(exc).__name__


class ClusterClient:
    """A configured connection to one API server, shared by the reader and the writer (fix).

    Thread-safe: the reader issues requests from a small thread pool.
    """

    def __init__(
        self,
        connection: Connection,
        credentials: Credentials,
        *,
        namespace: str,
        timeout: Optional[float] = None,
        verbosity: int = 0,
        progress: Optional[Progress] = None,
    ) -> None:
        self.server = connection.server
        self.impersonate = tuple(connection.impersonate)  # (header, value) pairs sent with every request
        self.progress = progress  # told about every page listed
        self.context = connection.context
        self.namespace = namespace
        self.timeout = timeout if timeout and timeout > 0 else None
        self.verbosity = verbosity
        self._credentials = credentials
        self._pool = _pool(connection, POOL_SIZE)
        self._auth_lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"ClusterClient(server={self.server!r}, context={self.context!r}, namespace={self.namespace!r})"
        )

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Query] = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; return the decoded JSON body (None when empty).

        429 and 5xx are retried with back-off (Retry-After honoured); writes only on 429, which the
        server sends before doing anything. Error statuses raise the ApiError subclass that names them.
        The whole request, retries and waits included, ends by its deadline (--request-timeout, and the
        run's --timeout): a wait that would end later is not taken.
        """
        url = self.server + path + (("?" + urlencode(list(query))) if query else "")
        payload = None if body is None else json.dumps(body).encode("utf-8")
        idempotent = method in ("GET", "HEAD")
        limit = for_request(self.timeout)
        for attempt in range(1, MAX_TRIES + 1):
            try:
                status, headers, data = self._send(method, url, payload, content_type, limit)
            except _Retryable as exc:
                if not idempotent or attempt == MAX_TRIES:
                    raise ClusterError(
                        f"{self.server}: connection closed by the server ({method} {path})"
                    ) from None
                delay = self._backoff(attempt)
                if not limit.allows(delay):
                    raise self._deadline_error(limit, method, path) from None
                self._debug(6, "retrying %s %s in %.1fs: %s", method, url, delay, exc)
                sleep(delay)
                continue
            retry = status == 429 or (idempotent and status in RETRY_STATUSES)
            if retry and attempt < MAX_TRIES:
                delay = self._retry_after(headers) or self._backoff(attempt)
                if not limit.allows(delay):  # Retry-After never holds a request past its deadline
                    raise self._deadline_error(limit, method, path, f" (answered {status}, retry in {delay:g}s)")
                self._debug(6, "retrying %s %s in %.1fs after %d", method, url, delay, status)
                sleep(delay)
                continue
            if 200 <= status < 300:
                if not data:
                    return None
                try:
                    return json.loads(data)
                except ValueError:
                    raise ClusterError(f"{self.server}: answered {method} {path} with invalid JSON") from None
            raise self._status_error(status, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, path: str) -> Optional[Obj]:
        """GET one object; None when it does not exist."""
        try:
            obj = self.request("GET", path)
        except NotFound:
            return None
        return obj if isinstance(obj, dict) else None

    def list(
        self,
        path: str,
        *,
        kind: str,
        label_selector: Optional[str] = None,
        field_selector: Optional[str] = None,
        keep: Optional[Callable[[Obj], Optional[Obj]]] = None,
    ) -> List[Obj]:
        """Every item of a paginated LIST, each with `kind` and `apiVersion` set.

        keep: what to keep of each item (the fields its reader needs; None: not the item at all), applied as
        each page arrives, so that no page is held longer than it takes to read it.
        A 410 Gone on a continue token (the snapshot behind it was compacted) starts the list again.
        """
        base: List[Tuple[str, str]] = []
        if label_selector:
            base.append(("labelSelector", label_selector))
        if field_selector:
            base.append(("fieldSelector", field_selector))
        base.append(("limit", str(PAGE_SIZE)))
        restarts = 0
        while True:
            items: List[Obj] = []
            token: Optional[str] = None
            try:
                while True:
                    query = base + ([("continue", token)] if token else [])
                    page = self.request("GET", path, query=query)
                    if not isinstance(page, dict):
                        raise ClusterError(f"{self.server}: GET {path} did not answer a list")
                    api_version = str(page.get("apiVersion") or "")
                    listed = page.get("items") or []
                    for item in listed:
                        if isinstance(item, dict):
                            item.setdefault("kind", kind)
                            if api_version:
                                item.setdefault("apiVersion", api_version)
                            kept = item if keep is None else keep(item)
                            if kept is not None:
                                items.append(kept)
                    token = (page.get("metadata") or {}).get("continue") or None
                    del page  # only what `keep` took of it stays while the next page is read
                    if self.progress is not None:
                        self.progress.count("reading the cluster", kind, len(listed))
                    del listed
                    if not token:
                        return items
            except Gone:
                if token is None or restarts >= MAX_RESTARTS:
                    raise
                restarts += 1
                self._debug(6, "continue token expired (410) listing %s: starting again", path)

    # -- transport ------------------------------------------------------------------------------

    def _headers(self, content_type: Optional[str]) -> Any:
        """An urllib3 HTTPHeaderDict: Impersonate-Group is sent once per group, as the API server reads it."""
        import urllib3

        headers = urllib3.HTTPHeaderDict({"Accept": "application/json",
                                          "User-Agent": f"kubectl-imgaccess/{__version__}"})
        if content_type:
            headers["Content-Type"] = content_type
        for name, value in self.impersonate:
            headers.add(name, value)
        with self._auth_lock:
            auth = self._credentials.header()
        if auth:
            headers["Authorization"] = auth
        return headers

    def _deadline_error(self, limit: Deadline, method: str, path: str, detail: str = "") -> ImgaccessError:
        if limit.is_run:
            return run_timeout_error(f"{self.server}: no complete answer to {method} {path}{detail}")
        return ClusterError(f"{self.server}: timeout: no complete answer within {self.timeout:g}s "
                            f"(see --request-timeout){detail}")

    def _send(
        self, method: str, url: str, payload: Optional[bytes], content_type: str, limit: Optional[Deadline] = None
    ) -> Tuple[int, Mapping[str, str], bytes]:
        import urllib3
        import urllib3.exceptions as u3

        limit = limit if limit is not None else for_request(self.timeout)
        path = url[len(self.server):].split("?", 1)[0]
        if limit.expired():
            raise self._deadline_error(limit, method, path)
        headers = self._headers(content_type if payload is not None else None)
        wait = limit.socket_timeout()
        timeout = urllib3.Timeout(connect=wait, read=wait) if wait is not None else None
        self._debug(7, "%s %s headers: %s", method, url, _masked(headers))
        started = time.monotonic()
        try:
            resp = self._pool.request(
                method,
                url,
                body=payload,
                headers=headers,
                timeout=timeout,
                retries=False,
                preload_content=False,
            )
            try:
                data = read_body(resp, limit)  # the clock is checked between chunks: no trickling past it
            finally:
                resp.release_conn()
        except u3.NewConnectionError as exc:  # before TimeoutError: urllib3 makes it a subclass
            raise ClusterError(f"cannot reach {self.server}: {_cause_of(exc)}") from None
        except (u3.TimeoutError, TimeoutError):
            if limit.at is None:
                raise ClusterError(f"cannot reach {self.server}: timeout") from None
            raise self._deadline_error(limit, method, path) from None
        except (u3.ProtocolError, u3.DecodeError) as exc:
            if isinstance(exc, u3.ProtocolError) and "refused" in str(exc).lower():
                raise ClusterError(f"cannot reach {self.server}: connection refused") from None
            raise _Retryable(_cause_of(exc)) from None
        except (u3.HTTPError, OSError) as exc:
            raise ClusterError(f"cannot reach {self.server}: {_cause_of(exc)}") from None
        ms = int((time.monotonic() - started) * 1000)
        self._debug(
            6, "%s %s %d %s in %d milliseconds", method, url, resp.status, _REASONS.get(resp.status, ""), ms
        )
        self._debug(8, "response: %s, %d bytes", resp.headers.get("Content-Type", "-"), len(data))
        return resp.status, resp.headers, data

    def _status_error(self, status: int, data: bytes) -> ApiError:
        message = reason = ""
        try:
            doc = json.loads(data) if data else None
            if isinstance(doc, dict) and doc.get("kind") == "Status":
                message = str(doc.get("message") or "")
                reason = str(doc.get("reason") or "")
        except ValueError:
            pass
        if status == 401:
            who = f'context "{self.context}"' if self.context else "the in-cluster service account"
            message = f"check the credentials of {who}" + (f" ({message})" if message else "")
        return api_error(self.server, status, _one_line(message), reason)

    @staticmethod
    def _retry_after(headers: Mapping[str, str]) -> Optional[float]:
        value = headers.get("Retry-After")
        if not value:
            return None
        try:
            return max(0.0, min(float(value), MAX_RETRY_AFTER))
        except ValueError:
            return None

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(min(0.25 * (2 ** (attempt - 1)), 4.0))

    def _debug(self, level: int, msg: str, *args: Any) -> None:
        if self.verbosity >= level:
            log.info(msg, *args)


def _masked(headers: Any) -> List[Tuple[str, str]]:
    return [(k, "<masked>" if k.lower() == "authorization" else v) for k, v in headers.items()]


# -- credentials: the Authorization header of each request ----------------------------------------------------


class Credentials:
    """No credential (a client certificate, or none at all); the base of every other kind."""

    def header(self) -> Optional[str]:
        """The Authorization header value for the next request (called under the client's lock)."""
        return None


class FixedCredentials(Credentials):
    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "FixedCredentials(<masked>)"

    def header(self) -> Optional[str]:
        return self._value


def bearer(token: str) -> Credentials:
    return FixedCredentials(f"Bearer {token}")


def basic(username: str, password: str) -> Credentials:
    raw = f"{username}:{password}".encode()
    value = "Basic " + base64.b64encode(raw).decode("ascii")
    remember_secret(value.split(" ", 1)[1])
    return FixedCredentials(value)


class FileToken(Credentials):
    """A bearer token read from a file, and read again once a minute: a projected service account token
    is rotated by the kubelet while a long run lasts (client-go re-reads it on the same period)."""

    PERIOD = 60.0

    def __init__(self, path: str, where: str) -> None:
        self.path = path
        self._where = where
        self._token = ""
        self._read_at: Optional[float] = None
        self.header()  # an unreadable or empty file is the connection's error, before any request

    def header(self) -> Optional[str]:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at >= self.PERIOD:
            try:
                with open(self.path, encoding="utf-8") as fh:
                    token = fh.read().strip()
            except (OSError, UnicodeDecodeError) as exc:
                if self._token:
                    return f"Bearer {self._token}"  # keep the last good token through a rotation's gap
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
                raise ClusterError(f"{self._where}: token file {self.path}: cannot read it ({reason})") from None
            if not token:
                if self._token:
                    return f"Bearer {self._token}"
                raise ClusterError(f"{self._where}: token file {self.path} is empty")
            remember_secret(token)
            self._token, self._read_at = token, now
        return f"Bearer {self._token}"


class ExecToken(Credentials):
    """A token an exec plugin made, fetched again when it expires."""

    def __init__(self, fetch: Callable[[], ExecCredential], first: ExecCredential) -> None:
        self._fetch = fetch
        self._current = first

    def header(self) -> Optional[str]:
        if self._current.expired():
            self._current = self._fetch()
            remember_secret(self._current.token or "")
        return f"Bearer {self._current.token}"


class ProviderToken(Credentials):
    """A token an auth-provider (gcp, azure, oidc) makes and refreshes: the one credential left to the
    Kubernetes client library, loaded only for such a user."""

    def __init__(self, user: Obj, base_dir: str, where: str) -> None:
        kube_config = _module("kubernetes.config.kube_config")
        self._cfg = _module("kubernetes.client").Configuration()
        doc = {"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
               "clusters": [{"name": "c", "cluster": {"server": "http://auth-provider.invalid"}}],
               "users": [{"name": "u", "user": user}]}
        self._where = where
        try:
            kube_config.KubeConfigLoader(config_dict=doc, active_context="c",
                                         config_base_path=base_dir).load_and_set(self._cfg)
        except ClusterError:
            raise
        except Exception as exc:
            raise ClusterError(f"{where}: auth-provider: {_one_line(str(exc), 200)}") from None
        self.header()

    def header(self) -> Optional[str]:
        try:
            value = self._cfg.get_api_key_with_prefix("authorization")
        except ClusterError:
            raise
        except Exception as exc:
            raise ClusterError(f"{self._where}: cannot get credentials: {_one_line(str(exc))}") from None
        if not value:
            return None
        scheme, _, token = str(value).strip().partition(" ")
        token = token.strip()
        remember_secret(token)
        return f"{scheme} {token}" if token else scheme


# -- TLS --------------------------------------------------------------------------------------------------------


def _tls_context(conn: Connection) -> ssl.SSLContext:
    """The server's certificate checked against the kubeconfig's CA (else the system's and the client's
    usual roots), and the client certificate loaded: from files, or from PEM text through a private
    temporary directory that is gone before a byte is sent."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if conn.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        try:
            if conn.ca_pem is not None:
                ctx.load_verify_locations(cadata=conn.ca_pem.decode("ascii"))
            elif conn.ca_file is not None:
                ctx.load_verify_locations(cafile=conn.ca_file)
            else:
                ctx.load_default_certs()
                try:
                    import certifi
                except ImportError:  # pragma: no cover - a dependency of the client library
                    pass
                else:
                    ctx.load_verify_locations(cafile=certifi.where())
        except (ssl.SSLError, OSError, ValueError) as exc:
            what = conn.ca_file or "certificate-authority-data"
            raise ClusterError(f"{conn.where}: certificate authority {what}: cannot load it "
                               f"({_tls_reason(exc)})") from None
    cert = conn.client_certificate
    if cert is not None:
        try:
            if cert.cert_pem is None and cert.key_pem is None:
                ctx.load_cert_chain(str(cert.cert_file), str(cert.key_file))
            else:
                with tempfile.TemporaryDirectory(prefix="kubectl-imgaccess-") as tmp:
                    files = []
                    for name, pem, path in (("cert", cert.cert_pem, cert.cert_file),
                                            ("key", cert.key_pem, cert.key_file)):
                        if pem is not None:
                            path = os.path.join(tmp, name)
                            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                            with os.fdopen(fd, "wb") as fh:
                                fh.write(pem)
                        files.append(str(path))
                    ctx.load_cert_chain(files[0], files[1])
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ClusterError(f"{conn.where}: client certificate: cannot load it "
                               f"({_tls_reason(exc)})") from None
    return ctx


def _tls_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return _one_line(str(reason), 120) if reason else type(exc).__name__


def _pool(conn: Connection, maxsize: int) -> Any:
    """The urllib3 pool every request of this connection goes through: direct, or through the cluster's
    proxy-url, else the proxy the environment names for the server (NO_PROXY honoured)."""
    import urllib3

    kwargs: Dict[str, Any] = {"num_pools": 4, "maxsize": maxsize, "retries": False}
    if conn.server.lower().startswith("https"):
        ctx = _tls_context(conn)
        kwargs.update(ssl_context=ctx, cert_reqs=ssl.CERT_NONE if conn.insecure else ssl.CERT_REQUIRED)
        if conn.tls_server_name:
            kwargs["server_hostname"] = conn.tls_server_name
    proxy = conn.proxy_url or proxy_for(conn.server, loopback_direct=True)
    if not proxy:
        return urllib3.PoolManager(**kwargs)
    clean, headers = proxy_credentials(proxy)
    return urllib3.ProxyManager(clean, proxy_headers=headers, **kwargs)


# -- the connection ------------------------------------------------------------------------------------------


def _credentials(conn: Connection, timeout: Optional[float]) -> Credentials:
    """The credential the connection names; an exec plugin runs now (a certificate it answers with joins the
    connection's TLS)."""
    if conn.token is not None:
        return bearer(conn.token)
    if conn.token_file is not None:
        return FileToken(conn.token_file, conn.where)
    if conn.auth_provider is not None:
        return ProviderToken(conn.auth_provider, conn.auth_provider_base_dir, conn.where)
    if conn.exec_config is not None:
        exec_cfg, base_dir, cluster = conn.exec_config, conn.exec_base_dir, conn.exec_cluster

        def fetch() -> ExecCredential:
            # a plugin that never answers is bounded like a request (--request-timeout, else the run's --timeout)
            return run_plugin(exec_cfg, base_dir=base_dir, cluster=cluster,
                              timeout=for_request(timeout).socket_timeout())

        cred = fetch()
        if cred.token is not None:
            remember_secret(cred.token)
            return ExecToken(fetch, cred)
        conn.client_certificate = ClientCertificate(
            cert_pem=(cred.client_certificate or "").encode("utf-8"),
            key_pem=(cred.client_key or "").encode("utf-8"))
        return Credentials()
    if conn.basic is not None:
        return basic(*conn.basic)
    return Credentials()


def _in_cluster(scope: ClusterScope) -> Connection:
    """The pod's service account: the API server from KUBERNETES_SERVICE_HOST/PORT, its token (read again
    while the run lasts) and CA from the service account directory."""
    sa_dir = os.environ.get(SA_DIR_ENV) or SA_DIR
    where = f"in-cluster configuration ({sa_dir})"
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "").strip()
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "").strip()
    if not host or not port:
        raise ClusterError(f"{where}: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    ca_file = os.path.join(sa_dir, "ca.crt")
    token_file = os.path.join(sa_dir, "token")
    for path, what in ((token_file, "token"), (ca_file, "CA certificate")):
        if not os.path.isfile(path):
            raise ClusterError(f"{where}: no {what} file ({path})")
    namespace: Optional[str] = None
    try:
        with open(os.path.join(sa_dir, "namespace"), encoding="utf-8") as f:
            namespace = f.read().strip() or None
    except OSError:
        pass
    conn = Connection(server=f"https://{host}:{port}", context=None, namespace=namespace, where=where,
                      ca_file=ca_file, impersonate=impersonation({}, scope.auth))
    if scope.auth.token is not None:
        conn.token = trimmed(scope.auth.token)
    else:
        conn.token_file = token_file
    return conn


def connection(scope: ClusterScope) -> Connection:
    """The connection the scope describes: its kubeconfig (or the flags alone), else the pod's service account."""
    paths = kubeconfig_paths(scope)
    if paths or scope.auth.any_connection():
        conn = from_kubeconfig(read_kubeconfig(paths) if paths else flags_only(), scope)
        if scope.verbosity >= 6:
            log.info("config loaded from %s, context %s", os.pathsep.join(paths or ["flags"]), conn.context)
        return conn
    if os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT"):
        if scope.verbosity >= 6:
            log.info("using the in-cluster configuration")
        return _in_cluster(scope)
    raise ClusterError(NO_CLUSTER)


def connect(scope: ClusterScope) -> ClusterClient:
    """The configured client for the scope's kubeconfig/context, or the in-cluster service account."""
    conn = connection(scope)
    credentials = _credentials(conn, scope.request_timeout)  # first: an exec plugin may answer a client certificate
    return ClusterClient(
        conn,
        credentials,
        timeout=scope.request_timeout,
        verbosity=scope.verbosity,
        namespace=scope.namespace or conn.namespace or "default",
        progress=scope.progress,
    )


def context_names(scope: ClusterScope) -> List[str]:
    """Every context of the merged kubeconfig (--kubeconfig, else $KUBECONFIG, else ~/.kube/config), in file order."""
    paths = kubeconfig_paths(scope)
    if not paths:
        raise ClusterError("--all-contexts: no kubeconfig (use --kubeconfig FILE or set KUBECONFIG)")
    names = [name for name in read_kubeconfig(paths).names("contexts") if name]
    if not names:
        raise ClusterError(f"kubeconfig {os.pathsep.join(paths)}: no contexts")
    return names
