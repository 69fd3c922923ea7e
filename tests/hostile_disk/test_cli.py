"""Every case of the hostile-disk corpus through backup, verify, restore, recover and drill.

The operations a case attacks run through the real ``brankas`` command, each in a process
of its own with a time limit (a hang fails): a child of the fork server
(``forkcli``: the interpreter's and Django's start-up paid once), or ``python -m brankas``
where there is none (Windows; BRANKAS_CORPUS_SUBPROCESS=1); the others through the
services in this process (fast), with the office's database loaded from its copy. After
each operation nothing outside the disk and the operation's target changed
(``harness.tree_state``), a reading operation left the disk as it was, and no recovered
instance holds the attacker's admin.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.hostile_disk.corpus import CASES, Case, Env
from tests.hostile_disk.harness import (
    OPERATIONS,
    SQLITE,
    Outcome,
    code_in,
    run_cli,
    run_service,
    tree_diff,
    tree_state,
)

pytestmark = pytest.mark.slow  # 44 prepared disks, each through five operations

TIMEOUT = 60
# BRANKAS_CORPUS_EXPLORE=1: every operation through the command, each outcome printed and
# nothing asserted (to see what a new case does before writing its expectations).
EXPLORE = os.environ.get("BRANKAS_CORPUS_EXPLORE") == "1"


def make_env(case: Case, templates: Any, tmp_path: Path) -> Env:
    one = templates.one
    home, disk = {"one": (one.home, one.disk), "two": (templates.two_home, templates.two_disk),
                  "pending": (templates.pending_home, one.disk),
                  "journal": (templates.journal_home, templates.journal_disk)}[case.base]
    root = tmp_path / "case"
    env = Env(root=root, home=root / "home", disk=root / "disk", laptop=root / "laptop",
              out=root / "out", scratch=root / "scratch", templates=templates,
              recovery_file=one.recovery_file, kabid_passphrase=one.secrets / "kabid.pp",
              docs=dict(one.docs) if case.base == "one"
              else {**one.docs, templates.d5.agenda: templates.d5})
    root.mkdir()
    shutil.copytree(home, env.home)
    shutil.copytree(disk, env.disk)
    desk = env.laptop / "desk"
    (desk / "sub").mkdir(parents=True)
    (desk / "sentinel.txt").write_text("berkas di laptop: jangan disentuh\n")
    (desk / "laporan.docx").write_bytes(b"PK\x03\x04 a report on the laptop")
    (desk / "sub" / "nested.txt").write_text("nested\n")
    env.out.mkdir()
    env.scratch.mkdir()
    return env


def load_office_db(home: Path) -> None:
    """The office's database (its copy in ``home``) becomes the test database."""
    from django.db import connection

    connection.ensure_connection()
    source = sqlite3.connect(home / "brankas.sqlite3")
    try:
        source.backup(connection.connection)
    finally:
        source.close()


def cli_args(op: str, env: Env, case: Case) -> tuple[list[str], str | None]:
    disk = str(env.disk)
    if op == "verify":
        return ["verify", disk, "--json"], "operator"
    if op == "restore":
        return ["restore", disk, "--to", str(env.out / "restored-cli"), "--json"], "operator"
    if op == "drill":
        if case.drill_as_holder:
            return ["drill", disk, "--json", "--passphrase-file",
                    str(env.kabid_passphrase)], "kabid"
        return ["drill", disk, "--json"], "kasi"
    if op == "recover":
        return ["recover", disk, "--home", str(env.out / "new-cli"), "--identity",
                str(env.recovery_file), "--json"], None
    return ["backup", disk, "--json"], "operator"


def service_call(op: str, env: Env, case: Case, settings: Any) -> Any:
    from brankas.web.accounts.models import User

    if op == "recover":
        return lambda: _recover_in_process(env, settings)
    actor = User.objects.get(username="kasi" if op == "drill" else "operator")
    if op == "verify":
        from brankas.web.backup.services import medium_verify

        return lambda: medium_verify(actor=actor, dest=env.disk)
    if op == "restore":
        from brankas.web.backup.restore import backup_restore

        return lambda: backup_restore(actor=actor, dest=env.disk, to=env.out / "restored-svc")
    if op == "drill":
        from brankas.web.backup.restore import backup_drill

        return lambda: backup_drill(actor=actor, dest=env.disk)
    from brankas.web.backup.services import backup_run

    progress = case.backup_progress(env) if case.backup_progress is not None else None
    return lambda: backup_run(actor=actor, dest=env.disk, on_progress=progress)


def _recover_in_process(env: Env, settings: Any) -> Any:
    """What ``brankas recover`` does, in this process, into ``out/new-svc`` (the test
    database is empty at this point)."""
    from brankas.core.config import ensure_home
    from brankas.core.disk.layout import disk_identities
    from brankas.core.disk.reader import BagReader
    from brankas.core.register import store
    from brankas.web.backup.recover import instance_recover

    settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=env.out / "new-svc")
    ensure_home(settings.BRANKAS)
    store.create_layout(settings.BRANKAS)
    reader = BagReader(env.disk)
    identities, unlocked = disk_identities(
        reader, passphrase=None, identity_text=env.recovery_file.read_text())
    return instance_recover(dest=reader.dest, identities=identities, unlocked_with=unlocked,
                            secrets=[(unlocked, str(i)) for i in identities])


def recovered_users(env: Env, via: str) -> list[str]:
    if via == "service":
        from brankas.web.accounts.models import User

        return list(User.objects.values_list("username", flat=True))
    db = env.out / "new-cli" / "brankas.sqlite3"
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    try:
        return [u for (u,) in con.execute("select username from accounts_user")]
    finally:
        con.close()


def sentinel_skip(env: Env, op: str, via: str) -> list[Path]:
    skip = [env.disk, env.scratch, *(env.home / name for name in SQLITE)]
    suffix = "cli" if via == "cli" else "svc"
    if op == "restore":
        skip.append(env.out / f"restored-{suffix}")
    if op == "recover":
        skip.append(env.out / f"new-{suffix}")
    return skip + list(env.notes.get("skip", []))


def run_case(case: Case, env: Env, settings: Any) -> tuple[dict[str, Outcome], list[str]]:
    failures: list[str] = []
    outcomes: dict[str, Outcome] = {}
    order = list(OPERATIONS)
    if "recover" not in case.cli:  # in-process recover needs the empty test database
        order.remove("recover")
        order.insert(0, "recover")
    loaded = False
    for op in order:
        via = "cli" if (op in case.cli or EXPLORE) else "service"
        if via == "service" and op != "recover" and not loaded:
            settings.BRANKAS = dataclasses.replace(settings.BRANKAS, home=env.home)
            load_office_db(env.home)
            loaded = True
        skip = sentinel_skip(env, op, via)
        before = tree_state(env.root, skip)
        disk_before = tree_state(env.disk)
        if via == "cli":
            args, user = cli_args(op, env, case)
            outcome = run_cli(env.home, env.scratch, *args, user=user, timeout=TIMEOUT,
                              disk=env.disk)
        else:
            outcome = run_service(op, service_call(op, env, case, settings), disk=env.disk,
                                  timeout=TIMEOUT)
        if op == "recover":
            env.notes.setdefault("recovered_users", {})[via] = recovered_users(env, via)
        outcomes[op] = outcome
        changed = tree_diff(before, tree_state(env.root, sentinel_skip(env, op, via)))
        disk_changed = tree_diff(disk_before, tree_state(env.disk))
        if EXPLORE:
            print(f"\n--- {case.id} / {outcome}\n  outside: {changed}\n  disk: {disk_changed[:8]}")
            continue
        failures += check(case, env, op, outcome, changed, disk_changed)
        if op in case.after:
            try:
                case.after[op](env, outcomes)
            except AssertionError as exc:
                failures.append(f"after {op}: {exc}")
    for via, users in env.notes.get("recovered_users", {}).items():
        if "mallory" in users:
            failures.append(f"recover via {via}: the attacker's admin is in the instance")
    return outcomes, failures


def check(case: Case, env: Env, op: str, outcome: Outcome, changed: list[str],
          disk_changed: list[str]) -> list[str]:
    expect = case.expect[op]
    where = f"{op} via {outcome.via}"
    out = []
    if outcome.hung:
        out.append(f"{where}: still running after {TIMEOUT} s (blocked)")
    if "Traceback" in outcome.text:
        out.append(f"{where}: a traceback\n{outcome.text[-3000:]}")
    if outcome.exit != expect.exit:
        out.append(f"{where}: exit {outcome.exit}, expected {expect.exit}\n{outcome}")
    if expect.code is not None and not code_in(outcome, expect.code):
        out.append(f"{where}: not refused with {expect.code}\n{outcome}")
    if expect.code is not None and outcome.via == "cli" and "brankas: " not in outcome.text:
        out.append(f"{where}: a refusal without the 'brankas: ' message\n{outcome}")
    if op == "recover" and expect.code is not None and outcome.via == "cli" and (
            env.out / "new-cli").exists():
        out.append(f"{where}: refused, yet the new home was made")
    for text in map(env.fmt, expect.named):
        if text not in outcome.text:
            out.append(f"{where}: {text!r} not named\n{outcome}")
    for text in map(env.fmt, expect.absent):
        if text in outcome.text:
            out.append(f"{where}: {text!r} in the output\n{outcome}")
    if changed:
        out.append(f"{where}: changed outside the disk and its target: {changed[:10]}")
    if disk_changed and (op != "backup" or (outcome.exit != 0 and not case.backup_may_write)):
        out.append(f"{where}: changed the disk: {disk_changed[:10]}")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
@pytest.mark.usefixtures("quick_rebuilds")  # a drill's rebuild: its database's tables given
def test_hostile_disk(case: Case, templates, tmp_path: Path, transactional_db,  # type: ignore[no-untyped-def]
                      settings) -> None:
    if case.posix_only and os.name != "posix":
        pytest.skip("the case is prepared with symbolic links or FIFOs (POSIX)")
    if case.needs_root and (os.name != "posix" or os.geteuid() != 0):
        pytest.skip("the case needs root (mknod, mount)")
    env = make_env(case, templates, tmp_path)
    env.notes["runs"] = sorted(p.name for p in (env.disk / "data" / "backup").iterdir())
    try:
        case.prepare(env)
        outcomes, failures = run_case(case, env, settings)
    finally:
        for cleanup in reversed(env.notes.get("cleanup", [])):
            cleanup()
    assert not failures, "\n\n".join(failures)
