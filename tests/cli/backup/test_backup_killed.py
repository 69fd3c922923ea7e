"""A ``brankas backup`` process killed (SIGKILL) at random points mid-copy: the bag on the
disk always validates (or the next run repairs it), the killed runs show as interrupted,
nothing is recorded as on the disk that the manifest does not list, and a final run
completes the backup."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import bagit
import pytest

from tests.cli.backup.conftest import Office, import_scans, manifest, recorded_on, validate
from tests.conftest import PASSWORDS
from tests.hostile_disk import forkcli, harness

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

DOCS, SIZE = 30, 1_200_000


def _env(office: Office) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANKAS_")}
    (office.base / "tmp").mkdir(exist_ok=True)
    env.update({"BRANKAS_HOME": str(office.home), "BRANKAS_LANG": "en",
                "TMPDIR": str(office.base / "tmp"), "BRANKAS_USER": "operator",
                "BRANKAS_PASSWORD": PASSWORDS["operator"]})
    return env


# Run in the last killed command's process first (tests/hostile_disk/forkcli.py): killed
# in the commit window of its first checkpoint of copies (``Hooks.committing``: after the
# renames into data/, before the manifests are replaced).
IN_THE_WINDOW = r"""
import dataclasses, os, signal

from brankas.core.disk import state

original = state.BagState._write_commit


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def write_commit(self, batch, *args, **kwargs):
    if any(not s.path.startswith("audit/") for s in batch):
        self.hooks = dataclasses.replace(self.hooks, committing=die)
    return original(self, batch, *args, **kwargs)


state.BagState._write_commit = write_commit
"""


def _archive_files(disk: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(disk / "data" / "arsip"))


def _staged_files(disk: Path, since: float) -> int:
    """Copies this run has written in the staging folder (a killed run's are left there
    until the next run clears them)."""
    count = 0
    for folder, _, files in os.walk(disk / ".brankas-staging"):
        for name in set(files) - {"lock", "commit.json"}:
            try:
                count += os.stat(os.path.join(folder, name)).st_mtime >= since
            except FileNotFoundError:
                continue
    return count


def test_runs_killed_mid_copy_resume_into_a_valid_bag(office: Office) -> None:
    r = import_scans(office, DOCS, SIZE)
    assert r.json()["imported"] == DOCS
    docs = {f"data/{p}": h for p, h in office.sql(
        "select stored_path, stored_sha256 from documents_document")}
    medium_id = office.first_run["medium"]["medium_id"]

    rng = random.Random()
    kills = windows = 0
    killed_runs: list[int] = []
    for attempt in range(5):
        before = set(manifest(office.disk))
        began = time.time() - 0.01  # file times may lag the clock a little
        (previous,) = office.sql("select max(number) from backup_backuprun")[0]
        # The real ``brankas backup`` in a process of its own (a child of the fork server,
        # tests/hostile_disk/forkcli.py: the kill falls in the backup, not in an
        # interpreter's start-up), killed (SIGKILL) once the condition below holds.
        # This run's copies, not the previous killed run's being finished as the disk is
        # opened (before this run has a number): the run's entry first.
        seen: dict[str, int] = {}

        def reached(previous: int = previous, began: float = began, attempt: int = attempt,
                    target: int = rng.randint(1, DOCS // 2), seen: dict[str, int] = seen
                    ) -> bool:
            if "have" not in seen:
                if office.sql("select max(number) from backup_backuprun")[0][0] == previous:
                    return False
                seen["have"] = _archive_files(office.disk)
            if attempt < 3:
                # Mid-copy: once a random number of verified copies wait in the staging
                # folder, plus a random instant (staging write, fsync, read-back).
                return _staged_files(office.disk, began) >= target
            # At the checkpoint: as soon as the copies are being moved into data/.
            return _archive_files(office.disk) != seen["have"]

        if attempt == 4:
            # Inside the commit window for certain (the polled kill above lands there about
            # one run in six, mostly after it): at the product's hook between the renames
            # into data/ and the manifests' replace, in the first checkpoint of copies.
            code, _, err, hung = harness._commands().run(
                ["backup", str(office.disk), "--json"],
                {**_env(office), forkcli.PRELUDE: IN_THE_WINDOW}, office.base, 60,
                on_hang=lambda: None)
            assert not hung and code == -signal.SIGKILL, (code, err[-3000:])
        else:
            code, _, err = harness._commands().run_killed(
                ["backup", str(office.disk), "--json"], _env(office), office.base,
                reached=reached, delay=rng.uniform(0, 0.03) if attempt < 3 else 0,
                poll=0.002 if attempt < 3 else 0.0005, timeout=60)
        assert code in (0, -signal.SIGKILL), err[-3000:]
        if code != -signal.SIGKILL:
            continue  # it finished first
        kills += 1
        (last,) = office.sql("select max(number) from backup_backuprun")[0]
        killed_runs.append(last)
        try:
            validate(office.disk)
        except bagit.BagValidationError:
            # Killed inside the commit window: the journal says how to finish it.
            assert (office.disk / ".brankas-staging" / "commit.json").exists()
            windows += 1
        listed = manifest(office.disk)
        assert set(before) <= set(listed)
        for path, digest in listed.items():
            if path in docs:
                assert digest == docs[path]
        # Only documents the manifest lists are recorded as on this disk.
        assert recorded_on(office, medium_id) <= set(listed)
    assert kills >= 2, f"only {kills} runs could be killed"
    assert windows >= 1, "no run was killed inside its commit window"
    print(f"{kills} kills, {windows} inside the commit window")

    r = office.backup()
    assert r.returncode == 0, r.stderr
    final = r.json()
    validate(office.disk)
    listed = manifest(office.disk)
    assert {p: listed[p] for p in docs} == docs
    assert recorded_on(office, medium_id) == set(docs)
    runs = {x["run"]: x for x in office.cli("backup", "list", "--json", user="kasi").json()}
    assert runs[final["run"]]["status"] == "completed"
    assert len(set(killed_runs)) == kills and 1 not in killed_runs
    killed = [runs[n] for n in killed_runs]
    for run in killed:
        assert run["status"] == "failed" and run["error"] == "interrupted", run
    # No document is named as carried by two runs, nor one that is not new. (A document
    # whose checkpoint a killed run left in the commit window, finished by the next run's
    # repair, is recorded as on the disk without a run: no control list names it.)
    carried = [a for x in [*killed, runs[final["run"]]] for a in x["agendas"]]
    new = {a for (a,) in office.sql("select agenda from documents_document")} - set(office.docs)
    assert len(carried) == len(set(carried)) and set(carried) <= new
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 0, r.stdout
