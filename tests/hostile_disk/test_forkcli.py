"""The fork server's own mechanics (``forkcli``): what a real subprocess gives without
trying, the server must give too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_disk import forkcli, harness

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


def _migrated(tmp_path: Path) -> str:
    """The tables this process's in-process commands migrated (``cli_office_template``'s
    init), in a file: a server's warm-up init given them (``forkcli.MIGRATED``) finds
    nothing left to migrate, as the cases' server does (``Commands._migrated``)."""
    from tests import clirun

    path = clirun._MIGRATED.write(tmp_path / "migrated.sqlite3")
    assert path is not None
    return str(path)


@pytest.mark.slow  # a server of its own: Django's start-up and one init
@pytest.mark.usefixtures("cli_office_template")  # its init: the tables the warm-up is given
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


@pytest.mark.slow  # the cases' server: started here when this worker has none yet
def test_a_child_without_a_result_is_no_clean_refusal(tmp_path: Path) -> None:
    """A child that fails around the command (here: its working folder is gone) ends with
    status 1 and no result: that must not read as a command that refused in silence (a
    case expecting exit 1 and no code would pass). Its traceback is its output. The
    server the cases share (started here if this worker has none yet): a child's failure
    is the child's, and the server goes on."""
    commands = harness._commands()
    env = {**os.environ, "BRANKAS_HOME": str(tmp_path / "none"), "BRANKAS_LANG": "en",
           "TMPDIR": str(tmp_path)}
    code, out, err, hung = commands.run(
        ["verify", str(tmp_path / "disk"), "--json"], env, tmp_path / "missing", 60,
        on_hang=lambda: None)
    assert (code, hung) == (1, False)
    assert "Traceback" in err and "FileNotFoundError" in err, out + err
    # the server still serves the next command
    code, out, err, hung = commands.run(
        ["verify", str(tmp_path / "disk"), "--json"], env, tmp_path, 60,
        on_hang=lambda: None)
    assert (code, hung) == (1, False) and "brankas: " in err, out + err


PROBE = r'''
import json, os, sys
from pathlib import Path
from tests.hostile_disk import forkcli
forkcli._warm()
from django.conf import settings
# a command's write to the server's home before it sets Django up: loud, never unseen
assert not settings.BRANKAS.home.exists() and not Path(os.environ["BRANKAS_HOME"]).exists()
import click
from brankas.cli import main
from brankas.cli.runtime import handles_errors, setup_django

@main.command("probe-queue-model")  # a command set up as every command but init...
@handles_errors
def probe() -> None:
    setup_django()
    from django_tasks_db.models import DBTaskResult  # noqa: F401 - the job queue's model
    click.echo("imported")

tmp = Path(sys.argv[1])
request = {"args": ["probe-queue-model"], "env": {**os.environ, "BRANKAS_HOME": str(tmp / "h"),
           "BRANKAS_LANG": "en"}, "cwd": str(tmp), "result": str(tmp / "result.json")}
pid = os.fork()
if pid == 0:
    forkcli._child(request)
os.waitpid(pid, 0)
print(json.dumps(json.loads((tmp / "result.json").read_text())))
'''


@pytest.mark.slow  # a server's warm-up of its own
@pytest.mark.usefixtures("cli_office_template")  # its init: the tables the warm-up is given
def test_a_command_without_the_queue_apps_cannot_use_their_models(tmp_path: Path) -> None:
    """A command set up with ``instance.start(queue=False)`` that imports a model of the
    job queue fails in a process of its own (the app is not installed): so it does in a
    child of the server, whose own registry holds every app. The server's own home (what
    a child's settings name before its command sets Django up) is gone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"PYTHONPATH": str(forkcli.ROOT), "TMPDIR": str(tmp_path),
                forkcli.MIGRATED: _migrated(tmp_path)})
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], env=env,  # noqa: S603
                          cwd=forkcli.ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["returncode"] == 1, result
    assert "isn't in an application in INSTALLED_APPS" in result["stderr"], result


def test_a_kill_condition_that_fails_fails_the_test(tmp_path: Path) -> None:
    """``run_killed``: a ``reached()`` that raises is raised in the test (the command is
    killed then), not taken for a command that finished before its kill."""

    def broken() -> bool:
        raise RuntimeError("the kill condition broke")

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env["BRANKAS_HOME"] = str(tmp_path / "home")
    with pytest.raises(RuntimeError, match="the kill condition broke"):
        harness._commands().run_killed(["--help"], env, tmp_path, reached=broken, delay=0,
                                       timeout=30)
