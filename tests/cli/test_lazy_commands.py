"""The commands' modules load when a command is called (LazyGroup, issue 15): every command
and option of docs/cli.md is reached the same when its command is called alone; a module
that cannot be imported (a broken install: a dependency missing) is named in a message in
the user's language, exit status 1, not a traceback; the other commands still work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

BROKEN = """
import sys
sys.modules["brankas.cli.reports"] = None  # as if its import failed
from brankas.cli import main
main(sys.argv[1:], prog_name="brankas")
"""


def _run(tmp_path: Path, *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update(BRANKAS_HOME=str(tmp_path / "home"), BRANKAS_LANG=lang)
    return subprocess.run([sys.executable, "-c", BROKEN, *args], env=env, text=True,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def test_a_command_whose_module_fails_to_import_is_named(tmp_path: Path) -> None:
    r = _run(tmp_path, "report", "list")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("brankas: "), r.stderr
    assert "report" in r.stderr and "brankas.cli.reports" in r.stderr, r.stderr
    r = _run(tmp_path, "report", "list", lang="id")
    assert r.returncode == 1 and "tidak dapat dimuat" in r.stderr, r.stderr


def test_the_other_commands_still_work(tmp_path: Path) -> None:
    r = _run(tmp_path, "list", "--direction", "nowhere")
    assert r.returncode == 2, r.stdout + r.stderr  # its own usage error, as always
    assert "Traceback" not in r.stderr, r.stderr


def test_every_command_is_reached_when_called_alone() -> None:
    """In this process every module is loaded once ``list_commands`` ran: compare each
    top-level command's tree against a fresh process that loads only that command."""
    from brankas.cli import main

    ctx = click.Context(main)
    names = main.list_commands(ctx)
    assert {"audit", "backup", "key", "list", "report", "request", "user"} <= set(names)
    code = ("import sys, click\nfrom brankas.cli import main\n"
            "def tree(c):\n"
            "    sub = ''\n"
            "    if isinstance(c, click.Group):\n"
            "        cc = click.Context(c)\n"
            "        sub = ';'.join(n + '(' + tree(c.get_command(cc, n)) + ')'"
            " for n in sorted(c.list_commands(cc)))\n"
            "    return ','.join(sorted(o for p in c.params for o in p.opts)) + '|' + sub\n"
            "ctx = click.Context(main)\n"
            "for name in sys.argv[1:]:\n"
            "    print(name, tree(main.get_command(ctx, name)))\n")

    def tree(c: click.Command) -> str:
        sub = ""
        if isinstance(c, click.Group):
            cc = click.Context(c)
            sub = ";".join(n + "(" + tree(c.get_command(cc, n)) + ")"  # type: ignore[arg-type]
                           for n in sorted(c.list_commands(cc)))
        return ",".join(sorted(o for p in c.params for o in p.opts)) + "|" + sub

    expected = {name: tree(main.get_command(ctx, name)) for name in names}  # type: ignore[arg-type]
    for name in names:  # each alone: a fresh process
        r = subprocess.run([sys.executable, "-c", code, name], text=True,
                           capture_output=True, timeout=120, check=True)
        got_name, got = r.stdout.strip().split(" ", 1)
        assert (got_name, got) == (name, expected[name])
