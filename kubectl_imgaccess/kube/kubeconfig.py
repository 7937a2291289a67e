"""Kubeconfig files read as kubectl reads them, and the connection a context describes.

Which files: --kubeconfig, else every existing non-empty file listed in $KUBECONFIG, else ~/.kube/config.
Each file is read once and checked as kubectl checks it: booleans typed, proxies http(s), a name at most
once per section. The files merge in order (the first file that defines a name wins; the first file that
sets current-context names the context), then kubectl's connection flags are laid over the context's entries
(client-go's overrides). The result is a `Connection`: plain data saying where the server is, how its
certificate is checked, which client certificate and which credential the client sends. Relative file names
resolve against the directory of the file that defined the entry, as kubectl resolves them.

Nothing here talks to a server or runs a plugin (kube/client.py does both).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from kubectl_imgaccess.errors import ClusterError
from kubectl_imgaccess.kube.scope import AuthOverrides, ClusterScope
from kubectl_imgaccess.text import redact, remember_secret

Obj = Dict[str, Any]

# (section, the key of each entry's body), in the order kubectl names them
SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
FLAGS_ENTRY = "(command-line flags)"  # the context, cluster and user made when no kubeconfig is used

# Fields kubectl decodes as booleans: a string there ("false") is an error in kubectl, never a truthy value.
_BOOL_FIELDS = {"cluster": ("insecure-skip-tls-verify", "disable-compression"), "user": ()}
_EXEC_BOOL_FIELDS = ("provideClusterInfo",)
_PROXY_SCHEMES = ("http", "https")

# What the client library is still used for: a user whose credential an auth-provider makes.
AUTH_PROVIDER = "auth-provider"


@dataclass
class Entry:
    """One named entry of a kubeconfig section: its body (`cluster:`, `user:` or `context:`) and its file."""

    name: str
    body: Obj
    origin: str  # the file that defined it; "" for an entry the flags made

    def base_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.origin)) if self.origin else os.getcwd()

    def path(self, key: str) -> Optional[str]:
        """The file named by `key`, resolved against the entry's own file (kubectl's rule)."""
        value = self.body.get(key)
        if not value:
            return None
        return os.path.normpath(os.path.join(self.base_dir(), os.path.expanduser(str(value))))


@dataclass
class Kubeconfig:
    """The merged kubeconfig: every section's entries by name, in the order the files define them."""

    where: str  # the files, as KUBECONFIG lists them ("(none)" when the flags alone describe the connection)
    sections: Dict[str, Dict[str, Entry]]
    current_context: Optional[str]

    def names(self, section: str) -> List[str]:
        return list(self.sections[section])

    def entry(self, section: str, name: Any) -> Optional[Entry]:
        return self.sections[section].get(str(name)) if name is not None else None


@dataclass
class ClientCertificate:
    """A client certificate and its key: files, or PEM text (kubeconfig `-data`, an exec plugin's answer)."""

    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    cert_pem: Optional[bytes] = field(default=None, repr=False)
    key_pem: Optional[bytes] = field(default=None, repr=False)


@dataclass
class Connection:
    """What the client needs to talk to one API server as one user."""

    server: str
    context: Optional[str]  # None in the cluster (the pod's service account)
    namespace: Optional[str]  # the context's namespace
    where: str  # "kubeconfig FILES", or the in-cluster configuration: what messages name
    ca_file: Optional[str] = None
    ca_pem: Optional[bytes] = field(default=None, repr=False)
    insecure: bool = False
    tls_server_name: Optional[str] = None
    proxy_url: Optional[str] = field(default=None, repr=False)  # may carry a password
    client_certificate: Optional[ClientCertificate] = None
    token: Optional[str] = field(default=None, repr=False)  # a bearer token, trimmed
    token_file: Optional[str] = None  # read again while the run lasts (rotated service account tokens)
    basic: Optional[Tuple[str, str]] = field(default=None, repr=False)
    exec_config: Optional[Obj] = field(default=None, repr=False)  # the user's exec plugin, run by the client
    exec_base_dir: str = ""
    exec_cluster: Optional[Obj] = field(default=None, repr=False)  # what provideClusterInfo hands the plugin
    auth_provider: Optional[Obj] = field(default=None, repr=False)  # the user entry, for the client library
    auth_provider_base_dir: str = ""
    impersonate: List[Tuple[str, str]] = field(default_factory=list)


# -- which files ----------------------------------------------------------------------------------------


def kubeconfig_paths(scope: ClusterScope) -> Optional[List[str]]:
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


def _empty_file(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return not fh.read(1 << 20).strip()
    except OSError:
        return False


# -- reading and checking ---------------------------------------------------------------------------------


def _load(path: str) -> Obj:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise ClusterError(f"kubeconfig {path}: cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ClusterError(f"kubeconfig {path}: cannot read it (not UTF-8 text)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ClusterError(f"kubeconfig {path}: cannot read it (not valid YAML{at})") from None
    if doc is None:
        raise ClusterError(f"kubeconfig {path}: empty")
    if not isinstance(doc, dict):
        raise ClusterError(f"kubeconfig {path}: cannot read it (a mapping expected, not {type(doc).__name__})")
    return doc


def _must_be_bool(body: Mapping[str, Any], fld: str, where: str, path: str) -> None:
    if fld in body and body[fld] is not None and not isinstance(body[fld], bool):
        value = body[fld]
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


def _entries(doc: Obj, section: str, key: str, path: str) -> List[Entry]:
    """A file's entries of one section, checked as kubectl checks them."""
    items = doc.get(section)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ClusterError(f"kubeconfig {path}: {section} must be a list")
    found: List[Entry] = []
    seen = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ClusterError(f"kubeconfig {path}: {section}[{i}] must be a mapping")
        name = "" if item.get("name") is None else str(item.get("name"))
        if name in seen:
            raise ClusterError(f'kubeconfig {path}: {section}: the name "{name}" appears twice '
                               "(kubectl refuses it too)")
        seen.add(name)
        body = item.get(key)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise ClusterError(f"kubeconfig {path}: {section}[{name}].{key} must be a mapping")
        for fld in _BOOL_FIELDS.get(key, ()):
            _must_be_bool(body, fld, f"{section}[{name}].{key}.{fld}", path)
        exec_cfg = body.get("exec")
        if key == "user" and isinstance(exec_cfg, dict):
            for fld in _EXEC_BOOL_FIELDS:
                _must_be_bool(exec_cfg, fld, f"{section}[{name}].{key}.exec.{fld}", path)
        if key in ("cluster", "user") and body.get("proxy-url") is not None:
            _check_proxy(body["proxy-url"], f"{section}[{name}].{key}.proxy-url", path)
        found.append(Entry(name, dict(body), path))
    return found


def read_kubeconfig(paths: Sequence[str]) -> Kubeconfig:
    """The files, each read once and checked, merged in order: the first file to define a name wins, and
    the first file that sets current-context names the context (kubectl's rules)."""
    sections: Dict[str, Dict[str, Entry]] = {section: {} for section, _ in SECTIONS}
    current: Optional[str] = None
    for path in paths:
        doc = _load(path)
        for section, key in SECTIONS:
            for entry in _entries(doc, section, key, path):
                sections[section].setdefault(entry.name, entry)
        if current is None and doc.get("current-context"):
            current = str(doc["current-context"])
    return Kubeconfig(os.pathsep.join(paths), sections, current)


def flags_only() -> Kubeconfig:
    """The kubeconfig `--server` alone describes (kubectl runs without a kubeconfig file then)."""
    sections = {section: {FLAGS_ENTRY: Entry(FLAGS_ENTRY, {}, "")} for section, _ in SECTIONS}
    sections["contexts"][FLAGS_ENTRY].body.update(cluster=FLAGS_ENTRY, user=FLAGS_ENTRY)
    return Kubeconfig("(none)", sections, FLAGS_ENTRY)


# -- the flags laid over the context ------------------------------------------------------------------------


def _abspath(value: str) -> str:
    return os.path.abspath(os.path.expanduser(value))


def apply_overrides(config: Kubeconfig, context: str, auth: AuthOverrides) -> Tuple[Entry, Entry, Entry]:
    """Lay kubectl's connection flags over the context's cluster and user entries, as client-go does:
    --cluster/--user pick other entries; a file flag replaces the entry's file and inline data; --token
    replaces the user's own authentication (token file, exec plugin, auth provider, basic auth);
    --insecure-skip-tls-verify drops the CA and --certificate-authority turns verification back on.
    Returns the (context, cluster, user) entries, changed in place."""
    where = config.where
    ctx = config.entry("contexts", context)
    if ctx is None:
        raise ClusterError(f'kubeconfig {where}: context "{context}" not found')
    if not ctx.body:
        raise ClusterError(f'kubeconfig {where}: context "{context}" is empty')
    for flag, section, key, name in (("--cluster", "clusters", "cluster", auth.cluster),
                                     ("--user", "users", "user", auth.user)):
        if name is not None:
            if name not in config.sections[section]:
                raise ClusterError(f'kubeconfig {where}: {flag} "{name}" not found')
            ctx.body[key] = name
    user = config.entry("users", ctx.body.get("user")) if ctx.body.get("user") else None
    if user is None:
        user = Entry(FLAGS_ENTRY, {}, "")  # kubectl: a context without a (known) user sends no credential
    cluster_name = ctx.body.get("cluster")
    cluster = config.entry("clusters", cluster_name) if cluster_name else None
    if cluster is None:
        if not cluster_name:
            raise ClusterError(f'kubeconfig {where}: context "{context}" names no cluster')
        raise ClusterError(f'kubeconfig {where}: context "{context}": cluster "{cluster_name}" not found')
    c, u = cluster.body, user.body
    if auth.server is not None:
        c["server"] = auth.server
    if auth.certificate_authority is not None:
        c.pop("certificate-authority-data", None)
        c.pop("insecure-skip-tls-verify", None)
        c["certificate-authority"] = _abspath(auth.certificate_authority)
    if auth.insecure_skip_tls_verify:
        c.pop("certificate-authority-data", None)
        c.pop("certificate-authority", None)
        c["insecure-skip-tls-verify"] = True
    if auth.tls_server_name is not None:
        c["tls-server-name"] = auth.tls_server_name
    for key, value in (("client-certificate", auth.client_certificate), ("client-key", auth.client_key)):
        if value is not None:
            u.pop(f"{key}-data", None)
            u[key] = _abspath(value)
    if auth.token is not None:
        for key in ("tokenFile", "exec", "auth-provider", "username", "password"):
            u.pop(key, None)
        u["token"] = auth.token
    return ctx, cluster, user


def impersonation(user: Mapping[str, Any], auth: AuthOverrides) -> List[Tuple[str, str]]:
    """Impersonate-* headers: the flags, else the kubeconfig user's `as`, `as-groups`, `as-uid`."""
    name = auth.as_user if auth.as_user is not None else user.get("as")
    groups = list(auth.as_groups) if auth.as_groups else list(user.get("as-groups") or [])
    uid = auth.as_uid if auth.as_uid is not None else user.get("as-uid")
    if (groups or uid) and not name:
        raise ClusterError("requesting uid or groups without impersonating a user: add --as NAME")
    headers = [("Impersonate-User", str(name))] if name else []
    headers += [("Impersonate-Group", str(g)) for g in groups]
    headers += [("Impersonate-Uid", str(uid))] if uid else []
    return headers


# -- the connection ------------------------------------------------------------------------------------------


def _pem(entry: Entry, key: str, where: str) -> Optional[bytes]:
    """The PEM text of a `...-data` field (base64 in the kubeconfig)."""
    value = entry.body.get(key)
    if not value:
        return None
    try:
        return base64.b64decode(str(value).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ClusterError(f'kubeconfig {where}: {entry.name}: {key} is not valid base64') from None


def _existing(path: Optional[str], what: str, where: str) -> Optional[str]:
    if path is not None and not os.path.isfile(path):
        raise ClusterError(f"kubeconfig {where}: {what} {path}: no such file")
    return path


def trimmed(token: str) -> str:
    """kubectl trims a token (`echo TOKEN > file` leaves a newline); a token is never shown anywhere."""
    token = token.strip()
    remember_secret(token)
    return token


def from_kubeconfig(config: Kubeconfig, scope: ClusterScope) -> Connection:
    """The connection of the scope's context (else the current one) with the flags laid over it."""
    where = config.where
    context = scope.context or config.current_context
    if not context:
        raise ClusterError(f"kubeconfig {where}: no current-context; use --context")
    if context not in config.sections["contexts"]:
        raise ClusterError(f'kubeconfig {where}: context "{context}" not found')
    ctx, cluster, user = apply_overrides(config, context, scope.auth)
    c, u = cluster.body, user.body
    server = str(c.get("server") or "").rstrip("/")
    if not server:
        raise ClusterError(f'kubeconfig {where}: context "{context}" has no cluster server')
    if "://" not in server:
        server = "https://" + server  # client-go's default scheme
    namespace = ctx.body.get("namespace")
    conn = Connection(server=server, context=context, namespace=str(namespace) if namespace else None,
                      where=f"kubeconfig {where}", impersonate=impersonation(u, scope.auth))
    conn.insecure = c.get("insecure-skip-tls-verify") is True
    conn.tls_server_name = str(c["tls-server-name"]) if c.get("tls-server-name") else None
    conn.proxy_url = str(c["proxy-url"]) if c.get("proxy-url") else None
    if server.lower().startswith("https"):
        conn.ca_pem = _pem(cluster, "certificate-authority-data", where)
        if conn.ca_pem is None:
            conn.ca_file = _existing(cluster.path("certificate-authority"), "certificate-authority", where)
        cert = ClientCertificate(cert_pem=_pem(user, "client-certificate-data", where),
                                 key_pem=_pem(user, "client-key-data", where))
        if cert.cert_pem is None:
            cert.cert_file = _existing(user.path("client-certificate"), "client-certificate", where)
        if cert.key_pem is None:
            cert.key_file = _existing(user.path("client-key"), "client-key", where)
        has_cert = cert.cert_pem is not None or cert.cert_file is not None
        has_key = cert.key_pem is not None or cert.key_file is not None
        if has_cert != has_key:
            missing = "client-key" if has_cert else "client-certificate"
            raise ClusterError(f'kubeconfig {where}: user "{user.name}": {missing} is missing')
        conn.client_certificate = cert if has_cert else None
    _credential(conn, cluster, user)
    return conn


def _credential(conn: Connection, cluster: Entry, user: Entry) -> None:
    """The user's credential, first of: auth-provider, token (inline, else tokenFile), exec plugin, basic."""
    u = user.body
    if isinstance(u.get(AUTH_PROVIDER), dict) and u[AUTH_PROVIDER].get("name"):
        conn.auth_provider, conn.auth_provider_base_dir = u, user.base_dir()
        return
    if u.get("token"):
        token = trimmed(str(u["token"]))
        if token:
            conn.token = token
            return
    token_file = user.path("tokenFile")
    if token_file:
        conn.token_file = token_file
        return
    if isinstance(u.get("exec"), dict):
        conn.exec_config, conn.exec_base_dir = u["exec"], user.base_dir()
        conn.exec_cluster = cluster.body
        return
    if "username" in u and "password" in u:
        password = str(u["password"])
        remember_secret(password)
        conn.basic = (str(u["username"]), password)
