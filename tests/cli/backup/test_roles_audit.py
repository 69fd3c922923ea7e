"""Who may back up, verify and restore; and the audit log of every backup operation."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.backup.conftest import Office


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            out[os.path.join(dirpath, name)] = (st.st_size, st.st_mtime_ns)
    return out


def refused(r, role: str, action: str) -> bool:  # type: ignore[no-untyped-def]
    """Refused for its role with the access matrix's own message (status 1, nothing on
    stdout), not failed for some other reason."""
    return (r.returncode, r.stdout, r.stderr) == (
        1, "", f"brankas: the role {role} may not {action}\n")


BACK_UP = "back up the archive to a disk"
VERIFY = "verify backup disks"


def test_only_the_sandiman_backs_up_and_verifies(office: Office) -> None:
    before = _tree(office.disk)
    runs = office.sql("select count(*) from backup_backuprun")
    for user, role in (("kasi", "kasi"), ("kabid", "kabid"), ("kadis", "kadis"),
                       ("admin", "admin")):
        fresh = office.base / f"disk-{user}"
        r = office.cli("backup", str(fresh), "--json", user=user)
        assert refused(r, role, BACK_UP), (user, r)
        assert not fresh.exists(), user
        r = office.cli("backup", str(office.disk), "--json", user=user)
        assert refused(r, role, BACK_UP), (user, r)
        r = office.cli("verify", str(office.disk), "--json", user=user)
        assert refused(r, role, VERIFY), (user, r)
    assert _tree(office.disk) == before
    assert office.sql("select count(*) from backup_backuprun") == runs
    assert office.sql("select count(*) from backup_mediumcheck") == [(0,)]
    # The administrator manages accounts, not documents: no restore either.
    to = office.base / "admin-pulih"
    r = office.cli("restore", str(office.disk), "--to", str(to), "--json", user="admin")
    assert refused(r, "admin", "restore documents from a disk"), r
    assert not to.exists() or not any(to.iterdir())
    r = office.cli("drill", str(office.disk), "--json", user="admin")
    assert refused(r, "admin", "run restore drills"), r
    # A wrong password is no way in.
    r = office.cli("backup", str(office.base / "disk-x"), user="operator",
                   env={"BRANKAS_PASSWORD": "salah-sandi-123"})
    assert (r.returncode, r.stderr) == (1, "brankas: wrong username or password\n")
    assert not (office.base / "disk-x").exists()


def test_every_backup_operation_is_audited_with_its_user(office: Office) -> None:
    assert office.cli("verify", str(office.disk), "--fast", user="operator").returncode == 0
    r = office.cli("restore", str(office.disk), "--to", str(office.base / "p"), user="kadis")
    assert r.returncode == 0, r.stderr
    assert office.cli("drill", str(office.disk), user="kabid").returncode == 0
    assert office.cli("backup", str(office.base / "disk2"), "--label", "B",
                      user="operator").returncode == 0
    events = office.sql("select action, actor, target, outcome, detail from audit_auditevent"
                        " where action like 'backup.%' order by seq")
    # s17 E: each backup, verification and drill reads the disk's health after it, audited
    # as that user's (its outcome depends on the machine's disk: checked in tests/web/equipment).
    health = [(actor, json.loads(d)["source"]) for a, actor, _t, _o, d in events
              if a == "backup.disk_health"]
    assert health == [("operator", "backup"), ("operator", "verify"), ("kabid", "drill"),
                      ("operator", "backup")]
    events = [e for e in events if e[0] != "backup.disk_health"]
    seen = [(a, actor, outcome) for a, actor, _t, outcome, _d in events]
    assert seen == [
        ("backup.start", "operator", "ok"), ("backup.run", "operator", "ok"),
        ("backup.verify", "operator", "ok"), ("backup.restore", "kadis", "ok"),
        ("backup.drill", "kabid", "ok"),
        ("backup.start", "operator", "ok"), ("backup.run", "operator", "ok"),
    ]
    details = [json.loads(d) for *_, d in events]
    assert details[1]["documents"] == len(office.docs)
    assert details[2]["mode"] == "fast"
    assert details[3]["restored"] == len(office.docs)
    assert [t for a, _, t, _, _ in events if a == "backup.run"] == ["1", "2"]
    r = office.cli("audit", "verify", "--json", user="admin")
    assert r.returncode == 0 and r.json()["ok"] is True


def test_a_denied_backup_is_refused_before_anything_is_audited_as_done(office: Office) -> None:
    r = office.cli("backup", str(office.base / "d"), user="kasi")
    assert refused(r, "kasi", BACK_UP), r
    done = office.sql("select count(*) from audit_auditevent where actor = 'kasi'"
                      " and action like 'backup.%' and outcome = 'ok'")
    assert done == [(0,)]
