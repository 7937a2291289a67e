"""What part of a cluster to read: the kubectl-style flags, as plain data (no client import here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from kubectl_imgaccess.objects import ObjectKey


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
    # Mixed mode: the Domains come from files; the cluster supplies everything else they need.
    file_domains: Optional[List[ObjectKey]] = None
