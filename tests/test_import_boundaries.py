"""The import contract (ARCHITECTURE.md): layers, no cycles, lazy imports only at the documented seams.

Every import of every module counts: top level, inside functions, under TYPE_CHECKING, and
`importlib.import_module("literal")`. The --help, --offline, rules, explain and version paths never import
the `kubernetes` client (checked in a fresh interpreter).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

from tests.clitools import FIXTURES

PACKAGE = Path(__file__).resolve().parents[1] / "kubectl_imgaccess"

# Bottom to top. A module imports only from lower layers, or from its own top-level package (module) in
# the same layer; the layer-0 modules are leaves that may import one another (without cycles).
LAYERS: Tuple[Tuple[str, ...], ...] = (
    ("kubectl_imgaccess", "errors", "exitcodes", "objects", "selectors", "catalog", "text", "durations", "deadline",
     "progress", "proxies", "concurrency"),
    ("kubelet", "weblogic"),
    ("audit",),
    ("probe", "manifests", "kube", "render"),
    ("fix",),
    ("cli",),
    ("__main__",),
)

# The only places an import may sit inside a function: each is a start-up seam (`make bench`).
SEAMS: Dict[str, str] = {
    "kubectl_imgaccess.cli.main._command": "a command's use case loads when that command runs (--help)",
    "kubectl_imgaccess.cli.check._connect": "the cluster client loads only when a cluster is read",
    "kubectl_imgaccess.cli.check._read_cluster": "the cluster reader loads only when a cluster is read",
    "kubectl_imgaccess.cli.check._read_cluster_for": "as _read_cluster: mixed mode (Domains from files)",
    "kubectl_imgaccess.cli.check.run_probe": "the probe and urllib3 load only with --probe",
    "kubectl_imgaccess.cli.check._context_names": "the kubeconfig is read for contexts only with --all-contexts",
    "kubectl_imgaccess.cli.check._write_reports": "the PolicyReport writer loads only with --write-reports",
    "kubectl_imgaccess.render.render": "a format's module and library load only for that format",
    "kubectl_imgaccess.render.render_into": "as render: JSON's Domain-by-Domain writer loads only for JSON",
    "kubectl_imgaccess.kube.client.*": "urllib3 loads on the first request, the kubernetes client for an auth-provider",
    "kubectl_imgaccess.cli.complete.*": "TAB completion: YAML and the cluster reader only when a candidate needs them",
}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (a module of the package, or a third-party top-level name)
    line: int
    function: Optional[str]  # qualified name of the enclosing function, None at module level


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: Dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str:
    """The package module a dotted name lives in (`a.b.C` -> `a.b` when `a.b` is a module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports_of(name: str) -> Iterator[Import]:
    path = MODULES[name]
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))

    def visit(node: ast.AST, function: Optional[str]) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            scope = function
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                prefix = function + "." if function else f"{name}."
                scope = prefix + child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    else function
            targets: List[str] = []
            if isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - child.level + 1]
                    base = ".".join(here + ([child.module] if child.module else []))
                targets = [f"{base}.{a.name}" for a in child.names]
            elif isinstance(child, ast.Call) and isinstance(child.func, (ast.Attribute, ast.Name)):
                called = child.func.attr if isinstance(child.func, ast.Attribute) else child.func.id
                if called in ("import_module", "__import__") and child.args \
                        and isinstance(child.args[0], ast.Constant) and isinstance(child.args[0].value, str):
                    targets = [child.args[0].value]
            for target in targets:
                if target == "kubectl_imgaccess" or target.startswith("kubectl_imgaccess."):
                    resolved = _resolve(target)
                    if resolved != name:
                        yield Import(name, resolved, getattr(child, "lineno", 0), function)
                elif target != "__future__" and not target.startswith("__future__."):
                    yield Import(name, target.split(".")[0], getattr(child, "lineno", 0), function)
            yield from visit(child, scope)

    yield from visit(tree, None)


ALL: List[Import] = [imp for name in MODULES for imp in imports_of(name)]
INTERNAL = [i for i in ALL if i.target in MODULES]


def layer_of(name: str) -> Tuple[int, str]:
    parts = name.split(".")
    top = parts[1] if len(parts) > 1 else parts[0]
    for index, members in enumerate(LAYERS):
        if top in members:
            return index, top
    raise AssertionError(f"{name}: not in any layer of the contract; add it to LAYERS and ARCHITECTURE.md")


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        layer_of(name)


def test_no_module_imports_upward_or_sideways() -> None:
    offenders = []
    for imp in INTERNAL:
        (src_layer, src_top), (dst_layer, dst_top) = layer_of(imp.source), layer_of(imp.target)
        allowed = dst_layer < src_layer or src_top == dst_top or (src_layer == dst_layer == 0)
        if not allowed:
            offenders.append(f"{imp.source}:{imp.line} imports {imp.target} (layer {src_layer} -> {dst_layer})")
    assert offenders == []


def test_no_import_cycles() -> None:
    graph: Dict[str, Set[str]] = {name: set() for name in MODULES}
    for imp in INTERNAL:
        graph[imp.source].add(imp.target)
    # A package's __init__ that imports its own submodules is not a cycle of the design (Python loads the
    # package first in any case); every other back edge is.
    cycles: List[List[str]] = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if node.startswith(nxt + ".") and MODULES[nxt].name == "__init__.py":
                continue  # a submodule importing its package's __init__ (e.g. a constant)
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == []


def test_lazy_imports_only_at_the_seams() -> None:
    def seam(function: str) -> bool:
        module = function.rsplit(".", 1)[0]
        return function in SEAMS or any(
            key.endswith(".*") and (function.startswith(key[:-1]) or module == key[:-2]) for key in SEAMS)

    offenders = [f"{i.source}:{i.line} imports {i.target} inside {i.function}"
                 for i in ALL if i.function is not None and not seam(i.function)]
    assert offenders == []
    used = {i.function for i in ALL if i.function is not None}
    for key in SEAMS:  # a seam that no longer defers anything is stale: drop it from the contract
        assert any(f == key or (key.endswith(".*") and f.startswith(key[:-1])) for f in used), key


def test_the_seams_say_so() -> None:
    """Each seam function's docstring (or its module's, for a whole-module seam) names the laziness."""
    for key in SEAMS:
        module, _, function = key.rpartition(".")
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        if function == "*":
            doc = ast.get_docstring(tree) or ""
        else:
            nodes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function]
            assert nodes, key
            doc = ast.get_docstring(nodes[0]) or ""
        assert "lazy" in doc.lower() or "imported inside functions" in doc, key


def test_only_the_cluster_adapter_imports_kubernetes() -> None:
    offenders = [f"{i.source}:{i.line}" for i in ALL
                 if i.target == "kubernetes" and not i.source.startswith("kubectl_imgaccess.kube.")]
    assert offenders == []


def test_the_contract_sees_function_level_and_importlib_imports() -> None:
    """The walk itself: a seam's deferred import and the client's importlib call are both found."""
    assert any(i.source == "kubectl_imgaccess.cli.main" and i.target == "kubectl_imgaccess.cli.check"
               and i.function == "kubectl_imgaccess.cli.main._command" for i in ALL)
    assert any(i.source == "kubectl_imgaccess.kube.client" and i.function is not None for i in ALL)


PROGRAM = """
import contextlib, io, sys
from kubectl_imgaccess.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(code, "kubernetes" in sys.modules, any(m.startswith("kubernetes.") for m in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "--help"],
        ["fix", "--help"],
        ["rules"],
        ["rules", "-o", "json"],
        ["explain", "IA004"],
        ["explain", "secret-wrong-type"],
        ["version"],
        ["check", "--offline", "-f", str(FIXTURES)],
        ["check", "--offline", "-o", "sarif", "-f", str(FIXTURES / "three-mistakes.yaml")],
    ],
)
def test_kubernetes_is_not_imported(args: List[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROGRAM, *args], capture_output=True, text=True, check=True)
    code, imported, submodules = proc.stdout.split()
    assert code in ("0", "1")
    assert imported == "False" and submodules == "False"
