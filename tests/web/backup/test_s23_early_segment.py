"""The audit segment made while the run copies (s23, ``segments.EarlySegment``; s24: in a
second process, ``segmentproc``): a large segment is read and encrypted by a child of its
own, through its own connection, from the start of the run; the entries written while
the run copies are added at its close. The disk gets the same segment as before (one
file, the log up to the run's head, in the closing checkpoint with the seal); a run that
fails stops the child and leaves nothing.

The child needs committed rows (its connection does not see a test's transaction), so
these tests use ``transactional_db``."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.disk import segments as segs
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_record
from brankas.web.backup import segments
from brankas.web.backup.services import backup_run


@pytest.fixture
def early(monkeypatch) -> list[segments.EarlySegment]:  # type: ignore[no-untyped-def]
    """Every run's segment made early (any size), and the ones made so (real objects,
    recorded as they are made)."""
    made: list[segments.EarlySegment] = []
    real = segments.EarlySegment

    class Recorded(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(segments, "EARLY_ENTRIES", 1)
    monkeypatch.setattr(segments, "EarlySegment", Recorded)
    return made


def _seal_statement(disk: Path) -> dict:  # type: ignore[type-arg]
    folder = sorted((disk / "data" / "backup").iterdir())[-1]
    return json.loads(json.loads((folder / "segel.json").read_text())["statement"])


def test_the_segment_made_while_copying_holds_the_log_up_to_the_runs_head(
        transactional_db, office, tmp_path: Path, early) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        audit_record(actor="operator", action="document.open", target=f"K-{i}",
                     detail={"i": i, "teks": "kutip \" \u00e9"})
    during: list[int] = []

    def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        # Entries written while the run copies: after the segment's first head.
        during.append(audit_record(actor="kasi", action="document.open",
                                   target=f"during-{len(during)}").seq)

    disk = tmp_path / "disk"
    outcome = backup_run(actor=office.users["operator"], dest=disk, on_progress=on_progress)
    assert len(early) == 1 and during
    assert early[0].after == 0 and early[0].first_head < during[0]
    assert not early[0].fell_back and early[0].proc.returncode == 0  # the child made it
    head = outcome.control["audit_head"]
    assert head["seq"] >= during[-1]
    statement = _seal_statement(disk)
    listed = statement[segs.STATEMENT_KEY]["segments"]
    # s24: two segments, the child's up to the head read with the sources (complete as
    # it exited, a few seconds into the copy) and the entries since, made at the close.
    first_head = early[0].first_head
    assert [x[1:3] for x in listed] == [[1, first_head], [first_head + 1, head["seq"]]]
    identity = crypto.parse_identity(office.recovery_identity)
    plain = b""
    for name, _first, _last, sha in listed:
        path = disk / "data" / name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        plain += crypto.decrypt_bytes(path.read_bytes(), [identity])
    # Concatenated, the very lines one segment made at the close holds: the log,
    # chained, to the head.
    assert plain == b"".join(segments.lines(0, head["seq"]))
    chain = segs.Chain()
    for line in plain.splitlines():
        chain.take(line)
    assert (chain.seq, chain.prev) == (head["seq"], head["hash"])
    assert not any(t.name == "brankas-segment" for t in threading.enumerate())
    # The control list counts both segments (an empty disk: every file is the run's).
    assert outcome.run.files_added == outcome.control["files_added"] == outcome.run.disk_files

    # The next run continues after it (a small segment, made at the close).
    for i in range(3):
        audit_record(actor="operator", action="document.open", target=f"after-{i}")
    again = backup_run(actor=office.users["operator"], dest=disk)
    listed = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"]
    assert [x[1:3] for x in listed] == [[1, first_head], [first_head + 1, head["seq"]],
                                         [head["seq"] + 1, again.control["audit_head"]["seq"]]]


def test_a_run_that_fails_stops_the_thread_and_leaves_no_file(
        transactional_db, office, tmp_path: Path, early) -> None:  # type: ignore[no-untyped-def]
    for i in range(10):
        audit_record(actor="operator", action="document.open", target=f"K-{i}")

    class Stop(Exception):
        pass

    def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        raise Stop

    disk = tmp_path / "disk"
    with pytest.raises(Stop):
        backup_run(actor=office.users["operator"], dest=disk, on_progress=on_progress)
    assert len(early) == 1 and early[0].proc.poll() is not None  # the child stopped
    assert not early[0].path.exists()
    tmp = office.home / "tmp"
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("backup-")]
    assert not (disk / "data" / "audit").exists() or not list(
        (disk / "data" / "audit").iterdir())
    # A run after it writes the whole log as one segment.
    outcome = backup_run(actor=office.users["operator"], dest=disk)
    listed = _seal_statement(disk)[segs.STATEMENT_KEY]["segments"]
    assert [x[1:3] for x in listed] == [[1, outcome.control["audit_head"]["seq"]]]
    assert AuditEvent.objects.filter(action="backup.run", outcome="failed").exists()


def test_a_small_segment_or_a_run_inside_a_transaction_is_made_at_the_close(
        office, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = object()
    assert segments.early_segment(0, segments.EARLY_ENTRIES - 1, files,  # type: ignore[arg-type]
                                  ["x"], in_transaction=False) is None
    monkeypatch.setattr(segments, "EARLY_ENTRIES", 1)
    assert segments.early_segment(0, 10, files, ["x"],  # type: ignore[arg-type]
                                  in_transaction=True) is None
