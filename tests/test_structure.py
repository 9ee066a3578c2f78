"""The shape of the code: no import cycle, short modules, services grown by capability."""

from __future__ import annotations

from pathlib import Path

import grimp

PACKAGE = Path(__file__).resolve().parents[1] / "databank"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), i.e. import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle_inside_databank() -> None:
    """No module of databank imports, directly or through others, a module that imports it
    (imports inside functions count: grimp reads them too)."""
    graph = grimp.build_graph("databank")
    assert graph.find_modules_directly_imported_by("databank.web.auth")  # the graph is not empty
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: object) -> None:
    """The check above can fail: two modules that import each other are reported."""
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from cyclic_pkg import b\n")
    (package / "b.py").write_text("from cyclic_pkg import a\n")
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        graph = grimp.build_graph("cyclic_pkg", cache_dir=None)
    finally:
        sys.path.remove(str(tmp_path))
    assert _cycles(graph) == [["cyclic_pkg.a", "cyclic_pkg.b"]]


def test_no_module_over_500_lines() -> None:
    """Modules stay short enough to read: none in databank/ is over 500 lines."""
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 500
    }
    assert long == {}


def test_services_grow_by_capability() -> None:
    """At most 5 modules at the top of databank/services/; the rest live in capability packages."""
    top = sorted(p.name for p in (PACKAGE / "services").glob("*.py"))
    assert len(top) <= 5, top
    packages = {p.name for p in (PACKAGE / "services").iterdir() if (p / "__init__.py").is_file()}
    assert {"access", "auditlog", "keys", "records", "accounts", "oversight"} <= packages
