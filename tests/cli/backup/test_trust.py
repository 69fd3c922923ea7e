"""What a disk can prove and what it cannot (issue 11): every run is sealed by the office's
key; recover believes only the newest sealed snapshot, and a change to it is refused, not
passed over; verify holds the disk against the seals and the register; a recover killed
at any moment leaves nothing or a finished instance."""

from __future__ import annotations

import base64
import json
import os
import random
import time
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office, manifest
from tests.conftest import cli
from tests.hostile_disk import forkcli, harness

RUNS = "data/backup"


def _runs(disk: Path) -> list[str]:
    return sorted(p.name for p in (disk / RUNS).iterdir())


def _fix_manifests(disk: Path) -> None:
    """What an attacker does after changing a file: make the bag's manifests agree again."""
    import hashlib

    lines = []
    for line in (disk / "manifest-sha256.txt").read_text().splitlines():
        _digest, path = line.split("  ", 1)
        data = (disk / path).read_bytes()
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {path}")
    (disk / "manifest-sha256.txt").write_text("\n".join(lines) + "\n")
    sizes = [f"{(disk / p).stat().st_size}  {p}" for _, p in
             (ln.split("  ", 1) for ln in lines)]
    (disk / "brankas-sizes.txt").write_text("\n".join(sizes) + "\n")
    tags = []
    for line in (disk / "tagmanifest-sha256.txt").read_text().splitlines():
        _digest, name = line.split("  ", 1)
        tags.append(f"{hashlib.sha256((disk / name).read_bytes()).hexdigest()}  {name}")
    (disk / "tagmanifest-sha256.txt").write_text("\n".join(tags) + "\n")


def _second_run(office: Office) -> None:
    office.register("penerimaan", "rahasia", "Laporan intelijen RAHASIA-GAGAK-9120")
    r = office.backup()
    assert r.returncode == 0, r.stderr


def _recover(office: Office, name: str, *extra: str) -> tuple[Path, object]:
    new = office.base / name
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json", *extra)
    return new, r


@pytest.mark.slow
def test_every_run_ends_with_the_office_seal_and_recover_says_it_is_authentic(
        office: Office) -> None:
    _second_run(office)
    for run in _runs(office.disk):
        seal = json.loads((office.disk / RUNS / run / "segel.json").read_text())
        statement = json.loads(seal["statement"])
        assert statement["folder"] == run and statement["audit_head"]["seq"] > 0
    r = office.cli("key", "list", "--json", user="kasi")
    row = next(k for k in r.json() if k["holder"] == "office-key")
    assert seal["fingerprint"] == row["fingerprint"]
    # It signs and is no recipient: nothing that encrypts to the active rows takes it.
    assert row["recipient"] == "" and len(base64.b64decode(row["signing_key"])) == 32
    assert all(k["recipient"].startswith("age1") for k in r.json() if k["holder"] != "office-key")
    new, r = _recover(office, "baru")
    assert r.returncode == 0, r.stderr  # type: ignore[attr-defined]
    out = r.json()  # type: ignore[attr-defined]
    assert out["authenticated"] is True and out["snapshot_run"] == _runs(office.disk)[-1]
    assert any("recovery" in how for how in out["trusted_by"])
    # The paper fingerprint alone proves it too (a passphrase unlocks the snapshot).
    r = office.cli("recover", str(office.disk), "--home", str(office.base / "baru2"),
                   "--passphrase-file", office.secret("kabid.pp"), "--fingerprint",
                   row["fingerprint"].upper().replace("-", " "), "--json")
    assert r.returncode == 0, r.stderr
    assert any("fingerprint on paper" in how for how in r.json()["trusted_by"])


@pytest.mark.slow  # backups and whole recovers, one after the other
def test_one_byte_changed_in_the_newest_snapshot_is_refused_not_passed_over(
        office: Office) -> None:
    _second_run(office)
    newest = _runs(office.disk)[-1]
    snapshot = office.disk / RUNS / newest / "database.json.age"
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 1
    snapshot.write_bytes(bytes(data))
    _fix_manifests(office.disk)
    new, r = _recover(office, "baru")
    assert r.returncode == 1  # type: ignore[attr-defined]
    err = r.stderr  # type: ignore[attr-defined]
    assert "not what the office sealed" in err and "--allow-older" in err
    assert "RAHASIA-GAGAK" not in err
    # The agenda the older snapshot would lose is named before anything is done.
    added = [a for a in office.docs if a not in office.first_run["agendas"]]
    assert all(a in err for a in added)
    assert not new.exists()
    assert not [p for p in office.base.iterdir() if ".recovering-" in p.name]
    # Asked for explicitly, the older snapshot is used, and the loss is listed.
    new, r = _recover(office, "baru", "--allow-older")
    out = r.json()  # type: ignore[attr-defined]
    assert out["snapshot_run"] == _runs(office.disk)[0]
    assert any(newest in line for line in out["passed_over"])
    assert new.is_dir()


@pytest.mark.slow  # backups and whole recovers, one after the other
def test_an_older_snapshot_copied_over_the_newest_is_refused(office: Office) -> None:
    _second_run(office)
    first, newest = _runs(office.disk)
    old = (office.disk / RUNS / first / "database.json.age").read_bytes()
    (office.disk / RUNS / newest / "database.json.age").write_bytes(old)
    _fix_manifests(office.disk)
    new, r = _recover(office, "baru")
    assert r.returncode == 1 and "not what the office sealed" in r.stderr  # type: ignore[attr-defined]
    assert not new.exists()
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 1
    assert any(newest in p and "database.json.age" in p for p in r.json()["seal_problems"])


def test_verify_names_a_sealed_run_that_is_gone_and_documents_the_register_expects(
        office: Office) -> None:
    _second_run(office)
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 0, r.stdout
    assert r.json()["runs_sealed"] == 2
    # Roll the disk back: the newest run and a document it carried, out of the manifest.
    newest = _runs(office.disk)[-1]
    import shutil

    shutil.rmtree(office.disk / RUNS / newest)
    gone = next(a for a in office.docs if a not in office.first_run["agendas"])
    (office.disk / "data" / office.docs[gone].stored_path).unlink()
    lines = [ln for ln in (office.disk / "manifest-sha256.txt").read_text().splitlines()
             if newest not in ln and office.docs[gone].stored_path not in ln]
    (office.disk / "manifest-sha256.txt").write_text("\n".join(lines) + "\n")
    _fix_manifests(office.disk)
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 1
    out = r.json()
    assert out["missing"] == out["changed"] == out["unexpected"] == []  # a consistent bag
    assert any(newest in p and "rolled back" in p for p in out["seal_problems"])
    assert any(gone in p for p in out["register_problems"])


def test_a_disk_claiming_another_disks_id_cannot_prove_it(office: Office) -> None:
    other = office.base / "lain"
    r = cli(office.home, office.base, "backup", str(other), "--label", "DISK-LAIN", "--json",
            user="operator")
    assert r.returncode == 0, r.stderr
    # A new, empty disk of the attacker's, carrying the first disk's identity file.
    fake = office.base / "palsu"
    fake.mkdir()
    for name in ("bagit.txt", "brankas-medium.json"):
        (fake / name).write_bytes((office.disk / name).read_bytes())
    (fake / "data").mkdir()
    (fake / "manifest-sha256.txt").write_text("")
    (fake / "bag-info.txt").write_text("Payload-Oxum: 0.0\n")
    r = office.cli("verify", str(fake), "--json", user="operator")
    assert r.returncode == 1
    out = r.json()
    assert any("cannot prove" in p for p in out["seal_problems"])
    assert len(out["register_problems"]) == len(office.docs)


@pytest.mark.slow  # backups and whole recovers, one after the other
def test_an_office_set_up_before_seals_needs_the_anchor_or_the_fingerprint(
        office: Office) -> None:
    # Remove the anchors from the disk and the database, as an office upgraded from
    # before seals would have: the recovery identity alone proves nothing.
    import sqlite3

    with sqlite3.connect(office.home / "brankas.sqlite3") as db:
        db.execute("update keys_holderkey set anchor = x'', anchor_office_key = ''")
        db.execute("update keys_officekey set recovery_anchor = x''")
    disk = office.base / "disk-baru"
    r = office.cli("backup", str(disk), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    assert not (disk / "data" / "keys" / "anchors").exists()
    new = office.base / "baru"
    r = office.cli("recover", str(disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 1 and "--fingerprint" in r.stderr and not new.exists()
    # The recovery identity from the safe anchors the office key; the next run carries it.
    r = office.cli("key", "anchor", "--identity", str(office.recovery_file), user="admin")
    assert r.returncode == 0, r.stderr
    r = office.cli("backup", str(disk), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    r = office.cli("recover", str(disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert r.json()["authenticated"] is True


@pytest.mark.slow
@pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX")
def test_a_recover_killed_at_any_moment_leaves_nothing_or_a_finished_instance(
        office: Office) -> None:
    """Each ``brankas recover`` a process of its own, killed (SIGKILL, with its process
    group) at a random moment of its run: a child of the tests' fork server
    (tests/hostile_disk/forkcli.py: the real command in a forked process), so the moments
    fall in the recover itself, not in an interpreter's start-up (about half of a
    ``python -m brankas`` run's time, where most kills used to land). ``recover`` as
    ``python -m brankas``: test_process_smoke.py::test_restore_drill_and_recover_in_a_process."""
    import shutil

    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    env.update({"BRANKAS_LANG": "en", "TMPDIR": str(office.base / "tmp")})
    (office.base / "tmp").mkdir(exist_ok=True)
    new = office.base / "dipulihkan"
    args = ["recover", str(office.disk), "--home", str(new), "--identity",
            str(office.recovery_file), "--json"]
    commands = harness._commands()  # this process's fork server
    commands.start()  # its warm-up is not the recover's time

    def run(limit: float) -> tuple[int, str, bool]:
        code, out, err, hung = commands.run(args, env, office.base, limit,
                                            on_hang=lambda: None)
        return code, out + err, hung

    started = time.monotonic()
    code, text, hung = run(300)
    whole = time.monotonic() - started
    assert (code, hung) == (0, False), text
    shutil.rmtree(new)
    rng = random.Random(11)
    for _ in range(4):
        code, text, hung = run(rng.uniform(0.05, whole))  # killed when still running then
        assert hung or code == 0, text
        if new.exists():  # finished, or killed after the switch: a whole instance
            r = cli(new, office.base, "list", "--json", user="kasi")
            assert r.returncode == 0 and len(r.json()) == len(office.docs), r.stderr
            assert not (new / ".brankas-recovering").exists()
            shutil.rmtree(new)
    # A run after the kills works, and removes what the killed ones left beside NEW.
    r = office.cli("recover", str(office.disk), "--home", str(new), "--identity",
                   str(office.recovery_file), "--json")
    assert r.returncode == 0, r.stderr
    assert not [p for p in office.base.iterdir() if ".recovering-" in p.name]
    assert sorted(manifest(office.disk))  # the disk itself was only read


@pytest.mark.slow  # backups and whole recovers, one after the other
def test_a_recovered_log_is_whole_up_to_the_disks_newest_head(office: Office) -> None:
    """Sign-ins and backup bookkeeping after the snapshot come back from the sealed audit
    tail: the rebuilt log verifies against the very disk it came from, and numbers go on."""
    for _ in range(2):  # no-change runs: heads move on, no new snapshot
        r = office.backup()
        assert r.returncode == 0, r.stderr
    heads = [json.loads(json.loads((office.disk / RUNS / f / "segel.json").read_text())
                        ["statement"])["audit_head"]["seq"] for f in _runs(office.disk)]
    assert heads == sorted(heads) and len(set(heads)) == 3
    new, r = _recover(office, "baru")
    assert r.returncode == 0, r.stderr  # type: ignore[attr-defined]
    assert r.json()["snapshot_run"] == _runs(office.disk)[0]  # type: ignore[attr-defined]
    r = cli(new, office.base, "audit", "verify", "--against", str(office.disk), "--json",
            user="admin")
    assert r.returncode == 0, r.stdout + r.stderr
    r = cli(new, office.base, "audit", "list", "--limit", "1", "--json", user="admin")
    assert r.json()[0]["seq"] > heads[-1]
