"""The product's source files, parsed once per test process for the tests that read them
(``ast``): each such test walked every file again (about half a second each)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "brankas"


@functools.cache
def _nodes(path: Path) -> tuple[ast.AST, ...]:
    return tuple(ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def nodes(folder: Path = SRC) -> Iterator[tuple[Path, tuple[ast.AST, ...]]]:
    """Each Python file under ``folder`` (read now: a file changed since is parsed again
    only in a new process) and every node of its syntax tree, as ``ast.walk`` gives them."""
    for path in sorted(folder.rglob("*.py")):
        yield path, _nodes(path)
