"""Registry probe: ask each registry whether the kubelet's credentials really pull an image.

Talks the distribution/OCI API with urllib3 (never the `kubernetes` package) and never fetches a layer.
"""

from __future__ import annotations

from kubectl_imgaccess.probe.client import RegistryClient, api_base, probe
from kubectl_imgaccess.probe.types import ProbeOptions, ProbeResult, ProbeTarget
from kubectl_imgaccess.probe.verdict import probe_rule

__all__ = ["ProbeOptions", "ProbeResult", "ProbeTarget", "RegistryClient", "api_base", "probe", "probe_rule"]
