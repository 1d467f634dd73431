"""The package layout keeps its shape: every module imports only along the direction docs/architecture.md
records (its Layering table is the one source), no module-level import cycle comes back, and code outside
`src/aiplane` imports only the public names that document lists."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "aiplane"
ARCHITECTURE = REPO / "docs" / "architecture.md"
# Folders whose imports of aiplane must stay within the public table.
PUBLIC_IMPORTERS = ("xrds", "compositions", "stacks", "policypacks")

ROOT = "aiplane"


def _table(heading: str) -> list[list[str]]:
    """Rows (cells stripped) of the first Markdown table under `## heading` in docs/architecture.md."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]  # header, rule


def _ticked(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def recorded_layering() -> dict[str, frozenset[str]]:
    """Unit → the other units it may import, as docs/architecture.md records them."""
    layering: dict[str, frozenset[str]] = {}
    for unit_cell, allowed_cell in _table("Layering"):
        (unit,) = _ticked(unit_cell)
        layering[unit] = frozenset(_ticked(allowed_cell))
    return layering


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. aiplane.policy.model
    target: str  # the module it imports, e.g. aiplane.policy.context
    line: int
    module_level: bool  # runs when the module is imported (not inside a function)


def module_name(package_root: Path, path: Path) -> str:
    parts = path.relative_to(package_root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((ROOT, *parts))


def unit_of(module: str) -> str:
    parts = module.split(".")
    return ROOT if len(parts) == 1 else f"{ROOT}.{parts[1]}"


def _is_module(package_root: Path, dotted: str) -> bool:
    path = package_root.joinpath(*dotted.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _walk(child, nested)


def imports_of(package_root: Path, path: Path) -> list[Import]:
    """aiplane modules a module imports; `from pkg import name` means pkg.name when that is a module."""
    module = module_name(package_root, path)
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node, in_function in _walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            targets = []
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.append(candidate if _is_module(package_root, candidate) else base)
        else:
            continue
        found += [Import(module, target, node.lineno, not in_function)
                  for target in targets if target == ROOT or target.startswith(f"{ROOT}.")]
    return found


def _modules(package_root: Path) -> Iterator[Path]:
    return (p for p in sorted(package_root.rglob("*.py")) if "__pycache__" not in p.parts)


def layering_problems(package_root: Path, layering: dict[str, frozenset[str]]) -> list[str]:
    """One line per module outside a recorded unit and per import against the recorded direction."""
    problems: list[str] = []
    for path in _modules(package_root):
        module = module_name(package_root, path)
        unit = unit_of(module)
        where = path.relative_to(package_root.parent)
        if unit not in layering:
            problems.append(f"{where}: {unit} is not a unit of docs/architecture.md's Layering table")
            continue
        for imp in imports_of(package_root, path):
            target_unit = unit_of(imp.target)
            if target_unit != unit and target_unit not in layering[unit]:
                problems.append(f"{where}:{imp.line}: {unit} must not import {imp.target} ({target_unit})")
    return problems


def import_cycles(package_root: Path) -> list[list[str]]:
    """Cycles among module-level imports (TYPE_CHECKING blocks included), each as its modules in order."""
    graph: dict[str, set[str]] = {}
    for path in _modules(package_root):
        module = module_name(package_root, path)
        graph[module] = {i.target for i in imports_of(package_root, path) if i.module_level} - {module}
    # Tarjan's strongly connected components: a component of two or more modules is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _docstring_allows(init: Path) -> frozenset[str] | None:
    """The units a package's docstring says it may import (`May import: ...`), None when it does not say."""
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    match = re.search(r"May import:(.*)$", " ".join(doc.split()))
    if match is None:
        return None
    return frozenset(_ticked(match.group(1)))


# --- the recorded direction ------------------------------------------------------------------------------


def test_the_recorded_direction_has_no_cycle() -> None:
    layering = recorded_layering()
    order: list[str] = []
    visiting: set[str] = set()

    def place(unit: str, path: tuple[str, ...]) -> None:
        assert unit not in visiting, f"the Layering table loops: {' → '.join((*path, unit))}"
        if unit in order:
            return
        visiting.add(unit)
        for lower in sorted(layering[unit]):
            assert lower in layering, f"{unit} may import {lower}, which has no row"
            place(lower, (*path, unit))
        visiting.discard(unit)
        order.append(unit)

    for unit in sorted(layering):
        place(unit, ())


def test_every_unit_of_the_table_exists_and_only_the_recorded_modules_sit_at_the_top() -> None:
    layering = recorded_layering()
    present = {unit_of(module_name(PACKAGE, p)) for p in _modules(PACKAGE)}
    assert set(layering) == present
    top_level = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top_level == [
        "__init__.py", "__main__.py", "cli.py", "completion.py", "console.py", "docstrings.py", "errors.py",
        "extras.py", "project.py", "pycache.py", "pydantic_plugins.py", "quick_exit.py", "revision.py", "yamlio.py",
    ]


def test_every_package_docstring_states_its_row_of_the_table() -> None:
    layering = recorded_layering()
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        unit = unit_of(module_name(PACKAGE, init))
        assert _docstring_allows(init) == layering[unit], (
            f"{init.relative_to(REPO)}: its docstring's 'May import:' differs from docs/architecture.md"
        )


# --- the code keeps it -----------------------------------------------------------------------------------


def test_every_module_imports_along_the_recorded_direction() -> None:
    assert layering_problems(PACKAGE, recorded_layering()) == []


def test_no_module_imports_itself_through_others() -> None:
    assert import_cycles(PACKAGE) == []


# --- and the checks can fail -----------------------------------------------------------------------------


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "aiplane"
    # shipped/ links to the top-level xrds/, compositions/... (package data, checked as public importers).
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "data", "shipped", "templates"))
    return copy


def _plant(path: Path, line: str) -> int:
    """Append an import to a module; returns its line number."""
    text = path.read_text(encoding="utf-8")
    path.write_text(f"{text}{line}\n", encoding="utf-8")
    return len(path.read_text(encoding="utf-8").splitlines())


def test_an_import_against_the_direction_is_reported(package_copy: Path) -> None:
    layering = recorded_layering()
    assert layering_problems(package_copy, layering) == []
    # validation must judge any object without knowing how aiplane synthesizes, even from a function.
    line = _plant(package_copy / "validation" / "findings.py",
                  "def _late():\n    from aiplane.synthesis.pipeline import synthesize")
    assert layering_problems(package_copy, layering) == [
        f"aiplane/validation/findings.py:{line}: aiplane.validation must not import "
        "aiplane.synthesis.pipeline (aiplane.synthesis)"
    ]


def test_a_relative_import_against_the_direction_is_reported(package_copy: Path) -> None:
    line = _plant(package_copy / "catalog" / "fields.py", "from ..authoring import api")
    assert layering_problems(package_copy, recorded_layering()) == [
        f"aiplane/catalog/fields.py:{line}: aiplane.catalog must not import aiplane.authoring.api "
        "(aiplane.authoring)"
    ]


def test_a_module_outside_the_recorded_units_is_reported(package_copy: Path) -> None:
    (package_copy / "helpers.py").write_text('"""A flat module again."""\n', encoding="utf-8")
    assert layering_problems(package_copy, recorded_layering()) == [
        "aiplane/helpers.py: aiplane.helpers is not a unit of docs/architecture.md's Layering table"
    ]


def test_the_cycle_between_rule_context_and_rule_model_would_be_reported(package_copy: Path) -> None:
    # The cycle this layout broke: the rule's shape (model) builds on what a rule reads (context).
    assert import_cycles(package_copy) == []
    _plant(package_copy / "policy" / "context.py",
           "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from aiplane.policy.model import Rule")
    assert import_cycles(package_copy) == [["aiplane.policy.context", "aiplane.policy.model"]]


# --- public imports --------------------------------------------------------------------------------------


def recorded_public_names() -> dict[str, frozenset[str]]:
    return {_ticked(module)[0]: frozenset(_ticked(names)) for module, names, _ in _table("Public imports")}


def _public_importers() -> Iterator[Path]:
    for folder in PUBLIC_IMPORTERS:
        yield from sorted((REPO / folder).rglob("*.py"))


def test_xrds_compositions_stacks_and_the_pack_import_only_public_names() -> None:
    public = recorded_public_names()
    outside: list[str] = []
    for path in _public_importers():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                outside += [f"{path.relative_to(REPO)}: import {a.name}" for a in node.names
                            if a.name.split(".")[0] == ROOT]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == ROOT:
                assert node.module is not None
                outside += [f"{path.relative_to(REPO)}: {node.module}.{a.name}" for a in node.names
                            if a.name not in public.get(node.module, frozenset())]
    assert outside == []


def test_every_public_name_exists() -> None:
    missing = [f"{module}.{name}" for module, names in recorded_public_names().items()
               for name in sorted(names) if not hasattr(importlib.import_module(module), name)]
    assert missing == []
