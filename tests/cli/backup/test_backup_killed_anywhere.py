"""A real ``brankas backup`` killed (SIGKILL) after a random delay, twenty times, at any
point of a run (its start, the snapshot and registers written to the run's files, the
copies, a checkpoint's sync, read-back and listing, the control list and seal, the
recording of the run). After every kill:

- ``brankas verify`` of the disk agrees with the database: every document recorded as
  on the disk is listed there with the register's SHA-256 (and, outside a commit window
  the next run repairs, the disk is intact);
- a second run completes, and the disk is then intact;
- no staging file is left: not in the disk's staging folder, not in ``BRANKAS_HOME/tmp``
  (the killed run's files are swept by the next run);
- no plaintext of an exempted document, of the database snapshot or of the full
  register is anywhere on the disk, in the data folder (its database excepted: the
  register is plain there by design, docs/security.md) or in the temporary folders.

Half the rounds start a fresh disk (a whole archive copied, many checkpoints), half add
to the office's disk (an incremental run).

Each run is a process of its own: a child of the tests' fork server
(tests/hostile_disk/forkcli.py: the real command in a forked process, killed with its
process group), so the delays fall in the command's own work, not in an interpreter's
start-up (about a second of a ``python -m brankas`` run, proving nothing about a disk).
``backup`` as ``python -m brankas``: tests/cli/test_process_smoke.py."""

from __future__ import annotations

import json
import os
import random
import stat
import time
from pathlib import Path

import pytest

from tests.cli.backup.conftest import Office, import_scans, manifest, recorded_on
from tests.conftest import PASSWORDS
from tests.hostile_disk import forkcli, harness
from tests.leakscan import SHARED_TEMP, files_containing

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

# Kills per run: the delays are random on every run of the suite, so eight each time (about
# 30 s) add up over the runs; BRANKAS_TEST_KILL_ROUNDS=20 (or more) for a deeper look.
ROUNDS = int(os.environ.get("BRANKAS_TEST_KILL_ROUNDS", "8"))
DOCS, SIZE = 60, 150_000
DATABASE = ("brankas.sqlite3", "brankas.sqlite3-wal", "brankas.sqlite3-shm")


def _env(office: Office) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    (office.base / "tmp").mkdir(exist_ok=True)
    env.update({"BRANKAS_HOME": str(office.home), "BRANKAS_LANG": "en",
                "TMPDIR": str(office.base / "tmp"), "BRANKAS_USER": "operator",
                "BRANKAS_PASSWORD": PASSWORDS["operator"]})
    return env


def _run(office: Office, dest: Path, limit: float) -> tuple[int, str, bool]:
    """``brankas backup DEST`` as a child of this process's fork server, killed (SIGKILL,
    with its process group) when still running after ``limit`` seconds: (exit status,
    output, killed)."""
    code, out, err, hung = harness._commands().run(
        ["backup", str(dest), "--json"], _env(office), office.base, limit,
        on_hang=lambda: None)
    return code, out + err, hung


def _medium_id(disk: Path) -> str | None:
    try:
        return str(json.loads((disk / "brankas-medium.json").read_text())["medium_id"])
    except (OSError, ValueError, KeyError):
        return None


def _verify(office: Office, disk: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    r = office.cli("verify", str(disk), "--json", user="operator")
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else {})


def _leaks(office: Office, markers: list[bytes], roots: list[Path],
           since: float) -> list[tuple[bytes, str]]:
    """Where any marker is, in clear, in a file under ``roots`` written since ``since``
    (one read of each file for all markers), outside the office's database and the
    scans the test registered from."""
    skip = {str(office.home / name) for name in DATABASE}
    skip |= {str(p) for p in office.base.glob("scan-*.pdf")}
    candidates = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            if "PG_VERSION" in names:  # a PostgreSQL cluster of the suite: a database too
                dirs[:] = []  # (the migrate-db tests copy this office's rows into it)
                continue
            for name in names:
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:  # vanished meanwhile (a shared /tmp)
                    continue
                if path in skip or not stat.S_ISREG(st.st_mode) or st.st_mtime < since:
                    continue  # not a regular file: a FIFO would block the scan
                candidates.append(path)
    # Read by a process of its own (leakscan.files_containing: this process's own
    # database files are under /tmp too, and reading them here would drop its locks).
    return [(m, path) for path, found in files_containing(candidates, markers).items()
            for m in sorted(found)]


def test_a_backup_killed_anywhere_leaves_disk_records_and_folders_consistent(
        office: Office) -> None:
    r = import_scans(office, DOCS, SIZE)
    started = time.time()
    (password,) = office.sql("select password from accounts_user where username='operator'")[0]
    # Plain only in the database: the snapshot (a password hash) and exempted subjects
    # (the full register, the snapshot, the PDFs' text).
    markers = [password.rsplit("$", 1)[1].encode()]

    # How long a whole run (a process of its own) to an empty disk takes here, and one
    # that adds a letter to the office's disk: each round's kill falls in a run of its
    # kind. The shorter of two runs: the first one also pays for cold caches (on a tmpfs,
    # where the writes cost little, it can take twice as long as the next, and most kills
    # would then come after the run has ended). s28: the incremental rounds drew from the
    # whole run's time, two thirds of them ended before it, and 3 kills of 8 failed the
    # count under load; a round whose run still ends first is run again, killed within
    # the time that run took.
    harness._commands().start()  # its warm-up is not a run's time
    timings: dict[bool, list[float]] = {True: [], False: []}
    for n in (1, 2):
        for fresh in (True, False):
            if not fresh:
                office.register("penerimaan", "biasa", f"Kalibrasi {n}")
            t0 = time.monotonic()
            disk = office.base / f"disk-calibration-{n}" if fresh else office.disk
            code, text, _ = _run(office, disk, 300)
            assert code == 0, text
            timings[fresh].append(time.monotonic() - t0)
    whole = {fresh: min(times) for fresh, times in timings.items()}

    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    kills = windows = 0
    for i in range(ROUNDS):
        fresh = i % 2 == 0
        began = time.time() - 1
        limit = whole[fresh]
        for attempt in range(3):  # a run that ended before its kill: again, killed sooner
            # A new exempted letter each attempt: a retried run adds one too (s28 review).
            subject = f"Penyelidikan RAHASIA-ELANG-{i:02d}{attempt}-{rng.randrange(10**6):06d}"
            markers.append(subject.split(" ", 1)[1].encode())
            office.register("penerimaan", "rahasia", subject)
            disk = office.base / f"disk-{i:02d}-{attempt}" if fresh else office.disk
            delay = rng.uniform(0, limit)
            t0 = time.monotonic()
            code, text, killed = _run(office, disk, delay)
            where = f"round {i}.{attempt} (seed {seed}), killed after {delay:.3f}s of {limit:.3f}s"
            if killed:
                kills += 1
                break
            assert code == 0, (where, text)
            limit = min(limit, time.monotonic() - t0)  # (s28 review: a count left to chance)

        assert _leaks(office, markers, [office.base], began) == [], where
        for path in (office.home / "tmp").iterdir():  # what the killed run left: private
            assert path.stat().st_mode & 0o077 == 0, (where, path)

        # The disk agrees with the database: nothing recorded that it does not hold.
        medium_id = _medium_id(disk)
        if medium_id is not None and (disk / "bagit.txt").exists():
            code, report = _verify(office, disk)
            assert report, (where, code)
            assert report["register_problems"] == [], (where, report)
            listed = manifest(disk)
            assert recorded_on(office, medium_id) <= set(listed), where
            in_window = (disk / ".brankas-staging" / "commit.json").exists()
            windows += in_window
            if not in_window:
                assert code == 0, (where, report)
        else:
            # Killed before the disk was made a bag: no record of it can exist.
            assert not office.sql("select 1 from backup_medium where last_path = ?",
                                  str(disk)), where

        # The next run completes; nothing is left in any staging folder.
        r = office.backup(disk)
        assert r.returncode == 0, (where, r.stderr)
        code, report = _verify(office, disk)
        assert code == 0, (where, report)
        assert os.listdir(disk / ".brankas-staging") == ["lock"], where
        left = sorted(p.name for p in (office.home / "tmp").iterdir()
                      if p.name != "archive.lock")
        assert left == [], (where, left)

        assert _leaks(office, markers, [office.base], began) == [], where
    assert _leaks(office, markers, list(SHARED_TEMP), started) == []
    assert kills >= ROUNDS // 2, f"only {kills} of {ROUNDS} runs were killed"
    print(f"{kills} kills, {windows} inside a commit window (seed {seed})")
