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


def test_the_early_segment_is_byte_for_byte_the_segment_made_at_the_close(
        transactional_db, office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A differential test: the same entries (odd text and numbers in their details, more
    than one piece of either size) made by the thread and by ``segment_write`` (the close,
    as before s23) decrypt to the same bytes."""
    from brankas.core import crypto
    from brankas.web.audit.models import AuditEvent
    from brankas.web.audit.services import AuditEntry, audit_record_many
    from brankas.web.backup import runfiles
    from brankas.web.keys.selectors import Purpose, recipients_for

    odd = ["kutip \" \\ /", "\u2028\u2029", "\x01\x1f\x7f", "é😀", "</script>", ""]
    audit_record_many([AuditEntry(
        actor=odd[i % len(odd)], action="document.open", target=odd[(i + 1) % len(odd)],
        detail={"i": i, "big": 2 ** 70, "f": 0.1 * i, "tiny": 1e-7, "neg": -0.0,
                "t": odd[i % len(odd)], "nested": {"a": [1, None, True, {"b": odd[0]}]}})
        for i in range(2 * segments.BATCH + 17)])
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    identity = crypto.parse_identity(office.recovery_identity)
    recipient = recipients_for(purpose=Purpose.AUDIT_TAIL).age()
    with runfiles.RunFiles(tmp_path / "staging") as files:
        made = segments.EarlySegment(files, 0, head - 5, recipient)
        _seg, early_written = made.finish(head)
        _seg2, close_written = segments.segment_write(files, 0, head, recipient)
        plain = [crypto.decrypt_bytes(w.path.read_bytes(), [identity])
                 for w in (early_written, close_written)]
    assert plain[0] == plain[1]
    assert plain[0].count(b"\n") == head


@pytest.mark.parametrize("where", ["snapshot", "copy"])
def test_an_interrupt_while_the_thread_runs_stops_it_and_the_next_run_completes(
        transactional_db, office, tmp_path: Path, early, monkeypatch, where) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Ctrl-C (KeyboardInterrupt, not an Exception) while the sources are read (the
    snapshot) or while the run copies: no thread, no file, the run failed; the next run
    writes the whole log as one segment."""
    from brankas.web.backup import services

    for i in range(10):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")
    if where == "snapshot":
        real = services._write_snapshot

        def write_snapshot(*args, **kwargs):  # type: ignore[no-untyped-def]
            monkeypatch.setattr(services, "_write_snapshot", real)
            raise KeyboardInterrupt

        monkeypatch.setattr(services, "_write_snapshot", write_snapshot)
        progress = None
    else:
        def progress(*args: int) -> None:
            raise KeyboardInterrupt

    disk = tmp_path / "disk"
    with pytest.raises(KeyboardInterrupt):
        backup_run(actor=office.users["operator"], dest=disk, on_progress=progress)
    assert len(early) == 1
    _no_thread_no_file(office)
    assert BackupRun.objects.get().status == BackupRun.FAILED
    outcome = backup_run(actor=office.users["operator"], dest=disk)
    listed = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"]
    assert [x[1:3] for x in listed] == [[1, outcome.control["audit_head"]["seq"]]]
    _no_thread_no_file(office)
