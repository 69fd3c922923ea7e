"""The audit segments against a log that does not chain (found in an outside review of
s16 A): a database whose audit log was altered is backed up as it is (its segments are the
evidence), and recover brings back the office from that disk, reporting the break, instead
of refusing the whole disk."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.backup.conftest import Office, audit_log, manifest, newest_seal


def test_a_log_altered_in_the_database_is_backed_up_and_recovered_with_its_break(
        office: Office) -> None:
    head = newest_seal(office.disk)["audit_head"]["seq"]
    # The last entry the disk holds, its hash altered in this database: the run cannot
    # continue the disk's segments (their last entry is not this database's) and writes
    # the log whole, as this database holds it.
    con = sqlite3.connect(office.home / "brankas.sqlite3")
    with con:
        con.execute("UPDATE audit_auditevent SET hash = ? WHERE seq = ?", ("f" * 64, head))
    con.close()
    r = office.backup()
    assert r.returncode == 0, r.stderr
    listed = newest_seal(office.disk)["audit_segments"]["segments"]
    assert listed[-1][1] == 1, listed  # the whole log anew
    assert len([p for p in manifest(office.disk) if p.startswith("data/audit/")]) == 2
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    # The office comes back from its disk: the log as the office sealed it, the break in
    # it reported (not ok), not "nothing was recovered".
    assert r.returncode in (0, 1) and r.stdout, r.stderr
    out = r.json()
    assert out["audit_ok"] is False and out["ok"] is False, out
    assert out["documents"] == len(office.docs), out
    recovered = audit_log(new)
    assert recovered[head - 1] == (head, "f" * 64)
    assert recovered[:head - 1] == audit_log(office.home)[:head - 1]


def test_a_run_does_not_continue_from_a_segment_cut_short_on_the_disk(office: Office) -> None:
    """The sealed segment cut short on the disk, the manifest left as it was (a disk that
    lost the file's end, or a holder who cut it): the run must not seal a log that leans
    on it (recover would then refuse the disk: nothing recovered) but write the log whole
    again, as for a segment missing; the file is found with an ``lstat``, as documents."""
    (segment,) = (office.disk / "data" / "audit").iterdir()
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) // 2])
    r = office.backup()
    assert r.returncode == 0, r.stderr
    listed = newest_seal(office.disk)["audit_segments"]["segments"]
    assert len(listed) == 1 and listed[0][1] == 1, listed
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.stdout, r.stderr
    out = r.json()
    assert out["audit_ok"] is True, out
    # The damaged file is still named by verify, not relied on.
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode != 0 and segment.name in r.stdout, r.stdout


def test_recover_names_a_segment_cut_short_as_damaged_not_as_a_disk_write_error(
        office: Office) -> None:
    (segment,) = (office.disk / "data" / "audit").iterdir()
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) // 2])  # the manifest left as it was
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode != 0
    assert "recover" not in r.stdout
    assert "is damaged (its SHA-256 does not match" in r.stderr, r.stderr
    assert "cannot write" not in r.stderr, r.stderr


def test_recover_names_a_log_rewritten_since_an_older_sealed_head(office: Office) -> None:
    """The office's log rewritten in its database, every hash made anew so that it chains
    (an insider at the laptop), then backed up: the run writes the log whole and its seal
    names it. The older run recorded the head the log had then (an anchor,
    docs/security.md): recover must not call the rewritten log intact. (Holds at review:
    a guard.)"""
    from brankas.core import crypto
    from brankas.core.audit import hashchain

    (segment,) = (office.disk / "data" / "audit").iterdir()
    identity = [crypto.parse_identity(office.recovery_file.read_text().strip())]
    rows = [json.loads(x) for x in crypto.decrypt_bytes(segment.read_bytes(),
                                                        identity).splitlines()]
    rows[2]["actor"] = "orang-lain"  # entry 3
    prev = rows[1]["hash"]
    con = sqlite3.connect(office.home / "brankas.sqlite3")
    with con:
        for row in rows[2:]:
            content = {k: row[k] for k in ("seq", "at", "actor", "action", "target",
                                           "outcome", "detail")}
            digest = hashchain.entry_hash(prev, content)
            con.execute("UPDATE audit_auditevent SET actor = ?, prev_hash = ?, hash = ? "
                        "WHERE seq = ?", (row["actor"], prev, digest, row["seq"]))
            prev = digest
    con.close()
    r = office.backup()  # its own entries chain on from the rewritten head
    assert r.returncode == 0, r.stderr
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.stdout, r.stderr
    out = r.json()
    # The run records of the snapshot carry the older heads: the log is not intact.
    assert out["audit_ok"] is False and out["ok"] is False, out


def test_the_guides_audit_step_reads_only_the_pieces_the_newest_seal_lists(
        office: Office, tmp_path: Path) -> None:
    """A run that wrote the log whole again (here: this database's last entry is not the
    disk's) leaves the older pieces on the disk (append-only): 1-21 and 1-24. The guide's
    step 4, run as written with ``age`` and ``sh``, must give the log once, 1, 2, 3, ...
    up to the newest seal's head, not every piece in data/audit/ one after the other."""
    import shutil
    import subprocess

    head = newest_seal(office.disk)["audit_head"]["seq"]
    con = sqlite3.connect(office.home / "brankas.sqlite3")
    with con:
        con.execute("UPDATE audit_auditevent SET hash = ? WHERE seq = ?", ("e" * 64, head))
    con.close()
    assert office.backup().returncode == 0
    assert len(list((office.disk / "data" / "audit").iterdir())) == 2
    for guide, key in (("RESTORE-GUIDE.txt", "recovery.txt"),
                       ("PANDUAN-PEMULIHAN.txt", "pemulihan.txt")):
        text = (office.disk / guide).read_text(encoding="utf-8")
        (command,) = [line.strip() for line in text.splitlines()
                      if line.strip().startswith("for f in ")]
        disk = tmp_path / guide
        shutil.copytree(office.disk, disk)
        shutil.copy(office.recovery_file, disk / key)
        done = subprocess.run(["sh", "-c", command], cwd=disk, capture_output=True,
                              text=True, check=False, timeout=120)
        assert done.returncode == 0, done.stderr
        seqs = [json.loads(x)["seq"] for x in (disk / "audit.jsonl").read_text().splitlines()]
        head = newest_seal(office.disk)["audit_head"]["seq"]
        assert seqs == list(range(1, head + 1)), (guide, seqs)


def test_allow_older_recovers_from_the_newest_usable_sealed_list_of_segments(
        office: Office) -> None:
    """The newest segment damaged (cut short; the manifest as it was) while the older
    run's sealed list is whole: recover refuses (the newest log cannot be had), and
    ``--allow-older`` recovers the office with the log up to the older run's head, naming
    what it passed over, as it does for an older snapshot. Before segments a damaged audit
    tail cost only the entries after the snapshot; now it must not cost the whole office."""
    older_head = newest_seal(office.disk)["audit_head"]
    assert office.backup().returncode == 0
    names = sorted((office.disk / "data" / "audit").iterdir())
    assert len(names) == 2
    data = names[-1].read_bytes()
    names[-1].write_bytes(data[: len(data) // 2])
    args = ("recover", str(office.disk), "--identity", str(office.recovery_file), "--json")
    r = office.cli(*args, "--home", str(office.base / "pulih"))
    assert r.returncode != 0 and "cannot be used" in r.stderr, r.stderr
    new = office.base / "pulih-lama"
    r = office.cli(*args, "--home", str(new), "--allow-older")
    assert r.stdout, r.stderr
    out = r.json()
    assert out["ok"] is False and out["documents"] == len(office.docs), out
    assert any(names[-1].name in p and "is damaged" in p and "Nothing was" not in p
               for p in out["passed_over"]), out["passed_over"]
    recovered = audit_log(new)
    assert recovered[older_head["seq"] - 1] == (older_head["seq"], older_head["hash"])
    assert recovered[:older_head["seq"]] == audit_log(office.home)[:older_head["seq"]]


def test_an_entry_altered_in_the_middle_is_not_carried_to_the_disk(office: Office) -> None:
    """An entry before the disk's head altered in this database (its hash): the disk's
    last entry is still this database's, so the run continues the sealed segments; the
    disk keeps the entry as it was sealed, and a recover gives the log the disk sealed
    (intact), not the altered one. (Holds at review: a guard.)"""
    head = newest_seal(office.disk)["audit_head"]["seq"]
    sealed = audit_log(office.home)
    con = sqlite3.connect(office.home / "brankas.sqlite3")
    with con:
        con.execute("UPDATE audit_auditevent SET hash = ? WHERE seq = 5", ("d" * 64,))
    con.close()
    assert office.backup().returncode == 0
    listed = newest_seal(office.disk)["audit_segments"]["segments"]
    assert len(listed) == 2 and listed[1][1] == head + 1, listed  # continued
    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["audit_ok"] is True
    assert audit_log(new)[:head] == sealed[:head]
