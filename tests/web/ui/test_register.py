"""Registering through the web form: one PDF or several scans, Biasa or exempted. Every bad
input shows its message in the active language and stores nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.utils import timezone

from tests.conftest import make_jpeg, make_pdf
from tests.web.ui.conftest import (
    REGISTER_URL,
    assert_nothing_stored,
    files_under,
    make_encrypted_pdf,
    make_padded_pdf,
    post_register,
    text_of,
)

PDF = make_pdf(text="Surat undangan")
JPEG = make_jpeg()


def test_the_form_is_labelled_and_carries_a_signed_opening_time(signed_in):
    client = signed_in("operator")
    before = timezone.now()
    r = client.get(REGISTER_URL)
    assert r.status_code == 200
    page = text_of(r)
    for name in ("number", "doc_date", "subject", "correspondent", "pages", "attachments",
                 "notes", "scans"):
        assert f'for="id_{name}"' in page, name
    scans = re.search(r'<input type="file" name="scans"[^>]*>', page).group(0)
    assert " multiple" in scans and " required" in scans and 'accept=".pdf' in scans
    assert 'enctype="multipart/form-data"' in page
    for value in ("pengiriman", "penerimaan", "biasa", "terbatas", "rahasia", "sangat-rahasia"):
        assert f'value="{value}"' in page
    assert "Sangat Rahasia" in page and "Pengiriman" in page
    from brankas.web.ui.documents.forms import opened_at

    token = re.search(r'name="opened" value="([^"]+)"', page).group(1)
    when = opened_at(token)
    assert when is not None and before <= when <= timezone.now()


def test_register_a_biasa_pdf(signed_in, office):
    from brankas.web.audit.models import AuditEvent
    from brankas.web.documents.models import Document
    from brankas.web.ui.documents.forms import opened_token

    client = signed_in("operator")
    opened = timezone.now() - dt.timedelta(minutes=7)
    r = post_register(client, [("surat.pdf", PDF)], classification="biasa",
                      opened=opened_token(opened), pages="2", attachments="1 berkas",
                      notes="Baris satu\nBaris dua")
    assert r.status_code == 302
    doc = Document.objects.get()
    assert r["Location"] == f"/documents/{doc.agenda}/"
    assert (doc.source, doc.category, doc.direction) == ("web", "biasa", "penerimaan")
    assert doc.registered_by.username == "operator"
    assert (doc.pages, doc.attachments, doc.notes) == (2, "1 berkas", "Baris satu\nBaris dua")
    assert abs(doc.form_opened_at - opened) < dt.timedelta(seconds=1)
    assert doc.stored_path.startswith("arsip/biasa/penerimaan/")
    assert (office.home / doc.stored_path).read_bytes() == PDF
    assert AuditEvent.objects.filter(action="document.register", target=doc.agenda).exists()
    page = text_of(client.get(r["Location"]))
    assert f"Didaftarkan sebagai agenda {doc.agenda}" in page


@pytest.mark.parametrize("classification", ["terbatas", "rahasia", "sangat-rahasia"])
def test_register_an_exempted_pdf_stores_only_ciphertext(signed_in, office, classification):
    from brankas.core import crypto
    from brankas.web.documents.models import Document

    client = signed_in("operator")
    original = make_pdf(text=f"isi {classification}")
    r = post_register(client, [("rahasia.pdf", original)], classification=classification,
                      direction="pengiriman", correspondent="Gubernur")
    assert r.status_code == 302
    doc = Document.objects.get()
    assert doc.stored_path.startswith("arsip/dikecualikan/pengiriman/")
    assert doc.stored_path.endswith(".pdf.age")
    stored = (office.home / doc.stored_path).read_bytes()
    assert stored.startswith(b"age-encryption.org/v1\n") and original not in stored
    recovery = crypto.parse_identity(office.recovery_identity)
    assert crypto.decrypt_bytes(stored, [recovery]) == original
    assert len(doc.recipients) == 3  # the Kasi, the Kabid and the office recovery key


def test_several_scans_become_one_pdf(signed_in, office):
    import pikepdf

    from brankas.web.documents.models import Document

    client = signed_in("operator")
    scans = [make_jpeg(color=c) for c in ("white", "gray", "black")]
    r = post_register(client, [(f"hal{i}.jpg", s) for i, s in enumerate(scans)])
    assert r.status_code == 302
    doc = Document.objects.get()
    assert doc.pages == 3
    assert [o["sha256"] for o in doc.originals] == [hashlib.sha256(s).hexdigest() for s in scans]
    with pikepdf.open(office.home / doc.stored_path) as pdf:
        assert len(pdf.pages) == 3


def test_an_altered_opening_time_is_ignored(signed_in):
    from brankas.web.documents.models import Document
    from brankas.web.ui.documents.forms import opened_token

    client = signed_in("operator")
    token = opened_token(timezone.now() - dt.timedelta(hours=3))
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert post_register(client, [("a.pdf", PDF)], opened=forged).status_code == 302
    doc = Document.objects.get()
    assert doc.registered_at - doc.form_opened_at < dt.timedelta(seconds=5)


def test_a_duplicate_is_pointed_out_then_registered_on_request(signed_in):
    from brankas.web.documents.models import Document

    client = signed_in("operator")
    first = post_register(client, [("surat.pdf", PDF)])
    agenda = Document.objects.get().agenda
    assert first.status_code == 302
    again = post_register(client, [("salinan.pdf", PDF)], subject="Surat yang sama")
    assert again.status_code == 200
    page = text_of(again)
    assert "Berkas ini sudah ada di daftar agenda." in page
    assert f'href="/documents/{agenda}/"' in page
    assert 'name="allow_duplicate"' in page
    assert 'value="Surat yang sama"' in page  # what was typed is kept
    assert Document.objects.count() == 1
    forced = post_register(client, [("salinan.pdf", PDF)], allow_duplicate="on")
    assert forced.status_code == 302
    second = Document.objects.exclude(agenda=agenda).get()
    assert second.duplicate_of is not None and second.duplicate_of.agenda == agenda
    assert f"sudah terdaftar sebagai agenda {agenda}" in text_of(client.get(forced["Location"]))


BAD_FILES = [
    ([("kosong.pdf", b"")], "berkas kosong.pdf kosong"),
    ([("catatan.pdf", b"just some text, not a scan")],
     "berkas catatan.pdf bukan PDF, JPEG, PNG atau TIFF"),
    ([("terpotong.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n")], "PDF terpotong.pdf terpotong"),
    ([("rusak.pdf", b"%PDF-1.7\nthis is not a pdf body\n%%EOF\n")], "PDF rusak.pdf rusak"),
    ([("sandi.pdf", make_encrypted_pdf())], "PDF sandi.pdf dilindungi kata sandi"),
    ([("foto.pdf", JPEG)], "isi berkas foto.pdf adalah JPEG, tetapi namanya berakhiran .pdf"),
    ([("hal1.jpg", JPEG[: len(JPEG) // 2])], "gambar hal1.jpg rusak"),
    ([("a.pdf", PDF), ("b.jpg", JPEG)], "jangan dicampur"),
    ([], "tidak ada berkas yang diberikan"),
]
BAD_FIELDS = [
    ({"subject": ""}, "kolom Perihal wajib diisi"),
    ({"subject": "x" * 501}, "kolom Perihal terlalu panjang (maksimal 500 karakter)"),
    ({"correspondent": "   "}, "kolom Pengirim wajib diisi"),
    ({"correspondent": "", "direction": "pengiriman"}, "kolom Tujuan wajib diisi"),
    ({"number": "9" * 101}, "kolom Nomor surat terlalu panjang"),
    ({"attachments": "l" * 201}, "kolom Lampiran terlalu panjang"),
    ({"doc_date": ""}, "kolom Tanggal surat wajib diisi"),
    ({"doc_date": "2026-02-30"}, "tanggal 2026-02-30 tidak sah; tulis dd/mm/yyyy"),
    ({"doc_date": "30/02/2026"}, "tanggal 30/02/2026 tidak sah; tulis dd/mm/yyyy antara "
                                 "17/08/1945 dan"),
    ({"doc_date": "17 Agustus 2026"}, "tanggal 17 Agustus 2026 tidak sah"),
    ({"doc_date": "1900-01-01"}, "tanggal 1900-01-01 tidak sah"),
    ({"direction": ""}, "kolom Arah wajib diisi"),
    ({"direction": "ke-samping"}, "arah ke-samping tidak dikenal"),
    ({"classification": ""}, "kolom Klasifikasi wajib diisi"),
    ({"classification": "top-secret"}, "klasifikasi top-secret tidak dikenal"),
    ({"pages": "tiga"}, "kolom Jumlah halaman tidak sah"),
    ({"pages": "0"}, "kolom Jumlah halaman tidak sah"),
]


@pytest.mark.parametrize(("files", "message"), BAD_FILES,
                         ids=[m.split()[1] if len(m.split()) > 1 else m for _, m in BAD_FILES])
@pytest.mark.parametrize("classification", ["biasa", "rahasia"])
def test_a_bad_file_is_refused_and_nothing_is_stored(signed_in, office, files, message,
                                                     classification):
    r = post_register(signed_in("operator"), files, classification=classification)
    assert r.status_code == 200
    assert message in text_of(r)
    assert_nothing_stored(office.home)


@pytest.mark.parametrize(("fields", "message"), BAD_FIELDS,
                         ids=[next(iter(f)) + "-" + str(i) for i, (f, _) in enumerate(BAD_FIELDS)])
def test_a_bad_field_is_refused_and_nothing_is_stored(signed_in, office, fields, message):
    r = post_register(signed_in("operator"), [("surat.pdf", PDF)], **fields)
    assert r.status_code == 200
    page = text_of(r)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert_nothing_stored(office.home)


def test_several_bad_fields_are_shown_at_once(signed_in, office):
    r = post_register(signed_in("operator"), [("surat.pdf", PDF)], subject="", doc_date="",
                      classification="")
    page = text_of(r)
    for message in ("kolom Perihal wajib diisi", "kolom Tanggal surat wajib diisi",
                    "kolom Klasifikasi wajib diisi"):
        assert message in page
    assert_nothing_stored(office.home)


def test_messages_follow_the_language(signed_in, office, settings):
    client = signed_in("operator")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = post_register(client, [("kosong.pdf", b"")], subject="")
    assert "the field Subject (perihal) is required" in text_of(r)
    r = post_register(client, [("kosong.pdf", b"")])
    assert "file kosong.pdf is empty" in text_of(r)
    assert_nothing_stored(office.home)


def test_exempted_without_a_key_holder_is_refused(signed_in, office):
    from brankas.web.documents.models import Document
    from brankas.web.keys.models import HolderKey

    HolderKey.objects.all().delete()
    client = signed_in("operator")
    r = post_register(client, [("surat.pdf", PDF)], classification="rahasia")
    assert r.status_code == 200
    assert "belum ada pemegang kunci aktif" in text_of(r)
    assert_nothing_stored(office.home)
    assert "hanya dokumen Biasa yang dapat didaftarkan" in text_of(client.get("/"))
    assert post_register(client, [("surat.pdf", PDF)], classification="biasa").status_code == 302
    assert Document.objects.count() == 1


@pytest.mark.parametrize("size_mb", [1.5, 4])  # stopped while reading / refused before reading
def test_an_upload_over_the_limit_is_refused(signed_in, office, settings, size_mb):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = make_padded_pdf(text="besar", size=int(size_mb * 1024 * 1024))
    r = post_register(signed_in("operator"), [("besar.pdf", big)], classification="rahasia",
                      subject="Laporan besar")
    assert r.status_code == 200
    page = text_of(r)
    assert "berkas besar.pdf terlalu besar" in page and "batas 1 MiB" in page
    assert 'value="Laporan besar"' in page  # the fields sent before the file are kept
    assert_nothing_stored(office.home)


def test_the_archive_keeps_every_earlier_file(signed_in, office):
    """A failed attempt after a good one leaves the good one alone."""
    client = signed_in("operator")
    assert post_register(client, [("a.pdf", PDF)]).status_code == 302
    before = files_under(office.home / "arsip")
    assert post_register(client, [("b.pdf", b"")]).status_code == 200
    assert files_under(office.home / "arsip") == before
