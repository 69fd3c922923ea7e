"""Custody depends on backup, never the other way round: a backup asks custody through
``backup.custodyhook``, which the custody app fills in when Django starts."""

from __future__ import annotations

import ast
from pathlib import Path

from brankas.web.backup import custodyhook
from brankas.web.custody.services import custody_check_backup, custody_first_seen
from tests import sources

WEB = Path(__file__).resolve().parents[3] / "src" / "brankas" / "web"


def _imports(folder: Path) -> set[str]:
    found = set()
    for _, nodes in sources.nodes(folder):
        for node in nodes:
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


def test_backup_never_imports_custody_and_custody_imports_backup():
    assert not [m for m in _imports(WEB / "backup") if m.startswith("brankas.web.custody")]
    assert "brankas.web.backup.models" in _imports(WEB / "custody")


def test_the_custody_app_fills_in_the_hook(monkeypatch):
    """The hook's functions are the custody services, imported when a backup first asks
    (not when Django starts: CLI start-up): a call through the hook reaches them."""
    from brankas.web.custody import services

    calls = []
    monkeypatch.setattr(services, "custody_check_backup", lambda medium_id: calls.append(
        ("check_backup", medium_id)))
    monkeypatch.setattr(services, "custody_first_seen", lambda **kw: calls.append(
        ("first_seen", kw)))
    hook = custodyhook.custody()
    hook.check_backup("DISK-X")
    hook.first_seen(medium="m", actor="a")
    assert calls == [("check_backup", "DISK-X"), ("first_seen", {"medium": "m", "actor": "a"})]
    assert callable(custody_check_backup) and callable(custody_first_seen)
