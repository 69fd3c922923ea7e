"""The leak scanner itself: it finds a marker in a file this process holds open (a SQLite
database in WAL mode, its ``-shm``) without dropping this process's locks on it. It once
opened and closed this process's own test database while scanning /tmp; closing any
descriptor of a file drops every POSIX lock the process holds on it, so another process
found SQLite's WAL index unlocked, reset it, and this process died of SIGBUS (s28)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.leakscan import files_containing, scan_for

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX record locks")

# In another process: whether the byte SQLite's connections hold a shared lock on while
# they use the WAL index (the "DMS" byte, 128 of the -shm) is free for an exclusive lock:
# when it is, a connection opening the database resets the index.
PROBE = """
import fcntl, sys
with open(sys.argv[1], "r+b") as fh:
    try:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
    except OSError:
        print("held")
    else:
        print("free")
"""


def _probe(shm: Path) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, str(shm)], capture_output=True,
                          text=True, check=True, timeout=60).stdout.strip()


def test_a_scan_reads_a_database_this_process_holds_open_and_keeps_its_locks(
        tmp_path: Path) -> None:
    db = tmp_path / "held.sqlite3"
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.execute("INSERT INTO t VALUES ('PENANDA-RAHASIA-7731')")
        conn.commit()
        shm = db.with_name(db.name + "-shm")
        assert shm.is_file() and _probe(shm) == "held"
        found = scan_for(b"PENANDA-RAHASIA-7731", [tmp_path])
        assert db.with_name(db.name + "-wal") in found  # the row, in the WAL
        assert _probe(shm) == "held", "the scan dropped this process's lock on the index"
        assert conn.execute("SELECT x FROM t").fetchone() == ("PENANDA-RAHASIA-7731",)
    finally:
        conn.close()


def test_a_scan_still_reads_files_it_does_not_hold(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()  # the marker across two of its reads (1 MiB each)
    (tmp_path / "a" / "bocor.txt").write_bytes(b"x" * ((1 << 20) - 3) + b"PENANDA" + b"y" * 10)
    (tmp_path / "bersih.txt").write_bytes(b"tidak ada")
    assert scan_for(b"PENANDA", [tmp_path]) == [tmp_path / "a" / "bocor.txt"]


def test_a_file_this_process_writes_through_a_write_only_descriptor_is_still_read(
        tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    with open(path, "wb", buffering=0) as fh:  # held open, write-only, by this process
        fh.write(b"awal PENANDA-TULIS akhir")
        assert scan_for(b"PENANDA-TULIS", [tmp_path]) == [path]


def test_the_reader_follows_no_link_and_reads_no_fifo_put_there_after_the_walk(
        tmp_path: Path) -> None:
    """A file swapped, between the walk and the read, for a link (to a file with the
    marker, or to /dev/zero, which would never end) or for a FIFO nobody writes to: not
    read, and the reader does not block."""
    target = tmp_path / "target.txt"
    target.write_bytes(b"PENANDA-TAUTAN")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    endless = tmp_path / "zero"
    endless.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    paths = [str(link), str(endless), str(fifo), str(target)]
    assert files_containing(paths, [b"PENANDA-TAUTAN"]) == {str(target): {b"PENANDA-TAUTAN"}}
