"""Backup disks end to end through the real ``brankas`` command: a CLI office with a few
documents of every kind, backed up once (built once per session, copied per test)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bagit
import pytest

from tests.conftest import CliResult, cli, make_pdf

# (direction, classification, subject): two biasa, two exempted (Kabid key + recovery).
DOCS = [
    ("penerimaan", "biasa", "Undangan rapat koordinasi anggaran"),
    ("pengiriman", "biasa", "Laporan bulanan pelayanan publik"),
    ("penerimaan", "rahasia", "Penyelidikan RAHASIA-MERPATI-7431"),
    ("pengiriman", "terbatas", "Nota dinas TERBATAS-KENARI-2208"),
]
EXEMPT_MARKERS = ["RAHASIA-MERPATI-7431", "TERBATAS-KENARI-2208"]


@dataclass
class Doc:
    agenda: str
    direction: str
    classification: str
    subject: str
    stored_path: str
    stored_sha256: str
    original: bytes

    @property
    def exempted(self) -> bool:
        return self.classification != "biasa"


@dataclass
class Office:
    """A CLI office (``home``) and its backup disk (``disk``)."""

    base: Path
    home: Path
    disk: Path
    secrets: Path
    recovery_file: Path
    docs: dict[str, Doc] = field(default_factory=dict)
    first_run: dict[str, Any] = field(default_factory=dict)

    def cli(self, *args: str, user: str | None = None, **kwargs: Any) -> CliResult:
        return cli(self.home, self.base, *args, user=user, **kwargs)

    def private_copy(self, tmp_path: Path, *, with_disk: bool = True) -> Office:
        """A copy of this (template) office under ``tmp_path / "o"``: its home and the scans
        it registered, and (``with_disk``) its disk; without, the copy's disk is yet to be
        made (its path under the copy, never the template's)."""
        base = tmp_path / "o"
        base.mkdir()
        shutil.copytree(self.home, base / "home")
        if with_disk:
            shutil.copytree(self.disk, base / "disk")
        for pdf in self.base.glob("scan-*.pdf"):
            shutil.copy2(pdf, base / pdf.name)
        return Office(base=base, home=base / "home", disk=base / "disk", secrets=self.secrets,
                      recovery_file=self.recovery_file, docs=dict(self.docs),
                      first_run=self.first_run)

    def register(self, direction: str, classification: str, subject: str,
                 pdf: bytes | None = None) -> Doc:
        n = len(list(self.base.glob("scan-*.pdf")))
        path = self.base / f"scan-{n}.pdf"
        if pdf is None:
            pdf = make_pdf(text=f"{subject} {n}")
        path.write_bytes(pdf)
        r = self.cli("register", str(path), "--direction", direction, "--classification",
                     classification, "--subject", subject, "--number", f"{n:03d}/XI/2026",
                     "--date", "2026-11-20", "--correspondent", "Sekretariat Daerah",
                     "--json", user="operator")
        assert r.returncode == 0, r.stderr
        out = r.json()
        doc = Doc(out["agenda"], direction, classification, subject, out["stored_path"],
                  out["stored_sha256"], pdf)
        self.docs[doc.agenda] = doc
        return doc

    def backup(self, dest: Path | None = None, *extra: str) -> CliResult:
        return self.cli("backup", str(dest or self.disk), *extra, "--json", user="operator")

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        con = sqlite3.connect(self.home / "brankas.sqlite3")
        try:
            return con.execute(query, params).fetchall()
        finally:
            con.close()

    def secret(self, name: str) -> str:
        return str(self.secrets / name)


def validate(dest: Path) -> None:
    """The Library of Congress ``bagit`` library accepts the bag (all checksums)."""
    bagit.Bag(str(dest)).validate()


def manifest(dest: Path) -> dict[str, str]:
    """The payload manifest as ``{"data/...": sha256}``, read directly."""
    out = {}
    for line in (dest / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        digest, path = line.split(maxsplit=1)
        out[path] = digest
    return out


def recorded_on(office: Office, medium_id: str) -> set[str]:
    """The payload paths of the documents the database records as on that disk."""
    rows = office.sql(
        "select d.stored_path from backup_backupcopy c join documents_document d"
        " on d.id = c.document_id join backup_medium m on m.id = c.medium_id"
        " where m.medium_id = ?", medium_id)
    return {f"data/{p}" for (p,) in rows}


def newest_seal(disk: Path) -> dict[str, Any]:
    """The statement of the newest run's seal (segel.json) on ``disk``."""
    folder = sorted((disk / "data" / "backup").iterdir())[-1]
    return json.loads(json.loads((folder / "segel.json").read_text())["statement"])


def audit_log(home: Path) -> list[tuple[int, str]]:
    """(seq, hash) of every audit entry in the instance's SQLite database."""
    with sqlite3.connect(home / "brankas.sqlite3") as db:
        return list(db.execute("SELECT seq, hash FROM audit_auditevent ORDER BY seq"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def big_pdf(size: int, seed: int) -> bytes:
    """A valid PDF carrying ``size`` bytes of incompressible data (a fake scan), with a
    line of text on its page: the text job that follows an import (issue 19) reads it
    from the text layer instead of starting OCR for each blank page (seconds each)."""
    import io
    import random

    import pikepdf

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pdf.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                           BaseFont=pikepdf.Name.Helvetica))))
    page.Contents = pdf.make_stream(
        b"BT /F1 12 Tf 72 720 Td (Surat dinas nomor %d tentang undangan rapat koordinasi "
        b"bidang persandian dan keamanan informasi daerah) Tj ET" % seed)
    pdf.Root.Scan = pdf.make_stream(random.Random(seed).randbytes(size))
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


def build_backed_up(cli_office_template, tmp_path_factory) -> Office:  # type: ignore[no-untyped-def]
    """The CLI office with DOCS registered and backed up once to ``disk`` (the session
    fixture ``backed_up_template`` in tests/conftest.py, shared with tests/hostile_disk)."""
    base = tmp_path_factory.mktemp("backup-office")
    home = base / "home"
    shutil.copytree(cli_office_template.home, home)
    recovery = base / "recovery.txt"
    recovery.write_text(cli_office_template.recovery_identity + "\n")
    office = Office(base=base, home=home, disk=base / "disk",
                    secrets=cli_office_template.secrets, recovery_file=recovery)
    for direction, classification, subject in DOCS:
        office.register(direction, classification, subject)
    r = office.backup()
    assert r.returncode == 0, r.stderr
    office.first_run = r.json()
    return office


def import_scans(office: Office, count: int, size: int) -> CliResult:
    """``count`` biasa scans of ``size`` bytes imported through the CLI (the archive a kill
    test then backs up); the import's result, checked to have succeeded."""
    tree = office.base / "tree" / "biasa" / "penerimaan" / "2025"
    tree.mkdir(parents=True)
    for i in range(count):
        (tree / f"pindai-{i:03d}.pdf").write_bytes(big_pdf(size, i))
    r = office.cli("import", str(office.base / "tree"), "--json", user="operator")
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture
def office(backed_up_template: Office, tmp_path: Path) -> Office:
    """A private copy of the backed-up office and of its disk."""
    return backed_up_template.private_copy(tmp_path)


# The archive the worker tests back up (test_worker_jobs*.py): SCANS biasa scans of SCAN_SIZE
# bytes beside the four DOCS: more files than a kill point's count (the worker kills itself
# mid-copy at a chosen file, tests/cli/keys/killpoint.py: no size is needed for a kill to
# land in time).
SCANS, SCAN_SIZE = 8, 100_000


@pytest.fixture(scope="session")
def scanned_template(cli_office_template, tmp_path_factory) -> Office:  # type: ignore[no-untyped-def]
    """The CLI office with DOCS registered and SCANS scans imported (no backup yet), every
    OCR job those queued run once by a real ``brankas worker``: the worker tests start
    workers to run a backup job, and on a copy of ``backed_up_template`` each of those
    workers took one of its OCR jobs beside it (the two biasa DOCS hold too few words for
    their text layer: seconds of Tesseract each; three quarters of those tests' cost). Here
    the biasa DOCS carry a text layer long enough to be read without OCR; the OCR jobs are
    tested in tests/web/text."""
    base = tmp_path_factory.mktemp("scanned-office")
    home = base / "home"
    shutil.copytree(cli_office_template.home, home)
    recovery = base / "recovery.txt"
    recovery.write_text(cli_office_template.recovery_identity + "\n")
    office = Office(base=base, home=home, disk=base / "disk",
                    secrets=cli_office_template.secrets, recovery_file=recovery)
    for direction, classification, subject in DOCS:
        office.register(direction, classification, subject, pdf=make_pdf(
            text=f"{subject}: surat dinas tentang rapat koordinasi bidang persandian daerah"))
    import_scans(office, SCANS, SCAN_SIZE)
    shutil.rmtree(base / "tree")
    # The worker in this process (tests/clirun.py): how these jobs run is not what the
    # tests that use the office test; a process would cost its start-up
    # (a burst takes one OCR job at a time: as many bursts as there are jobs)
    err = ""
    for _ in range(10):
        if not office.sql("select count(*) from jobs_job where state in "
                          "('queued', 'running')")[0][0]:
            break
        r = office.cli("worker", "--burst")
        assert r.returncode == 0, r.stderr
        err += r.stderr
    assert office.sql("select kind, state, count(*) from jobs_job group by kind, state") == [
        ("ocr", "done", 3)], err  # the two biasa registrations' and the import's
    assert office.sql("select method, count(*) from text_documenttext group by method") == [
        ("pdf", 2 + SCANS)], err  # every biasa document read from its text layer
    return office


@pytest.fixture
def scanned_office(scanned_template: Office, tmp_path: Path) -> Office:
    """A private copy of the scanned office (its disks yet to be made)."""
    return scanned_template.private_copy(tmp_path, with_disk=False)


@pytest.fixture
def quick_rebuilds(cli_office_template, monkeypatch, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The rebuilds the test starts (``python -m brankas.instance recover``, a recover's or a
    drill's, a process the product starts itself) give their new database the tables this
    process migrated rather than migrating it from nothing (tests/web/rebuilds.py); the
    rest of each rebuild is real. A new database migrated from nothing in a process:
    tests/cli/test_process_smoke.py (``init``, ``recover``, the drill's rebuild).
    (``cli_office_template``: its ``init``, in this process, is the migration whose tables
    are given.)"""
    from tests.web.rebuilds import quick_rebuild_env

    for name, value in quick_rebuild_env(tmp_path_factory.getbasetemp() / "rebuild").items():
        monkeypatch.setenv(name, value)
