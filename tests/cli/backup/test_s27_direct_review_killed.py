"""Review of s27: a real ``brankas backup`` killed (SIGKILL, by itself) half-way through
writing each of its own files straight into the disk's staging folder (the snapshot, a
register, the control list). The half-written file is left there (on the disk, not in
``BRANKAS_HOME/tmp``); ``brankas verify`` of the disk passes; the next run sweeps it,
completes, and leaves nothing staged but the disk's lock and nothing of a run in
``BRANKAS_HOME/tmp``."""

from __future__ import annotations

import os

import pytest

from brankas.core.disk import format as fmt
from tests.cli.backup.conftest import Office
from tests.cli.backup.killing import killed_backup
from tests.hostile_disk import forkcli

pytestmark = [pytest.mark.skipif(not forkcli.available(), reason="SIGKILL and fork are POSIX"),
              pytest.mark.slow]

PRELUDE = r"""
import contextlib, os, signal

which = env["BRANKAS_TEST_FILE"]
from brankas.web.backup import runfiles

original = runfiles.RunFiles.write


@contextlib.contextmanager
def write(self, name, **kwargs):
    with original(self, name, **kwargs) as (out, done):
        yield out, done
        if name.endswith(which):  # its bytes given, not all written out: killed
            os.kill(os.getpid(), signal.SIGKILL)


runfiles.RunFiles.write = write
"""


@pytest.mark.parametrize("which", ["database.json.age", "register-lengkap.csv.age",
                                   "daftar-kontrol.csv"])
def test_a_run_killed_while_writing_a_run_file_on_the_disk(office: Office, which: str) -> None:
    office.register("penerimaan", "biasa", f"Surat {which}")
    killed_backup(office, PRELUDE, BRANKAS_TEST_FILE=which)
    staging = office.disk / fmt.STAGING
    left = [p for p in staging.iterdir() if p.name != fmt.LOCK]
    assert left, "the killed run wrote nothing on the disk"
    assert not [p for p in (office.home / "tmp").iterdir() if p.name.endswith(which)]

    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 0, r.stdout
    r = office.backup()
    assert r.returncode == 0, r.stderr
    r = office.cli("verify", str(office.disk), "--json", user="operator")
    assert r.returncode == 0, r.stdout
    assert os.listdir(staging) == [fmt.LOCK]
    assert not [p.name for p in (office.home / "tmp").iterdir() if p.name.startswith("backup-")]
