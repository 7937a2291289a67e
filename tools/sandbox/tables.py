"""Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for with `Accept: ...;as=Table`."""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Tuple

from .resources import ResourceType
from .store import Obj


def _age(timestamp: Optional[str]) -> str:
    if not timestamp:
        return "<unknown>"
    try:
        created = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return "<unknown>"
    secs = max(0, int((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def _columns(rt: ResourceType) -> List[Tuple[str, str, Any]]:
    """Printer columns: (name, type, getter); Name first and Age last like the real printers."""
    cols: List[Tuple[str, str, Any]] = [("Name", "string", lambda o: o["metadata"]["name"])]
    if rt.kind == "Secret":
        cols += [
            ("Type", "string", lambda o: o.get("type", "")),
            ("Data", "integer", lambda o: len(o.get("data") or {})),
        ]
    elif rt.kind == "ServiceAccount":
        cols += [("Secrets", "integer", lambda o: len(o.get("secrets") or []))]
    elif rt.kind == "PolicyReport":  # the CRD's printer columns
        for key in ("pass", "fail", "warn", "error", "skip"):
            cols.append((key.capitalize(), "integer", lambda o, k=key: (o.get("summary") or {}).get(k, 0)))
    elif rt.kind == "Pod" or rt.kind == "Namespace":
        cols += [("Status", "string", lambda o: (o.get("status") or {}).get("phase", ""))]
    cols.append(("Age", "date", lambda o: _age(o["metadata"].get("creationTimestamp"))))
    return cols


def table(rt: ResourceType, items: List[Obj], include: str, list_meta: Dict[str, Any]) -> Obj:
    cols = _columns(rt)
    rows = []
    for o in items:
        row: Dict[str, Any] = {"cells": [getter(o) for _, _, getter in cols]}
        if include == "Object":
            row["object"] = o
        elif include != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o["metadata"],
            }
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": [
            {
                "name": n,
                "type": "string" if t == "date" else t,
                "format": "name" if n == "Name" else "",
                "description": n,
                "priority": 0,
            }
            for n, t, _ in cols
        ],
        "rows": rows,
    }
