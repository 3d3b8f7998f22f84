"""Where the shipped, non-Python files live: in a checkout, beside the package; in a wheel, inside it.

The design keeps `templates/` and `examples/` at the top of the tree where the team can find them;
the wheel build copies them into the package (see pyproject.toml) so `pip install .` works too.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    inside = _PACKAGE / "_data" / name
    if inside.is_dir():
        return inside
    return _PACKAGE.parent / name


def templates_dir() -> Path:
    return _shipped("templates")


def examples_dir() -> Path:
    return _shipped("examples")
