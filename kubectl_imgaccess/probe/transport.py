"""HTTP for the probe: TLS trust, proxies from the environment, timeouts, and careful redirects.

Redirects are followed here rather than by urllib3 so that an Authorization header never leaves the
origin it was meant for: a hop to another scheme, host or port drops it. Errors come out as
`TransportError` with a kind the verdict needs (TLS, TIMEOUT, CONNECTION) and a message without
credentials in it.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Tuple
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)

from kubectl_imgaccess.deadline import for_request
from kubectl_imgaccess.deadline import read_body as read_limited
from kubectl_imgaccess.proxies import proxy_credentials, proxy_for

log = logging.getLogger("kubectl_imgaccess.probe")

MAX_REDIRECTS = 5
MAX_BODY = 1 << 20  # error documents and token answers are small; never read a big body


class TransportError(Exception):
    """The request got no HTTP answer: kind is "TLS", "TIMEOUT" or "CONNECTION"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Response:
    """What the probe needs of an answer; header names are case-insensitive via `header()`."""

    url: str
    status: int
    headers: Tuple[Tuple[str, str], ...]
    body: bytes = field(repr=False)  # a token answer is a secret

    def header(self, name: str) -> Optional[str]:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    def header_values(self, name: str) -> Tuple[str, ...]:
        lname = name.lower()
        return tuple(v for k, v in self.headers if k.lower() == lname)


_USERINFO = re.compile(r"//[^/@\s]*@")


def scrub(text: str) -> str:
    """Drop userinfo from URLs in an error text (proxy URLs may carry a password)."""
    return _USERINFO.sub("//", text)


def origin(url: str) -> Tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in: what "the same server" means."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def ssl_context(ca_file: Optional[str]) -> ssl.SSLContext:
    """System trust plus the --registry-ca bundle (urllib3 loads no defaults for a given context)."""
    ctx = ssl.create_default_context()
    if ca_file:
        try:
            ctx.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise TransportError("TLS", f"cannot read the CA bundle {ca_file}: {exc}") from exc
    return ctx


class Transport:
    """One connection pool per (proxy or direct), shared by every probe thread."""

    def __init__(
        self,
        timeout: Optional[float],
        ca_file: Optional[str] = None,
        maxsize: int = 8,
        env: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._ctx = ssl_context(ca_file)
        self._seconds = timeout
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout) if timeout else urllib3.Timeout(None, None)
        self._env: Mapping[str, str] = dict(os.environ if env is None else env)
        self._maxsize = max(1, maxsize)
        self._direct = urllib3.PoolManager(
            num_pools=32, maxsize=self._maxsize, ssl_context=self._ctx, retries=False, timeout=self._timeout
        )
        self._proxies: Dict[str, urllib3.ProxyManager] = {}

    def _manager(self, url: str) -> urllib3.PoolManager:
        proxy = proxy_for(url, self._env)
        if not proxy:
            return self._direct
        manager = self._proxies.get(proxy)
        if manager is None:
            clean, headers = proxy_credentials(proxy)
            proxy_ctx = self._ctx if urlsplit(proxy).scheme == "https" else None
            manager = urllib3.ProxyManager(
                clean,
                num_pools=32,
                maxsize=self._maxsize,
                proxy_headers=headers,
                ssl_context=self._ctx,
                retries=False,
                timeout=self._timeout,
                proxy_ssl_context=proxy_ctx,
            )
            self._proxies[proxy] = manager
        return manager

    def send(self, method: str, url: str, headers: Mapping[str, str], read_body: bool = True) -> Response:
        """One request, following up to MAX_REDIRECTS redirects; Authorization stays on its origin."""
        hdrs = dict(headers)
        first = origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            resp = self._once(method, url, hdrs, read_body)
            location = resp.header("location")
            if resp.status not in (301, 302, 303, 307, 308) or not location:
                return resp
            target = urljoin(url, location)
            if urlsplit(target).scheme not in ("http", "https"):
                return resp
            if origin(target) != first:
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
            if resp.status == 303 and method != "HEAD":
                method = "GET"
            log.debug("probe: %s redirected to %s", _safe_url(url), _safe_url(target))
            url = target
        raise TransportError("CONNECTION", f"more than {MAX_REDIRECTS} redirects from {_safe_url(url)}")

    def _once(self, method: str, url: str, headers: Mapping[str, str], read_body: bool) -> Response:
        manager = self._manager(url)
        limit = for_request(self._seconds)  # the whole request: connect, TLS, headers and body
        if limit.expired():
            raise TransportError("TIMEOUT", f"{_where(url)}: not asked: the deadline had passed")
        wait = limit.socket_timeout()
        try:
            raw = manager.request(
                method, url, headers=dict(headers), redirect=False, retries=False, preload_content=False,
                timeout=urllib3.Timeout(connect=wait, read=wait) if wait is not None else self._timeout,
            )
            try:
                body = read_limited(raw, limit, MAX_BODY) if read_body and method != "HEAD" else b""
            finally:
                raw.release_conn()
        except SSLError as exc:
            raise TransportError("TLS", f"TLS with {_where(url)} failed: {_reason(exc)}") from None
        # NewConnectionError subclasses ConnectTimeoutError: test it first.
        except NewConnectionError as exc:
            raise TransportError("CONNECTION", f"cannot connect to {_where(url)}: {_reason(exc)}") from None
        except (ConnectTimeoutError, ReadTimeoutError) as exc:
            raise TransportError("TIMEOUT", f"{_where(url)} timed out: {_reason(exc)}") from None
        except TimeoutError:  # the body did not arrive whole before the deadline
            raise TransportError("TIMEOUT", f"{_where(url)} timed out: no complete answer in time") from None
        except ProxyError as exc:
            raise TransportError("CONNECTION", f"proxy for {_where(url)} failed: {_reason(exc)}") from None
        except HTTPError as exc:
            if "timed out" in str(exc):
                raise TransportError("TIMEOUT", f"{_where(url)} timed out") from None
            raise TransportError("CONNECTION", f"{_where(url)}: {_reason(exc)}") from None
        except OSError as exc:
            raise TransportError("CONNECTION", f"{_where(url)}: {_reason(exc)}") from None
        headers_out = tuple((str(k), str(v)) for k, v in raw.headers.items())
        log.debug("probe: %s %s -> %d", method, _safe_url(url), raw.status)
        return Response(url=url, status=raw.status, headers=headers_out, body=body)

    def close(self) -> None:
        self._direct.clear()
        for manager in self._proxies.values():
            manager.clear()


def _where(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


def _safe_url(url: str) -> str:
    """The URL without userinfo and query (a realm query could carry anything)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{_where(url)}{parts.path}"


def _reason(exc: BaseException) -> str:
    """The innermost useful text of an exception chain, without credentials, on one line."""
    inner: BaseException = exc
    for _ in range(5):
        nxt = getattr(inner, "reason", None)
        if isinstance(nxt, BaseException):
            inner = nxt
            continue
        if inner.args and isinstance(inner.args[0], BaseException):
            inner = inner.args[0]
            continue
        break
    text = str(inner) or type(inner).__name__
    text = scrub(" ".join(text.split()))
    return text[:300]
