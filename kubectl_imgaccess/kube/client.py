"""The connection to one API server: kubeconfig/in-cluster configuration, requests, retries, errors.

`kubernetes` is imported inside functions only, so importing this module stays cheap for commands that
never talk to a cluster. Requests go through the client's configured urllib3 pool (TLS, client
certificates, proxies) but bodies are decoded here from raw JSON: model objects are far too slow for the
lists of big shared clusters. Every failure the user can act on becomes one `ClusterError` line that
names the server; the client's own exceptions never escape.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
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
from kubectl_imgaccess.kube.scope import AuthOverrides, ClusterScope
from kubectl_imgaccess.progress import Progress
from kubectl_imgaccess.text import redact, remember_secret

log = logging.getLogger("kubectl_imgaccess.cluster")

Obj = Dict[str, Any]
Query = Sequence[Tuple[str, str]]

PAGE_SIZE = 500
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
    """Import a `kubernetes` module on first use (it is slow to import and has no useful types).

    The client's dependencies warn at import about their own future (google-auth, pulled by kubernetes<35,
    about Python 3.9's end of life): stderr is for the tool's one-line messages, so those are not shown.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return importlib.import_module(name)


def load_library() -> None:
    """Import the client modules a connection uses, ahead of it: what is CPU time only (no file, network or
    plugin is touched) can then be kept out of a clock that bounds the cluster's answer (completion)."""
    for name in ("urllib3", "kubernetes.client", "kubernetes.client.rest", "kubernetes.config.kube_config"):
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
        configuration: Any,
        *,
        server: str,
        context: Optional[str],
        namespace: str,
        timeout: Optional[float] = None,
        verbosity: int = 0,
        impersonate: Sequence[Tuple[str, str]] = (),
        progress: Optional[Progress] = None,
    ) -> None:
        rest = _module("kubernetes.client.rest")
        self.server = server
        self.impersonate = tuple(impersonate)  # (header, value) pairs sent with every request
        self.progress = progress  # told about every page listed
        self.context = context
        self.namespace = namespace
        self.timeout = timeout if timeout and timeout > 0 else None
        self.verbosity = verbosity
        self._cfg = configuration
        self._pool = rest.RESTClientObject(configuration).pool_manager
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
        keep: Optional[Callable[[Obj], Obj]] = None,
    ) -> List[Obj]:
        """Every item of a paginated LIST, each with `kind` and `apiVersion` set.

        keep: what to keep of each item (the fields its reader needs), applied as each page arrives, so that
        no page is held longer than it takes to read it.
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
                    before = len(items)
                    for item in page.get("items") or []:
                        if isinstance(item, dict):
                            item.setdefault("kind", kind)
                            if api_version:
                                item.setdefault("apiVersion", api_version)
                            items.append(item if keep is None else keep(item))
                    token = (page.get("metadata") or {}).get("continue") or None
                    del page  # only what `keep` took of it stays while the next page is read
                    if self.progress is not None:
                        self.progress.count("reading the cluster", kind, len(items) - before)
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
        try:
            with self._auth_lock:
                auth = self._cfg.get_api_key_with_prefix("authorization")
        except ClusterError:
            raise
        except Exception as exc:
            raise ClusterError(f"{self.server}: cannot get credentials: {_one_line(str(exc))}") from None
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


# -- configuration ------------------------------------------------------------------------------


def _kubeconfig_paths(scope: ClusterScope) -> Optional[List[str]]:
    """kubectl's order: --kubeconfig, else every existing file in $KUBECONFIG, else ~/.kube/config."""
    if scope.kubeconfig:
        path = os.path.expanduser(scope.kubeconfig)
        if not os.path.isfile(path):
            raise ClusterError(f"kubeconfig {path}: no such file")
        return [path]
    env = os.environ.get("KUBECONFIG")
    if env:
        found: List[str] = []
        for part in env.split(os.pathsep):
            path = os.path.expanduser(part)
            if part and os.path.isfile(path) and path not in found and not _empty_file(path):
                found.append(path)  # kubectl skips a listed file that is empty
        return found or None
    default = os.path.expanduser(os.path.join("~", ".kube", "config"))
    return [default] if os.path.isfile(default) else None


# -- kubeconfig as kubectl reads it: empty files skipped, fields typed, tokens trimmed, proxies checked ----

# Fields kubectl decodes as booleans: a string there ("false") is an error in kubectl, never a truthy value.
_BOOL_FIELDS = (("clusters", "cluster", ("insecure-skip-tls-verify", "disable-compression")),
                ("users", "user", ()))
_EXEC_BOOL_FIELDS = ("provideClusterInfo",)
_PROXY_SCHEMES = ("http", "https")


def _empty_file(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return not fh.read(1 << 20).strip()
    except OSError:
        return False


def check_kubeconfig_files(paths: Sequence[str]) -> None:
    """What kubectl refuses, refused the same way with one line naming file and field: a boolean written as
    a string (`insecure-skip-tls-verify: "false"` would otherwise switch TLS verification off), and a
    proxy-url whose scheme the client cannot speak (socks5 and others)."""
    import yaml

    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # the loader reports it with its own words
        if not isinstance(doc, dict):
            continue
        for section, key, fields in _BOOL_FIELDS:
            for entry in doc.get(section) or []:
                body = entry.get(key) if isinstance(entry, dict) else None
                if not isinstance(body, dict):
                    continue
                name = entry.get("name")
                for field in fields:
                    _must_be_bool(body, field, f"{section}[{name}].{key}.{field}", path)
                exec_cfg = body.get("exec")
                if isinstance(exec_cfg, dict):
                    for field in _EXEC_BOOL_FIELDS:
                        _must_be_bool(exec_cfg, field, f"{section}[{name}].{key}.exec.{field}", path)
                proxy = body.get("proxy-url")
                if proxy is not None:
                    _check_proxy(proxy, f"{section}[{name}].{key}.proxy-url", path)


def _must_be_bool(body: Dict[str, Any], field: str, where: str, path: str) -> None:
    if field in body and body[field] is not None and not isinstance(body[field], bool):
        value = body[field]
        shown = f'the string "{value}"' if isinstance(value, str) else f"{type(value).__name__} {value!r}"
        raise ClusterError(f"kubeconfig {path}: {where} must be true or false, not {shown} "
                           "(kubectl refuses it too)")


def _check_proxy(proxy: Any, where: str, path: str) -> None:
    text = str(proxy)
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in _PROXY_SCHEMES:
        raise ClusterError(f"kubeconfig {path}: {where}: {redact(text)}: only http and https proxies are "
                           "supported (a SOCKS proxy is not); use an HTTP proxy, or a tunnel "
                           "(ssh -L, kubectl port-forward) and point the cluster server at it")


def trim_token(cfg: Any) -> None:
    """A token read from a file keeps its newline in the client (`echo TOKEN > file`); kubectl trims it.
    The client sets the header again before every request (its refresh hook), so the hook trims too.
    The token is remembered so no message can ever show it."""
    _trim_authorization(cfg)
    hook = getattr(cfg, "refresh_api_key_hook", None)
    if hook is not None and not getattr(hook, "trims", False):
        def trimmed(configuration: Any) -> None:
            hook(configuration)  # the client's hook puts itself back as the hook: take the place again
            configuration.refresh_api_key_hook = trimmed
            _trim_authorization(configuration)

        trimmed.trims = True  # type: ignore[attr-defined]
        cfg.refresh_api_key_hook = trimmed


def _trim_authorization(cfg: Any) -> None:
    api_key = getattr(cfg, "api_key", None)
    if not isinstance(api_key, dict):
        return
    value = api_key.get("authorization")
    if isinstance(value, str):
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        remember_secret(token)
        api_key["authorization"] = f"{scheme} {token}" if token else scheme


def _named(node: Any, section: str, name: str, key: str) -> Any:
    """The `key` node of the entry called `name` in a merged kubeconfig section, or None."""
    try:
        entry = node[section].get_with_name(name, safe=True)
    except Exception:
        return None
    return entry.safe_get(key) if entry is not None else None


def _take_exec(merged: Any, context: str) -> Tuple[Optional[Dict[str, Any]], str, Optional[Dict[str, Any]]]:
    """Remove the context user's `exec` block from the merged config (the client must not run it) and
    return it with the directory of the file that defined the user and the context's cluster entry."""
    ctx = _named(merged, "contexts", context, "context")
    if ctx is None:
        return None, "", None
    user_name, cluster_name = ctx.get("user"), ctx.get("cluster")
    user = _named(merged, "users", str(user_name), "user") if user_name else None
    cluster = _named(merged, "clusters", str(cluster_name), "cluster") if cluster_name else None
    if not isinstance(user, dict) or not isinstance(user.get("exec"), dict):
        return None, "", cluster if isinstance(cluster, dict) else None
    if any(user.get(k) for k in ("auth-provider", "token", "tokenFile")):
        return None, "", cluster if isinstance(cluster, dict) else None  # the client's order: these win
    exec_cfg = user.pop("exec")
    entry = merged["users"].get_with_name(str(user_name))
    base_dir = os.path.dirname(os.path.abspath(entry.path)) if getattr(entry, "path", None) else os.getcwd()
    return exec_cfg, base_dir, cluster if isinstance(cluster, dict) else None


def _apply_exec(cfg: Any, exec_cfg: Dict[str, Any], base_dir: str, cluster: Optional[Dict[str, Any]],
                timeout: Optional[float]) -> None:
    """Run the exec plugin and put its credential into cfg; an expiring token is fetched again when due."""
    kube_config = _module("kubernetes.config.kube_config")

    def fetch() -> ExecCredential:
        # a plugin that never answers is bounded like a request (--request-timeout, else the run's --timeout)
        return run_plugin(exec_cfg, base_dir=base_dir, cluster=cluster, timeout=for_request(timeout).socket_timeout())

    cred = fetch()
    if cred.token is not None:
        remember_secret(cred.token)
        current = [cred]
        cfg.api_key["authorization"] = f"Bearer {cred.token}"

        def refresh(configuration: Any) -> None:
            if current[0].expired():
                current[0] = fetch()
                configuration.api_key["authorization"] = f"Bearer {current[0].token}"

        cfg.refresh_api_key_hook = refresh
        return
    for attr, data in (("cert_file", cred.client_certificate), ("key_file", cred.client_key)):
        setattr(cfg, attr, kube_config.FileOrData({"data": data}, None, data_key_name="data",
                                                  base64_file_content=False).as_file())


FLAGS_ENTRY = "(command-line flags)"  # the context, cluster and user made when no kubeconfig is used


def _entry_names(merged: Any, section: str) -> List[str]:
    names = []
    for node in merged.value.get(section) or []:
        value = getattr(node, "value", node)
        if isinstance(value, dict):
            names.append(str(value.get("name")))
    return names


def _flags_only_config(kube_config: Any) -> Any:
    """The kubeconfig `--server` alone describes (kubectl runs without a kubeconfig file then)."""
    doc = {"clusters": [{"name": FLAGS_ENTRY, "cluster": {}}], "users": [{"name": FLAGS_ENTRY, "user": {}}],
           "contexts": [{"name": FLAGS_ENTRY, "context": {"cluster": FLAGS_ENTRY, "user": FLAGS_ENTRY}}],
           "current-context": FLAGS_ENTRY}
    return kube_config.ConfigNode("flags", doc, None)


def _apply_overrides(merged: Any, context: str, auth: AuthOverrides, where: str) -> None:
    """Lay kubectl's connection flags over the context's cluster and user entries, as client-go does:
    --cluster/--user pick other entries; a file flag replaces the entry's file and inline data; --token
    replaces the user's own authentication (token file, exec plugin, auth provider, basic auth);
    --insecure-skip-tls-verify drops the CA and --certificate-authority turns verification back on."""
    ctx = _named(merged, "contexts", context, "context")
    if not isinstance(ctx, dict):
        raise ClusterError(f'kubeconfig {where}: context "{context}" is empty')
    for flag, section, key, name in (("--cluster", "clusters", "cluster", auth.cluster),
                                     ("--user", "users", "user", auth.user)):
        if name is not None:
            if name not in _entry_names(merged, section):
                raise ClusterError(f'kubeconfig {where}: {flag} "{name}" not found')
            ctx[key] = name
    if not ctx.get("user"):
        merged.value.setdefault("users", []).append({"name": FLAGS_ENTRY, "user": {}})
        ctx["user"] = FLAGS_ENTRY
    cluster = _named(merged, "clusters", str(ctx.get("cluster")), "cluster")
    user = _named(merged, "users", str(ctx["user"]), "user")
    if not isinstance(cluster, dict) or not isinstance(user, dict):
        return  # the loader names what is missing
    if auth.server is not None:
        cluster["server"] = auth.server
    if auth.certificate_authority is not None:
        cluster.pop("certificate-authority-data", None)
        cluster.pop("insecure-skip-tls-verify", None)
        cluster["certificate-authority"] = os.path.abspath(os.path.expanduser(auth.certificate_authority))
    if auth.insecure_skip_tls_verify:
        cluster.pop("certificate-authority-data", None)
        cluster.pop("certificate-authority", None)
        cluster["insecure-skip-tls-verify"] = True
    if auth.tls_server_name is not None:
        cluster["tls-server-name"] = auth.tls_server_name
    for key, value in (("client-certificate", auth.client_certificate), ("client-key", auth.client_key)):
        if value is not None:
            user.pop(f"{key}-data", None)
            user[key] = os.path.abspath(os.path.expanduser(value))
    if auth.token is not None:
        for key in ("tokenFile", "exec", "auth-provider", "username", "password"):
            user.pop(key, None)
        user["token"] = auth.token


def _impersonation(merged: Any, context: Optional[str], auth: AuthOverrides) -> List[Tuple[str, str]]:
    """Impersonate-* headers: the flags, else the kubeconfig user's `as`, `as-groups`, `as-uid`."""
    user: Any = None
    if merged is not None and context is not None:
        ctx = _named(merged, "contexts", context, "context")
        if isinstance(ctx, dict) and ctx.get("user"):
            user = _named(merged, "users", str(ctx["user"]), "user")
    user = user if isinstance(user, dict) else {}
    name = auth.as_user if auth.as_user is not None else user.get("as")
    groups = list(auth.as_groups) if auth.as_groups else list(user.get("as-groups") or [])
    uid = auth.as_uid if auth.as_uid is not None else user.get("as-uid")
    if (groups or uid) and not name:
        raise ClusterError("requesting uid or groups without impersonating a user: add --as NAME")
    headers = [("Impersonate-User", str(name))] if name else []
    headers += [("Impersonate-Group", str(g)) for g in groups]
    headers += [("Impersonate-Uid", str(uid))] if uid else []
    return headers


def _from_kubeconfig(scope: ClusterScope, paths: List[str], cfg: Any
                     ) -> Tuple[Optional[str], Optional[str], List[Tuple[str, str]]]:
    """Fill cfg from the merged kubeconfig files (none: the flags alone) with the flags laid over them;
    return (context name, context namespace, impersonation headers)."""
    kube_config = _module("kubernetes.config.kube_config")
    where = os.pathsep.join(paths) or "(none)"
    if paths:
        merger = _merged_kubeconfig(paths)
        merged = merger.config
        context = scope.context
        if not context:
            # kubectl: the first file that sets current-context wins (the client's merger keeps the last).
            for path in merger.paths:
                current = (merger.config_files.get(path) or {}).get("current-context")
                if current:
                    context = str(current)
                    break
    else:
        merged, context = _flags_only_config(kube_config), scope.context or FLAGS_ENTRY
    if not context:
        raise ClusterError(f"kubeconfig {where}: no current-context; use --context")
    if context not in _entry_names(merged, "contexts"):
        raise ClusterError(f'kubeconfig {where}: context "{context}" not found')
    _apply_overrides(merged, context, scope.auth, where)
    impersonate = _impersonation(merged, context, scope.auth)
    merger_config = merged
    try:
        exec_cfg, base_dir, cluster = _take_exec(merger_config, context)
        if not cluster or not cluster.get("server"):
            raise ClusterError(f'kubeconfig {where}: context "{context}" has no cluster server')
        loader = kube_config.KubeConfigLoader(config_dict=merger_config, active_context=context,
                                              config_base_path=None)
        loader.load_and_set(cfg)
        trim_token(cfg)
        namespace = (loader.current_context.get("context") or {}).get("namespace")
    except ClusterError:
        raise
    except Exception as exc:
        raise ClusterError(f'kubeconfig {where}: context "{context}": {_one_line(str(exc), 200)}') from None
    if exec_cfg is not None:
        _apply_exec(cfg, exec_cfg, base_dir, cluster, scope.request_timeout)
    return context, (str(namespace) if namespace else None), impersonate


def _from_in_cluster(cfg: Any) -> Optional[str]:
    """Fill cfg from the pod's service account; return its namespace."""
    incluster_config = _module("kubernetes.config.incluster_config")

    sa_dir = os.environ.get(SA_DIR_ENV) or SA_DIR
    try:
        incluster_config.InClusterConfigLoader(
            token_filename=os.path.join(sa_dir, "token"), cert_filename=os.path.join(sa_dir, "ca.crt")
        ).load_and_set(cfg)
        trim_token(cfg)
    except Exception as exc:
        raise ClusterError(f"in-cluster configuration ({sa_dir}): {_one_line(str(exc), 200)}") from None
    try:
        with open(os.path.join(sa_dir, "namespace"), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def connect(scope: ClusterScope) -> ClusterClient:
    """The configured client for the scope's kubeconfig/context, or the in-cluster service account."""
    cfg = _module("kubernetes.client").Configuration()
    paths = _kubeconfig_paths(scope)
    context: Optional[str] = None
    if paths or scope.auth.any_connection():
        context, ctx_namespace, impersonate = _from_kubeconfig(scope, paths or [], cfg)
        if scope.verbosity >= 6:
            log.info("config loaded from %s, context %s", os.pathsep.join(paths or ["flags"]), context)
    elif os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT"):
        ctx_namespace = _from_in_cluster(cfg)
        impersonate = _impersonation(None, None, scope.auth)
        if scope.auth.token is not None:
            cfg.api_key["authorization"] = f"Bearer {scope.auth.token}"
            cfg.refresh_api_key_hook = None
        if scope.verbosity >= 6:
            log.info("using the in-cluster configuration")
    else:
        raise ClusterError(NO_CLUSTER)
    cfg.retries = False  # retries are ours: bounded, status-aware, logged
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, 16)
    server = str(cfg.host).rstrip("/")
    return ClusterClient(
        cfg,
        server=server,
        context=context,
        namespace=scope.namespace or ctx_namespace or "default",
        timeout=scope.request_timeout,
        verbosity=scope.verbosity,
        impersonate=impersonate,
        progress=scope.progress,
    )


def _merged_kubeconfig(paths: List[str]) -> Any:
    """The kubeconfig files checked as kubectl checks them, then merged in KUBECONFIG order (the merger: its
    `config`, and its `paths` and `config_files` for kubectl's current-context rule)."""
    check_kubeconfig_files(paths)
    where = os.pathsep.join(paths)
    try:
        merger = _module("kubernetes.config.kube_config").KubeConfigMerger(where)
    except Exception as exc:
        raise ClusterError(f"kubeconfig {where}: cannot read it ({_one_line(str(exc), 200)})") from None
    if merger.config is None:
        raise ClusterError(f"kubeconfig {where}: empty")
    return merger


def context_names(scope: ClusterScope) -> List[str]:
    """Every context of the merged kubeconfig (--kubeconfig, else $KUBECONFIG, else ~/.kube/config), in file order."""
    paths = _kubeconfig_paths(scope)
    if not paths:
        raise ClusterError("--all-contexts: no kubeconfig (use --kubeconfig FILE or set KUBECONFIG)")
    names = [n for n in _entry_names(_merged_kubeconfig(paths).config, "contexts") if n and n != "None"]
    if not names:
        raise ClusterError(f"kubeconfig {os.pathsep.join(paths)}: no contexts")
    return names
