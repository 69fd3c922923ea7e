"""s19 review: a worker killed (SIGKILL) while it OCRs a document. The job is never left
running: the next worker marks it interrupted; its workdir (a private copy of a biasa
document) is removed by the next OCR job's start; no row is half written; a resume goes
on with what is left. Real processes, real OCR (where installed)."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

import brankas.core.text.engine as engine
from brankas.core.text import ocr_engine
from tests.cli.backup.conftest import Office
from tests.cli.backup.test_worker_jobs import _job, _python, _worker

pytestmark = [pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
              pytest.mark.slow]


def _freeze(pid: int) -> None:
    """Stop the process and wait until it is stopped (a signal is delivered when the process
    next runs: until then it may still write), so what the database says next is final."""
    os.kill(pid, signal.SIGSTOP)
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():  # not Linux: give the signal a moment
        time.sleep(0.2)
        return
    deadline = time.monotonic() + 10
    while stat.read_text().rsplit(")", 1)[1].split()[0] not in ("T", "t", "Z"):
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.001)


@pytest.fixture
def kill_office(backed_up_template: Office, tmp_path: Path) -> Office:
    return backed_up_template.private_copy(tmp_path, with_disk=False)


def _ocr_dirs(office: Office) -> list[Path]:
    base = office.home / "tmp" / "ocr"
    return sorted(base.iterdir()) if base.exists() else []


def test_a_worker_killed_mid_ocr_leaves_an_interrupted_job_no_half_row_and_no_copy(
        kill_office: Office) -> None:
    office = kill_office
    # a scan to OCR: a page at 100 dpi with a line of text (OCR 1.5-2 CPU-s; the template's
    # biasa documents hold a line of text on a page without images, which the engine
    # rasterises at 400 dpi: 4-5 CPU-s each)
    from tests.core.text.ocrtest import stored_pdf
    from tests.web.text.test_pipeline_ocr import rendered_scan

    scan = stored_pdf(office.base / "pindaian.pdf",
                      [("pindaian.png", rendered_scan("Undangan rapat koordinasi anggaran"))])
    scanned = office.register("penerimaan", "biasa", "Pindaian", pdf=scan.read_bytes())
    # one OCR job for every biasa document still without text (what an import queues)
    for table in ("jobs_job", "text_documenttext"):  # (the template's, the registration's)
        con = sqlite3.connect(office.home / "brankas.sqlite3")
        with con:
            con.execute(f"DELETE FROM {table}")  # noqa: S608
        con.close()
    # the template's biasa documents read already, from their text layer as on a server
    # without an engine: the job has the scan to read, the kill lands in it, and the
    # resumed job must go on with that one only, not with those read before
    read_before = [d.agenda for d in office.docs.values() if not d.exempted and d != scanned]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_found", (None, "left out by test_pipeline_review_kill"))
        r = office.cli("ocr", *read_before, "--json", user="operator")
    assert r.returncode == 0 and r.json()["read"] == len(read_before) == 2, \
        r.stdout + r.stderr
    r = office.cli("ocr", "--queue", "--json", user="operator")
    assert r.returncode == 0, r.stderr
    job_id = r.json()["job"]
    total = len([d for d in office.docs.values() if not d.exempted])
    worker = _worker(office)
    caught = None
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and worker.poll() is None:
            row = _job(office, job_id)
            if row["state"] == "running" and _ocr_dirs(office):
                _freeze(worker.pid)
                caught = _job(office, job_id)
                break
            if row["state"] not in ("queued", "running"):
                break
            # asked every 20 ms (the page's OCR lasts a second or more; every 5 ms, the
            # asking cost this process a few tenths of a CPU-s while the worker started)
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(30)
        for stream in (worker.stdout, worker.stderr):
            if stream:
                stream.close()
    assert caught is not None and caught["state"] == "running", _job(office, job_id)
    left = _ocr_dirs(office)
    assert left, "killed while a workdir existed"
    # no half row: every row is whole, read from the file the register holds
    rows = office.sql("SELECT t.status, t.body, t.content_sha256 = d.stored_sha256, "
                      "d.category FROM text_documenttext t JOIN documents_document d "
                      "ON d.id = t.document_id")
    assert all(fresh and category == "biasa" and (status != "text" or body)
               for status, body, fresh, category in rows), rows
    done_before = len(rows)
    assert done_before == len(read_before), rows  # those read before; none of the job's

    # the next worker: the job interrupted (nobody else will end it), resumable
    again = _worker(office, "--burst")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    row = _job(office, job_id)
    assert row["state"] == "interrupted" and row["resumable"], row

    resumed = _python(office, "resume", job_id)["job"]  # type: ignore[index]
    again = _worker(office, "--burst")
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    new = _job(office, resumed)
    assert new["state"] == "done", new
    assert new["files_total"] == total - done_before  # what was left, not all again
    assert _ocr_dirs(office) == []  # the killed process's copy swept
    assert not (office.home / "tmp" / "ocr").exists()
    count = office.sql("SELECT COUNT(*) FROM text_documenttext t JOIN documents_document d "
                       "ON d.id = t.document_id WHERE t.content_sha256 = d.stored_sha256 "
                       "AND d.category = 'biasa'")[0][0]
    assert count == total
    assert office.sql("SELECT COUNT(*) FROM text_documenttext t JOIN documents_document d "
                      "ON d.id = t.document_id WHERE d.category <> 'biasa'")[0][0] == 0


@pytest.mark.skipif(ocr_engine() is None, reason="OCR is not installed here")
def test_a_text_read_while_a_backup_holds_the_database_is_recorded_when_it_lets_go(
        run_cli, cli_office, cli_home, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite: a backup's read (registers and snapshot: minutes at 100,000 documents,
    ``consistency.one_view``) holds the write lock; an OCR job runs beside it by design.
    The text read meanwhile (minutes of OCR) was lost after the 30 s busy timeout, the
    document counted failed and left without text; it waits for the lock instead."""
    from tests.web.text.test_pipeline_cli import register as cli_register
    from tests.web.text.test_pipeline_ocr import rendered_scan

    scan = tmp_path / "pindaian.png"
    scan.write_bytes(rendered_scan("Undangan rapat koordinasi"))
    cli_register(run_cli, scan, "biasa")
    held = threading.Event()
    done = threading.Event()

    def busy(base: Path) -> bool:  # an OCR workdir exists (removed before the row is written)
        try:
            return any(base.iterdir())
        except OSError:
            return False

    def hold() -> None:  # what a backup's one_view does, once the OCR has started
        base = cli_home / "tmp" / "ocr"
        deadline = time.monotonic() + 120
        while not busy(base):
            if time.monotonic() > deadline or done.is_set():
                return
            time.sleep(0.01)
        con = sqlite3.connect(cli_home / "brankas.sqlite3", isolation_level=None)
        con.execute("BEGIN IMMEDIATE")
        held.set()
        # Held until the OCR has ended (its workdir removed: the text's row is written
        # next), then 2.5 s more: longer than the database's busy timeout (1 s here; 30 s
        # by default), so the row's write meets the lock past its timeout (and its retry
        # after the first pause, 1 s, meets it too); a fixed 6 s from the OCR's start was
        # mostly spent waiting, and too short when the OCR itself took over 4 s.
        while busy(base) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(2.5)
        con.execute("COMMIT")
        con.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        r = run_cli("ocr", "--json", user="operator", env={"BRANKAS_SQLITE_TIMEOUT": "1"})
    finally:
        done.set()
        holder.join()
    assert held.is_set()
    assert r.returncode == 0, r.stderr
    assert (r.json()["read"], r.json()["failed"]) == (1, 0), r.json()
