"""The package's shape: stages import each other in one direction, no module imports itself in a
circle, and no module uses another's private names (a leading underscore means "this module only").

Read from the source with :mod:`ast`, so the rules hold for every module, imported by a test or not.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "toxiclinks"
# Each stage may import the foundation and the stages before it, never one after it.
FOUNDATION = {"errors", "config", "schema", "urls", "safeio", "__init__"}
STAGES = ["reading", "features", "model", "labels", "fetch", "audit", "serving", "cli"]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, level: int, module: str | None) -> str:
    """Absolute name of a (possibly relative) import's module."""
    if level == 0:
        return module or ""
    base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


class _Imports(ast.NodeVisitor):
    """Every import of a module: (target module, name or None, line, at module level?)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[tuple[str, str | None, int, bool]] = []
        self.module_aliases: dict[str, str] = {}
        self.attributes: list[tuple[str, str, int]] = []
        self.depth = 0

    def _nested(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _nested

    def visit_If(self, node: ast.If) -> None:
        # ``if TYPE_CHECKING:`` imports never run.
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith(PACKAGE):
                self.found.append((alias.name, None, node.lineno, self.depth == 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _resolve(self.name, node.level, node.module)
        if not target.startswith(PACKAGE):
            return
        for alias in node.names:
            full = f"{target}.{alias.name}"
            if full in MODULES:  # ``from . import _anchor as anchor``: a module
                self.found.append((full, None, node.lineno, self.depth == 0))
                self.module_aliases[alias.asname or alias.name] = full
            else:
                self.found.append((target, alias.name, node.lineno, self.depth == 0))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            self.attributes.append((node.value.id, node.attr, node.lineno))
        self.generic_visit(node)


def _imports() -> dict[str, _Imports]:
    out = {}
    for name, path in MODULES.items():
        visitor = _Imports(name)
        visitor.visit(ast.parse(path.read_text("utf-8"), str(path)))
        out[name] = visitor
    return out


IMPORTS = _imports()


def _private_part(module: str) -> str | None:
    """The package a private module belongs to (``toxiclinks.reading`` for ``…reading._sniff``)."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_private_name_is_used_outside_its_module() -> None:
    problems = []
    for name, imp in IMPORTS.items():
        for target, imported, line, _ in imp.found:
            owner = _private_part(target)
            if owner is not None and not (name == owner or name.startswith(owner + ".")):
                problems.append(f"{name}:{line} imports private module {target}")
            if imported and imported.startswith("_") and not imported.startswith("__"):
                problems.append(f"{name}:{line} imports private name {target}.{imported}")
        for alias, attr, line in imp.attributes:
            if alias in imp.module_aliases and attr.startswith("_") and not attr.startswith("__"):
                problems.append(f"{name}:{line} uses private name {imp.module_aliases[alias]}.{attr}")
    assert not problems, "\n".join(problems)


def test_no_import_cycle() -> None:
    # Imports inside functions count too: a cycle put off until first call is still a cycle.
    graph: dict[str, set[str]] = defaultdict(set)
    for name, imp in IMPORTS.items():
        for target, _, _, _ in imp.found:
            if target in MODULES and target != name:
                graph[name].add(target)
    # A package's face imports its own modules; a module importing its package's face is the cycle.
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for module in sorted(MODULES):
        if module not in state and (cycle := visit(module)):
            pytest.fail("import cycle: " + " → ".join(cycle))


def test_stages_import_only_earlier_stages() -> None:
    order = {stage: i for i, stage in enumerate(STAGES)}
    problems = []
    for name, imp in IMPORTS.items():
        mine = _stage(name)
        if mine in FOUNDATION:
            allowed = FOUNDATION
        else:
            allowed = FOUNDATION | {s for s in STAGES if order[s] <= order[mine]}
        for target, _, line, _ in imp.found:
            theirs = _stage(target)
            if theirs not in allowed and not (mine == "__init__" and theirs == "reading"):
                problems.append(f"{name}:{line} ({mine}) imports {target} ({theirs})")
    assert not problems, "\n".join(problems)


def test_every_stage_has_a_public_face() -> None:
    for stage in STAGES:
        if stage == "cli" or f"{PACKAGE}.{stage}" not in MODULES:
            continue
        tree = ast.parse(MODULES[f"{PACKAGE}.{stage}"].read_text("utf-8"))
        names = {t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
                 for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                 if isinstance(t, ast.Name)}
        assert "__all__" in names, f"{stage}/__init__.py has no __all__"
        assert ast.get_docstring(tree), f"{stage}/__init__.py says nothing of what the stage does"
