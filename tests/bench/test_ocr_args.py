"""``python -m bench.ocr`` deletes its WORK folder: an option is never taken for one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import ocr


def test_help_prints_the_usage_and_makes_no_folder(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ocr.main(["--help"]) == 0
    assert "python -m bench.ocr [WORK] [ROUNDS]" in capsys.readouterr().out
    assert os.listdir(tmp_path) == []


def test_an_unknown_option_is_refused_and_makes_no_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert ocr.main(["--rounds", "2"]) == 2
    assert "unknown option --rounds" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
