"""The audit log on the disk as sealed segments (``core/disk/segments.py``): each run adds
only the entries the disk lacks; recover rebuilds the log from them; a disk written before
segments (the log in its snapshot and audit tail) still recovers, and a run of today on it
starts the segments with the whole log."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from brankas.core import crypto
from brankas.core.disk import segments as segs
from tests.cli.backup.conftest import Office, audit_log, manifest, newest_seal
from tests.conftest import cli

OLD = Path(__file__).resolve().parents[2] / "fixtures" / "disk-before-sendrequests"


def _segments(disk: Path) -> list[str]:
    return sorted(p[len("data/"):] for p in manifest(disk) if p.startswith("data/audit/"))




def test_each_run_adds_the_entries_the_disk_lacks_and_recover_rebuilds_the_log(
        office: Office) -> None:
    office.register("penerimaan", "biasa", "Undangan rapat segmen")
    assert office.backup().returncode == 0
    assert office.backup().returncode == 0  # nothing new but the runs' own entries
    names = _segments(office.disk)
    ranges = [segs.name_range(n) for n in names]
    assert len(names) == 3 and ranges[0][0] == 1, names
    assert all(b[0] == a[1] + 1 for a, b in zip(ranges, ranges[1:], strict=False)), ranges
    statement = newest_seal(office.disk)
    assert [s[0] for s in statement["audit_segments"]["segments"]] == names
    assert statement["audit_head"]["seq"] == ranges[-1][1]
    # The snapshot holds no audit entry any more; the segments hold them, whole.
    identity = [crypto.parse_identity(office.recovery_file.read_text().strip())]
    first = crypto.decrypt_bytes((office.disk / "data" / names[0]).read_bytes(), identity)
    lines = [json.loads(line) for line in first.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, ranges[0][1] + 1))
    snapshot = crypto.decrypt_bytes(
        (office.disk / "data" / "backup" / statement["snapshot"]["folder"] / "database.json.age"
         ).read_bytes(), identity)
    assert b'"audit.auditevent"' not in snapshot and b'"audit.auditsequence"' in snapshot

    new = office.base / "pulih"
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and out["audit_ok"] is True, out
    recovered = audit_log(new)
    # The log up to the newest sealed head, entry for entry (then recover's own entry).
    head = statement["audit_head"]["seq"]
    assert recovered[:head] == audit_log(office.home)[:head]
    assert recovered[head - 1] == (head, statement["audit_head"]["hash"])


def test_a_disk_of_the_older_layout_recovers_and_a_run_of_today_continues_it(
        tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    shutil.copytree(OLD / "disk", disk)
    assert _segments(disk) == []
    identity = str(OLD / "recovery-identity.txt")
    first = tmp_path / "pertama"
    r = cli(first, tmp_path, "recover", str(disk), "--home", str(first), "--identity",
            identity, "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["ok"] is True and r.json()["audit_ok"] is True

    # The recovered office backs up to the same disk: its first segment is the whole log.
    expected = json.loads((OLD / "expected.json").read_text(encoding="utf-8"))
    env = {"BRANKAS_USER": "operator", "BRANKAS_PASSWORD": expected["passwords"]["operator"]}
    r = cli(first, tmp_path, "backup", str(disk), "--json", env=env)
    assert r.returncode == 0, r.stderr
    (segment,) = _segments(disk)
    assert segs.name_range(segment)[0] == 1
    assert newest_seal(disk)["snapshot"]["folder"] == r.json()["folder"]  # a snapshot anew
    r = cli(first, tmp_path, "verify", str(disk), "--json", env=env)
    assert r.returncode == 0, r.stdout

    second = tmp_path / "kedua"
    r = cli(second, tmp_path, "recover", str(disk), "--home", str(second), "--identity",
            identity, "--json")
    assert r.returncode == 0, r.stderr
    out = r.json()
    assert out["ok"] is True and out["audit_ok"] is True, out
    head = newest_seal(disk)["audit_head"]["seq"]
    assert audit_log(second)[:head] == audit_log(first)[:head]


def test_the_guides_audit_step_works_with_age_and_sh_alone(office: Office,
                                                           tmp_path: Path) -> None:
    """The restore guides' step for the audit log, run as written (real ``age``, ``sh``)
    in a copy of the disk: the whole log, in order, each entry chaining on."""
    from brankas.core.audit import hashchain

    assert office.backup().returncode == 0  # two segments
    guide = (office.disk / "RESTORE-GUIDE.txt").read_text(encoding="utf-8")
    (command,) = [line.strip() for line in guide.splitlines()
                  if line.strip().startswith("for f in ")]
    panduan = (office.disk / "PANDUAN-PEMULIHAN.txt").read_text(encoding="utf-8")
    assert command.replace("recovery.txt", "pemulihan.txt") in panduan
    disk = tmp_path / "disk"
    shutil.copytree(office.disk, disk)
    shutil.copy(office.recovery_file, disk / "recovery.txt")
    done = subprocess.run(["sh", "-c", command], cwd=disk, capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in (disk / "audit.jsonl").read_text().splitlines()]
    assert len(_segments(office.disk)) == 2
    prev = hashchain.GENESIS
    for n, entry in enumerate(entries, 1):
        assert entry["seq"] == n and entry["prev_hash"] == prev
        content = {k: entry[k] for k in ("seq", "at", "actor", "action", "target",
                                         "outcome", "detail")}
        assert hashchain.entry_hash(prev, content) == entry["hash"]
        prev = entry["hash"]
    assert newest_seal(office.disk)["audit_head"] == {"seq": len(entries), "hash": prev}
