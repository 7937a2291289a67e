"""Push a tiny image into a registry over the distribution API, without docker.

Blob upload (`POST` then monolithic `PUT ...&digest=`) for a config and one layer, then an OCI image
manifest under a tag. Returns the manifest digest so tests can probe by digest as well.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from typing import Dict, Optional, Tuple
from urllib.parse import urljoin

import urllib3

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tiny_layer(text: str) -> bytes:
    """A gzipped tar holding one small file, deterministic for a given text."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = text.encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class Pusher:
    """Pushes images to one registry with Basic credentials (or none)."""

    def __init__(self, base_url: str, ca_file: str, auth: Optional[Tuple[str, str]] = None) -> None:
        self.base = base_url.rstrip("/")
        self.http = urllib3.PoolManager(ca_certs=ca_file)
        self.headers: Dict[str, str] = {}
        if auth:
            self.headers.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))

    def _check(self, resp: urllib3.BaseHTTPResponse, expect: int, what: str) -> None:
        if resp.status != expect:
            raise RuntimeError(f"{what}: HTTP {resp.status} {resp.data[:300]!r}")

    def blob(self, name: str, data: bytes) -> str:
        digest = _digest(data)
        resp = self.http.request("POST", f"{self.base}/v2/{name}/blobs/uploads/", headers=self.headers)
        self._check(resp, 202, "start upload")
        location = urljoin(self.base + "/", resp.headers["Location"])
        sep = "&" if "?" in location else "?"
        headers = dict(self.headers, **{"Content-Type": "application/octet-stream"})
        resp = self.http.request("PUT", f"{location}{sep}digest={digest}", body=data, headers=headers)
        self._check(resp, 201, "finish upload")
        return digest

    def image(self, name: str, tag: str, text: str = "hello") -> str:
        """Push config + one layer + an OCI manifest; return the manifest digest."""
        layer = tiny_layer(text)
        diff_id = _digest(gzip.decompress(layer))
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": ["/hello.txt"]},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            },
            sort_keys=True,
        ).encode()
        config_digest = self.blob(name, config)
        layer_digest = self.blob(name, layer)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": OCI_LAYER, "digest": layer_digest, "size": len(layer)}],
            },
            sort_keys=True,
        ).encode()
        headers = dict(self.headers, **{"Content-Type": OCI_MANIFEST})
        resp = self.http.request("PUT", f"{self.base}/v2/{name}/manifests/{tag}", body=manifest, headers=headers)
        self._check(resp, 201, "put manifest")
        return _digest(manifest)
