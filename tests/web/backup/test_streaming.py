"""A backup at office scale (issue 15): what the run writes beside the documents is
streamed (the snapshot and the registers encrypted as they are written, the document
list spooled), each checkpoint is recorded only once durable and read back, and the
fast snapshot writer gives Django's serializer's very bytes."""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
from pathlib import Path

import pytest
from django.utils import timezone
from pyrage import x25519

from brankas.core import crypto
from brankas.core.disk.bag import Hooks
from brankas.core.disk.format import read_payload_manifest
from brankas.core.errors import BrankasError
from brankas.web.audit.models import AuditEvent
from brankas.web.audit.services import audit_content, audit_record, audit_rows
from brankas.web.backup import registers, runfiles, services, snapshot
from brankas.web.backup.models import BackupCopy, BackupRun, Medium
from brankas.web.keys.models import RecoverySplit, RewrapJob, SupersededCopy, SupersededFile
from tests.web.backup.test_services import register


def test_the_fast_snapshot_is_byte_for_byte_djangos(office, tmp_path: Path) -> None:
    """Every kind of record, including binary keys, JSON, times with microseconds and
    records that refer to others: ``snapshot_write`` equals Django's serializer."""
    register(office, "Surat biasa")
    register(office, "Surat rahasia \u00e9\u00e8 \"kutip\"", "rahasia")
    services.backup_run(actor=office.users["operator"], dest=tmp_path / "disk", label="A")
    now = timezone.now()
    admin, kabid = office.users["admin"], office.keys["kabid"]
    RecoverySplit.objects.create(identifier=12345, threshold=3, shares=5,
                                 recovery_fingerprint="0123456789abcdef", created_by=admin)
    job = RewrapJob.objects.create(kind=RewrapJob.GRANT, actor=admin, grantee_key=kabid,
                                   via="recovery", started_at=now, files_total=2,
                                   summary={"documents": 2, "list": [1, None, "x"]})
    old = SupersededFile.objects.create(kind=SupersededFile.DOCUMENT, object_id=7,
                                        path="arsip/x.pdf.age", sha256="a" * 64, size=10,
                                        recipients=["0123456789abcdef"], superseded_at=now,
                                        job=job)
    SupersededCopy.objects.create(superseded=old, medium=Medium.objects.get())
    audit_record(actor="admin", action="test.detail", target="t",
                 detail={"nested": {"a": [1, 2.5, True, None]}, "text": "\u00f1\n\t"})
    fast = snapshot.snapshot_bytes()
    assert fast == snapshot._django_snapshot()
    loaded = json.loads(fast)
    kinds = {o["model"] for o in loaded}
    assert {"audit.auditevent", "documents.document", "backup.backupcopy",
            "keys.holderkey", "keys.supersededcopy"} <= kinds


def test_audit_rows_are_streamed_with_the_content_the_hash_covers(office) -> None:
    audit_record(actor="admin", action="test.one", detail={"x": [1, {"y": "\u00e9"}]})
    rows = audit_rows()
    assert inspect.isgenerator(rows)
    expected = [(e.seq, audit_content(e), e.prev_hash, e.hash)
                for e in AuditEvent.objects.order_by("seq")]
    assert list(rows) == expected


def test_the_run_files_are_encrypted_as_they_are_written(tmp_path: Path) -> None:
    pair = crypto.generate()
    rows = [{"agenda": f"B-{i}", "subject": f"=1+{i}"} for i in range(5000)]
    with runfiles.RunFiles(tmp_path / "tmp") as files:
        with files.write("full.csv.age", recipients=[pair.recipient]) as (out, done):
            registers.csv_write(out, registers.REGISTER_COLUMNS, iter(rows))
        written = done[0]
        data = written.path.read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (written.size, written.sha256)
        plain = crypto.decrypt_bytes(data, [x25519.Identity.from_str(pair.identity)])
        assert plain == registers.register_csv(rows)  # the same bytes as in one piece
        assert b"B-4999" not in data
        spool = files.spool("docs.jsonl")
        spool.extend([[1, "a"], [2, "b"]])
        spool.close()
        assert list(spool) == [[1, "a"], [2, "b"]] == list(spool)
        made = sorted(p.suffix for p in (tmp_path / "tmp").iterdir())
        assert made == [".lock", ".part", ".part"]  # the run's lock, its two files
    assert list((tmp_path / "tmp").iterdir()) == []  # removed when the run ends


def test_an_encrypting_writer_that_fails_raises_and_leaves_nothing_whole() -> None:
    pair = crypto.generate()
    out = io.BytesIO()
    with pytest.raises(ZeroDivisionError), crypto.encrypting_writer(out, [pair.recipient]) as w:
        w.write(b"x" * 100)
        raise ZeroDivisionError


def test_the_backup_functions_stream(office) -> None:
    """The run reads its documents as a stream, never as a list (the memory of a run must
    not grow with the archive)."""
    assert inspect.isgeneratorfunction(services._payload_items)
    source = inspect.getsource(services._read_sources)
    assert "_document_rows()" in source and "list(Document" not in source
    assert inspect.isgeneratorfunction(services._document_rows)  # a cursor, fetchmany
    assert "fetchmany(" in inspect.getsource(services._document_rows)
    assert "snapshot_bytes" not in inspect.getsource(services)
    assert inspect.isgeneratorfunction(snapshot._dump_objects)


def test_a_crash_before_the_sync_records_nothing(office, tmp_path: Path) -> None:
    """The process dies after the first checkpoint's copies are written, before they are
    made durable: no document is recorded as on the disk, none is listed; the next run
    carries them all."""
    docs = [register(office, f"Surat nomor {i}") for i in range(5)]
    dest = tmp_path / "disk"

    def crash() -> None:
        raise KeyboardInterrupt  # as a kill: nothing after it runs

    with pytest.raises(KeyboardInterrupt):
        services.backup_run(actor=office.users["operator"], dest=dest, label="A",
                            hooks=Hooks(syncing=crash))
    assert not BackupCopy.objects.exists()
    assert BackupRun.objects.get().agendas == []
    assert not [p for p in read_payload_manifest(dest) if p.startswith("arsip/")]
    done = services.backup_run(actor=office.users["operator"], dest=dest)
    assert done.run.status == BackupRun.COMPLETED
    assert sorted(done.run.agendas) == sorted(d.agenda for d in docs)
    assert BackupCopy.objects.count() == len(docs)


def test_a_read_back_that_differs_records_only_the_others(office, tmp_path: Path) -> None:
    docs = [register(office, f"Surat nomor {i}") for i in range(4)]
    dest = tmp_path / "disk"
    victim: list[Path] = []

    def corrupt(staged: Path) -> None:
        if not victim and staged.read_bytes().startswith(b"%PDF"):  # a document
            victim.append(staged)
            with open(staged, "r+b") as fh:
                fh.seek(100)
                byte = fh.read(1)
                fh.seek(100)
                fh.write(bytes([byte[0] ^ 1]))

    with pytest.raises(BrankasError) as err:
        services.backup_run(actor=office.users["operator"], dest=dest, label="A",
                            hooks=Hooks(staged=corrupt))
    assert err.value.code == "backup_readback_mismatch"
    listed = set(read_payload_manifest(dest))
    recorded = {c.document.stored_path for c in BackupCopy.objects.select_related("document")}
    # Exactly the documents listed are recorded (those read back right before the run
    # stopped); the one whose read-back differed is neither.
    assert recorded == {p for p in listed if p.startswith("arsip/")}
    assert len(recorded) < len(docs)
    done = services.backup_run(actor=office.users["operator"], dest=dest)
    assert done.run.status == BackupRun.COMPLETED
    assert BackupCopy.objects.count() == len(docs)


def test_a_run_removes_the_files_of_dead_runs_and_not_of_live_ones(tmp_path: Path) -> None:
    """A killed run cannot remove its files (its lock dies with it): the next run removes
    them as it starts; a run still alive (another disk) keeps its own."""
    folder = tmp_path / "tmp"
    live = runfiles.RunFiles(folder)
    live_spool = live.spool("documents.jsonl")
    live_spool.add([1, "B-1"])
    # A run killed mid-way: its lock file is there, nobody holds it.
    dead = "0123456789ab"
    dead_files = [folder / f"backup-{dead}-{name}.part"
                  for name in ("documents.jsonl", "database.json.age")]
    for path in dead_files:
        path.write_bytes(b"x")
    (folder / f"backup-{dead}.lock").write_bytes(b"")
    stranger = folder / "backup-notours.part"  # not a run's: left to sweep_staging
    stranger.write_bytes(b"x")
    with runfiles.RunFiles(folder) as new:
        names = sorted(p.name for p in folder.iterdir())
        assert not any(dead in name for name in names)
        assert live_spool.path.exists() and stranger.exists()
        assert (folder / f"{new._prefix[:-1]}.lock").exists()
        if os.name == "posix":
            for path in set(folder.iterdir()) - {stranger}:
                assert path.stat().st_mode & 0o077 == 0, path
    live_spool.close()
    live.close()
    assert sorted(p.name for p in folder.iterdir()) == [stranger.name]
