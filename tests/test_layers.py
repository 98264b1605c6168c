"""The package's architecture holds: layered imports, no function-level imports of seqscale
modules, and docs/ARCHITECTURE.md's module table lists exactly the modules on disk."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "seqscale"

# Function-level imports of seqscale modules that stay, each with its reason.
ALLOWED_LATE_IMPORTS = {
    # importing these modules imports torch / keras: a scaler or a pipeline loads them on
    # to_torch() / to_keras() only, so that `import seqscale` stays light
    ("scalers/base.py", "seqscale.export.torch"),
    ("scalers/base.py", "seqscale.export.keras"),
    ("sequence/pipeline.py", "seqscale.export.torch"),
    # registers the Keras layer right after the user imports Keras (importing it earlier would
    # import Keras at `import seqscale`)
    ("export/keras_hook.py", "importlib.import_module"),
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_layers_contract_is_kept(monkeypatch):
    """pyproject.toml's import-linter layers contract (the one `make lint` runs)."""
    cli = pytest.importorskip("importlinter.cli")
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    assert cli.lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_no_import_cycles():
    """No module imports itself through others at run time (type-checking imports aside), so
    every module imports on its own, in any order."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("seqscale", exclude_type_checking_imports=True)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    assert cycles == []


def _late_imports(path: Path) -> list[tuple[int, str]]:
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if inside and isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                if child.module.split(".")[0] == "seqscale":
                    found.append((child.lineno, child.module))
            elif inside and isinstance(child, ast.ImportFrom) and child.level:
                found.append((child.lineno, "." * child.level + (child.module or "")))
            elif inside and isinstance(child, ast.Import):
                ours = [a.name for a in child.names if a.name.split(".")[0] == "seqscale"]
                found.extend((child.lineno, name) for name in ours)
            elif isinstance(child, ast.Call) and _dynamic_import(child):
                found.append((child.lineno, "importlib.import_module"))
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def _dynamic_import(call: ast.Call) -> bool:
    """importlib.import_module("seqscale...") or __import__("seqscale...") with a literal name."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if name not in {"import_module", "__import__"} or not call.args:
        return False
    first = call.args[0]
    return isinstance(first, ast.Constant) and str(first.value).startswith("seqscale")


def test_no_function_level_imports_of_seqscale_modules():
    """Imports of seqscale's own modules sit at the top of each module; only the package's lazy
    attribute loader (seqscale/__init__.py) and the allow-list above import later."""
    late = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "__init__.py":
            continue
        late += [
            f"{rel}:{line}: {module}"
            for line, module in _late_imports(path)
            if (rel, module) not in ALLOWED_LATE_IMPORTS
        ]
    assert late == []


def test_allowed_late_imports_still_exist():
    """The allow-list shrinks with the code: each entry is still a late import."""
    for rel, module in ALLOWED_LATE_IMPORTS:
        assert module in [m for _, m in _late_imports(PACKAGE / rel)], (rel, module)


def test_the_lazy_loader_only_names_existing_modules():
    import importlib

    import seqscale

    for module in set(seqscale._LAZY.values()):
        importlib.import_module(module)


def _documented_modules() -> set[str]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Modules", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {m for row in rows for m in re.findall(r"`([\w/]+\.py)`", row.split("|")[1])}


def _modules_on_disk() -> set[str]:
    """Every module file, except package __init__ files that hold only a docstring."""
    out = set()
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        code = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
        if path.name == "__init__.py" and not code:
            continue
        out.add(path.relative_to(PACKAGE).as_posix())
    return out


def test_architecture_module_table_matches_the_package():
    documented, on_disk = _documented_modules(), _modules_on_disk()
    assert sorted(on_disk - documented) == [], "modules missing from docs/ARCHITECTURE.md"
    assert sorted(documented - on_disk) == [], "docs/ARCHITECTURE.md names modules that do not exist"
