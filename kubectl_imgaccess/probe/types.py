"""What the probe is asked (ProbeTarget, ProbeOptions) and what it answers (ProbeResult)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import FrozenSet, Literal, Optional, Tuple

from kubectl_imgaccess.objects import Credential
from kubectl_imgaccess.progress import Progress

ProbeStatus = Literal["ok", "unauthorized", "denied", "not-found", "unreachable", "error"]


@dataclass(frozen=True)
class ProbeTarget:
    """One image to ask about, with the credentials the kubelet would try, in its order.

    `repository` is the normalized name ("docker.io/library/busybox", "127.0.0.1:5000/team/app");
    `reference` a tag or a "sha256:..." digest; no credentials means an anonymous pull.
    """

    repository: str
    reference: str
    credentials: Tuple[Credential, ...] = ()


@dataclass(frozen=True)
class ProbeResult:
    """The registry's answer for one target.

    status: "ok", "unauthorized" (every credential 401), "denied" (403 DENIED, or a token without
    pull rights), "not-found", "unreachable" (connection, TLS, timeout, 429) or "error".
    credential: the one that decided (the one that succeeded, or the failure reported); None when
    the pull is anonymous. attempts: how many credentials were tried.
    """

    status: ProbeStatus
    http_status: Optional[int]
    error_code: Optional[str]
    credential: Optional[Credential]
    message: str
    attempts: int


@dataclass
class ProbeOptions:
    """How to reach registries: timeout per request (None = none), parallel requests, hosts served
    over plain http, an extra CA bundle, and whether to show progress on stderr."""

    timeout: Optional[float] = 30.0
    concurrency: int = 8
    insecure_registries: FrozenSet[str] = field(default_factory=frozenset)
    ca_file: Optional[str] = None
    progress: Optional[Progress] = field(default=None, compare=False)  # on a terminal, the CLI's line
