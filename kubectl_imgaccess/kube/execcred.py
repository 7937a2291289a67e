"""kubeconfig `exec` credential plugins (client.authentication.k8s.io), run the way kubectl runs them.

Owned here rather than left to the Kubernetes client, whose loader logs a failing plugin and carries on
without credentials (every request then fails with 401 and the plugin's own message is lost). Here a
plugin that fails, hangs past the deadline or answers nonsense is one `ClusterError` that names it.
No `kubernetes` import: this is the protocol only (environment, KUBERNETES_EXEC_INFO, the answer).
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from kubectl_imgaccess.errors import ClusterError

EXEC_INFO_ENV = "KUBERNETES_EXEC_INFO"
_CLUSTER_CONFIG_EXTENSION = "client.authentication.k8s.io/exec"


@dataclass(frozen=True)
class ExecCredential:
    """What a plugin answered: a bearer token, or a client certificate and key (PEM); maybe an expiry."""

    token: Optional[str] = None
    client_certificate: Optional[str] = None
    client_key: Optional[str] = None
    expires: Optional[datetime.datetime] = None

    def expired(self, now: Optional[datetime.datetime] = None) -> bool:
        if self.expires is None:
            return False
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now >= self.expires


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _cluster_info(cluster: Mapping[str, Any], base_dir: str) -> Dict[str, Any]:
    """spec.cluster for plugins that set provideClusterInfo: kubectl's field names, the CA inlined."""
    info: Dict[str, Any] = {}
    for key, name in (("server", "server"), ("tls-server-name", "tls-server-name"),
                      ("insecure-skip-tls-verify", "insecure-skip-tls-verify"), ("proxy-url", "proxy-url")):
        if cluster.get(key) is not None:
            info[name] = cluster[key]
    if cluster.get("certificate-authority-data"):
        info["certificate-authority-data"] = cluster["certificate-authority-data"]
    elif cluster.get("certificate-authority"):
        path = os.path.join(base_dir, os.path.expanduser(str(cluster["certificate-authority"])))
        try:
            with open(path, "rb") as fh:
                info["certificate-authority-data"] = base64.b64encode(fh.read()).decode("ascii")
        except OSError:
            pass
    for ext in cluster.get("extensions") or []:
        if isinstance(ext, Mapping) and ext.get("name") == _CLUSTER_CONFIG_EXTENSION:
            info["config"] = ext.get("extension")
    return info


_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


def _parse_time(text: str, command: str) -> datetime.datetime:
    m = _RFC3339.fullmatch(text.strip())
    if not m:
        raise ClusterError(
            f"exec credential plugin {command}: expirationTimestamp {_one_line(text, 40)!r} is not RFC 3339"
        )
    zone = "+00:00" if m.group(4) in ("Z", "z") else m.group(4)
    micro = (m.group(3) or ".0")[1:7].ljust(6, "0")
    return datetime.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}.{micro}{zone}")


def run_plugin(
    exec_config: Mapping[str, Any],
    *,
    base_dir: str,
    cluster: Optional[Mapping[str, Any]] = None,
    timeout: Optional[float] = None,
) -> ExecCredential:
    """Run the plugin of a kubeconfig user's `exec` block and return its credential.

    `base_dir` is the directory of the kubeconfig file that holds the user: a command given as a relative
    path with a slash is found there, as kubectl does. `timeout` bounds a non-interactive run.
    """
    command = str(exec_config.get("command") or "")
    api_version = str(exec_config.get("apiVersion") or "")
    shown = _one_line(command or "?", 80)
    if not command:
        raise ClusterError("exec credential plugin: the kubeconfig user's exec has no command")
    if not api_version:
        raise ClusterError(f"exec credential plugin {shown}: the kubeconfig user's exec has no apiVersion")
    if os.sep in command and not os.path.isabs(command):
        command = os.path.join(base_dir, command)
    argv: List[str] = [command] + [str(a) for a in exec_config.get("args") or []]
    env = dict(os.environ)
    for item in exec_config.get("env") or []:
        if isinstance(item, Mapping) and item.get("name"):
            env[str(item["name"])] = str(item.get("value") or "")

    mode = str(exec_config.get("interactiveMode") or "IfAvailable")
    terminal = hasattr(sys.stdin, "isatty") and sys.stdin.isatty()
    interactive = mode != "Never" and terminal
    if mode == "Always" and not terminal:
        raise ClusterError(f"exec credential plugin {shown}: needs a terminal (interactiveMode: Always)")
    spec: Dict[str, Any] = {"interactive": interactive}
    if exec_config.get("provideClusterInfo") and cluster is not None:
        spec["cluster"] = _cluster_info(cluster, base_dir)
    env[EXEC_INFO_ENV] = json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "spec": spec})

    try:
        proc = subprocess.Popen(
            argv,
            stdin=None if interactive else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if interactive else subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        hint = str(exec_config.get("installHint") or "").strip()
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(
            f"exec credential plugin {shown}: cannot run it ({reason})" + (f"; {_one_line(hint)}" if hint else "")
        ) from None
    try:
        out, err = proc.communicate(timeout=None if interactive else timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ClusterError(f"exec credential plugin {shown}: no answer within {timeout:g}s") from None
    if proc.returncode != 0:
        detail = _one_line(err.decode("utf-8", "replace")) if err else ""
        raise ClusterError(
            f"exec credential plugin {shown}: exit status {proc.returncode}" + (f": {detail}" if detail else "")
        )
    try:
        doc = json.loads(out.decode("utf-8", "replace"))
    except ValueError:
        raise ClusterError(f"exec credential plugin {shown}: its output is not an ExecCredential (JSON)") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise ClusterError(f"exec credential plugin {shown}: its output is not an ExecCredential")
    if doc.get("apiVersion") != api_version:
        raise ClusterError(
            f"exec credential plugin {shown}: answered apiVersion {_one_line(str(doc.get('apiVersion')), 60)!r}, "
            f"the kubeconfig asks for {api_version!r}"
        )
    status = doc.get("status")
    if not isinstance(status, dict):
        raise ClusterError(f"exec credential plugin {shown}: no status in its ExecCredential")
    expires = None
    if status.get("expirationTimestamp"):
        expires = _parse_time(str(status["expirationTimestamp"]), shown)
    token = status.get("token")
    if token:
        return ExecCredential(token=str(token).strip(), expires=expires)
    cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
    if cert and key:
        return ExecCredential(client_certificate=str(cert), client_key=str(key), expires=expires)
    raise ClusterError(
        f"exec credential plugin {shown}: its ExecCredential has neither a token nor a client certificate and key"
    )
