"""The checks krew and krew-index apply to a plugin manifest, as facts restated in Python.

Sources of the facts: krew's structural validation of a Plugin (its index validation package), the
semantic-version parser krew uses for spec.version (k8s.io/apimachinery's ParseSemantic, with a leading
`v`), the platform checks of krew's validate-krew-manifest command (every platform entry matches a supported
os/arch, no os/arch matched twice, line lengths), how krew moves `files` (a clean `to` path inside the
install folder), and krew-index's review guideline that a shortDescription stays short (50 characters).
`validate` returns every problem it finds, one line each; an empty list means the manifest passes.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

API_VERSION = "krew.googlecontainertools.github.com/v1alpha2"
KIND = "Plugin"
SAFE_NAME = re.compile(r"[\w-]+", re.ASCII)
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
SHA256 = re.compile(r"[a-f0-9]{64}")
# ParseSemantic: MAJOR.MINOR.PATCH without leading zeros, then optional -pre.release and +build.meta.
SEMVER = re.compile(
    r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
SELECTOR_KEYS = frozenset({"os", "arch"})
OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
# The os/arch pairs krew itself is released for (validate-krew-manifest's list).
SUPPORTED: Tuple[Tuple[str, str], ...] = (
    ("windows", "386"), ("windows", "amd64"), ("windows", "arm64"),
    ("linux", "386"), ("linux", "amd64"), ("linux", "arm"), ("linux", "arm64"), ("linux", "ppc64le"),
    ("darwin", "386"), ("darwin", "amd64"), ("darwin", "arm64"),
)
SHORT_DESCRIPTION_MAX = 50  # krew-index review guideline
LINE_MAX = {"description": 80, "caveats": 80, "shortDescription": 70}  # validate-krew-manifest
ARCHIVE_SUFFIXES = (".tar.gz", ".zip")


def selector_matches(selector: Mapping[str, Any], os_name: str, arch: str) -> bool:
    """A label selector (matchLabels AND matchExpressions) against the labels os=..., arch=..."""
    labels = {"os": os_name, "arch": arch}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), list(expr.get("values") or [])
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def _lines_too_long(text: str, limit: int) -> bool:
    """A line over the limit counts only when it has a space (one long word, e.g. a URL, is allowed)."""
    return any(len(line) > limit and " " in line.strip() for line in text.split("\n"))


def _selector_problems(selector: Any) -> List[str]:
    if not isinstance(selector, Mapping):
        return ["selector: missing (a nil selector is not supported)"]
    labels, exprs = selector.get("matchLabels"), selector.get("matchExpressions")
    if labels is None and not exprs:
        return ["selector: empty selector is not supported"]
    out: List[str] = []
    if labels is not None and not labels:
        out.append("selector: matchLabels specified but empty")
    if exprs is not None and not exprs:
        out.append("selector: matchExpressions specified but empty")
    keys = list((labels or {}).keys()) + [e.get("key") for e in exprs or [] if isinstance(e, Mapping)]
    out += [f"selector: key {k!r} not supported (only os and arch)" for k in keys if k not in SELECTOR_KEYS]
    for expr in exprs or []:
        op = expr.get("operator") if isinstance(expr, Mapping) else None
        if op not in OPERATORS:
            out.append(f"selector: operator {op!r} is not a label selector operator")
        elif op in ("In", "NotIn") and not expr.get("values"):
            out.append(f"selector: operator {op} needs values")
    return out


def _platform_problems(platform: Mapping[str, Any]) -> List[str]:
    out: List[str] = []
    uri = platform.get("uri")
    if not uri:
        out.append("uri has to be set")
    elif not str(uri).endswith(ARCHIVE_SUFFIXES):
        out.append(f"uri {uri} is not a .tar.gz or .zip archive")
    sha = platform.get("sha256")
    if not sha:
        out.append("sha256 sum has to be set")
    elif not SHA256.fullmatch(str(sha)):
        out.append(f"sha256 value {sha} is not valid (64 lowercase hex digits)")
    if not platform.get("bin"):
        out.append("bin has to be set")
    files = platform.get("files")
    if files is not None:
        if not files:
            out.append("files has to be unspecified or non-empty")
        for op in files or []:
            if not op.get("from"):
                out.append("files: from has to be set")
            if not op.get("to"):
                out.append("files: to has to be set")
            elif posixpath.normpath(str(op["to"])) != str(op["to"]):
                out.append(f"files: to {op['to']!r} is not a clean path")
            elif str(op["to"]).startswith(("/", "..")):
                out.append(f"files: to {op['to']!r} leaves the install folder")
    return out + _selector_problems(platform.get("selector"))


def validate(manifest: Any, filename: str) -> List[str]:
    """Every problem with a Plugin manifest read from `filename` (NAME.yaml); [] when it passes."""
    if not isinstance(manifest, Mapping):
        return ["the manifest is not a mapping"]
    out: List[str] = []
    if manifest.get("apiVersion") != API_VERSION:
        out.append(f"apiVersion {manifest.get('apiVersion')!r} is not supported (want {API_VERSION})")
    if manifest.get("kind") != KIND:
        out.append(f"kind {manifest.get('kind')!r}: only {KIND} is supported")
    if not filename.endswith(".yaml"):
        out.append(f"{filename}: the manifest extension must be .yaml")
    name = posixpath.basename(filename)[: -len(".yaml")]
    if not SAFE_NAME.fullmatch(name) or name.upper() in WINDOWS_RESERVED:
        out.append(f"plugin name {name!r} is not allowed")
    if (manifest.get("metadata") or {}).get("name") != name:
        out.append(f"metadata.name should be {name!r}, like the file name")
    spec: Mapping[str, Any] = manifest.get("spec") or {}
    short = str(spec.get("shortDescription") or "")
    if not short:
        out.append("spec.shortDescription: should have a short description")
    elif "\n" in short or "\r" in short:
        out.append("spec.shortDescription: should not have line breaks")
    elif len(short) > SHORT_DESCRIPTION_MAX:
        out.append(f"spec.shortDescription: {len(short)} characters, over {SHORT_DESCRIPTION_MAX}")
    if not spec.get("description"):
        out.append("spec.description: required")
    for key, limit in LINE_MAX.items():
        if _lines_too_long(str(spec.get(key) or ""), limit):
            out.append(f"spec.{key}: a line exceeds {limit} characters")
    version = str(spec.get("version") or "")
    if not version:
        out.append("spec.version: should have a version specified")
    elif not SEMVER.fullmatch(version):
        out.append(f"spec.version {version!r}: not a semantic version starting with 'v'")
    platforms: Sequence[Mapping[str, Any]] = spec.get("platforms") or []
    if not platforms:
        out.append("spec.platforms: should have a platform specified")
    for i, platform in enumerate(platforms):
        out += [f"spec.platforms[{i}]: {p}" for p in _platform_problems(platform)]
        selector = platform.get("selector")
        if isinstance(selector, Mapping) and not any(selector_matches(selector, o, a) for o, a in SUPPORTED):
            out.append(f"spec.platforms[{i}]: selector matches no supported os/arch")
    claimed: Dict[Tuple[str, str], List[int]] = {}
    for i, platform in enumerate(platforms):
        chosen: Optional[Mapping[str, Any]] = platform.get("selector")
        for pair in SUPPORTED:
            if isinstance(chosen, Mapping) and selector_matches(chosen, *pair):
                claimed.setdefault(pair, []).append(i)
    out += [f"spec.platforms{idx}: overlapping selectors all select {o}/{a}"
            for (o, a), idx in claimed.items() if len(idx) > 1]
    return out
