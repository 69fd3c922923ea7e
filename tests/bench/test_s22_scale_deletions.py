"""bench.scale: the trees of an earlier bench are deleted at its start only, and the first
timed run waits ``DELETE_SETTLE`` after that (ext4 without a journal slows every create
for minutes after many deletions: the side that ran right after them paid for them)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench import scale


def test_nothing_earlier_means_no_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert scale._remove_earlier(tmp_path / "scale") is None
    slept: list[float] = []
    monkeypatch.setattr(scale.time, "sleep", slept.append)
    scale._settle_deletions(None)
    assert slept == []


def test_earlier_trees_are_removed_and_the_rest_of_the_settle_waited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "scale"
    (out / "copy-0" / "a").mkdir(parents=True)
    (out / "copy-0" / "a" / "x.pdf").write_bytes(b"%PDF")
    before = time.monotonic()
    deleted = scale._remove_earlier(out)
    assert deleted is not None and deleted >= before and not out.exists()
    monkeypatch.setattr(scale, "DELETE_SETTLE", 100.0)
    slept: list[float] = []
    monkeypatch.setattr(scale.time, "sleep", slept.append)
    scale._settle_deletions(deleted - 40)  # 40 s of set-up since the deletion
    assert len(slept) == 1 and 59 < slept[0] <= 60
    scale._settle_deletions(deleted - 200)  # the set-up took longer than the settle
    assert len(slept) == 1


def test_a_round_keeps_its_copy_for_the_next_start() -> None:
    """The copy of rsync is not deleted between timed runs (read from the source: the
    round itself needs the 100,000-document instance)."""
    import inspect

    body = inspect.getsource(scale._full_backup)
    assert "rmtree" not in body
