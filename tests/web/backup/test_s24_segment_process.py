"""The early audit segment's second process (s24, ``segmentproc``), run for real: it
imports no Django and little else (its resident size adds to the run's peak), makes the
file the run's own writer makes for the same entries and ends on its own, its input still
open (s24, second version: it does not wait for the run's close); when its input ends
before it has answered (the run stopped or killed), it removes its file and ends. A run
inside a transaction (a test's: the child would not see its rows) makes the segment in
its own process, at the close."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from brankas.core import crypto
from brankas.core.disk import segments as segs
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import AuditEntry, audit_record_many
from brankas.web.backup import segmentproc, segments
from brankas.web.backup.services import backup_run
from brankas.web.keys.selectors import Purpose, recipients_for
from tests.web.backup.test_s23_early_segment import _seal_statement, early  # noqa: F401


def _start(path: Path, after: int, first: int, batch: int = 100) -> subprocess.Popen[bytes]:
    database = segments.child_database(in_transaction=False)
    assert database is not None
    job = {"database": database, "query": segments.query(), "after": after,
           "first_head": first, "recipients": recipients_for(purpose=Purpose.AUDIT_TAIL).age(),
           "path": str(path), "batch": batch, "buffer": 4096}
    # Its errors (the import times) to a file: read at its end, not a pipe it could fill.
    with (path.parent / f"{path.name}.err").open("wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", segments.CHILD_MODULE],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            env=segments.child_env())
    assert child.stdin is not None
    child.stdin.write(segmentproc.job_bytes(job))
    child.stdin.flush()
    return child


def _fill(n: int) -> int:
    audit_record_many([AuditEntry(actor="operator", action="document.open", target=f"K-{i}",
                                  detail={"i": i, "t": "kutip \" \u00e9 \u2028"})
                       for i in range(n)])
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _err(path: Path) -> str:
    return (path.parent / f"{path.name}.err").read_text("utf-8", "replace")


def test_the_child_imports_no_django_and_makes_the_writers_segment(
        transactional_db, office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    head = _fill(1500)
    path = tmp_path / "segment.part"
    child = _start(path, 3, head - 7)
    assert child.stdout is not None and child.stdin is not None
    out = child.stdout.read()  # to its end: the child ends on its own, its input open
    assert child.wait(timeout=120) == 0, _err(path)[-3000:]
    child.stdin.close()
    data = path.read_bytes()
    assert path.exists()  # its input's end after its answer leaves the run's file
    assert segmentproc.read_answer(out) == (len(data), hashlib.sha256(data).hexdigest())
    identity = crypto.parse_identity(office.recovery_identity)
    # The very lines the run's own writer puts in the segment of the same entries.
    assert crypto.decrypt_bytes(data, [identity]) == b"".join(segments.lines(3, head - 7))
    imported = {line.rsplit("|", 1)[1].strip() for line in _err(path).splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "sqlite3" in imported and "pyrage" in imported, sorted(imported)
    heavy = sorted(m for m in imported if m.split(".")[0] == "django"
                   or m in ("brankas.core.crypto", "brankas.web.backup.runfiles",
                            "brankas.core.fsutil"))
    assert not heavy, heavy


def test_the_childs_input_ending_before_its_answer_removes_its_file_and_ends_it(
        transactional_db, office, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The run gone (its end of the pipe closed, as the kernel does for a killed
    process) while the child writes (many small pieces)."""
    head = _fill(4000)
    path = tmp_path / "segment.part"
    child = _start(path, 0, head, batch=2)
    for _ in range(20000):
        if path.exists() and path.stat().st_size > 0:
            break
        time.sleep(0.001)
    assert path.exists()
    assert child.poll() is None, "the child ended before its input did"
    assert child.stdin is not None
    child.stdin.close()
    assert child.wait(timeout=15) == 3, _err(path)[-3000:]
    assert not path.exists()


@pytest.mark.parametrize("ends", ["input", "open"])
def test_a_file_planted_at_the_childs_path_is_neither_written_nor_removed(
        transactional_db, office, tmp_path: Path, ends: str) -> None:  # type: ignore[no-untyped-def]
    """A symlink at the child's path (to a file elsewhere): the child writes through
    neither it nor its target and leaves both as they are (it removes only the file it
    made), whether it fails at once or its input ends first."""
    head = _fill(30)
    target = tmp_path / "elsewhere.txt"
    target.write_bytes(b"keep")
    path = tmp_path / "segment.part"
    try:
        path.symlink_to(target)
    except OSError:  # Windows without the right to make one
        pytest.skip("no symlinks here")
    child = _start(path, 0, head)
    assert child.stdin is not None and child.stdout is not None
    if ends == "input":
        child.stdin.close()
    assert child.wait(timeout=60) != 0
    assert child.stdout.read() == b""
    assert path.is_symlink() and target.read_bytes() == b"keep"


def test_a_run_inside_a_transaction_makes_the_segment_in_its_own_process(
        office, tmp_path: Path, early, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setattr(segments, "EARLY_ENTRIES", 1)
    _fill(30)
    outcome = backup_run(actor=office.users["operator"], dest=tmp_path / "disk")
    assert early == []  # no child: it would not see this transaction's rows
    head = outcome.control["audit_head"]
    (name, first, last, _sha) = _seal_statement(tmp_path / "disk")[segs.STATEMENT_KEY][
        "segments"][0]
    assert (first, last) == (1, head["seq"])
    plain = crypto.decrypt_bytes((tmp_path / "disk" / "data" / name).read_bytes(),
                                 [crypto.parse_identity(office.recovery_identity)])
    assert plain == b"".join(segments.lines(0, head["seq"]))


def test_a_child_that_cannot_start_leaves_the_segment_to_the_close(
        transactional_db, office, tmp_path: Path, early, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """No interpreter to start (an embedded one, a removed file): the run makes the segment
    at the close and completes."""
    monkeypatch.setattr(segments, "EARLY_ENTRIES", 1)
    _fill(30)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    outcome = backup_run(actor=office.users["operator"], dest=tmp_path / "disk")
    monkeypatch.undo()
    assert early == []
    head = outcome.control["audit_head"]
    (name, first, last, _sha) = _seal_statement(tmp_path / "disk")[segs.STATEMENT_KEY][
        "segments"][0]
    assert (first, last) == (1, head["seq"])
    assert not [p.name for p in (office.home / "tmp").iterdir() if p.name.startswith("backup-")]
