"""The fork server's own mechanics (``forkcli``): what a real subprocess gives without
trying, the server must give too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_disk import forkcli

pytestmark = pytest.mark.skipif(not forkcli.available(), reason="the fork server is POSIX")


def test_a_line_already_read_ahead_is_not_taken_for_a_hang() -> None:
    """The server may write a command's start and its end before the test process reads
    the first (a loaded machine): the end, already in hand, is no hang."""
    # Both lines in one write, then the writer waits (as the server waits for the next
    # request): nothing more comes on the pipe.
    script = ("import os, sys; os.write(1, b'{\"pid\": 1}\\n{\"status\": 0, \"cpu\": 0}\\n');"
              " sys.stdin.read()")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert forkcli.Commands._line(proc, None) == {"pid": 1}
        assert forkcli.Commands._line(proc, 5) == {"status": 0, "cpu": 0}
    finally:
        proc.communicate()


@pytest.mark.slow  # a server of its own: Django's start-up and one init
def test_servers_started_at_once_share_no_folder(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pytest-xdist worker (and every other run on the machine) starts a server: one
    must not warm up in another's folder. Another run's warm-up folder is in the way here."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    other = tmp_path / "forkcli-warm"
    (other / "home").mkdir(parents=True)
    (other / "home" / "brankas.sqlite3").write_bytes(b"another run's instance")
    commands = forkcli.Commands()
    try:
        code, out, err, hung = commands.run(
            ["verify", str(tmp_path / "disk"), "--json"],
            {**os.environ, "BRANKAS_HOME": str(tmp_path / "none"), "BRANKAS_LANG": "en"},
            tmp_path, 60, on_hang=lambda: None)
    finally:
        commands.close()
    assert (code, hung) == (1, False), out + err
    assert "not_initialized" in out + err or "brankas: " in err
    assert (other / "home" / "brankas.sqlite3").read_bytes() == b"another run's instance"


@pytest.mark.slow  # a server of its own
def test_a_child_without_a_result_is_no_clean_refusal(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that fails around the command (here: its working folder is gone) ends with
    status 1 and no result: that must not read as a command that refused in silence (a
    case expecting exit 1 and no code would pass). Its traceback is its output."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    commands = forkcli.Commands()
    try:
        code, out, err, hung = commands.run(
            ["verify", str(tmp_path / "disk"), "--json"],
            {**os.environ, "BRANKAS_HOME": str(tmp_path / "none"), "BRANKAS_LANG": "en"},
            tmp_path / "missing", 60, on_hang=lambda: None)
        assert (code, hung) == (1, False)
        assert "Traceback" in err and "FileNotFoundError" in err, out + err
        # the server still serves the next command
        code, out, err, hung = commands.run(
            ["verify", str(tmp_path / "disk"), "--json"],
            {**os.environ, "BRANKAS_HOME": str(tmp_path / "none"), "BRANKAS_LANG": "en"},
            tmp_path, 60, on_hang=lambda: None)
        assert (code, hung) == (1, False) and "brankas: " in err, out + err
    finally:
        commands.close()
