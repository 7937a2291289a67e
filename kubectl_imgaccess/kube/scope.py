"""What part of a cluster to read: the kubectl-style flags, as plain data (no client import here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from kubectl_imgaccess.progress import Progress


@dataclass(frozen=True)
class AuthOverrides:
    """kubectl's connection flags, laid over the kubeconfig entry they name (client-go's overrides)."""

    cluster: Optional[str] = None  # --cluster: the kubeconfig cluster entry to use instead of the context's
    user: Optional[str] = None  # --user: the kubeconfig user entry to use instead of the context's
    server: Optional[str] = None  # --server (-s): the API server's address
    certificate_authority: Optional[str] = None  # --certificate-authority FILE
    client_certificate: Optional[str] = None  # --client-certificate FILE
    client_key: Optional[str] = None  # --client-key FILE
    token: Optional[str] = None  # --token: a bearer token; replaces the user's own authentication
    insecure_skip_tls_verify: bool = False  # --insecure-skip-tls-verify
    tls_server_name: Optional[str] = None  # --tls-server-name: the name the server certificate is checked for
    as_user: Optional[str] = None  # --as: impersonate this user
    as_groups: Tuple[str, ...] = ()  # --as-group (repeatable)
    as_uid: Optional[str] = None  # --as-uid

    def any_connection(self) -> bool:
        """Whether the flags alone describe a connection (kubectl works without a kubeconfig then)."""
        return self.server is not None


@dataclass
class ClusterScope:
    kubeconfig: Optional[str] = None  # --kubeconfig, else $KUBECONFIG, else ~/.kube/config, else in-cluster
    context: Optional[str] = None  # --context
    namespace: Optional[str] = None  # -n; None = the context's namespace, else "default"
    all_namespaces: bool = False  # -A
    selector: Optional[str] = None  # -l, a label selector on Domains
    domains: List[str] = field(default_factory=list)  # DOMAIN names given as arguments
    request_timeout: Optional[float] = None  # seconds; None = no timeout
    verbosity: int = 0
    auth: AuthOverrides = field(default_factory=AuthOverrides)
    progress: Optional[Progress] = field(default=None, repr=False, compare=False)  # pages listed, on a terminal
