"""Helpers for the web tests: the Django test client against a real SQLite database, real
files under a temporary BRANKAS_HOME, real encryption. Nothing is mocked."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

REGISTER_URL = "/documents/new/"


def form_data(**fields: Any) -> dict[str, Any]:
    """A complete data-input form; ``fields`` replace or add values."""
    data = {
        "direction": "penerimaan",
        "classification": "biasa",
        "number": "005/12/2026",
        "doc_date": dt.date.today().isoformat(),
        "subject": "Undangan rapat koordinasi",
        "correspondent": "Bupati Bolaang Mongondow",
        "pages": "",
        "attachments": "",
        "notes": "",
    }
    data.update(fields)
    return data


def post_register(client: Client, files: list[tuple[str, bytes]], **fields: Any):  # type: ignore[no-untyped-def]
    data = form_data(**fields)
    data["scans"] = [SimpleUploadedFile(name, content) for name, content in files]
    return client.post(REGISTER_URL, data)


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    """The page as a reader sees it (entities decoded)."""
    return html.unescape(response.content.decode())


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def assert_nothing_stored(home: Path) -> None:
    from brankas.web.documents.models import Document

    assert Document.objects.count() == 0
    assert files_under(home / "arsip") == []
    assert files_under(home / "tmp") == []


@pytest.fixture
def signed_in(client: Client, office):  # type: ignore[no-untyped-def]
    """``signed_in("kabid")``: the test client, signed in as that user of the office."""

    def sign_in(name: str) -> Client:
        client.force_login(office.users[name])
        return client

    return sign_in


def make_padded_pdf(*, text: str, size: int) -> bytes:
    """A valid one-page PDF of at least ``size`` bytes whose content stream carries ``text``
    uncompressed, padded with random hex in PDF comments (so nothing compresses it away)."""
    import io
    import secrets

    import pikepdf

    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    lines = [f"BT /F1 12 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")]
    total = len(lines[0])
    while total < size:
        line = b"% " + secrets.token_hex(60).encode()
        lines.append(line)
        total += len(line) + 1
    page.Contents = pdf.make_stream(b"\n".join(lines) + b"\n")
    buf = io.BytesIO()
    pdf.save(buf, compress_streams=False)
    return buf.getvalue()


def make_encrypted_pdf() -> bytes:
    import io

    import pikepdf

    from tests.conftest import make_pdf

    with pikepdf.open(io.BytesIO(make_pdf(text="terkunci"))) as pdf:
        buf = io.BytesIO()
        pdf.save(buf, encryption=pikepdf.Encryption(owner="o-secret", user="u-secret"))
    return buf.getvalue()


def register_directly(office, *, subject: str = "Undangan rapat",  # type: ignore[no-untyped-def]
                      classification: str = "biasa", direction: str = "penerimaan",
                      number: str = "005/12/2026", correspondent: str = "Bupati",
                      pdf: bytes | None = None):
    """Register through the service (the web form is tested on its own): faster set-up."""
    from brankas.core.register import intake, metadata
    from brankas.web.documents.services import document_register
    from tests.conftest import make_pdf

    meta = metadata.build(direction=direction, classification=classification, number=number,
                          doc_date=dt.date.today(), subject=subject, correspondent=correspondent)
    data = pdf if pdf is not None else make_pdf(text=f"{subject} {classification} {direction}")
    return document_register(actor=office.users["operator"], meta=meta,
                             files=[intake.InputFile.from_bytes("scan.pdf", data)],
                             source="web", allow_duplicate=True)


def born_digital(subject: str) -> bytes:
    """A PDF whose text layer has enough words (``core.text.extract.MIN_LAYER_WORDS``) to be
    read without OCR: for the set-ups of tests about something else (a backup disk, a
    restore, a drill), whose registration's text job (the worker runs it) then reads the
    layer instead of starting OCRmyPDF and Tesseract on a page of a few words (seconds of
    CPU, before the test's own job may start). ``register_directly``'s default PDF keeps
    its few words: the text tests read it by OCR, or say OCR is missing."""
    from brankas.core.text.extract import MIN_LAYER_WORDS
    from tests.conftest import make_pdf

    text = f"{subject}: surat dinas yang lahir digital, lapisan teksnya cukup dibaca"
    assert len(text.split()) >= MIN_LAYER_WORDS, text
    return make_pdf(text=text)


def english(client: Client) -> Client:
    """The client switched to the English interface (the language switch the pages offer)."""
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


@pytest.fixture(autouse=True)
def no_job_left_running(request):  # type: ignore[no-untyped-def]
    """(Every page test.) The jobs' worker for the test (the one ``brankas serve``
    embeds, in a thread), when the test's records are committed (``transactional_db``: the
    worker reads them on its own connection); after the test, wait for every job it
    started (one long job at a time: the next test's job would be refused as busy), then
    stop the worker."""
    from brankas.web.ui import jobs

    names = request.fixturenames
    database = "transactional_db" if "transactional_db" in names else \
        "db" if "db" in names else None
    if database is None:  # no database, so no job
        yield None
        return
    request.getfixturevalue(database)  # set up before, so torn down after, this fixture
    worker = None
    if database == "transactional_db":
        from brankas.web.jobs.worker import EmbeddedWorker

        worker = EmbeddedWorker(interval=3600).start()  # woken by the jobs queued here
    try:
        yield worker
        if worker is not None:
            active = jobs.job_active()
        else:  # a row of a test without the worker is rolled back: only a job of this
            # process's memory (a recover's) may still run; read there, without a query
            with jobs._lock:
                active = jobs._active if jobs._active is not None and \
                    jobs._active.running else None
        if active is not None:
            active.wait(180)
    finally:
        if worker is not None:
            wait_for_jobs()
            worker.stop(60)


def wait_for_jobs(timeout: float = 180) -> None:
    """Until no job is queued or running (local threads included)."""
    import time

    from brankas.web.jobs import services
    from brankas.web.jobs.models import ACTIVE, Job

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for thread in list(services._threads.values()):
            thread.join(max(0.0, end - time.monotonic()))
        if not Job.objects.filter(state__in=ACTIVE).exists():
            return
        time.sleep(0.05)
