"""The command line's shape, read from the source with `ast` (nothing is imported).

- newsletter/cli/ has no import circle among its module-level imports: __init__.py imports the command
  modules, and they import only environment.py of the package.
- Nothing outside newsletter/cli/ imports it (tests, and pyproject's entry point, aside), so the
  command line stays the outermost layer.
- Commands are module-level functions on their groups, none longer than about 60 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

CLI = ROOT / "newsletter" / "cli"
LONGEST = 60


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(tree: ast.Module, body: list[ast.stmt] | None = None) -> set[str]:
    """Modules named by the imports in `body` (the module's top level) or, without it, anywhere in the tree."""
    nodes = body if body is not None else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _cli_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in CLI.glob("*.py")}
    graph = {}
    for name, path in modules.items():
        tree = _parse(path)
        graph[name] = {target for target in _imported(tree, tree.body) if target in modules and target != name}
    return graph


def _has_circle(graph: dict[str, set[str]]) -> list[str]:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str]:
        if node in visiting:
            return [*visiting[visiting.index(node):], node]
        if node in done:
            return []
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            found = visit(target)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return []

    for node in sorted(graph):
        found = visit(node)
        if found:
            return found
    return []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _has_circle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _has_circle({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_the_command_line_package() -> None:
    graph = _cli_graph()
    assert "newsletter.cli.environment" in graph["newsletter.cli.issues"]
    assert "newsletter.cli.issues" in graph["newsletter.cli"]
    assert _has_circle(graph) == []


def test_nothing_outside_the_command_line_imports_it() -> None:
    sources = [*(ROOT / "newsletter").rglob("*.py"), *(ROOT / "subscribers").rglob("*.py"),
               *(ROOT / "bench").rglob("*.py"), ROOT / "worker.py"]
    found = sorted(
        str(path.relative_to(ROOT)) for path in sources
        if CLI not in path.parents and path.exists()
        and any(name == "newsletter.cli" or name.startswith("newsletter.cli.") for name in _imported(_parse(path)))
    )
    assert found == []


def test_commands_are_module_level_functions_of_a_readable_length() -> None:
    long, nested = [], []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(_parse(path)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > LONGEST:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
                nested += [f"{path.name}:{node.name}.{inner.name}" for inner in ast.walk(node)
                           if isinstance(inner, ast.FunctionDef) and inner is not node
                           and any("command" in ast.unparse(decorator) or "group" in ast.unparse(decorator)
                                   for decorator in inner.decorator_list)]
    assert long == [] and nested == []
