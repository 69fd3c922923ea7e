"""Two admins deactivating (or demoting) each other at the same moment must not leave the
office without an active admin (review of issue 14).

Each request checked "another active admin is left" before its transaction: both checks
passed, then both writes ran. A real process on the real SQLite file (the CLI office) runs
both requests as the services do, in two threads with their own connections; SQLite's own
statement hook (``set_trace_callback``, no mock) holds the first request at its write until
the second one has begun its transaction, which is the moment of the race."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cli_env

SCRIPT = r"""
import json, sys, threading
from brankas import instance
instance.start()
from django.db import connection
from brankas.core.errors import BrankasError
from brankas.web.accounts import administration
from brankas.web.accounts.models import User

op = sys.argv[1]
second_began = threading.Event()
out = {}


def act(actor_name, target):
    actor = User.objects.get(username=actor_name)
    if op == "deactivate":
        administration.user_deactivate(actor=actor, username=target)
    else:
        administration.user_set_role(actor=actor, username=target, role="kasi")


def second():
    # admin2 acts on admin while admin's own request is writing.
    connection.ensure_connection()
    connection.connection.set_trace_callback(
        lambda sql: second_began.set() if sql.startswith("BEGIN") else None)
    try:
        act("admin2", "admin")
        out["second"] = "done"
    except BrankasError as exc:
        out["second"] = exc.code
    finally:
        second_began.set()
        connection.close()


thread = threading.Thread(target=second)


def hold_the_first_write(sql):
    if sql.startswith('UPDATE "accounts_user"') and not thread.is_alive() and "first" not in out:
        out["first"] = "writing"
        thread.start()
        second_began.wait(120)  # not an assertion: only so that a broken run cannot hang


connection.ensure_connection()
connection.connection.set_trace_callback(hold_the_first_write)
try:
    act("admin", "admin2")
    out["first"] = "done"
except BrankasError as exc:
    out["first"] = exc.code
connection.connection.set_trace_callback(None)
if thread.is_alive() or out.get("first") == "writing":
    thread.join()
out["active_admins"] = sorted(User.objects.filter(role="admin", is_active=True)
                              .values_list("username", flat=True))
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.parametrize("op", ["deactivate", "role"])
def test_two_admins_acting_on_each_other_at_once_leave_one_admin(cli_office, run_cli,
                                                                 cli_home: Path, tmp_path, op):
    (tmp_path / "admin2.pw").write_text("Admin2-Pass-2026!x\n")
    r = run_cli("user", "add", "admin2", "--role", "admin", "--password-file",
                str(tmp_path / "admin2.pw"), user="admin")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-c", SCRIPT, op], capture_output=True, text=True,
                       env=cli_env(cli_home, tmp_path), timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["first"] == "done"
    assert out["second"] == "user_last_admin"
    assert out["active_admins"] == ["admin"]
