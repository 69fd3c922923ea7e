"""What an authenticated command imports before it works (CLI start-up, issue 15).

Every call of ``brankas`` pays Python, Django's set-up and the password check before it
does anything; the budget is in bench/startup.py (timed there, never here). These tests
guard it without a clock: a fresh process runs ``brankas list --limit 1`` as a user and
reports the modules it imported. The job queue (django-tasks, which monkeypatches
Django's admin, feeds and sitemaps for mypy), the other commands' services, age, the
PDF and spreadsheet libraries and the web's pages are not among them; what ``list``
does need is (so the check cannot pass on a process that imported nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORDS, cli, cli_env

RUN_AND_REPORT = """
import json, sys
from brankas.cli import main
try:
    main(sys.argv[2:], prog_name="brankas")
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
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
]
# What it does need: the check is live.
NEEDED = ["django.db.models", "argon2", "brankas.web.accounts.services",
          "brankas.web.documents.selectors", "brankas.cli.documents"]


def _modules_of(home: Path, scratch: Path, *args: str) -> tuple[int, set[str]]:
    out = scratch / "modules.json"
    env = cli_env(home, scratch, user="admin")
    r = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, str(out), *args], env=env,
                       cwd=scratch, text=True, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert out.exists(), r.stdout + r.stderr
    report = json.loads(out.read_text())
    return report["code"], set(report["modules"])


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    scratch = tmp_path_factory.mktemp("startup")
    home = scratch / "home"
    pw = scratch / "admin.pw"
    pw.write_text(PASSWORDS["admin"] + "\n")
    r = cli(home, scratch, "init", "--office", "Dinas Kominfo", "--admin", "admin",
            "--password-file", str(pw), process=True)
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
