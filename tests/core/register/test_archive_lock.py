"""The archive lock between backups (shared) and re-encryptions (exclusive), across
threads and processes; a killed holder releases it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from brankas.core.errors import Conflict
from brankas.core.register.lock import BACKUP, REWRAP, archive_lock


def test_an_exclusive_holder_refuses_everyone_else_naming_itself(tmp_path: Path):
    with archive_lock(tmp_path, REWRAP):
        for shared in (False, True):
            with pytest.raises(Conflict) as exc, archive_lock(tmp_path, BACKUP, shared=shared):
                pass
            assert exc.value.code == "rewrap_running"
            assert "re-encryption" in exc.value.message("en")
            assert "enkripsi ulang" in exc.value.message("id")
    with archive_lock(tmp_path, REWRAP):  # released at the end of the block
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="msvcrt has no shared locks")
def test_backups_share_the_lock_and_keep_a_rewrap_out(tmp_path: Path):
    with archive_lock(tmp_path, BACKUP, shared=True), archive_lock(tmp_path, BACKUP,
                                                                    shared=True):
        with pytest.raises(Conflict) as exc, archive_lock(tmp_path, REWRAP):
            pass
        assert "a backup" in exc.value.message("en")


def test_a_failing_block_releases_the_lock(tmp_path: Path):
    with pytest.raises(RuntimeError), archive_lock(tmp_path, REWRAP):
        raise RuntimeError("boom")
    with archive_lock(tmp_path, REWRAP):
        pass


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_killed_holder_releases_the_lock_at_once(tmp_path: Path):
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pathlib import Path\n"
         "from brankas.core.register.lock import REWRAP, archive_lock\n"
         "with archive_lock(Path(sys.argv[1]), REWRAP):\n"
         "    print('held', flush=True)\n"
         "    time.sleep(600)\n", str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    with pytest.raises(Conflict), archive_lock(tmp_path, BACKUP, shared=True):
        pass
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    with archive_lock(tmp_path, BACKUP, shared=True):
        pass
