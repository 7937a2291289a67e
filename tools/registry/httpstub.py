"""Small loopback HTTP(S) servers for what a real registry will not do on demand (429, redirects).

`StubServer(handler)` runs `handler(request) -> Reply` for every request in a background thread and
records each request (method, path, headers) so tests can assert on what reached which host.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # including the query string
    headers: Dict[str, str]  # lower-cased names

    def header(self, name: str) -> Optional[str]:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    headers: Dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Request], Reply]


class StubServer:
    """A threaded HTTP(S) server on 127.0.0.1, port 0; use as a context manager."""

    def __init__(self, handler: Handler, tls: Optional[Tuple[str, str]] = None, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.requests: List[Request] = []
        self._lock = threading.Lock()
        stub = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                with stub._lock:
                    stub.requests.append(req)
                reply = stub.handler(req)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_HEAD = do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, 0), _H)
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="stub", daemon=True)

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> StubServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(30)

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def seen(self) -> List[Request]:
        with self._lock:
            return list(self.requests)
