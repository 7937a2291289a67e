"""--baseline FILE: findings already known (a previous `check -o json` report) do not count toward the gate.

A finding matches when its identity (rule, namespace, Domain, field, image, secret; see `report.identity`)
equals that of a finding in the baseline; messages and line numbers do not count. Findings that were
suppressed in the baseline are not taken as known: they were hidden, not accepted, so removing the
suppression brings them back. A baseline never makes an incomplete audit complete (exit 3 stays 3).
"""

from __future__ import annotations

import json
import os
from typing import Any, FrozenSet, List, Tuple

from kubectl_imgaccess.audit.report import Report, finding_identity, identity
from kubectl_imgaccess.errors import InputError

MAX_BYTES = 64 * 1024 * 1024  # a report of tens of thousands of Domains; anything larger is not one of ours

Identity = Tuple[str, ...]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _opt(value: Any) -> Any:
    return value if isinstance(value, str) else None


def load_baseline(path: str) -> FrozenSet[Identity]:
    """The identities of the unsuppressed findings of a `check -o json` report; InputError (exit 2) otherwise."""
    what = f"--baseline {path}"
    try:
        if os.path.isdir(path):
            raise InputError("is a directory, not a `check -o json` report", what)
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError("no such file", what) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or type(exc).__name__})", what) from None
    if len(data) > MAX_BYTES:
        raise InputError(f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not a `check -o json` report", what)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError("not JSON: a baseline is the output of `kubectl imgaccess check -o json`",
                         path if line else what, line) from None
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 1 or not isinstance(doc.get("domains"), list):
        raise InputError("not a `kubectl imgaccess check -o json` report (schemaVersion 1 with domains)", what)
    known: List[Identity] = []
    for f in _findings(doc.get("findings"), what):
        known.append(identity(_str(f.get("rule")), "", "", _opt(f.get("field")), _opt(f.get("image")),
                              _opt(f.get("secret")), _opt(f.get("subject"))))
    for d in doc["domains"]:
        if not isinstance(d, dict):
            raise InputError("not a `kubectl imgaccess check -o json` report (a Domain entry is not an object)",
                             what)
        ns, name = _str(d.get("namespace")), _str(d.get("name"))
        for f in _findings(d.get("findings"), what):
            known.append(identity(_str(f.get("rule")), ns, name, _opt(f.get("field")), _opt(f.get("image")),
                                  _opt(f.get("secret")), _opt(f.get("subject"))))
    return frozenset(known)


def _findings(value: Any, what: str) -> List[Any]:
    """Unsuppressed finding objects; a report whose findings are not a list is not a report."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError("not a `kubectl imgaccess check -o json` report (findings is not a list)", what)
    return [f for f in value if isinstance(f, dict) and f.get("suppressed") is not True]


def apply_baseline(report: Report, known: FrozenSet[Identity], path: str) -> None:
    """Mark the findings the baseline knows; count the baseline's findings this run no longer has."""
    seen = set()
    for f in report.findings:
        key = finding_identity(f, None)
        seen.add(key)
        f.baseline = key in known
    for d in report.domains:
        for f in d.findings:
            key = finding_identity(f, d)
            seen.add(key)
            f.baseline = key in known
    report.baseline = path
    report.baseline_absent = len(known - seen)
