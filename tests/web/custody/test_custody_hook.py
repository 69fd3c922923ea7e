"""Custody depends on backup, never the other way round: a backup asks custody through
``backup.custodyhook``, which the custody app fills in when Django starts."""

from __future__ import annotations

import ast
from pathlib import Path

from brankas.web.backup import custodyhook
from brankas.web.custody.services import custody_check_backup, custody_first_seen

WEB = Path(__file__).resolve().parents[3] / "src" / "brankas" / "web"


def _imports(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_backup_never_imports_custody_and_custody_imports_backup():
    assert not [m for m in _imports(WEB / "backup") if m.startswith("brankas.web.custody")]
    assert "brankas.web.backup.models" in _imports(WEB / "custody")


def test_the_custody_app_fills_in_the_hook():
    hook = custodyhook.custody()
    assert hook.check_backup is custody_check_backup
    assert hook.first_seen is custody_first_seen
