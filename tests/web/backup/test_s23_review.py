"""Review of s23 (the early audit segment): the thread's own failure fails the run with
its error (not a hang, not ignored) and leaves nothing; a run that fails after the thread
started but before the sources are read whole stops the thread too (no thread left
waiting for a head that never comes, holding its connection and its file open)."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from brankas.core.disk import segments as segs
from brankas.web.audit.services import audit_record
from brankas.web.backup import sealing, segments
from brankas.web.backup.models import BackupRun
from brankas.web.backup.services import backup_run
from tests.web.backup.test_s23_early_segment import _seal_statement, early  # noqa: F401


def _no_thread_no_file(office) -> None:  # type: ignore[no-untyped-def]
    alive = [t.name for t in threading.enumerate()
             if t.name in ("brankas-segment", "brankas-encrypt")]
    assert not alive, alive
    tmp = office.home / "tmp"
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("backup-")]


def test_the_threads_own_failure_fails_the_run_with_its_error(
        transactional_db, office, tmp_path: Path, early, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for i in range(10):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")
    real = segments.lines

    def lines(*args, **kwargs):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "brankas-segment":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(segments, "lines", lines)
    disk = tmp_path / "disk"
    with pytest.raises(OSError, match="No space left"):
        backup_run(actor=office.users["operator"], dest=disk)
    assert len(early) == 1
    _no_thread_no_file(office)
    run = BackupRun.objects.get()
    assert run.status == BackupRun.FAILED and "No space left" in run.error
    monkeypatch.setattr(segments, "lines", real)
    outcome = backup_run(actor=office.users["operator"], dest=disk)
    listed = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"]
    assert [x[1:3] for x in listed] == [[1, outcome.control["audit_head"]["seq"]]]
    _no_thread_no_file(office)


def test_a_run_failing_in_its_read_after_the_thread_started_stops_the_thread(
        transactional_db, office, tmp_path: Path, early, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    for i in range(10):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")

    class Broken(Exception):
        pass

    real = sealing.snapshot_statement
    calls: list[int] = []

    def snapshot_statement(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:  # the first: a disk without a snapshot, read with the sources
            raise Broken
        return real(*args, **kwargs)

    monkeypatch.setattr(sealing, "snapshot_statement", snapshot_statement)
    disk = tmp_path / "disk"
    with pytest.raises(Broken):
        backup_run(actor=office.users["operator"], dest=disk)
    assert len(early) == 1
    early[0]._thread.join(5)
    _no_thread_no_file(office)
