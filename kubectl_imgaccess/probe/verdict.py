"""Probe results -> the contract's rules (IA012-IA015): one pure function, no I/O."""

from __future__ import annotations

from typing import Optional, Tuple

from kubectl_imgaccess.audit.report import ProbeOutcome
from kubectl_imgaccess.probe.types import ProbeResult
from kubectl_imgaccess.text import redact

TERMS_REGISTRY = "container-registry.oracle.com"


def _credential_text(result: ProbeResult) -> str:
    return f" with {result.credential}" if result.credential is not None else " anonymously"


def _named(repository: str, text: str) -> str:
    """Lead with the repository unless the registry's answer already names it."""
    return text if repository in text else f"{repository}: {text}"


def probe_rule(result: ProbeResult, repository: str) -> Optional[Tuple[str, str]]:
    """(rule id, message) for a probe result, or None when the pull works.

    "error" maps to no rule: the probe could not judge, which says nothing about the credentials.
    """
    host = repository.split("/", 1)[0].lower()
    if result.status == "unauthorized":
        tried = f"{result.attempts} credential(s)" if result.attempts else "anonymous access"
        return "IA012", _named(repository, f"the registry rejected {tried}: {result.message}")
    if result.status == "denied":
        message = _named(repository, f"pull denied{_credential_text(result)}: {result.message}")
        if host == TERMS_REGISTRY:
            message += (
                f"; accept the license terms for this repository once at https://{TERMS_REGISTRY}"
                " (sign in with the account of this credential, find the repository, accept its terms)"
            )
        return "IA013", message
    if result.status == "not-found":
        return "IA014", _named(repository, result.message)
    if result.status == "unreachable":
        return "IA015", _named(repository, f"registry not reachable: {result.message}")
    return None


def outcome(result: ProbeResult, repository: str) -> ProbeOutcome:
    """The audit's view of a probe result: what was answered and which rule it raises."""
    rule = probe_rule(result, repository)
    credential = result.credential.ref if result.credential is not None else None
    return ProbeOutcome(result.status, result.http_status, result.error_code, credential,
                        redact(result.message), rule=rule[0] if rule else None,
                        finding=redact(rule[1]) if rule else "")
