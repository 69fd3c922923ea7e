"""What an authenticated command imports before it works (CLI start-up, issue 15).

Every call of ``brankas`` pays Python, Django's set-up and the password check before it
does anything; the budget is in bench/startup.py (timed there, never here). These tests
guard it without a clock: a fresh process runs ``brankas list --limit 1`` as a user and
reports the modules it imported. The job queue (django-tasks, which monkeypatches
Django's admin, feeds and sitemaps for mypy), the other commands' services, age, the
PDF and spreadsheet libraries and the web's pages are not among them; what ``list``
does need is (so the check cannot pass on a process that imported nothing)."""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORDS, cli, cli_env

RUN_AND_REPORT = """
import gc, json, sys
from brankas.web.accounts import hashers
taken = []
real_take = hashers._take
def take(password, encoded):
    begun = real_take(password, encoded)
    taken.append(begun is not None)
    return begun
hashers._take = take
from brankas.cli import main
try:
    main(sys.argv[2:], prog_name="brankas")
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules), "frozen": gc.get_freeze_count(),
               "collector_on": gc.isenabled(), "early_check": taken}, fh)
"""

# Imported by ``brankas list`` before: none of it is needed to sign in and list.
NOT_NEEDED = [
    "django_tasks", "django_tasks.base", "django_tasks_db", "django_stubs_ext",
    "django.contrib.admin", "django.contrib.syndication.views", "django.contrib.sitemaps",
    "brankas.web.custody.services", "brankas.web.backup.services",
    "brankas.web.reports.services", "brankas.web.keys.services",
    "brankas.web.jobs.tasks", "brankas.web.jobs.services",
    "brankas.web.ui.security", "brankas.web.urls",
    "brankas.core.crypto", "pyrage", "brankas.core.register.store",
    "brankas.web.audit.anchors",
    "brankas.cli.backup", "brankas.cli.reports", "brankas.cli.users", "brankas.cli.custody",
    "reportlab", "pikepdf", "PIL", "xlsxwriter",
    # s16 D: the web-only apps and Django's default logging (its e-mail handler imports
    # the debug views, and they the template engine's built-in tags and filters).
    "django.contrib.messages", "django.contrib.staticfiles", "csp", "packaging",
    "django.views.debug", "django.template.defaultfilters", "django.template.defaulttags",
]
# What it does need: the check is live.
NEEDED = ["django.db.models", "argon2", "brankas.web.accounts.services",
          "brankas.web.documents.selectors", "brankas.cli.documents"]


@functools.cache
def _report_of(home: Path, scratch: Path, *args: str) -> dict[str, Any]:
    """What the process of ``brankas ARGS`` reported; one process for each ``ARGS`` (the
    tests that read different facts of one command's start-up share it: read only)."""
    out = scratch / f"modules-{len(list(scratch.glob('modules-*.json')))}.json"
    env = cli_env(home, scratch, user="admin")
    r = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, str(out), *args], env=env,
                       cwd=scratch, text=True, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert out.exists(), r.stdout + r.stderr
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def _modules_of(home: Path, scratch: Path, *args: str) -> tuple[int, set[str]]:
    report = _report_of(home, scratch, *args)
    return report["code"], set(report["modules"])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An office the later commands' processes start in. Made by the in-process ``init``
    (tests/clirun.py: the same tables and rows; what is measured here is the imports of
    the commands run afterwards, each a process of its own). ``init`` itself as a process:
    tests/cli/test_process_smoke.py::test_init_and_user_in_a_process."""
    scratch = tmp_path_factory.mktemp("startup")
    home = scratch / "home"
    pw = scratch / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    r = cli(home, scratch, "init", "--office", "Dinas Kominfo", "--admin", "admin",
            "--password-file", str(pw))
    assert r.returncode == 0, r.stderr
    return home, scratch


def test_list_imports_only_what_it_needs(home: tuple[Path, Path]) -> None:
    code, modules = _modules_of(*home, "list", "--limit", "1")
    assert code in (0, None)
    assert [m for m in NEEDED if m not in modules] == []
    assert sorted(m for m in NOT_NEEDED if m in modules) == []


def test_a_failed_sign_in_imports_no_more(home: tuple[Path, Path]) -> None:
    """The refusal path (audited, counted by the lockout) does not reach for them either."""
    code, modules = _modules_of(*home, "list", "--limit", "1", "--user", "nobody")
    assert code == 1
    assert sorted(m for m in NOT_NEEDED if m in modules) == []


def test_a_process_set_up_without_the_queue_cannot_migrate(tmp_path: Path) -> None:
    """A command set up without the job queue's apps never migrates a schema without their
    tables: ``instance.migrate`` refuses, loudly."""
    code = ("from brankas import instance\n"
            "instance.start(queue=False)\n"
            "from django.apps import apps\n"
            "assert not apps.is_installed('django_tasks_db')\n"
            "assert apps.is_installed('brankas.web.jobs')\n"
            "try:\n"
            "    instance.migrate()\n"
            "except RuntimeError as exc:\n"
            "    print('refused:', exc)\n")
    env = cli_env(tmp_path / "home", tmp_path)
    r = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, text=True,
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("refused:") and "django_tasks_db" in r.stdout, r.stdout


def test_the_password_check_begun_early_is_the_one_the_sign_in_uses(
        home: tuple[Path, Path]) -> None:
    """s16 D: the Argon2 check begun at the command's first step (``accounts/early``) is
    taken by the sign-in's own check (the same password and stored hash), once."""
    report = _report_of(*home, "list", "--limit", "1")
    assert report["code"] in (0, None)
    assert report["early_check"] == [True]
    env_wrong = _report_of(*home, "list", "--limit", "1", "--user", "nobody")
    assert env_wrong["code"] == 1 and env_wrong["early_check"] == []  # no such user: none


def test_the_set_up_is_frozen_for_the_collector(home: tuple[Path, Path]) -> None:
    """s16 D: the cyclic collector is paused while Django sets up, what the set-up made is
    moved to its permanent generation (never walked again), and it runs again for the
    command's own work."""
    report = _report_of(*home, "list", "--limit", "1")
    assert report["code"] in (0, None)
    assert report["frozen"] > 10_000  # the modules, classes and models of the set-up
    assert report["collector_on"] is True


SET_UP_AND_REPORT = """
import json, logging, sys
from brankas import instance
instance.start(queue=False, web=sys.argv[1] == "web")
from django.apps import apps
from django.conf import settings
django_logger = logging.getLogger("django")
print(json.dumps({
    "apps": [a for a in instance.WEB_APPS if apps.is_installed(a)],
    "logging_config": settings.LOGGING_CONFIG,
    "django_handlers": sorted(type(h).__name__ for h in django_logger.handlers),
    "django_filters": sorted(type(f).__name__ for h in django_logger.handlers
                             for f in h.filters),
    "axes_level": logging.getLogger("axes").level,
    "axes_handlers": len(logging.getLogger("axes").handlers),
    "root_handlers": [type(h).__name__ for h in logging.getLogger().handlers],
    "debug_views": "django.views.debug" in sys.modules,
}))
"""


@pytest.mark.parametrize("kind", ["web", "command"])
def test_a_command_is_set_up_without_the_web_only_apps(tmp_path: Path, kind: str) -> None:
    """s16 D: ``start(web=False)`` (every command but init, migrate-db, serve and worker)
    leaves out the web-only apps and Django's default logging; its logging is the same
    but the e-mail handler (a no-op: no ADMINS). The web keeps both."""
    env = cli_env(tmp_path / "home", tmp_path)
    r = subprocess.run([sys.executable, "-c", SET_UP_AND_REPORT, kind], env=env,
                       cwd=tmp_path, text=True, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    # The same in both: the settings' LOGGING (root on the console, axes silenced).
    assert report["root_handlers"] == ["StreamHandler"]
    assert (report["axes_level"], report["axes_handlers"]) == (logging.ERROR, 0)
    if kind == "web":
        assert report["apps"] == ["django.contrib.messages", "django.contrib.staticfiles", "csp"]
        assert report["logging_config"] == "logging.config.dictConfig"
        assert report["django_handlers"] == ["AdminEmailHandler", "StreamHandler"]
        assert report["debug_views"] is True
    else:
        assert report["apps"] == []
        assert report["logging_config"] is None
        assert report["django_handlers"] == ["StreamHandler"]
        assert report["django_filters"] == ["RequireDebugTrue"]
        assert report["debug_views"] is False



def test_a_password_file_read_once_signs_in(home: tuple[Path, Path]) -> None:
    """Review of s16 D: the early check must not read ``--password-file`` a second time.
    A file that gives its text once (a pipe: ``--password-file /dev/stdin``, ``<(...)``)
    signs in with the password it gave, as before the early check (which read it first
    and left the sign-in an empty password: a refused sign-in, audited and counted)."""
    home_dir, scratch = home
    env = cli_env(home_dir, scratch, env={"BRANKAS_USER": "admin"})
    r = subprocess.run([sys.executable, "-m", "brankas", "list", "--limit", "1",
                        "--password-file", "/dev/stdin"], env=env, cwd=scratch, text=True,
                       input=PASSWORDS["admin"] + "\n", capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr


# s22: ``python -m brankas`` ends a command that finished cleanly without the interpreter's
# shutdown (core/startup.py ``leave``). The marks show which end a process took: the
# ``atexit`` handlers run on both; the interpreter's own shutdown, which joins the threads
# and runs threading's exit hooks (concurrent.futures' among them) first, only on the
# usual one. (Objects are no mark: what the set-up froze is never finalized either way.)
RUN_AS_MAIN = """
import atexit, os, runpy, sys, threading
def mark(text, marks=sys.argv[1], os=os):
    fd = os.open(marks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.write(fd, text.encode() + b"\\n")
    os.close(fd)
atexit.register(mark, "atexit")
threading._register_atexit(mark, "shutdown")
sys.argv = ["brankas", *sys.argv[2:]]
runpy.run_module("brankas", run_name="__main__", alter_sys=True)
"""


def _ends_of(home: Path, scratch: Path, *args: str, user: str = "admin"
             ) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    marks = scratch / f"marks-{'-'.join(args)}-{user}.txt"
    marks.unlink(missing_ok=True)
    env = cli_env(home, scratch, user=user)
    r = subprocess.run([sys.executable, "-c", RUN_AS_MAIN, str(marks), *args], env=env,
                       cwd=scratch, text=True, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return r, marks.read_text().split() if marks.exists() else []


def test_a_list_ends_without_the_interpreter_s_shutdown(home: tuple[Path, Path]) -> None:
    """s22: its whole result written, the exit handlers run, the shutdown skipped."""
    r, ends = _ends_of(*home, "list", "--limit", "5", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)  # flushed whole before the process ended
    assert isinstance(rows, list)
    assert ends == ["atexit"]


def test_a_refused_command_ends_as_it_always_did(home: tuple[Path, Path]) -> None:
    """A failure (here a sign-in refused) is not a clean finish: the usual end, its
    message and status unchanged."""
    r, ends = _ends_of(*home, "list", "--limit", "1", "--user", "nobody")
    assert r.returncode == 1
    assert r.stderr.startswith("brankas: ")
    assert sorted(ends) == ["atexit", "shutdown"]


def test_a_command_that_does_not_say_it_finished_cleanly_ends_as_it_always_did(
        home: tuple[Path, Path]) -> None:
    r, ends = _ends_of(*home, "user", "list", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)
    assert sorted(ends) == ["atexit", "shutdown"]


def test_leave_returns_while_a_thread_runs_or_after_a_failure(tmp_path: Path) -> None:
    """``leave`` ends the process only when no other thread runs and the status is 0;
    else it returns and the process ends as usual. (A command run by a caller of its own,
    ``main`` in the caller's process, never leaves: ``_report_of`` above reads what it
    left.)"""
    code = ("import sys, threading\n"
            "from brankas.core import startup\n"
            "startup.own_process(); startup.finished_cleanly()\n"
            "go = threading.Event()\n"
            "t = threading.Thread(target=go.wait); t.start()\n"
            "startup.leave(0); print('returned: a thread runs', flush=True)\n"
            "go.set(); t.join()\n"
            "startup.leave(1); print('returned: status 1', flush=True)\n"
            "startup.leave(0); print('not reached', flush=True)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, text=True,
                       capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["returned: a thread runs", "returned: status 1"]
