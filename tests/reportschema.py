"""Every report the suite produces is validated against the published schemas.

`docs/report.schema.json` (check -o json|yaml), `docs/fix-report.schema.json` (fix -o json|yaml) and the
official SARIF 2.1.0 schema (from ../shared/schemas, when present). In-process runs are covered by the
autouse fixture in conftest.py (it wraps the functions that build the documents); runs of the console script
through `tests.clitools.run` by `validate_output`.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[1]
REPORT_SCHEMA = ROOT / "docs" / "report.schema.json"
FIX_SCHEMA = ROOT / "docs" / "fix-report.schema.json"
# ../shared beside the clone (as CI lays it out); IMGACCESS_SHARED points elsewhere (a worktree elsewhere)
SHARED = Path(os.environ.get("IMGACCESS_SHARED") or ROOT.parent / "shared")
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"

validated = {"report": 0, "fix": 0, "sarif": 0}  # how many documents this session checked, per kind


@functools.cache
def _validator(path: Path) -> Any:
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(kind: str, doc: Any) -> None:
    """Raise jsonschema.ValidationError unless `doc` is valid for `kind` ("report", "fix" or "sarif")."""
    path = {"report": REPORT_SCHEMA, "fix": FIX_SCHEMA, "sarif": SARIF_SCHEMA}[kind]
    if kind == "sarif" and not path.exists():
        return  # ../shared is not beside this clone
    _validator(path).validate(doc)
    validated[kind] += 1


def _output_format(args: Sequence[str]) -> Optional[str]:
    fmt = None
    for i, arg in enumerate(args):
        if arg in ("-o", "--output") and i + 1 < len(args):
            fmt = args[i + 1]
        elif arg.startswith("--output="):
            fmt = arg.split("=", 1)[1]
    return fmt


def validate_output(args: Sequence[str], stdout: str, returncode: int) -> None:
    """Validate what `kubectl-imgaccess ARGS` printed, when it printed a report."""
    command = next((a for a in args if not a.startswith("-")), None)
    fmt = _output_format(args)
    if command not in ("check", "fix") or fmt not in ("json", "yaml", "sarif") or returncode == 2 or not stdout:
        return
    doc: Dict[str, Any] = json.loads(stdout) if fmt in ("json", "sarif") else yaml.safe_load(stdout)
    validate("sarif" if fmt == "sarif" else "fix" if command == "fix" else "report", doc)
