"""The walls between the packages, read from the source with `ast` (nothing is imported).

- `subscribers/` imports nothing from `newsletter.web` or `newsletter.delivery`: its pages live in
  newsletter/web/subscriptions.py and its emails go through a transport it is handed.
- `newsletter/` uses `subscribers` only through `subscribers.api` (and its error types).
- No import circle among module-level imports in either package (imports inside functions are
  left out: they run after every module has loaded).

The rules read every module, including packages that appear later (such as newsletter/cli/).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("newsletter", "subscribers")
SUBSCRIBERS_MAY_NOT_USE = ("newsletter.web", "newsletter.delivery")
NEWSLETTER_MAY_USE = ("subscribers.api", "subscribers.errors")



def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path, *, top_level_only: bool) -> Iterator[str]:
    """Every module `module` imports (a `from x import y` names x.y when that is a module, else x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = _top_level(tree.body) if top_level_only else ast.walk(tree)
    is_package = path.name == "__init__.py"
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in MODULES else base


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements that run when the module is imported: the body, and inside if/try at that level."""
    for statement in body:
        if isinstance(statement, ast.If):
            # `if TYPE_CHECKING:` imports never run.
            test = statement.test
            if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
                yield from _top_level(statement.orelse)
                continue
            yield from _top_level(statement.body)
            yield from _top_level(statement.orelse)
        elif isinstance(statement, ast.Try):
            for block in (statement.body, statement.orelse, statement.finalbody):
                yield from _top_level(block)
            for handler in statement.handlers:
                yield from _top_level(handler.body)
        else:
            yield statement


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_rules_see_the_code() -> None:
    assert "subscribers.api" in MODULES and "newsletter.web.subscriptions" in MODULES
    found = set(_imports("newsletter.web.subscriptions", MODULES["newsletter.web.subscriptions"],
                         top_level_only=False))
    assert "subscribers.api" in found and "newsletter.web.pages" in found


def test_subscribers_imports_nothing_from_the_web_app_or_delivery() -> None:
    broken = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items() if _within(module, "subscribers")
        for name in _imports(module, path, top_level_only=False)
        if any(_within(name, wall) for wall in SUBSCRIBERS_MAY_NOT_USE)
    )
    assert broken == []


def test_newsletter_uses_subscribers_only_through_its_api() -> None:
    broken = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items() if _within(module, "newsletter")
        for name in _imports(module, path, top_level_only=False)
        if _within(name, "subscribers") and not any(_within(name, allowed) for allowed in NEWSLETTER_MAY_USE)
    )
    assert broken == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _package_parents(name: str) -> Iterator[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first."""
    parts = name.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def test_no_import_circles_among_module_level_imports() -> None:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = set()
        for name in _imports(module, path, top_level_only=True):
            if name in MODULES and name != module:
                targets.add(name)  # named outright, even a module's own package (`from newsletter.cli import x`)
            # Packages imported on the way; a module's own packages are already loading when it runs.
            targets.update(parent for parent in _package_parents(name)
                           if parent in MODULES and not _within(module, parent))
        graph[module] = targets
    assert _circles(graph) == []


def test_the_circle_finder_finds_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
