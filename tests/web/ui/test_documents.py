"""The register list, a document's page, and opening documents through the web."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSPHRASES, make_pdf
from tests.web.ui.conftest import register_directly, text_of


def subjects_on(page: str) -> set[str]:
    return set(re.findall(r"<td>(Subjek [^<]+|tersegel)</td>", page))


def test_the_list_is_paginated_by_fifty(signed_in, office):
    pdf = make_pdf(text="sama")
    for i in range(51):
        register_directly(office, subject=f"Subjek nomor {i:02d}", pdf=pdf)
    client = signed_in("operator")
    first = text_of(client.get("/documents/"))
    assert len(subjects_on(first)) == 50 and "Subjek nomor 50" in first  # newest first
    assert "Halaman 1 dari 2" in first and 'href="?page=2"' in first
    second = text_of(client.get("/documents/?page=2"))
    assert subjects_on(second) == {"Subjek nomor 00"}
    filtered = text_of(client.get("/documents/?q=Subjek&page=2"))
    assert 'href="?q=Subjek&page=1"' in filtered  # the filters are kept across pages
    assert subjects_on(text_of(client.get("/documents/?page=999"))) == {"Subjek nomor 00"}


def test_the_document_page_shows_everything_and_is_audited(signed_in, office):
    from brankas.web.audit.models import AuditEvent

    doc = register_directly(office, subject="Subjek rapat", number="005/77/2026",
                            correspondent="Sekretaris Daerah")
    r = signed_in("kadis").get(f"/documents/{doc.agenda}/")
    assert r.status_code == 200
    page = text_of(r)
    for value in (doc.agenda, "005/77/2026", "Subjek rapat", "Sekretaris Daerah", "Pengirim",
                  "b. Biasa / Penerimaan", doc.stored_path, doc.content_sha256,
                  doc.stored_sha256, doc.originals[0]["sha256"], "Operator Test"):
        assert value in page, value
    assert f'src="/documents/{doc.agenda}/pdf"' in page  # shown inline
    assert AuditEvent.objects.filter(action="document.view", target=doc.agenda, actor="kadis",
                                     detail__via="web").count() == 1


def test_a_biasa_pdf_streams_inline_to_every_role(signed_in, office):
    from brankas.web.audit.models import AuditEvent

    original = make_pdf(text="isi biasa")
    doc = register_directly(office, pdf=original)
    for name in ("operator", "kasi", "kabid", "kadis", "admin"):
        r = signed_in(name).get(f"/documents/{doc.agenda}/pdf")
        assert r.status_code == 200, name
        assert r["Content-Type"] == "application/pdf"
        assert r["Content-Disposition"].startswith("inline")
        assert r["X-Frame-Options"] == "SAMEORIGIN"  # the document page frames it
        assert b"".join(r.streaming_content) == original
    assert AuditEvent.objects.filter(action="document.open", target=doc.agenda,
                                     outcome="ok").count() == 5


def test_unknown_agenda_is_a_clear_404(signed_in, office):
    r = signed_in("kabid").get("/documents/M-1999-9999/")
    assert r.status_code == 404
    assert "agenda M-1999-9999 tidak ditemukan" in text_of(r)
    assert signed_in("kabid").get("/documents/M-1999-9999/pdf").status_code == 404


def test_agenda_numbers_with_a_slash_work(signed_in, office):
    from brankas.web.accounts.models import Office

    Office.objects.update(agenda_format="{seq:03d}/{code}/{year}")
    original = make_pdf(text="garis miring")
    doc = register_directly(office, pdf=original)
    assert "/" in doc.agenda
    client = signed_in("kasi")
    assert doc.agenda in text_of(client.get(f"/documents/{doc.agenda}/"))
    r = client.get(f"/documents/{doc.agenda}/pdf")
    assert b"".join(r.streaming_content) == original


# ---------------------------------------------------------------- exempted documents

@pytest.fixture
def secret_doc(office):  # type: ignore[no-untyped-def]
    original = make_pdf(text="isi sangat rahasia")
    return register_directly(office, classification="sangat-rahasia", pdf=original), original


@pytest.mark.parametrize("name", ["operator", "admin"])
def test_roles_without_a_key_see_no_passphrase_form_and_are_refused(signed_in, secret_doc,
                                                                   name):
    from brankas.web.audit.models import AuditEvent

    doc, original = secret_doc
    client = signed_in(name)
    page = text_of(client.get(f"/documents/{doc.agenda}/"))
    assert "Dikecualikan: hanya pemegang kunci yang boleh membukanya." in page
    assert 'name="passphrase"' not in page and "/pdf" not in page
    r = client.post(f"/documents/{doc.agenda}/open", {"passphrase": PASSPHRASES["kabid"]})
    assert r.status_code == 403
    assert f"peran {'sandiman' if name == 'operator' else name} tidak boleh membuka dokumen " \
           "dikecualikan" in text_of(r)
    assert original not in r.content
    assert AuditEvent.objects.filter(action="document.open", target=doc.agenda, actor=name,
                                     outcome="denied").exists()
    before = AuditEvent.objects.filter(action="document.open", actor=name,
                                       outcome="denied").count()
    r = client.get(f"/documents/{doc.agenda}/pdf")
    assert r.status_code == 403 and original not in r.content
    assert AuditEvent.objects.filter(action="document.open", actor=name,
                                     outcome="denied").count() == before + 1


def test_a_key_holder_without_a_key_for_it_is_told_so(signed_in, secret_doc):
    doc, original = secret_doc
    client = signed_in("kadis")  # the Kadis has no key in the office fixture
    page = text_of(client.get(f"/documents/{doc.agenda}/"))
    assert "kunci Anda tidak termasuk kunci penerima dokumen ini" in page
    assert f'action="/documents/{doc.agenda}/open"' not in page
    r = client.post(f"/documents/{doc.agenda}/open", {"passphrase": "apa saja"})
    assert r.status_code == 403 and "tidak termasuk penerima dokumen" in text_of(r)


def test_a_key_holder_opens_it_with_the_right_passphrase(signed_in, secret_doc):
    from brankas.web.audit.models import AuditEvent

    doc, original = secret_doc
    client = signed_in("kabid")
    page = text_of(client.get(f"/documents/{doc.agenda}/"))
    assert 'name="passphrase"' in page and 'for="id_passphrase"' in page
    r = client.post(f"/documents/{doc.agenda}/open", {"passphrase": PASSPHRASES["kabid"]})
    assert r.status_code == 200
    assert r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment")
    assert "no-store" in r["Cache-Control"]
    assert b"".join(r.streaming_content) == original  # the exact bytes
    event = AuditEvent.objects.get(action="document.open", target=doc.agenda, outcome="ok")
    assert event.actor == "kabid" and event.detail["via"] == "web"
    assert client.get(f"/documents/{doc.agenda}/open").status_code == 405


def test_a_wrong_passphrase_is_refused_and_audited(signed_in, secret_doc, settings):
    from brankas.web.audit.models import AuditEvent

    doc, original = secret_doc
    client = signed_in("kasi")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    r = client.post(f"/documents/{doc.agenda}/open", {"passphrase": "bukan frasa sandinya"})
    assert r.status_code == 400
    page = text_of(r)
    assert "wrong passphrase for the key of kasi" in page
    assert "bukan frasa sandinya" not in page  # never echoed back
    assert original not in r.content
    event = AuditEvent.objects.get(action="document.open", target=doc.agenda)
    assert (event.actor, event.outcome, event.detail["error"]) == (
        "kasi", "denied", "passphrase_wrong")
    r = client.post(f"/documents/{doc.agenda}/open", {"passphrase": ""})
    assert r.status_code == 400 and "Enter the passphrase of your key." in text_of(r)
