"""``brankas backup --json`` (or stderr no terminal) draws no bar: no rich bar is made or
updated once a file (s22: a full backup of 100,000 files paid ~3 us a file for a bar
that was disabled)."""

from __future__ import annotations

from typing import Any

import pytest

from brankas.cli import backup as clibackup


def _count_bars(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    import rich.progress

    seen = {"made": 0, "updates": 0}
    made = rich.progress.Progress.__init__
    update = rich.progress.Progress.update

    def counting_init(self: Any, *a: Any, **k: Any) -> None:
        seen["made"] += 1
        made(self, *a, **k)

    def counting_update(self: Any, *a: Any, **k: Any) -> None:
        seen["updates"] += 1
        update(self, *a, **k)

    monkeypatch.setattr(rich.progress.Progress, "__init__", counting_init)
    monkeypatch.setattr(rich.progress.Progress, "update", counting_update)
    return seen


@pytest.mark.parametrize("quiet", [True, False])  # False: stderr is no terminal under pytest
def test_no_terminal_or_json_makes_no_bar(monkeypatch: pytest.MonkeyPatch, quiet: bool) -> None:
    monkeypatch.setattr(clibackup.os, "isatty", lambda fd: False)
    seen = _count_bars(monkeypatch)
    with clibackup.progress_bar("back up", quiet) as update:
        for i in range(1000):
            update(i, 1000, i * 10, 10_000)
    assert seen == {"made": 0, "updates": 0}


def test_a_terminal_gets_the_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clibackup.os, "isatty", lambda fd: True)
    seen = _count_bars(monkeypatch)
    with clibackup.progress_bar("back up", False) as update:
        for i in range(10):
            update(i, 10, i * 10, 100)
    assert seen["made"] == 1 and seen["updates"] == 10
