"""The plaintext of an exempted document never touches disk on its way through the web.

The upload is larger than 2.5 MB, the size above which Django's default upload handlers
spool a file to a temporary file. Files are scanned for a random marker carried in the PDF
(uncompressed) twice: while the request is being handled (when a spooled upload would still
exist) and after it. The controls below show the scan finds the marker when it is there.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASES
from tests.leakscan import CHUNK, SHARED_TEMP, scan_for
from tests.web.ui.conftest import make_padded_pdf, post_register

SIZE = 3 * 1024 * 1024  # over Django's FILE_UPLOAD_MAX_MEMORY_SIZE default (2.5 MB)
@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    """A per-test temporary folder that every ``tempfile`` user in this process writes to."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def scanner(office, own_tmp):  # type: ignore[no-untyped-def]
    started = time.time() - 2

    def scan(marker: bytes) -> list[Path]:
        local = [office.home, own_tmp, Path(tempfile.gettempdir())]
        hits = scan_for(marker, local) + scan_for(marker, list(SHARED_TEMP), since=started)
        return sorted(set(hits))  # the data folder may itself be under /tmp

    return scan


@contextmanager
def scanning_during_registration(scan, marker: bytes) -> Iterator[list[list[Path]]]:  # type: ignore[no-untyped-def]
    """Scan when the document row is inserted: the request is in flight, the upload is
    parsed, and the staged file is not yet moved into the archive. (Django's query
    execution hook; it sees single and bulk inserts alike.)"""
    from django.db import connection

    from brankas.web.documents.models import Document

    table = Document._meta.db_table
    results: list[list[Path]] = []

    def on_query(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith("INSERT") and f'"{table}"' in sql:
            results.append(scan(marker))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(on_query):
        yield results


def new_marker() -> bytes:
    return ("BRANKAS-LEAK-MARKER-" + secrets.token_hex(16)).encode()


@pytest.mark.slow
def test_exempted_plaintext_never_touches_disk_via_the_web(signed_in, office, scanner):
    from brankas.web.documents.models import Document

    marker = new_marker()
    pdf = make_padded_pdf(text=marker.decode(), size=SIZE)
    assert len(pdf) > SIZE and marker in pdf
    client = signed_in("operator")
    with scanning_during_registration(scanner, marker) as during:
        r = post_register(client, [("sangat-rahasia.pdf", pdf)],
                          classification="sangat-rahasia")
    assert r.status_code == 302
    doc = Document.objects.get()
    assert doc.exempted and doc.content_size == len(pdf)
    assert during == [[]]  # scanned once, while the request was handled: nothing
    assert scanner(marker) == []
    # Opening it through the web decrypts in memory only.
    r = signed_in("kabid").post(f"/documents/{doc.agenda}/open",
                                {"passphrase": PASSPHRASES["kabid"]})
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == pdf
    assert scanner(marker) == []


@pytest.mark.slow  # walks the temporary folders for the plaintext
def test_control_django_default_upload_handlers_would_leak(signed_in, office, scanner,
                                                           settings, own_tmp):
    """The same scan, with Django's default upload handlers, finds the spooled upload."""
    settings.FILE_UPLOAD_HANDLERS = [
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 2621440  # Django's default
    marker = new_marker()
    pdf = make_padded_pdf(text=marker.decode(), size=SIZE)
    with scanning_during_registration(scanner, marker) as during:
        r = post_register(signed_in("operator"), [("rahasia.pdf", pdf)],
                          classification="rahasia")
    assert r.status_code == 302
    assert len(during) == 1 and during[0], "the scan must see Django's temporary upload file"
    assert all(p.is_relative_to(own_tmp) for p in during[0])


@pytest.mark.slow  # walks the temporary folders for the plaintext
def test_control_a_biasa_document_is_found_in_the_archive(signed_in, office, scanner):
    marker = new_marker()
    pdf = make_padded_pdf(text=marker.decode(), size=SIZE)
    r = post_register(signed_in("operator"), [("biasa.pdf", pdf)], classification="biasa")
    assert r.status_code == 302
    hits = scanner(marker)
    assert len(hits) == 1 and hits[0].is_relative_to(office.home / "arsip" / "biasa")


def test_control_the_scanner_finds_a_planted_marker(tmp_path):
    marker = new_marker()
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    # Across a chunk boundary, to test the overlap.
    (folder / "f.bin").write_bytes(b"x" * (CHUNK - 5) + marker + b"y")
    (folder / "g.bin").write_bytes(b"nothing here")
    assert scan_for(marker, [tmp_path]) == [folder / "f.bin"]
    assert scan_for(marker, [tmp_path], since=time.time() + 60) == []
