"""A Kubernetes API server of the project's own, for tests: real HTTPS, real kubectl, real client."""

from __future__ import annotations

from .auth import Rule
from .server import Fault, Recorded, Sandbox

__all__ = ["Fault", "Recorded", "Rule", "Sandbox"]
