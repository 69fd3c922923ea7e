"""bench/offsite.py's arguments (s20): ``--help`` is help, never a folder to delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import offsite


def test_help_is_help_not_a_work_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        offsite.main(["--help"])
    assert done.value.code == 0
    assert "DELETED" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_work_and_rounds(tmp_path: Path) -> None:
    assert offsite._arguments([str(tmp_path / "w"), "3"]) == (tmp_path / "w", 3)
    assert offsite._arguments([])[1] == 2
    with pytest.raises(SystemExit):
        offsite._arguments([str(tmp_path), "0"])


def test_the_median_of_the_paired_rounds() -> None:  # s21
    rounds = [{"full_wall": r, "full_cpu": 1.0} for r in (0.89, 1.31, 1.22)]
    assert offsite._medians(rounds) == {"full_wall": 1.22, "full_cpu": 1.0}
    assert offsite._medians([]) == {}
