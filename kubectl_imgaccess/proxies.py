"""Which proxy a request goes through, read from the environment the way curl reads it.

One home for the rule: the registry probe and the API server connection both ask `proxy_for`.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from typing import Dict, Mapping, Optional, Tuple
from urllib.parse import unquote, urlsplit


def no_proxy_matches(host: str, no_proxy: str) -> bool:
    """curl's NO_PROXY rule: "*" matches all; names match themselves and their subdomains, a leading
    dot ignored, case-insensitive; IP addresses match equal addresses or CIDR ranges. Ports are not
    part of the comparison."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        return False
    try:
        host_ip: Optional[ipaddress._BaseAddress] = ipaddress.ip_address(host)
    except ValueError:
        host_ip = None
    for raw in re.split(r"[,\s]+", no_proxy.strip()):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if host_ip is not None:
            if entry.startswith("[") and "]" in entry:
                entry = entry[1 : entry.index("]")]
            entry = entry.lstrip(".")
            try:
                if host_ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        entry = entry.lstrip(".").rstrip(".")
        if entry.count(":") == 1:  # "name:port" written by habit: compare the name
            entry = entry.split(":", 1)[0]
        if entry and (host == entry or host.endswith("." + entry)):
            return True
    return False


def _env(env: Mapping[str, str], *names: str) -> Optional[str]:
    for name in names:
        value = env.get(name)
        if value:
            return value
    return None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_for(url: str, env: Optional[Mapping[str, str]] = None, *, loopback_direct: bool = False
              ) -> Optional[str]:
    """The proxy URL for `url` from https_proxy/HTTPS_PROXY (http_proxy/HTTP_PROXY for http),
    all_proxy/ALL_PROXY as fallback, unless no_proxy/NO_PROXY exempts the host.
    loopback_direct: localhost and loopback addresses are never proxied (kubectl's rule for the API server)."""
    env = os.environ if env is None else env
    parts = urlsplit(url)
    host = parts.hostname or ""
    if loopback_direct and _loopback(host):
        return None
    exempt = _env(env, "no_proxy", "NO_PROXY")
    if exempt and no_proxy_matches(host, exempt):
        return None
    if parts.scheme == "https":
        proxy = _env(env, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    else:
        proxy = _env(env, "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
    if proxy and "://" not in proxy:
        proxy = "http://" + proxy  # curl's default for a bare host:port
    return proxy


def proxy_credentials(proxy: str) -> Tuple[str, Dict[str, str]]:
    """The proxy URL without its userinfo, and the Proxy-Authorization header that carries it instead (none
    when the URL has none): a proxy's password never travels in a URL."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return proxy, {}
    userinfo = unquote(parts.username) + ":" + unquote(parts.password or "")
    header = "Basic " + base64.b64encode(userinfo.encode("latin-1", "replace")).decode("ascii")
    return proxy.replace(parts.netloc, parts.netloc.rsplit("@", 1)[1], 1), {"proxy-authorization": header}
