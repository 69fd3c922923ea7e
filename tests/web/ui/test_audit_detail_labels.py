"""Every key an audit entry's details are written with has a label in both languages (the
audit page shows details as label-value pairs: a key without one would show as English)."""

from __future__ import annotations

import ast
from pathlib import Path

from brankas.web.ui.formats import DETAIL_LABELS

SRC = Path(__file__).resolve().parents[3] / "src" / "brankas"


def _detail_keys() -> dict[str, str]:
    """Each string key of a dict literal given as ``detail=`` or assigned to a name with
    ``detail`` in it, anywhere in the source, with the file it is in."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            given = isinstance(node, ast.keyword) and node.arg == "detail"
            named = isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and "detail" in t.id for t in node.targets)
            value = node.value if given or named else None  # type: ignore[attr-defined]
            if isinstance(value, ast.Dict):
                for key in value.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        found.setdefault(key.value, str(path.relative_to(SRC)))
    return found


def test_every_detail_key_written_has_a_label_in_both_languages():
    keys = _detail_keys()
    assert len(keys) > 100  # the scan finds the audit calls
    missing = {k: where for k, where in keys.items() if k not in DETAIL_LABELS}
    assert missing == {}
    assert all(len(pair) == 2 and all(pair) for pair in DETAIL_LABELS.values())
