"""The product's source files, parsed once per test process for the tests that read them
(``ast``): each such test walked every file again (about half a second each)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "brankas"


@functools.cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.cache
def _nodes(path: Path) -> tuple[ast.AST, ...]:
    return tuple(ast.walk(ast.parse(_text(path))))


def nodes(folder: Path = SRC, *, containing: tuple[str, ...] = (),
          ) -> Iterator[tuple[Path, tuple[ast.AST, ...]]]:
    """Each Python file under ``folder`` (read now: a file changed since is parsed again
    only in a new process) and every node of its syntax tree, as ``ast.walk`` gives them.
    ``containing``: only the files whose text holds one of these strings, the others not
    parsed (a second of CPU for the whole product): for a caller whose nodes each spell one
    of them (a call of a name, a keyword), which a file without the text cannot hold."""
    for path in sorted(folder.rglob("*.py")):
        if containing and not any(word in _text(path) for word in containing):
            continue
        yield path, _nodes(path)
