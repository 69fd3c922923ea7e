"""Review of s23 (the early audit segment; s24: made in a second process): the child's
own failure, or the child killed mid-segment, leaves the segment to the close (made in
the run's process, the run completes, nothing of the child's left); a run that fails
after the child started but before the sources are read whole stops the child too (no
child left waiting for a head that never comes, holding its connection and its file
open)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.disk import segments as segs
from brankas.web.audit.services import audit_record
from brankas.web.backup import sealing, segments
from brankas.web.backup.models import BackupRun
from brankas.web.backup.services import backup_run
from tests.web.backup import segment_pausing
from tests.web.backup.test_s23_early_segment import _seal_statement, early  # noqa: F401


def _no_thread_no_file(office, made=()) -> None:  # type: ignore[no-untyped-def]
    alive = [t.name for t in threading.enumerate()
             if t.name in ("brankas-segment", "brankas-encrypt")]
    assert not alive, alive
    assert all(m.proc.poll() is not None for m in made), "a segment child still runs"
    tmp = office.home / "tmp"
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("backup-")]


def _whole_log_sealed(office, disk: Path, head: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    """The disk's one segment holds the whole log up to ``head``: the lines a segment made
    at the close holds, chained."""
    (name, first, last, sha) = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"][-1]
    assert (first, last) == (1, head["seq"])
    data = (disk / "data" / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    plain = crypto.decrypt_bytes(data, [crypto.parse_identity(office.recovery_identity)])
    assert plain == b"".join(segments.lines(0, head["seq"]))


@pytest.mark.parametrize("how", ["fails", "killed", "stopped"])
def test_the_childs_failure_or_its_kill_mid_segment_leaves_the_segment_to_the_close(
        transactional_db, office, tmp_path: Path, early, monkeypatch, how) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """The child failing at once (a module that is not there: it exits 1), killed
    (SIGKILL on POSIX) once part of its file is written, or stopped there (SIGSTOP, its
    file no longer growing: the run kills it at the close, ``STALL_SECONDS``): the run
    makes the segment in its own process at the close, completes, and leaves nothing of
    the child's."""
    from brankas.web.audit.services import AuditEntry, audit_record_many

    # About 1 MB of lines: more than the child's buffers, so its file is half-written
    # (s24: in pieces of 5 rows, so that it is still writing when it is killed: it no
    # longer waits for the close).
    audit_record_many([AuditEntry(actor="operator", action="document.open", target=f"K-{i}",
                                  detail={"i": i, "t": "x" * 200}) for i in range(3000)])
    monkeypatch.setattr(segments, "EARLY_BATCH", 5)
    monkeypatch.setattr(segments, "STALL_SECONDS", 0.5)
    marker = tmp_path / "paused"
    if how == "fails":
        monkeypatch.setattr(segments, "CHILD_MODULE", "brankas.web.backup.no_such_module")
    else:
        # The child stops itself after 200 of its 600 pieces (s28, ``segment_pausing``):
        # the test stopping it once its file had grown came too late on a loaded machine
        # (it had written its whole file and ended), as did holding it until the copy.
        monkeypatch.setattr(segments, "CHILD_MODULE", "tests.web.backup.segment_pausing")
        monkeypatch.setenv("TEST_SEGMENT_PAUSED", str(marker))
    sizes: list[int] = []
    alive: list[bool] = []
    rescue: list[threading.Timer] = []
    rescued: list[bool] = []

    def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        if how == "fails" or sizes:
            return
        child = early[0]
        assert segment_pausing.paused(marker, 60), "the child never reached its pause"
        sizes.append(child.path.stat().st_size if child.path.exists() else 0)
        alive.append(child.proc.poll() is None)
        if how == "stopped":  # left stopped: the run must not wait for it for ever
            def kill() -> None:
                rescued.append(True)  # the run had not killed it
                child.proc.kill()
            rescue.append(threading.Timer(60, kill))
            rescue[0].start()
            return
        child.proc.kill()
        child.proc.wait()

    disk = tmp_path / "disk"
    outcome = backup_run(actor=office.users["operator"], dest=disk, on_progress=on_progress)
    for timer in rescue:
        timer.cancel()
    assert not rescued, "the run waited for the stopped child until it was killed"
    assert len(early) == 1 and early[0].fell_back
    if how != "fails":
        assert sizes and sizes[0] > 0, "the child had written nothing when killed"
        assert alive == [True], "the child had ended before it was killed"
        assert early[0].proc.returncode != 0
    else:
        assert early[0].proc.returncode == 1
    assert not early[0].path.exists()
    _whole_log_sealed(office, disk, outcome.control["audit_head"])
    _no_thread_no_file(office, early)
    assert BackupRun.objects.get(pk=outcome.run.pk).status == BackupRun.COMPLETED


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
    assert early[0].proc.wait(5) is not None
    _no_thread_no_file(office, early)


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
    database = segments.child_database(in_transaction=False)
    assert database is not None
    with runfiles.RunFiles(tmp_path / "staging") as files:
        made = segments.EarlySegment(files, 0, head - 5, recipient, database)
        assert made.proc.wait(120) == 0  # s24: it ends on its own, its input still open
        assert made.path.exists()  # and its file is the run's: kept
        (seg1, early_written), (seg2, since_written) = made.finish(head)
        (whole, close_written), = [segments.segment_write(files, 0, head, recipient)]
        assert not made.fell_back and early_written.path == made.path  # the child's file
        data = [w.path.read_bytes() for w in (early_written, since_written, close_written)]
        plain = [crypto.decrypt_bytes(d, [identity]) for d in data]
    # The child's segment and the one of the entries since, concatenated, are the lines of
    # the one segment made at the close (the ciphertexts differ: a fresh file key, and
    # rage's header adds a "grease" stanza of random length); the size and hash the
    # child reported its file's; the two segments name the two ranges.
    assert plain[0] + plain[1] == plain[2]
    assert plain[0].count(b"\n") == head - 5 and plain[2].count(b"\n") == head
    assert [len(d) for d in data] == [early_written.size, since_written.size,
                                      close_written.size]
    assert hashlib.sha256(data[0]).hexdigest() == early_written.sha256 == seg1.sha256
    assert hashlib.sha256(data[1]).hexdigest() == since_written.sha256 == seg2.sha256
    assert [(s.path, s.first, s.last) for s in (seg1, seg2)] == [
        (segs.segment_path(1, head - 5), 1, head - 5),
        (segs.segment_path(head - 4, head), head - 4, head)]
    assert not segs.list_problems([seg1, seg2], {"seq": head},
                                  {seg1.path: seg1.sha256, seg2.path: seg2.sha256})
    assert (whole.first, whole.last) == (1, head)


def test_no_entry_since_the_childs_head_no_second_segment(
        transactional_db, office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The run's head still the one read with its sources: the child's segment alone."""
    from brankas.web.audit.models import AuditEvent
    from brankas.web.audit.services import AuditEntry, audit_record_many
    from brankas.web.backup import runfiles
    from brankas.web.keys.selectors import Purpose, recipients_for

    audit_record_many([AuditEntry(actor="operator", action="document.open", target=f"K-{i}")
                       for i in range(40)])
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    recipient = recipients_for(purpose=Purpose.AUDIT_TAIL).age()
    database = segments.child_database(in_transaction=False)
    assert database is not None
    with runfiles.RunFiles(tmp_path / "staging") as files:
        made = segments.EarlySegment(files, 10, head, recipient, database)
        ((only, written),) = made.finish(head)
        assert not made.fell_back and written.path == made.path
        assert (only.path, only.first, only.last) == (segs.segment_path(11, head), 11, head)
        assert [p.name for p in (tmp_path / "staging").iterdir()
                if p.name.endswith(".part")] == [made.path.name]  # one segment file


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
    _no_thread_no_file(office, early)
    assert BackupRun.objects.get().status == BackupRun.FAILED
    outcome = backup_run(actor=office.users["operator"], dest=disk)
    listed = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"]
    assert [x[1:3] for x in listed] == [[1, outcome.control["audit_head"]["seq"]]]
    _no_thread_no_file(office)
