"""A minimal HTTP CONNECT proxy on 127.0.0.1 that records which targets it tunnelled to.

Enough to prove that the probe honours HTTPS_PROXY and NO_PROXY: the tunnel is real, TLS runs through
it end to end to the real registry.
"""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from typing import List, Optional, Tuple


class ConnectProxy:
    """`with ConnectProxy() as p:` -> p.url; p.tunnels lists (target, Proxy-Authorization or None)."""

    def __init__(self) -> None:
        self.tunnels: List[Tuple[str, Optional[str]]] = []
        self._lock = threading.Lock()
        proxy = self

        class _Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                request_line = self.rfile.readline(65536).decode("latin-1").strip()
                auth: Optional[str] = None
                for _ in range(100):  # headers
                    line = self.rfile.readline(65536).decode("latin-1")
                    if line in ("\r\n", "\n", ""):
                        break
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "proxy-authorization":
                        auth = value.strip()
                parts = request_line.split()
                if len(parts) < 2 or parts[0] != "CONNECT":
                    self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                    return
                with proxy._lock:
                    proxy.tunnels.append((parts[1], auth))
                host, _, port = parts[1].rpartition(":")
                try:
                    upstream = socket.create_connection((host.strip("[]"), int(port)))
                except OSError:
                    self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    return
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                self._pipe(self.connection, upstream)

            def _pipe(self, a: socket.socket, b: socket.socket) -> None:
                try:
                    while True:
                        readable, _, _ = select.select([a, b], [], [])
                        for sock in readable:
                            data = sock.recv(65536)
                            if not data:
                                return
                            (b if sock is a else a).sendall(data)
                except OSError:
                    return
                finally:
                    b.close()

        class _Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ConnectProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(30)

    def seen(self) -> List[Tuple[str, Optional[str]]]:
        with self._lock:
            return list(self.tunnels)
