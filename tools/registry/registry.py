"""Run Debian's `docker-registry` (Distribution 2.8) on 127.0.0.1 with port 0, and read its log.

The registry logs every request (access log lines such as `"HEAD /v2/x/manifests/v1 HTTP/1.1" 200`),
which is what the tests count requests on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from typing import Any, Dict, List, Optional

import urllib3

BINARY = "docker-registry"
_LISTENING = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
_ACCESS = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


def find_binary() -> Optional[str]:
    """Path of docker-registry, or None when it is not installed."""
    return shutil.which(BINARY) or (f"/usr/bin/{BINARY}" if os.path.exists(f"/usr/bin/{BINARY}") else None)


class RegistryProcess:
    """One docker-registry process: `start()`, `url`, `mark()`, `requests_since()`, `stop()`."""

    def __init__(self, binary: str, workdir: str, config: Dict[str, Any], ca_file: str) -> None:
        self.ca_file = ca_file
        self.binary = binary
        self.workdir = workdir
        self.config = config
        self.port = 0
        self._lines: List[str] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._grew = threading.Condition(self._lock)
        self._syncs = 0
        self._proc: Optional[subprocess.Popen[str]] = None
        self._reader: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RegistryProcess:
        os.makedirs(self.workdir, exist_ok=True)
        path = os.path.join(self.workdir, "config.yml")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.config, fh, indent=1)  # JSON is YAML
        self._proc = subprocess.Popen(
            [self.binary, "serve", path],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=self.workdir,
        )
        self._reader = threading.Thread(target=self._read, name="registry-log", daemon=True)
        self._reader.start()
        # A guard against a wedged binary, not a timing assumption: the registry starts in milliseconds.
        if not self._ready.wait(60) or not self.port:
            self.stop()
            raise RuntimeError("docker-registry did not start:\n" + "\n".join(self.log_lines()[-20:]))
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            with self._lock:
                self._lines.append(line.rstrip("\n"))
                self._grew.notify_all()
            if not self.port:
                m = _LISTENING.search(line)
                if m:
                    self.port = int(m.group(1))
                    self._ready.set()
        self._ready.set()  # exited: unblock start()

    def sync(self) -> None:
        """Wait until the log shows every request answered so far.

        The registry writes an access-log line after it has answered, so a test that counts lines right
        after its last response could miss one. Two marker requests sent afterwards, each waited for,
        push everything earlier through the log first.
        """
        http = urllib3.PoolManager(ca_certs=self.ca_file, retries=False)
        for _ in range(2):
            with self._lock:
                self._syncs += 1
                marker = f"/v2/imgaccess-sync-{self._syncs}/tags/list"
            http.request("GET", self.url + marker)

            def logged(m: str = marker) -> bool:
                return any(m in ln for ln in self._lines[-50:])

            with self._lock:
                # A guard against a wedged process, not a timing assumption.
                if not self._grew.wait_for(logged, 30):
                    raise RuntimeError(f"registry log never showed {marker}")
        http.clear()

    def log_lines(self) -> List[str]:
        with self._lock:
            return list(self._lines)

    def mark(self) -> int:
        """A position in the log after every request answered so far; see `requests_since`."""
        self.sync()
        with self._lock:
            return len(self._lines)

    def requests_since(self, mark: int) -> List[Dict[str, Any]]:
        """Access-log entries after `mark`, once every request answered so far is in the log."""
        self.sync()
        with self._lock:
            lines = self._lines[mark:]
        out: List[Dict[str, Any]] = []
        for line in lines:
            m = _ACCESS.search(line)
            if m:
                out.append({"method": m.group(1), "path": m.group(2), "status": int(m.group(3))})
        return out

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._reader is not None:
            self._reader.join(30)


def base_config(root: str, cert: str, key: str) -> Dict[str, Any]:
    """Common configuration: filesystem storage, TLS, port 0, debug logs with the access log on."""
    return {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
        "storage": {"filesystem": {"rootdirectory": root}, "delete": {"enabled": True}},
        "http": {
            "addr": "127.0.0.1:0",
            "secret": "imgaccess-test-secret",
            "tls": {"certificate": cert, "key": key},
        },
        "health": {"storagedriver": {"enabled": False}},
    }
