"""Layering: the site vocabulary sits below everything that uses it, and no two modules import
each other (issue 12, item 9). Read from the source, so a new import that breaks the layering
fails here before it fails at import time."""

from __future__ import annotations

import ast
from pathlib import Path

import dispatch

PACKAGE = Path(dispatch.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _resolve(name: str) -> str:
    """The module a ``from X import ...`` reads from (a package's ``__init__`` for a package)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str, *, type_checking: bool) -> set[str]:
    """Modules of this package that ``module`` imports anywhere in its code (lazy imports in
    functions included); ``type_checking`` also counts ``if TYPE_CHECKING:`` imports."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skip: set[int] = set()
    if not type_checking:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip.update(id(child) for child in ast.walk(node))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "dispatch":  # from dispatch import columns: submodules
                found.update(f"dispatch.{alias.name}" for alias in node.names)
            elif node.module.startswith("dispatch."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dispatch."))
    return {_resolve(name) for name in found if _resolve(name) in MODULES} - {module}


def test_the_site_vocabulary_imports_only_itself_and_errors() -> None:
    for module in MODULES:
        if module == "dispatch.site" or module.startswith("dispatch.site."):
            outside = {
                name
                for name in _imports(module, type_checking=True)
                if not name.startswith("dispatch.site") and name != "dispatch.errors"
            }
            assert not outside, f"{module} imports {sorted(outside)}"


def test_no_two_modules_import_each_other() -> None:
    graph = {module: _imports(module, type_checking=True) for module in MODULES}
    circles = sorted(
        (a, b)
        for a, targets in graph.items()
        for b in targets
        if a < b
        and a in graph.get(b, set())
        # a package's __init__ re-exports its own modules, which may name their package's types
        and not (b.startswith(a + ".") or a.startswith(b + "."))
    )
    assert not circles, f"modules that import each other: {circles}"


def test_the_checks_see_a_circle() -> None:
    """The graph is real: results imports the heat map module, and the site package its parts."""
    assert "dispatch.sizing.plot" in _imports("dispatch.sizing.results", type_checking=False)
    assert "dispatch.site.sizing" in _imports("dispatch.site", type_checking=False)
