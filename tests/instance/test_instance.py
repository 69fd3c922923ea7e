"""The instance service (``brankas.instance``): settings without side effects, ``prepare``
as the one maker of a data folder, one home for the set-up steps, and recover into a new
home in a process of its own, rolled back on failure, without the command line."""

from __future__ import annotations

import ast
import functools
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from brankas import instance
from brankas.core import config
from tests.cli.backup.conftest import Office
from tests.conftest import PASSPHRASES

SRC = Path(__file__).resolve().parents[2] / "src" / "brankas"
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX modes")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_LANG": "en", **extra})
    return env


def _python(code: str, *, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(**env), cwd=cwd, timeout=120)


# -- settings and prepare ------------------------------------------------------------------

SETUP = ("import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'brankas.web.settings'; "
         "django.setup(); import brankas.web.settings as s; print(repr(s.SECRET_KEY))")


def test_importing_the_settings_creates_no_folder_and_writes_no_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = _python(SETUP, cwd=tmp_path, BRANKAS_HOME=str(home))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "''"  # no secret made: the folder was never prepared
    assert not home.exists()
    # Without BRANKAS_HOME the default ./brankas-data is named, and not created either.
    r = _python(SETUP, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_settings_read_a_prepared_secret(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = config.secret_key(instance.prepare(config.Settings(
        home=home, database_url=None, max_file_mb=1, max_upload_mb=1, max_image_pixels=1,
        debug=False)))
    r = _python(SETUP, cwd=tmp_path, BRANKAS_HOME=str(home))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == repr(made)


def test_prepare_makes_a_private_home_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRANKAS_HOME", str(tmp_path / "home"))
    settings = instance.prepare()
    assert settings.home == tmp_path / "home"
    for folder in (settings.home, settings.tmp, settings.keys, settings.secret_key_file.parent):
        assert folder.is_dir()
    secret = config.read_secret_key(settings)
    assert secret and len(secret) >= 50
    assert settings.database_path.is_file() and settings.database_path.stat().st_size == 0
    assert instance.prepare() == settings and config.read_secret_key(settings) == secret
    if os.name == "posix":
        assert (settings.home.stat().st_mode & 0o777) == 0o700
        assert (settings.secret_key_file.stat().st_mode & 0o777) == 0o600
        assert (settings.database_path.stat().st_mode & 0o777) == 0o600


def test_the_manage_entry_point_prepares_the_home_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    r = subprocess.run([sys.executable, "-m", "brankas.instance", "manage", "check"],
                       capture_output=True, text=True, env=_env(BRANKAS_HOME=str(home)),
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "System check identified" in r.stdout + r.stderr
    assert (home / "config" / "secret_key").is_file()


def test_the_instance_module_refuses_an_unknown_command(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "brankas.instance", "serve"],
                       capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and "usage" in r.stderr
    assert list(tmp_path.iterdir()) == []


# -- one home for each set-up step --------------------------------------------------------

@functools.cache
def _tree(path: Path) -> ast.Module:
    """A source file's syntax tree, parsed once for the tests that read the sources."""
    return ast.parse(path.read_text(encoding="utf-8"))


def _calls(path: Path) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name:
                out.append((name, node.lineno))
    return out


@functools.cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _mentioning(*words: str) -> list[Path]:
    """The source files whose text holds one of ``words`` at all: only they can hold a call
    of such a name or an import of such a module (the others are not parsed: parsing the
    whole tree and walking it costs seconds)."""
    return [path for path in sorted(SRC.rglob("*.py"))
            if any(word in _text(path) for word in words)]


def test_migrating_tightening_and_setting_django_up_live_in_the_instance_service() -> None:
    found: dict[str, set[str]] = {}
    names = {"call_command", "tighten", "setup", "execute_from_command_line"}
    for path in _mentioning(*names):
        if "migrations" in path.parts:
            continue
        for name, _line in _calls(path):
            if name in names:
                found.setdefault(name, set()).add(path.relative_to(SRC).as_posix())
    assert found == {
        "call_command": {"instance/__init__.py"},
        "tighten": {"instance/__init__.py"},
        "setup": {"instance/__init__.py"},
        "execute_from_command_line": {"instance/__main__.py"},
    }


def test_init_serve_and_recover_call_the_instance_service() -> None:
    app = {name for name, _ in _calls(SRC / "cli" / "app.py")}
    assert {"initialise", "upgrade"} <= app
    backup = {name for name, _ in _calls(SRC / "cli" / "backup.py")}
    assert {"recover_source", "recover"} <= backup
    assert "recover_in_child" in {name for name, _ in _calls(SRC / "web" / "backup" /
                                                               "restore.py")}


def test_no_service_imports_or_runs_the_command_line() -> None:
    """Nothing below the interfaces imports ``brankas.cli`` or starts ``python -m
    brankas``: the web's drill runs the instance module, never the command."""
    problems = []
    # (A file that names neither ``brankas.cli`` nor ``-m`` can do neither.)
    for folder in ("core", "web", "instance"):
        for path in _mentioning("brankas.cli", "-m"):
            if not path.is_relative_to(SRC / folder):
                continue
            for node in ast.walk(_tree(path)):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                if any(n == "brankas.cli" or n.startswith("brankas.cli.") for n in names):
                    problems.append(f"{path.relative_to(SRC)}:{node.lineno} imports the CLI")
                if isinstance(node, ast.List | ast.Tuple):
                    words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                    if any(a == "-m" and b == "brankas" for a, b in zip(words, words[1:],
                                                                         strict=False)):
                        problems.append(f"{path.relative_to(SRC)}:{node.lineno} runs brankas")
    assert problems == []


# -- recover into a new home ------------------------------------------------------------

def _child(office: Office, new: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brankas.instance", "recover", str(office.disk), "--home",
         str(new), *extra],
        capture_output=True, text=True, cwd=office.base, timeout=600,
        env=_env(BRANKAS_PASSPHRASE=PASSPHRASES["kabid"], TMPDIR=str(office.base)))


def _siblings(office: Office) -> list[str]:
    return [p.name for p in office.base.iterdir() if ".recovering-" in p.name]


@pytest.mark.slow  # a whole recover in a process of its own
@pytest.mark.usefixtures("quick_rebuilds")
def test_a_failed_recover_is_rolled_back_leaving_no_home(office: Office) -> None:
    new = office.base / "dipulihkan"
    # The disk opens with the passphrase, the rebuild starts, and the disk's seals are
    # then not those of the fingerprint given: everything built so far goes.
    r = _child(office, new, "--fingerprint", "00" * 16)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.startswith("brankas: ") and "fingerprint" in r.stderr
    assert not new.exists() and _siblings(office) == []
    # An empty folder given as NEW stays, empty.
    new.mkdir()
    r = _child(office, new, "--fingerprint", "00" * 16)
    assert r.returncode == 1 and new.is_dir() and list(new.iterdir()) == []
    assert _siblings(office) == []


def test_a_folder_in_use_is_refused_before_anything_is_built(office: Office) -> None:
    new = office.base / "terisi"
    new.mkdir()
    (new / "catatan.txt").write_text("not empty")
    r = _child(office, new)
    assert r.returncode == 1 and "already holds data" in r.stderr
    assert [p.name for p in new.iterdir()] == ["catatan.txt"] and _siblings(office) == []


@pytest.mark.slow  # a whole recover in a process of its own
@pytest.mark.usefixtures("quick_rebuilds")
def test_recover_in_a_child_rebuilds_without_importing_the_command_line(
        office: Office) -> None:
    new = office.base / "baru"
    code = ("import atexit, runpy, sys\n"
            "atexit.register(lambda: print('cli imported: ' + str('brankas.cli' in "
            "sys.modules), file=sys.stderr))\n"
            f"sys.argv = ['x', 'recover', {str(office.disk)!r}, '--home', {str(new)!r}]\n"
            "runpy.run_module('brankas.instance', run_name='__main__')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=office.base, timeout=600,
                       env=_env(BRANKAS_PASSPHRASE=PASSPHRASES["kabid"]))
    assert r.returncode == 0, r.stderr
    assert "cli imported: False" in r.stderr
    out = json.loads(r.stdout)
    assert out["ok"] is True and out["home"] == str(new)
    assert out["restored"] == len(office.docs)
    assert not (new / ".brankas-recovering").exists() and _siblings(office) == []
    with sqlite3.connect(new / "brankas.sqlite3") as db:
        agendas = sorted(a for (a,) in db.execute("select agenda from documents_document"))
    assert agendas == sorted(office.docs)


def test_recover_into_refuses_a_process_already_set_up_on_another_home(
        tmp_path: Path) -> None:
    """Here Django is set up on the tests' database: rebuilding into it would load the
    disk into the wrong database, so it is refused before anything is made."""
    with pytest.raises(RuntimeError, match="process of its own"), \
            instance.recover_into(tmp_path / "baru"):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # a whole recover in a process of its own
@pytest.mark.usefixtures("transactional_db")
@pytest.mark.usefixtures("quick_rebuilds")
def test_the_drill_service_rebuilds_through_the_instance_module(office: Office,
                                                                settings) -> None:  # type: ignore[no-untyped-def]
    """The web's drill (a service, in this process) with a key holder's passphrase: the
    whole instance is rebuilt by the instance module in a child process and compared."""
    import dataclasses

    from brankas.web.accounts.models import User
    from brankas.web.backup.models import MediumCheck
    from brankas.web.backup.restore import backup_drill
    from tests.hostile_disk.test_cli import load_office_db

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=office.home)
    load_office_db(office.home)
    kabid = User.objects.get(username="kabid")
    report = backup_drill(actor=kabid, dest=office.disk, passphrase=PASSPHRASES["kabid"])
    assert report.ok, report.as_dict()
    assert report.recovered is not None and report.recovered["ok"] is True
    assert report.recovered["exit"] == 0 and report.mismatched == []
    assert report.restored == len(office.docs)
    check = MediumCheck.objects.get(kind=MediumCheck.DRILL)
    assert (check.mode, check.ok, check.actor.username) == ("full+recover", True, "kabid")
    assert not [p for p in (office.home / "tmp").iterdir() if p.is_dir()]
